"""SPEC section 5: safety checks of a needle path against a vertebra analysis, each with a distance and a verdict.

The needle is a cylinder of the gauge's outer diameter along A->C (B->C without A). Checks (mm unless said):
- spinal_canal: clearance from the needle's surface to the canal, the hole the bony ring encloses in each
  slice perpendicular to the superior axis (lateral recesses included), at every height the path passes
  (vertebra/canal_slices.py); fail below 0, warn below 1 mm.
- medial_pedicle_wall: clearance from the needle's surface to the medial pedicle wall: the smaller of the
  distance across the pedicle where the path crosses its isthmus and the per-slice canal clearance along the
  part of the path beside the canal (between its back and the posterior wall).
- anterior_cortex: from the tip C forwards along the needle to the outer surface of the body (negative
  when C is outside the body).
- superior_endplate / inferior_endplate: clearance from the needle's surface to each endplate plane, along
  the part of the path inside the body.
- lateral_escape: length of the needle's axis outside bone between B and C (the first 1 mm after B, on the
  bone surface by construction, is not counted).
- path_in_bone (percent): share of B->C inside bone; at least 95 % passes.
- c_across_midline: how far C lies beyond the body's midsagittal plane on the side opposite the entry (a
  unilateral crossing path); 2 mm or more passes, 0-2 mm warns, on the entry side fails. A non-crossing path
  (one of a bilateral pair) gets c_own_side instead: C on the entry side passes, else it warns.
- b_on_pedicle: how far B lies lateral of the pedicle's lateral cortex line at B; over 5 mm warns.
- plausibility: the analysis's implausible measurements this path depends on (vertebra/plausibility.py: the
  canal and the pedicle pair for every path, a pedicle's own width or mirroring for the paths entering through
  it); any of them caps the verdict at warn, with the reason.
- transverse_angle (degrees, vertebra frame, SPEC 4): shown against the published range (10-30 degrees for
  a transpedicular path; the lateral unilateral crossing approach is steeper); over 45 degrees warns.
Verdicts: pass at or beyond `limit_mm`, fail beyond `fail_limit_mm`, warn between; a check that could not be
measured warns. A plan that fails is kept and marked; nothing is moved to make it pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..core.geometry import as_point
from ..core.needles import needle_outer_diameter_mm

if TYPE_CHECKING:  # the analysis is only used, never built, here
    from ..vertebra import VertebraAnalysis

VERDICTS = ("fail", "warn", "pass")
SAMPLE_STEP_MM = 0.25
ENTRY_SKIP_MM = 1.0


@dataclass(frozen=True)
class Limit:
    """`at_least`: pass when distance >= limit_mm, fail when < fail_limit_mm; `at_most`: the reverse."""

    limit_mm: float
    fail_limit_mm: float
    rule: str
    measures: str
    unit: str = "mm"


# Canal: the acceptance floor of 1 mm of bone between needle and dura fails; under 2 mm warns.
# Medial wall: a needle cutting it fails; under 1 mm of wall to spare warns.
# Anterior cortex: SPEC's 5 mm margin passes; under 2 mm (about a cortex thickness) the tip may perforate.
# Endplates: a needle touching the plane fails (it would enter the disc); under 2 mm warns.
# Lateral escape: up to 0.5 mm outside bone is the voxel size of the surface; over 2 mm is a breach.
# Canal (SPEC 5): touching it fails, under 1 mm warns. C across (SPEC 5): on the entry side fails, under 2 mm
# warns. B on the pedicle (SPEC 5): over 5 mm lateral of the lateral cortex warns (never fails).
DEFAULT_LIMITS = {
    "spinal_canal": Limit(1.0, 0.0, "at_least", "clearance from the needle surface to the spinal canal, slice by "
                          "slice at every height the path passes (lateral recesses included)"),
    "medial_pedicle_wall": Limit(1.0, 0.0, "at_least",
                                 "clearance from the needle surface to the medial pedicle wall (at the isthmus and "
                                 "slice by slice beside the canal)"),
    "anterior_cortex": Limit(5.0, 2.0, "at_least", "distance from the tip C to the anterior cortex along the needle"),
    "superior_endplate": Limit(2.0, 0.0, "at_least", "clearance from the needle surface to the superior endplate"),
    "inferior_endplate": Limit(2.0, 0.0, "at_least", "clearance from the needle surface to the inferior endplate"),
    "lateral_escape": Limit(0.5, 2.0, "at_most", "length of the needle axis outside bone between B and C"),
    "path_in_bone": Limit(95.0, 95.0, "at_least", "share of B->C inside bone", "%"),
    "c_across_midline": Limit(2.0, 0.0, "at_least", "distance of C beyond the midsagittal plane on the side "
                              "opposite the entry"),
    "c_own_side": Limit(0.0, -float("inf"), "at_least", "distance of C from the midsagittal plane on the entry side "
                        "(bilateral non-crossing path)"),
    "b_on_pedicle": Limit(5.0, float("inf"), "at_most", "distance of B lateral of the pedicle's lateral cortex line"),
    "transverse_angle": Limit(45.0, float("inf"), "at_most", "transverse angle in the vertebra frame; published "
                              "10-30 degrees transpedicular, steeper for the lateral unilateral approach", "deg"),
}
PUBLISHED_TRANSVERSE_DEG = (10.0, 30.0)
PLAUSIBILITY_MEASURES = "implausible measurements of the vertebra (canal, pedicles, left vs right); any caps at warn"


def verdict_rank(verdict: str) -> int:
    return VERDICTS.index(verdict)


@dataclass(frozen=True)
class SafetyCheck:
    name: str
    distance_mm: float | None
    verdict: str
    limit: Limit

    reasons: tuple[str, ...] = ()

    def to_json(self) -> dict:
        # *_mm keys only for lengths, so a percentage or an angle is never shown as millimetres.
        mm = self.limit.unit == "mm"
        data = {"verdict": self.verdict, "limit_mm" if mm else "limit": _finite(self.limit.limit_mm),
                "fail_limit_mm" if mm else "fail_limit": _finite(self.limit.fail_limit_mm), "rule": self.limit.rule,
                "measures": self.limit.measures, "unit": self.limit.unit}
        data["distance_mm" if mm else "value"] = self.distance_mm
        if self.reasons:
            data["reasons"] = list(self.reasons)
        message = self.message()
        if message:
            data["message"] = message
        return data

    def message(self) -> str:
        """The figure in words where a length column cannot show it (report and panel)."""
        if self.name == "plausibility":
            return "; ".join(self.reasons)
        if self.distance_mm is None or self.limit.unit == "mm":
            return ""
        if self.name == "transverse_angle":
            low, high = PUBLISHED_TRANSVERSE_DEG
            where = ("within" if low <= self.distance_mm <= high else "outside")
            return (f"{self.distance_mm:.1f}\u00b0, {where} the published {low:g}-{high:g}\u00b0 of a transpedicular "
                    f"path (the lateral unilateral approach is steeper); over {self.limit.limit_mm:g}\u00b0 warns")
        return f"{self.distance_mm:.1f} {self.limit.unit}"


def _finite(value: float):
    return None if not np.isfinite(value) else float(value)


@dataclass(frozen=True)
class SafetyReport:
    needle_gauge: int
    needle_outer_diameter_mm: float
    checks: tuple[SafetyCheck, ...]
    pedicle_width_mm: float

    @property
    def verdict(self) -> str:
        """The worst verdict of all checks (one that could not be measured warns: uncertainty is never a pass)."""
        return min((c.verdict for c in self.checks), key=verdict_rank) if self.checks else "warn"

    def value(self, name: str) -> float | None:
        return next((c.distance_mm for c in self.checks if c.name == name), None)

    def check(self, name: str) -> SafetyCheck | None:
        return next((c for c in self.checks if c.name == name), None)

    @property
    def smallest_neural_clearance_mm(self) -> float:
        values = [v for v in (self.value("spinal_canal"), self.value("medial_pedicle_wall")) if v is not None]
        return min(values) if values else float("inf")

    def to_json(self) -> dict:
        return {
            "needle_gauge": self.needle_gauge,
            "needle_outer_diameter_mm": self.needle_outer_diameter_mm,
            "verdict": self.verdict,
            "failed": [c.name for c in self.checks if c.verdict == "fail"],
            "warned": [c.name for c in self.checks if c.verdict == "warn"],
            "checks": {c.name: c.to_json() for c in self.checks},
        }


def judge(distance: float | None, limit: Limit) -> str:
    if distance is None:
        return "warn"
    if limit.rule == "at_least":
        return "pass" if distance >= limit.limit_mm else ("warn" if distance >= limit.fail_limit_mm else "fail")
    return "pass" if distance <= limit.limit_mm else ("warn" if distance <= limit.fail_limit_mm else "fail")


def check_safety(analysis: VertebraAnalysis, *, b, c, side: str, a=None, needle_gauge: int = 13,
                 limits: dict | None = None, crossing: bool = True) -> SafetyReport:
    """All SPEC section 5 checks of the path (A->)B->C through the analysed vertebra.

    b, c, a : RAS points (a may be None); side : the puncture side; limits : {check name: Limit} overriding
    DEFAULT_LIMITS; crossing : a unilateral path meant to cross the midline (False: one of a bilateral pair,
    each C on its own side). The points are never changed: a failing path is reported as failing.
    """
    limits = {**DEFAULT_LIMITS, **(limits or {})}
    radius = 0.5 * needle_outer_diameter_mm(needle_gauge)
    b, c = as_point(b, "B"), as_point(c, "C")
    start = b if a is None else as_point(a, "A")
    local_b, local_c = analysis.to_local(b)[0], analysis.to_local(c)[0]
    path = _samples(start, c)
    canal = analysis.canal_distance(path)
    distances = {
        "spinal_canal": float(canal.min()) - radius,
        "medial_pedicle_wall": _medial_wall(analysis, side, local_b, local_c, path, canal) - radius,
        "anterior_cortex": to_anterior_cortex_mm(analysis, b, c),
    }
    superior, inferior = _endplate_clearances(analysis, b, c)
    distances["superior_endplate"] = None if superior is None else superior - radius
    distances["inferior_endplate"] = None if inferior is None else inferior - radius
    distances["lateral_escape"], distances["path_in_bone"] = _outside_bone(analysis, b, c)
    across = _across_midline(analysis, side, local_c)
    if crossing:
        distances["c_across_midline"] = across
    else:
        distances["c_own_side"] = -across
    distances["b_on_pedicle"] = _lateral_of_pedicle(analysis, side, local_b)
    distances["transverse_angle"] = _transverse_deg(analysis.frame.rotation @ (c - start), side)
    checks = [SafetyCheck(name, None if d is None else float(d), judge(d, limits[name]), limits[name])
              for name, d in distances.items()]
    cautions = analysis.cautions_for(side)
    checks.append(SafetyCheck("plausibility", None, "warn" if cautions else "pass",
                              Limit(0.0, 0.0, "none", PLAUSIBILITY_MEASURES, ""), cautions))
    return SafetyReport(int(needle_gauge), 2.0 * radius, tuple(checks), float(analysis.pedicles[side].width))


def _samples(p, q, step: float = SAMPLE_STEP_MM) -> np.ndarray:
    n = max(2, int(np.ceil(np.linalg.norm(q - p) / step)) + 1)
    return p + np.linspace(0.0, 1.0, n)[:, None] * (q - p)


def _medial_wall(analysis, side: str, local_b, local_c, path, canal) -> float:
    """Axis to medial wall (mm, positive lateral): the smaller of the reading across the isthmus and the canal
    distance of the path's samples beside the canal (between its back and the posterior wall)."""
    at_isthmus = _medial_wall_at_isthmus(analysis, side, local_b, local_c)
    y = analysis.to_local(path)[:, 1]
    beside = (y >= analysis.canal.back_y) & (y <= analysis.canal.front_y)
    return min(at_isthmus, float(canal[beside].min())) if beside.any() else at_isthmus


