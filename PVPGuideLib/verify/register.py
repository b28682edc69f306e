"""Rigid registration of one vertebra between the planning CT and an intra- or post-operative CT (SimpleITK)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..core.compat import strict_zip
from ..core.volume import CTVolume
from ..io.ct_io import sitk_image_from_volume
from .errors import VerifyError
from .rigid import matrix_from_sitk

# CT values are clipped to this window for the metric: bone and soft tissue matter, metal must not dominate.
METRIC_HU_WINDOW = (-200.0, 1500.0)
# The fixed mask: a band this wide (mm) each side of the vertebra's surface (the edges that drive the fit).
MASK_MARGIN_MM = 3.0
CROP_MARGIN_MM = 15.0
# The other CT is cropped to the planning crop plus this reach (mm): the largest move the check is meant for (20 mm)
# with room for the smoothing kernels.
MOVE_REACH_MM = 35.0
# Pyramid levels: voxels of about this size (mm; never finer than the CT's) and Gaussian smoothing (mm).
LEVEL_VOXEL_MM = (4.0, 2.0, 0.0)
SMOOTHING_MM = (2.0, 1.0, 0.0)
MAX_ITERATIONS = 200
# Correlation of the registered vertebra below this: the vertebra was not found (a neighbour, or nothing alike).
MIN_CORRELATION = 0.8


@dataclass(frozen=True, eq=False)
class Registration:
    """planning_to_other : 4x4 RAS mapping planning-CT points to the other CT; correlation : the fit's quality
    (normalised cross-correlation of the masked vertebra after registration, 1 = identical)."""

    planning_to_other: np.ndarray
    correlation: float
    iterations: int
    stop_condition: str

    def to_json(self) -> dict:
        return {"planning_to_other": [[float(x) for x in row] for row in self.planning_to_other],
                "correlation": self.correlation, "iterations": self.iterations}


def _cropped(ct: CTVolume, mask: np.ndarray, margin_mm: float):
    """The CT and mask cropped to the mask's box plus a margin (a view of the voxels, geometry adjusted)."""
    kji = np.argwhere(mask)
    pad = np.ceil(margin_mm / ct.spacing[::-1]).astype(int)
    lo = np.maximum(kji.min(axis=0) - pad, 0)
    hi = np.minimum(kji.max(axis=0) + pad + 1, mask.shape)
    box = tuple(slice(int(a), int(b)) for a, b in strict_zip(lo, hi))
    shift = np.eye(4)
    shift[:3, 3] = lo[::-1]
    return CTVolume(ct.voxels[box], ct.ijk_to_ras @ shift, ct.source), mask[box]


def _around(other: CTVolume, fixed_ct: CTVolume, exclude):
    """The other CT (and its exclusion mask) cropped to the planning crop's box plus MOVE_REACH_MM."""
    k, j, i = fixed_ct.voxels.shape
    corners = np.array([[a, b, c] for a in (0, i - 1) for b in (0, j - 1) for c in (0, k - 1)], float)
    ijk = other.ras_to_ijk_points(fixed_ct.ijk_to_ras_points(corners))
    reach = MOVE_REACH_MM / other.spacing
    lo = np.maximum(np.floor(ijk.min(axis=0) - reach), 0).astype(int)
    hi = np.minimum(np.ceil(ijk.max(axis=0) + reach) + 1, np.array(other.shape_ijk)).astype(int)
    if np.any(hi <= lo):
        raise VerifyError("the other CT does not cover the planned vertebra at all: is it the same patient and level?")
    box = (slice(lo[2], hi[2]), slice(lo[1], hi[1]), slice(lo[0], hi[0]))
    shift = np.eye(4)
    shift[:3, 3] = lo
    crop = CTVolume(np.asarray(other.voxels)[box], other.ijk_to_ras @ shift, other.source)
    return crop, None if exclude is None else exclude[box]


