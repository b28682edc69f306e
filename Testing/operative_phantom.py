"""Generated intra-operative CTs: a CT moved by a known rigid transform, a needle of known tip and axis burnt in."""

import numpy as np

from PVPGuideLib.io.ct_io import sitk_image_from_volume
from PVPGuideLib.verify.rigid import sitk_from_matrix

# Steel on an extended-HU scale; streak-free by construction (no beam hardening is simulated).
NEEDLE_HU = 12000.0
SUPERSAMPLE = 5


def moved_ct(ct, planning_to_moved: np.ndarray):
    """The CT's content moved by a 4x4 RAS transform, on the same grid (linear interpolation, air outside)."""
    import SimpleITK as sitk

    image = sitk.Cast(sitk_image_from_volume(ct), sitk.sitkFloat32)
    out = sitk.Resample(image, image, sitk_from_matrix(np.linalg.inv(planning_to_moved)), sitk.sitkLinear, -1000.0,
                        sitk.sitkFloat32)
    return ct.with_voxels(sitk.GetArrayFromImage(out))


def burn_needle(ct, tip, direction, *, length_mm: float = 60.0, diameter_mm: float = 2.41, value_hu=NEEDLE_HU):
    """A copy of the CT with a flat-ended metal cylinder (tip, direction shaft->tip) mixed in by the fraction of each
    voxel it fills (SUPERSAMPLE^3 sub-samples per voxel)."""
    tip, d = np.asarray(tip, float), np.asarray(direction, float) / np.linalg.norm(direction)
    voxels = np.asarray(ct.voxels, np.float32).copy()
    radius = 0.5 * diameter_mm
    reach = radius + float(np.linalg.norm(ct.spacing))
    ends = np.array([tip, tip - length_mm * d])
    lo_ijk = np.floor(ct.ras_to_ijk_points(ends).min(axis=0) - reach / ct.spacing.min()).astype(int)
    hi_ijk = np.ceil(ct.ras_to_ijk_points(ends).max(axis=0) + reach / ct.spacing.min()).astype(int)
    corners = np.array([[i, j, k] for i in (lo_ijk[0], hi_ijk[0]) for j in (lo_ijk[1], hi_ijk[1])
                        for k in (lo_ijk[2], hi_ijk[2])])
    lo_ijk = np.maximum(corners.min(axis=0), 0)
    hi_ijk = np.minimum(corners.max(axis=0), np.array(ct.shape_ijk) - 1)
    ii, jj, kk = np.meshgrid(*[np.arange(lo_ijk[a], hi_ijk[a] + 1) for a in range(3)], indexing="ij")
    ijk = np.stack([ii.ravel(), jj.ravel(), kk.ravel()], axis=1).astype(float)
    centres = ct.ijk_to_ras_points(ijk)
    rel = centres - tip
    along = rel @ d
    across = np.linalg.norm(rel - along[:, None] * d, axis=1)
    near = (across <= reach) & (along <= reach) & (along >= -length_mm - reach)
    ijk, centres = ijk[near], centres[near]
    offsets = (np.arange(SUPERSAMPLE) + 0.5) / SUPERSAMPLE - 0.5
    sub = np.array([[a, b, c] for a in offsets for b in offsets for c in offsets])
    sub_ras = sub @ ct.ijk_to_ras[:3, :3].T  # (s, 3) offsets in RAS
    points = centres[:, None, :] + sub_ras[None]
    rel = points - tip
    along = rel @ d
    across = np.linalg.norm(rel - along[..., None] * d, axis=2)
    fraction = ((across <= radius) & (along <= 0.0) & (along >= -length_mm)).mean(axis=1).astype(np.float32)
    index = tuple(ijk[:, a].astype(int) for a in (2, 1, 0))
    voxels[index] = (1.0 - fraction) * voxels[index] + fraction * np.float32(value_hu)
    return ct.with_voxels(voxels)


def moved_labels(labels, planning_to_moved: np.ndarray):
    """A label map moved like moved_ct (nearest neighbour, 0 outside)."""
    import SimpleITK as sitk

    image = sitk_image_from_volume(labels)
    out = sitk.Resample(image, image, sitk_from_matrix(np.linalg.inv(planning_to_moved)), sitk.sitkNearestNeighbor, 0,
                        image.GetPixelID())
    return labels.with_voxels(sitk.GetArrayFromImage(out))


CEMENT_HU = 2500.0


def add_cement(ct, centre, semi_axes_mm, axes):
    """A copy of the CT with an ellipsoid of cement (CEMENT_HU) at `centre`, semi-axes along the rows of `axes`;
    returns it and the ellipsoid's exact volume (ml)."""
    voxels = np.asarray(ct.voxels, np.float32).copy()
    kk, jj, ii = np.meshgrid(*[np.arange(n) for n in voxels.shape], indexing="ij")
    ras = ct.ijk_to_ras_points(np.stack([ii.ravel(), jj.ravel(), kk.ravel()], axis=1))
    local = (ras - np.asarray(centre, float)) @ np.asarray(axes, float).T / np.asarray(semi_axes_mm, float)
    inside = (local ** 2).sum(axis=1) <= 1.0
    voxels.reshape(-1)[inside] = CEMENT_HU
    return ct.with_voxels(voxels), 4.0 / 3.0 * np.pi * float(np.prod(semi_axes_mm)) / 1000.0
