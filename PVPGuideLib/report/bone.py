"""Bone iso-surface of one vertebra for the 3D view: the CT around the target level, cropped to a box in the
vertebra frame, contoured at a bone threshold. The CT itself is not changed (a cropped copy is contoured)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..core.iso_surface import iso_surface
from ..core.mesh import TriangleMesh
from ..core.volume import CTVolume
from .path_geometry import PathGeometry

# Cortical bone reads several hundred HU, osteoporotic cancellous bone about 50-150 HU, muscle about 50:
# 200 HU draws the cortical shell of the vertebra without the soft tissue around it.
BONE_THRESHOLD_HU = 180.0
# A light blur before contouring: trabecular noise would otherwise show as loose fragments inside the body.
BLUR_MM = 1.0
AIR_HU = -1000.0
# Box around one vertebra in its frame (mm from the frame origin, the body centre): wide enough for the
# transverse processes, deep enough for the spinous process, about one body plus half a disc high.
BOX_RIGHT_MM = (-45.0, 45.0)
BOX_ANTERIOR_MM = (-70.0, 25.0)
BOX_SUPERIOR_MM = (-17.0, 17.0)
SMOOTHING_ITERATIONS = 15


def vertebra_box(path: PathGeometry) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(origin, axes (3, 3) rows right/anterior/superior, (3, 2) lower/upper mm along each axis)."""
    axes = np.array([path.right, path.anterior, path.superior])
    limits = np.array([BOX_RIGHT_MM, BOX_ANTERIOR_MM, BOX_SUPERIOR_MM])
    if not path.has_vertebra_frame:
        # C sits in the anterior third of the body, about 8 mm in front of its centre: shift the box back
        limits = limits - np.array([[0.0, 0.0], [8.0, 8.0], [0.0, 0.0]])
    return path.origin, axes, limits


def bone_surface(ct: CTVolume, path: PathGeometry, *, threshold_hu: float = BONE_THRESHOLD_HU) -> TriangleMesh | None:
    """The bone iso-surface inside the vertebra box (RAS mm), or None when there is no bone there."""
    origin, axes, limits = vertebra_box(path)
    corners = np.array([[x, y, z] for x in limits[0] for y in limits[1] for z in limits[2]])
    corners_ras = origin + corners @ axes
    ijk = ct.ras_to_ijk_points(corners_ras)
    size = np.asarray(ct.shape_ijk)
    lo = np.clip(np.floor(ijk.min(axis=0)).astype(int) - 1, 0, size - 1)
    hi = np.clip(np.ceil(ijk.max(axis=0)).astype(int) + 1, 0, size - 1)
    if np.any(hi - lo < 2):
        return None
    block = ct.voxels[lo[2]:hi[2] + 1, lo[1]:hi[1] + 1, lo[0]:hi[0] + 1].astype(np.float32)
    # Outside the oriented box counts as air, so the surface closes at the box walls.
    kk, jj, ii = np.meshgrid(*(np.arange(lo[n], hi[n] + 1) for n in (2, 1, 0)), indexing="ij")
    ras = ct.ijk_to_ras_points(np.stack([ii.ravel(), jj.ravel(), kk.ravel()], axis=1))
    local = (ras - origin) @ axes.T
    inside = np.all((local >= limits[:, 0]) & (local <= limits[:, 1]), axis=1).reshape(block.shape)
    block = ndimage.gaussian_filter(block, BLUR_MM / ct.spacing[::-1], mode="nearest")
    block[~inside] = AIR_HU
    if not np.any(block > threshold_hu):
        return None
    crop_to_ras = ct.ijk_to_ras.copy()
    crop_to_ras[:3, 3] = ct.ijk_to_ras_points(lo)[0]  # the block's index 0 is the CT's index `lo`
    return iso_surface(block, crop_to_ras, threshold_hu, outside_value=AIR_HU,
                       smoothing_iterations=SMOOTHING_ITERATIONS)


# The segmentation's surface is smoothed over about this length (mm): a label map's voxel steps go, the
# vertebra's shape (processes of 5 mm and more) stays.
SEGMENTATION_SMOOTHING_MM = 1.2


def segmentation_surface(labels: CTVolume, label_value: int) -> TriangleMesh | None:
    """The vertebra `label_value` of a label map (on any grid) as a smoothed closed surface (RAS mm).

    Drawn from the segmentation, a vertebra keeps its outline where a threshold surface of osteoporotic
    bone breaks into holes. The surface is the half-way level of the blurred mask, cropped around it.
    """
    mask = np.asarray(labels.voxels) == label_value
    if not np.any(mask):
        return None
    k, j, i = np.nonzero(mask)
    lo = np.maximum(np.array([k.min(), j.min(), i.min()]) - 3, 0)
    hi = np.minimum(np.array([k.max(), j.max(), i.max()]) + 4, mask.shape)
    block = mask[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]].astype(np.float32)
    spacing_kji = np.asarray(labels.spacing, dtype=float)[::-1]
    block = ndimage.gaussian_filter(block, SEGMENTATION_SMOOTHING_MM / spacing_kji, mode="constant")
    crop_to_ras = labels.ijk_to_ras.copy()
    crop_to_ras[:3, 3] = labels.ijk_to_ras_points(lo[::-1])[0]  # the block's index 0 is the map's index `lo`
    return iso_surface(block, crop_to_ras, 0.5, outside_value=0.0, smoothing_iterations=SMOOTHING_ITERATIONS)


def segmentation_meshes(plan) -> dict:
    """{level name: vertebra surface} from the plan's label map (plan.artifacts['vertebra_labels']: the label
    volume and {label value: level name}), for the levels planned; {} without a label map."""
    vertebrae = getattr(plan, "artifacts", {}).get("vertebra_labels") if plan is not None else None
    if vertebrae is None:
        return {}
    labels, names = vertebrae
    planned = {t.level for t in plan.trajectories}
    out = {}
    for value, name in sorted(names.items()):
        if name in planned:
            mesh = segmentation_surface(labels, int(value))
            if mesh is not None and not mesh.is_empty:
                out[name] = mesh
    return out