def register_vertebra(planning: CTVolume, vertebra_mask: np.ndarray, other: CTVolume, *,
                      other_exclude: np.ndarray | None = None, initial: np.ndarray | None = None) -> Registration:
    """Rigid transform taking the planning CT's vertebra onto the other CT (mask-restricted, multi-resolution).

    vertebra_mask : bool on the planning grid (the target vertebra; add neighbours for a wider fit).
    other_exclude : bool on the other grid, voxels the metric must ignore (the needle, cement).
    Raises VerifyError with the correlation reached when the fit does not converge onto the vertebra.
    """
    import SimpleITK as sitk

    if not vertebra_mask.any():
        raise VerifyError("the vertebra mask for the registration is empty; check the segmentation or the plan")
    spacing = planning.spacing
    steps = max(1, int(round(MASK_MARGIN_MM / spacing.min())))
    # Only a band around the vertebra's surface: the edges carry the alignment; the uniform inside costs time.
    grown = ndimage.binary_dilation(vertebra_mask, iterations=steps)
    grown &= ~ndimage.binary_erosion(vertebra_mask, iterations=steps)
    fixed_ct, fixed_mask = _cropped(planning, grown, CROP_MARGIN_MM)
    fixed = sitk.Cast(sitk_image_from_volume(fixed_ct.with_voxels(np.clip(fixed_ct.voxels, *METRIC_HU_WINDOW)
                                                                  .astype(np.float32))), sitk.sitkFloat32)
    other_crop, other_exclude = _around(other, fixed_ct, other_exclude)
    moving = sitk.Cast(sitk_image_from_volume(other_crop.with_voxels(np.clip(other_crop.voxels, *METRIC_HU_WINDOW)
                                                                     .astype(np.float32))), sitk.sitkFloat32)
    method = sitk.ImageRegistrationMethod()
    method.SetMetricAsMeanSquares()
    method.SetMetricFixedMask(sitk_image_from_volume(fixed_ct.with_voxels(fixed_mask.astype(np.uint8))))
    if other_exclude is not None and other_exclude.any():
        method.SetMetricMovingMask(sitk_image_from_volume(other_crop.with_voxels((~other_exclude).astype(np.uint8))))
    method.SetMetricSamplingStrategy(method.NONE)
    method.SetInterpolator(sitk.sitkLinear)
    method.SetOptimizerAsRegularStepGradientDescent(learningRate=2.0, minStep=1e-4, numberOfIterations=MAX_ITERATIONS,
                                                    relaxationFactor=0.5, gradientMagnitudeTolerance=1e-8)
    method.SetOptimizerScalesFromPhysicalShift()
    method.SetShrinkFactorsPerLevel([max(1, int(size / spacing.min())) for size in LEVEL_VOXEL_MM])
    method.SetSmoothingSigmasPerLevel(list(SMOOTHING_MM))
    method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOn()
    centre = np.asarray(fixed.TransformContinuousIndexToPhysicalPoint(
        [float(x) for x in (np.argwhere(fixed_mask).mean(axis=0)[::-1])]))
    start = sitk.Euler3DTransform()
    start.SetCenter(tuple(float(x) for x in centre))
    if initial is not None:
        from .rigid import sitk_from_matrix

        affine = sitk_from_matrix(initial)
        start.SetMatrix(affine.GetMatrix())
        start.SetTranslation(tuple(float(x) for x in np.asarray(affine.TransformPoint(tuple(centre))) - centre))
    method.SetInitialTransform(start, inPlace=True)
    method.Execute(fixed, moving)
    matrix = matrix_from_sitk(start)
    correlation = _correlation(fixed_ct, fixed_mask, other_crop, matrix, other_exclude)
    if not np.isfinite(correlation) or correlation < MIN_CORRELATION:
        raise VerifyError(f"the registration of the vertebra did not converge: correlation {correlation:.2f} after "
                          f"{method.GetOptimizerIteration()} iterations (needs at least {MIN_CORRELATION}); is the "
                          "same vertebra in the field of view of both CTs, moved by less than about 20 mm?")
    return Registration(matrix, correlation, int(method.GetOptimizerIteration()),
                        method.GetOptimizerStopConditionDescription())


def _correlation(fixed_ct: CTVolume, fixed_mask: np.ndarray, other: CTVolume, matrix: np.ndarray,
                 exclude: np.ndarray | None = None) -> float:
    """Normalised cross-correlation of the masked planning voxels with the other CT at the mapped points (points
    falling in `exclude`, on the other grid, are left out)."""
    kji = np.argwhere(fixed_mask)
    ras = fixed_ct.ijk_to_ras_points(kji[:, ::-1])
    mapped = ras @ matrix[:3, :3].T + matrix[:3, 3]
    ijk = other.ras_to_ijk_points(mapped)
    values = ndimage.map_coordinates(np.clip(other.voxels, *METRIC_HU_WINDOW).astype(np.float32), ijk[:, ::-1].T,
                                     order=1, cval=np.nan)
    fixed_values = np.clip(fixed_ct.voxels[fixed_mask], *METRIC_HU_WINDOW).astype(float)
    ok = np.isfinite(values)
    if exclude is not None:
        nearest = np.rint(ijk[:, ::-1]).astype(int)
        inside = np.all((nearest >= 0) & (nearest < np.array(exclude.shape)), axis=1)
        ok[inside] &= ~exclude[tuple(nearest[inside].T)]
    if ok.mean() < 0.5:
        return float("nan")
    a, b = fixed_values[ok] - fixed_values[ok].mean(), values[ok] - values[ok].mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))
