"""Cement on a post-operative CT: threshold segmentation, checked against bone, and leakage by location."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..core.compat import strict_zip
from .body import BodyAnalysis
from .errors import CementError
from .masks import mask_on_grid
from .scores import LeakageReport

# PMMA with barium reads about 2000-3000 HU on CT; cortical bone at clinical partial volume rarely
# passes 1500 HU, so 1500 HU separates the two on most scanners. Configurable per call.
DEFAULT_CEMENT_THRESHOLD_HU = 1500.0
# The threshold must lie above this percentile of the HU of bone that holds no cement (the posterior
# elements): robust to the few voxels of the needle tract that cross a pedicle.
BONE_PERCENTILE = 95.0
DEFAULT_SEARCH_MARGIN_MM = 15.0  # leakage is looked for this far around the body
DEFAULT_CANAL_HALF_WIDTH_MM = 10.0  # half the lumbar interpedicular distance (canal) about the midline
LEAKAGE_LOCATIONS = ("posterior_wall_canal", "paravertebral_veins", "cortical_defect_disc")


@dataclass(frozen=True, eq=False)
class PostopCement:
    """Segmented cement. mask: intravertebral cement; leakage_mask: cement outside all bone near the body;
    posterior_elements_ml: cement in the vertebra's posterior elements (the needle tract), not leakage."""

    mask: np.ndarray
    leakage_mask: np.ndarray
    threshold_hu: float
    bone_reference_hu: float
    posterior_elements_ml: float
    leakage: LeakageReport

    def to_json(self) -> dict:
        return {
            "cement_threshold_hu": self.threshold_hu,
            "bone_reference_hu": round(self.bone_reference_hu, 1),
            "bone_reference": f"{BONE_PERCENTILE:g}th percentile of the posterior elements' HU",
            "posterior_elements_cement_ml": round(self.posterior_elements_ml, 4),
        }


def bone_reference_hu(ct, bone_mask) -> float:
    """BONE_PERCENTILE-th percentile of the CT's HU inside a bone mask that holds no cement."""
    values = np.asarray(ct.voxels)[np.asarray(bone_mask, dtype=bool)]
    if values.size == 0:
        raise CementError("no cement-free bone to compare the cement threshold with (empty mask)")
    return float(np.percentile(values, BONE_PERCENTILE))


def segment_cement(ct, body: BodyAnalysis, *, vertebra_mask, threshold_hu: float = DEFAULT_CEMENT_THRESHOLD_HU,
                   other_bone_mask=None, search_margin_mm: float = DEFAULT_SEARCH_MARGIN_MM,
                   canal_half_width_mm: float = DEFAULT_CANAL_HALF_WIDTH_MM) -> PostopCement:
    """Cement = voxels at or above threshold_hu. Inside the body it is the injected cement; outside every
    bone mask and within search_margin_mm of the body it is leakage (classified by classify_leakage).

    vertebra_mask : the whole vertebra (body + posterior elements); its posterior elements are the
    cement-free bone the threshold is checked against. other_bone_mask : other vertebrae (their bone
    and cement are not this level's leakage).
    """
    threshold = float(threshold_hu)
    if not np.isfinite(threshold):
        raise CementError(f"cement threshold must be a number of HU, got {threshold_hu!r}")
    shape = body.mask.shape
    vertebra = mask_on_grid(vertebra_mask, shape, "vertebra") | body.mask
    other = np.zeros(shape, dtype=bool) if other_bone_mask is None else mask_on_grid(other_bone_mask, shape, "other bone")
    posterior = vertebra & ~body.mask
    reference_bone = posterior if posterior.any() else other
    if not reference_bone.any():
        raise CementError("cannot check the cement threshold: give the whole vertebra (with posterior elements)")
    reference = bone_reference_hu(ct, reference_bone)
    if threshold <= reference:
        raise CementError(
            f"cement threshold {threshold:g} HU is not above bone: {BONE_PERCENTILE:g}% of the posterior "
            f"elements' voxels are at or below {reference:.0f} HU; choose a threshold above that "
            f"(default {DEFAULT_CEMENT_THRESHOLD_HU:g} HU)"
        )
    hu = np.asarray(ct.voxels)
    dense = hu >= threshold
    intravertebral = dense & body.mask
    near = _within_mm(body.mask, body.ijk_to_ras, search_margin_mm)
    leakage_mask = dense & near & ~vertebra & ~other
    voxel_ml = body.voxel_volume_mm3 / 1000.0
    return PostopCement(
        mask=intravertebral,
        leakage_mask=leakage_mask,
        threshold_hu=threshold,
        bone_reference_hu=reference,
        posterior_elements_ml=float(np.count_nonzero(dense & posterior) * voxel_ml),
        leakage=classify_leakage(body, leakage_mask, canal_half_width_mm=canal_half_width_mm),
    )


