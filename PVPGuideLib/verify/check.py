"""The intra-operative needle check (SPEC section 10): register the vertebra, find the needle, compare with the plan."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from ..core.compat import strict_zip
from ..core.geometry import VertebraFrame, unit
from ..core.volume import CTVolume
from ..io.ct_io import sitk_image_from_volume
from .errors import VerifyError
from .needle import Needle, find_single_needle, fit_needle
from .register import Registration, register_vertebra
from .rigid import apply_points, apply_vectors, sitk_from_matrix

# Beyond these the placed needle is reported as off the plan (SPEC section 9: 0.8 +- 0.3 mm, 0.7 +- 0.4 degrees).
WARN_TIP_MM = 2.0
WARN_ANGLE_DEG = 2.0
# The needle's metal is kept out of the registration metric with this margin (mm, at least one voxel).
EXCLUDE_GROW_MM = 2.5


@dataclass(frozen=True, eq=False)
class NeedleCheck:
    """The placed needle in planning-CT coordinates and its distances and angles to the plan."""

    needle: Needle  # on the intra-operative CT
    registration: Registration
    tip: np.ndarray  # planning RAS
    direction: np.ndarray  # planning RAS, shaft -> tip
    tip_to_c_mm: float
    angle_to_plan_deg: float
    tip_to_body_centre_mm: float | None
    angle_to_sagittal_plane_deg: float | None
    safety: dict | None = None
    warnings: tuple = field(default=())

    def to_json(self) -> dict:
        def vec(v):
            return None if v is None else [float(x) for x in v]

        return {
            "tip": vec(self.tip), "direction": vec(self.direction),
            "tip_intraop": vec(self.needle.tip), "direction_intraop": vec(self.needle.direction),
            "needle_length_seen_mm": self.needle.length_mm, "needle_rms_mm": self.needle.rms_mm,
            "tip_to_C_mm": self.tip_to_c_mm, "angle_to_plan_deg": self.angle_to_plan_deg,
            "tip_to_body_centre_mm": self.tip_to_body_centre_mm,
            "angle_to_sagittal_plane_deg": self.angle_to_sagittal_plane_deg,
            "limits": {"tip_mm": WARN_TIP_MM, "angle_deg": WARN_ANGLE_DEG},
            "verdict": "warn" if self.warnings else "pass",
            "registration": self.registration.to_json(),
            "safety": self.safety,
            "warnings": list(self.warnings),
        }


def planning_on_other_grid(planning: CTVolume, other: CTVolume, planning_to_other: np.ndarray) -> np.ndarray:
    """The planning CT moved by the registration and sampled on the other CT's grid (float32, -1000 outside)."""
    import SimpleITK as sitk

    moving = sitk.Cast(sitk_image_from_volume(planning), sitk.sitkFloat32)
    reference = sitk_image_from_volume(other.with_voxels(np.zeros(other.voxels.shape, np.uint8)))
    out = sitk.Resample(moving, reference, sitk_from_matrix(np.linalg.inv(planning_to_other)), sitk.sitkLinear,
                        -1000.0, sitk.sitkFloat32)
    return sitk.GetArrayFromImage(out)


def check_needle(planning: CTVolume, vertebra_mask: np.ndarray, intraop: CTVolume, *, b, c, side: str,
                 frame: VertebraFrame | None = None, body_centre=None, analysis=None,
                 needle_gauge: int = 13) -> NeedleCheck:
    """Find the one needle on the intra-operative CT and measure it against the planned B -> C.

    vertebra_mask : bool on the planning grid (the target vertebra, for the registration and the inside test).
    frame, body_centre : the vertebra frame and body centre (planning RAS) for the sagittal angle and centre
    distance; analysis : a VertebraAnalysis for the SPEC section 5 checks of the needle as placed.
    """
    b, c = np.asarray(b, float), np.asarray(c, float)
    planned = unit(c - b, "planned path B->C")
    piece = find_single_needle(intraop)
    exclude = ndimage.binary_dilation(piece, iterations=max(1, int(round(EXCLUDE_GROW_MM / intraop.spacing.min()))))
    registration = register_vertebra(planning, vertebra_mask, intraop, other_exclude=exclude)
    matrix = registration.planning_to_other
    excess = np.asarray(intraop.voxels, np.float32) - planning_on_other_grid(planning, intraop, matrix)
    needle = fit_needle(intraop, piece, excess, towards=apply_vectors(matrix, planned))
    back = np.linalg.inv(matrix)
    tip = apply_points(back, needle.tip)
    direction = unit(apply_vectors(back, needle.direction))
    _require_inside(planning, vertebra_mask, tip)
    tip_to_c = float(np.linalg.norm(tip - c))
    angle = float(np.degrees(np.arccos(np.clip(np.dot(direction, planned), -1.0, 1.0))))
    to_centre = None if body_centre is None else float(np.linalg.norm(tip - np.asarray(body_centre, float)))
    sagittal = None if frame is None else float(np.degrees(np.arcsin(min(1.0, abs(np.dot(direction, frame.right))))))
    safety = None
    if analysis is not None:
        from ..planning.safety import check_safety

        # The needle as placed: the same bone path length as planned, ending at the found tip.
        placed_b = tip - np.linalg.norm(c - b) * direction
        safety = check_safety(analysis, b=placed_b, c=tip, side=side, needle_gauge=needle_gauge).to_json()
    warnings = []
    if tip_to_c > WARN_TIP_MM:
        warnings.append(f"the needle tip is {tip_to_c:.1f} mm from the planned target C (limit {WARN_TIP_MM:g} mm)")
    if angle > WARN_ANGLE_DEG:
        warnings.append(f"the needle is {angle:.1f} degrees off the planned path (limit {WARN_ANGLE_DEG:g} degrees)")
    if safety is not None and safety["verdict"] != "pass":
        warnings.append(f"SPEC section 5 checks of the needle as placed: {safety['verdict']}")
    return NeedleCheck(needle, registration, tip, direction, tip_to_c, angle, to_centre, sagittal, safety,
                       tuple(warnings))


def _require_inside(planning: CTVolume, vertebra_mask: np.ndarray, tip) -> None:
    """The tip must lie in the target vertebra: a needle elsewhere is not this plan's needle."""
    ijk = np.rint(planning.ras_to_ijk_points(np.atleast_2d(tip))[0]).astype(int)[::-1]
    inside = all(0 <= i < n for i, n in strict_zip(ijk, vertebra_mask.shape)) and bool(vertebra_mask[tuple(ijk)])
    if inside:
        return
    distance = ndimage.distance_transform_edt(~vertebra_mask, sampling=planning.spacing[::-1])
    clipped = tuple(int(np.clip(i, 0, n - 1)) for i, n in strict_zip(ijk, vertebra_mask.shape))
    raise VerifyError(f"the needle's tip lies outside the target vertebra ({distance[clipped]:.1f} mm from it after "
                      "registration): is it in another vertebra, or is the wrong plan given?")
