"""Cement scores (SPEC section 6) from any cement mask: volumes, puncture side, distribution, contact, zones."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.geometry import SIDES
from .body import BodyAnalysis
from .distribution import COVERAGE_THRESHOLD, Projection, project
from .errors import CementError
from .pattern import PatternMeasures, classify_pattern
from .zones import NineZones, nine_zones

SCHEMA = "pvpguide.score/1"
# Gao et al. 2023/2024: PSBCV/VV above this raises the risk of paravertebral venous leakage.
PSBCV_VV_THRESHOLD_PERCENT = 13.68
# Cement reaching at least this far past the midsagittal plane crosses the midline (about a voxel of
# a thin-slice CT: one stray voxel on the plane is not a crossing).
DEFAULT_MIDLINE_TOLERANCE_MM = 1.0
# Voxels whose centre lies on the plane (closer than this) count half to each side, so that
# symmetric cement splits exactly in half whatever the grid.
_ON_PLANE_MM = 1e-6


@dataclass(frozen=True, eq=False)
class LeakageReport:
    """Cement outside the body (post-operative CT only): volume and volume per location class (ml)."""

    volume_ml: float
    by_location: dict
    components: int

    def to_json(self) -> dict:
        return {
            "volume_ml": round(self.volume_ml, 4),
            "by_location": {name: round(value, 4) for name, value in self.by_location.items()},
            "components": self.components,
        }


@dataclass(frozen=True, eq=False)
class CementScores:
    """All SPEC section 6 numbers for one cement region in one vertebral body. Volumes in ml."""

    side: str
    bcv_ml: float
    vv_ml: float
    psbcv_ml: float
    contralateral_fraction: float
    contralateral_extent_mm: float
    crosses_midline: bool
    ap: Projection
    lateral: Projection
    endplate_contact: str
    contact_ml: dict
    zones: NineZones
    pattern: PatternMeasures
    leakage: LeakageReport | None = None
    body_geometry: dict = field(default_factory=dict)

    @property
    def fill_percent(self) -> float:
        return 100.0 * self.bcv_ml / self.vv_ml

    @property
    def psbcv_vv_percent(self) -> float:
        return 100.0 * self.psbcv_ml / self.vv_ml

    @property
    def psbcv_vv_over_threshold(self) -> bool:
        return self.psbcv_vv_percent > PSBCV_VV_THRESHOLD_PERCENT

    @property
    def distribution_score(self) -> int:
        return self.ap.score + self.lateral.score

    def to_json(self) -> dict:
        """The score.json body and the plan's per-trajectory `cement` scores (same keys in both)."""
        return {
            "side": self.side,
            "bcv_ml": round(self.bcv_ml, 4),
            "vv_ml": round(self.vv_ml, 4),
            "fill_percent": round(self.fill_percent, 3),
            "psbcv_ml": round(self.psbcv_ml, 4),
            "psbcv_vv_percent": round(self.psbcv_vv_percent, 3),
            "psbcv_vv_threshold_percent": PSBCV_VV_THRESHOLD_PERCENT,
            "psbcv_vv_over_threshold": self.psbcv_vv_over_threshold,
            "contralateral_fraction": round(self.contralateral_fraction, 4),
            "contralateral_extent_mm": round(self.contralateral_extent_mm, 3),
            "crosses_midline": self.crosses_midline,
            "distribution_score": {
                "ap": self.ap.score,
                "lateral": self.lateral.score,
                "total": self.distribution_score,
                "coverage_threshold": round(COVERAGE_THRESHOLD, 6),
                "ap_quadrants": {k: round(v, 4) for k, v in self.ap.coverage.items()},
                "lateral_quadrants": {k: round(v, 4) for k, v in self.lateral.coverage.items()},
            },
            "endplate_contact": self.endplate_contact,
            "endplate_contact_ml": {k: round(v, 4) for k, v in self.contact_ml.items()},
            "nine_zones": self.zones.to_json(),
            "pattern": self.pattern.pattern,
            "pattern_measures": self.pattern.to_json(),
            "leakage": None if self.leakage is None else self.leakage.to_json(),
            "body_geometry": self.body_geometry,
        }