def classify_leakage(body: BodyAnalysis, leakage_mask, *,
                     canal_half_width_mm: float = DEFAULT_CANAL_HALF_WIDTH_MM) -> LeakageReport:
    """Leakage volume by location, voxel by voxel, in the vertebra frame:

    1. cortical_defect_disc: above or below the body within its outline seen along the superior axis
       (beyond the upper or lower surface of the body's column there, and higher than the upper
       endplate's mean level minus contact_mm, or lower than the lower one's plus contact_mm:
       through an endplate, into the disc);
    2. posterior_wall_canal: otherwise, within canal_half_width_mm of the midsagittal plane and behind
       the body's centroid along the anterior axis (outside the body there means behind its posterior
       wall: the spinal canal, the basivertebral vein's exit);
    3. paravertebral_veins: everywhere else (beside or in front of the body, or behind it but lateral).
    """
    leakage = mask_on_grid(leakage_mask, body.mask.shape, "leakage")
    by_location = dict.fromkeys(LEAKAGE_LOCATIONS, 0.0)
    kji = np.argwhere(leakage)
    if len(kji) == 0:
        return LeakageReport(0.0, by_location, 0)
    ras = kji[:, ::-1] @ body.ijk_to_ras[:3, :3].T + body.ijk_to_ras[:3, 3]
    coords = body.axes.to_frame(ras)
    grid = body.grid
    index = [np.floor((coords[:, axis] - grid.lower[axis]) / grid.step + 0.5).astype(np.int64) for axis in (0, 1)]
    on_grid = (index[0] >= 0) & (index[0] < grid.shape[0]) & (index[1] >= 0) & (index[1] < grid.shape[1])
    column = (index[0][on_grid], index[1][on_grid])
    disc = np.zeros(len(kji), dtype=bool)
    s = coords[on_grid, 2]
    # beyond the column's surface and past the endplate's mean level (minus the contact depth), so that
    # the slanted rim columns of a tilted body do not claim leaks beside its walls
    upper_level = body.axes.to_frame(body.superior_endplate_centre)[0, 2] - body.contact_mm
    lower_level = body.axes.to_frame(body.inferior_endplate_centre)[0, 2] + body.contact_mm
    above = (s > body.top[column]) & (s > upper_level)
    below = (s < body.bottom[column]) & (s < lower_level)
    disc[on_grid] = body.footprint[column] & (above | below)
    midline = np.abs((ras - body.midsagittal_point) @ body.midsagittal_normal)
    # outside the body, near the midline, in its posterior half and not above or below it: behind the wall
    canal = ~disc & (midline <= canal_half_width_mm) & (coords[:, 1] < body.coords[:, 1].mean())
    voxel_ml = body.voxel_volume_mm3 / 1000.0
    by_location["cortical_defect_disc"] = float(np.count_nonzero(disc) * voxel_ml)
    by_location["posterior_wall_canal"] = float(np.count_nonzero(canal) * voxel_ml)
    by_location["paravertebral_veins"] = float(np.count_nonzero(~disc & ~canal) * voxel_ml)
    _, components = ndimage.label(leakage, structure=np.ones((3, 3, 3), dtype=bool))
    return LeakageReport(len(kji) * voxel_ml, by_location, int(components))


def _within_mm(mask, ijk_to_ras, margin_mm) -> np.ndarray:
    """Voxels within margin_mm of the mask (the mask included), computed on its padded bounding box."""
    spacing_kji = np.linalg.norm(ijk_to_ras[:3, :3], axis=0)[::-1]
    pad = np.ceil(margin_mm / spacing_kji).astype(int) + 1
    kji = np.argwhere(mask)
    lo = np.maximum(kji.min(axis=0) - pad, 0)
    hi = np.minimum(kji.max(axis=0) + pad + 1, mask.shape)
    box = tuple(slice(a, b) for a, b in strict_zip(lo, hi))
    out = np.zeros(mask.shape, dtype=bool)
    out[box] = ndimage.distance_transform_edt(~mask[box], sampling=spacing_kji) <= margin_mm
    return out