def _transverse_deg(d, side: str) -> float:
    """SPEC 4: atan2(m, dA) in the vertebra frame, m = dR for a left entry, -dR for a right one."""
    m = d[0] if side == "left" else -d[0]
    return float(np.degrees(np.arctan2(m, d[1])))


def _across_midline(analysis, side: str, local_c) -> float:
    """Signed distance (mm) of C from the midsagittal plane, positive on the side opposite the entry."""
    towards_other = 1.0 if side == "left" else -1.0  # the patient's left is -x: its opposite side is +x
    return float(towards_other * (local_c[0] - analysis.body.centre[0]))


def _lateral_of_pedicle(analysis, side: str, local_b) -> float:
    """How far (mm) B lies lateral of the pedicle's lateral border line at B's depth (negative: over the pedicle)."""
    pedicle = analysis.pedicles[side]
    outward = -1.0 if side == "left" else 1.0
    across = float(np.hypot(1.0, pedicle.slope))  # x offset to distance perpendicular to the border line
    return float(outward * (local_b[0] - pedicle.border_x("lateral", local_b[1])) / across)


def _medial_wall_at_isthmus(analysis, side: str, local_b, local_c) -> float:
    """Distance (axis to wall, mm, positive lateral) across the pedicle where the path crosses its isthmus plane."""
    pedicle = analysis.pedicles[side]
    direction = pedicle.direction
    isthmus = pedicle.border_point("medial")
    d = local_c - local_b
    along = float(np.dot(d, direction))
    t = float(np.dot(isthmus - local_b, direction)) / along if abs(along) > 1e-9 else 0.0
    q = local_b + t * d
    sign = -1.0 if side == "left" else 1.0
    lateral = np.array([sign * direction[1], -sign * direction[0], 0.0])  # in the axial plane, away from the midline
    return float(np.dot(q - isthmus, lateral))