def score_cement(body: BodyAnalysis, cement_mask, *, side: str, tip_ras=None, leakage: LeakageReport | None = None,
                 midline_tolerance_mm: float = DEFAULT_MIDLINE_TOLERANCE_MM) -> CementScores:
    """Score a cement mask ((K, J, I) bool on the body's CT grid; only its part inside the body counts).

    side : puncture side ('left' = patient's left). tip_ras : C, the section of the nine zones and
    C's zone; without it the section passes through the cement's centroid and no zone is given for C.
    leakage : from postop.segment_cement, for a post-operative CT.
    """
    if side not in SIDES:
        raise CementError(f"side must be 'left' or 'right' (the puncture side), got {side!r}")
    if cement_mask is None:
        raise CementError("no cement region given")
    cement_full = np.asarray(cement_mask)
    if cement_full.shape != body.mask.shape:
        raise CementError(f"cement mask shape {cement_full.shape} differs from the body's grid {body.mask.shape}")
    cement = body.values_of(cement_full)
    if not cement.any():
        raise CementError("no cement inside the vertebral body: check the cement threshold, the level and the mask")
    voxel_ml = body.voxel_volume_mm3 / 1000.0

    # puncture side: right of the midsagittal plane is positive; on-plane voxels count half
    distance = body.signed_distance[cement]
    on_plane = np.abs(distance) < _ON_PLANE_MM
    sign = 1.0 if side == "right" else -1.0
    puncture_count = np.count_nonzero((sign * distance > 0) & ~on_plane) + 0.5 * np.count_nonzero(on_plane)
    bcv_count = int(cement.sum())
    contralateral_fraction = 1.0 - puncture_count / bcv_count
    extent = float(max(0.0, (-sign * distance).max()))

    cement_in_body = np.zeros(body.mask.shape, dtype=bool)
    cement_in_body.ravel()[body.flat_index[cement]] = True
    sampled = body.grid.sample(cement_in_body, body.ijk_to_ras)
    ap = project("ap", body.sampled, sampled, body.grid)
    lateral = project("lateral", body.sampled, sampled, body.grid)

    contact_ml = {
        "superior": float(np.count_nonzero(cement & body.superior_layer) * voxel_ml),
        "inferior": float(np.count_nonzero(cement & body.inferior_layer) * voxel_ml),
    }
    touching = [name for name in ("superior", "inferior") if contact_ml[name] > 0]
    endplate_contact = "both" if len(touching) == 2 else (touching[0] if touching else "none")

    if tip_ras is not None:
        c_frame = body.axes.to_frame(np.asarray(tip_ras, dtype=float).reshape(1, 3))[0]
        zones = nine_zones(body, cement, section_point_frame=c_frame, section_through="C", c_frame=c_frame)
    else:
        centroid = body.coords[cement].mean(axis=0)
        zones = nine_zones(body, cement, section_point_frame=centroid, section_through="cement_centroid")

    pattern = classify_pattern(cement_in_body, body.ijk_to_ras, contralateral_fraction=contralateral_fraction)
    return CementScores(
        side=side,
        bcv_ml=bcv_count * voxel_ml,
        vv_ml=body.volume_ml,
        psbcv_ml=float(puncture_count * voxel_ml),
        contralateral_fraction=float(contralateral_fraction),
        contralateral_extent_mm=extent,
        crosses_midline=extent >= midline_tolerance_mm,
        ap=ap,
        lateral=lateral,
        endplate_contact=endplate_contact,
        contact_ml=contact_ml,
        zones=zones,
        pattern=pattern,
        leakage=leakage,
        body_geometry=_body_geometry(body),
    )


def _body_geometry(body: BodyAnalysis) -> dict:
    def point(p):
        return [round(float(x), 3) for x in p]

    return {
        "superior_endplate_centre": point(body.superior_endplate_centre),
        "inferior_endplate_centre": point(body.inferior_endplate_centre),
        "midsagittal_point": point(body.midsagittal_point),
        "midsagittal_normal": [round(float(x), 6) for x in body.midsagittal_normal],
        "frame": body.axes.to_json(decimals=6),
        "contact_mm": body.contact_mm,
    }