def to_anterior_cortex_mm(analysis, b, c) -> float:
    """Along B->C beyond C: distance to where the body ends; negative back to its surface when C is outside."""
    direction = (c - b) / np.linalg.norm(c - b)
    ahead = np.arange(0.0, 80.0, 0.1)
    inside = analysis.body_at(c + ahead[:, None] * direction) >= 0.5
    if inside[0]:
        out = np.flatnonzero(~inside)
        return float(ahead[out[0]]) if out.size else float(ahead[-1])
    back = analysis.body_at(c - ahead[:, None] * direction) >= 0.5
    found = np.flatnonzero(back)
    return -float(ahead[found[0]]) if found.size else -float(ahead[-1])


def _endplate_clearances(analysis, b, c):
    """Smallest distances (mm) of the axis to the superior and inferior endplate planes inside the body."""
    points = _samples(b, c)
    local = analysis.to_local(points)
    in_body = (analysis.body_at(points) >= 0.5) | (np.arange(len(points)) == len(points) - 1)
    if not in_body.any():
        return None, None
    x, y, z = local[in_body].T
    e = analysis.endplates
    sup_norm = float(np.sqrt(1.0 + e.superior[1] ** 2 + e.superior[2] ** 2))
    inf_norm = float(np.sqrt(1.0 + e.inferior[1] ** 2 + e.inferior[2] ** 2))
    below_superior = (e.superior_z(x, y) - z) / sup_norm
    above_inferior = (z - e.inferior_z(x, y)) / inf_norm
    return float(below_superior.min()), float(above_inferior.min())


def _outside_bone(analysis, b, c) -> tuple[float, float]:
    """Length (mm) of B->C outside bone after the first ENTRY_SKIP_MM, and the percentage of B->C inside bone."""
    step = 0.1
    points = _samples(b, c, step)
    spacing = np.linalg.norm(c - b) / (len(points) - 1)
    skip = int(np.ceil(ENTRY_SKIP_MM / spacing))
    inside = analysis.bone_at(points) >= 0.5
    return float((~inside[skip:]).sum() * spacing), float(100.0 * inside.mean())
