"""Automatic planning (SPEC section 3): C and B for each side from a vertebra analysis, then A; the side to use.

C (target): the contralateral pedicle's medial border line (parallel to the pedicle axis through the
isthmus, on the pedicle's centre height) carried along the superior axis to mid-height between the
endplates and followed forwards to where it enters the anterior third of the body (2/3 of the body depth
from the posterior wall, along the anterior axis). If that point is less than 5 mm behind the outer surface
of the anterior cortex along the line, C is the point 5 mm behind that surface instead.
B (bony entry): the ipsilateral pedicle's lateral border line carried along the superior axis to the
mid-height of the transverse process; coming from behind along it, from the canal's back wall (the pedicle
lies in front of the laminae), B is where it first meets bone.
A (skin entry): C->B extended to the skin (plan.plan_trajectory).
These are the rules the bundled phantom's ground truth is built with (phantom.py).

Search (reported, never silent): when the path built by these rules does not pass the checks the choice of B and C
can change (the neural-safety checks for the needle: spinal canal, medial pedicle wall, lateral escape or path in
bone; and the transverse angle, safety.py), a few candidate paths are checked: B every B_SEARCH_STEP_MM forwards
along the lateral border line (never past the isthmus) at the SPEC height and at the pedicle's centre height; C
every C_SEARCH_STEP_MM towards the midline along the anterior-third line, kept at least across_target_mm across it
(2 mm and one voxel), each at the SPEC depth and at the front of the anterior third (the anterior-cortex margin
behind the body's surface: a C further forwards makes the path less steep). The best by neural verdict, overall
verdict and smallest neural clearance is taken (ties: the one nearer the SPEC points). The proposal section of
plan.json gives the SPEC points, the shifts and why.

Gauge fallback (SPEC 5): when neither side passes with the requested needle, the thinner gauges are tried in
turn and the largest (thickest) gauge with a passing side is used and reported. When none passes, the level's
proposal says "no safe unilateral path at this level" with the figures, and offers bilateral non-crossing
paths: on each side C on the ipsilateral pedicle's axis line at the anterior third, kept on its own side.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..core.geometry import SIDES
from ..core.needles import needle_outer_diameter_mm, thinner_gauges
from ..core.volume import CTVolume
from ..vertebra import VertebraAnalysis, VertebraError, analyse_vertebra
from ..vertebra.surfaces import first_rise
from .plan import Plan, Trajectory, build_plan, plan_trajectory
from .safety import SafetyReport, check_safety, to_anterior_cortex_mm, verdict_rank
from .skin import SkinSurface

C_DEPTH_FRACTION = 2.0 / 3.0
C_ANTERIOR_MARGIN_MM = 5.0
# B is searched from the canal's back wall, at most this far behind the isthmus (mm).
B_SEARCH_BEHIND_MM = 70.0
LINE_STEP_MM = 0.1
# The search (module docstring): B every B_SEARCH_STEP_MM forwards along the lateral border, at two heights; C every
# C_SEARCH_STEP_MM towards the midline. A few dozen paths: each is one safety check (about 10 ms).
B_SEARCH_STEP_MM = 2.0
B_SEARCH_STEPS = 3
B_HEIGHTS = ("spec", "centre")
C_SEARCH_STEP_MM = 1.5
C_SEARCH_STEPS = 5
MIN_CROSSING_MM = 2.0
# Where the proposal itself places or slides C, it keeps more than the bare SPEC 5 limit across: the midsagittal
# plane is itself measured (each side of the body's outline to half a voxel, and any other reading of it as well:
# up to one voxel apart), so C keeps at least one voxel along the right axis, and never less than this, more
# (a C put on the limit would pass or warn by chance; a 3 mm CT's midline was read 1.1 mm apart by the benchmark's
# independent checker).
C_ACROSS_TARGET_MM = MIN_CROSSING_MM + 1.0


def across_target_mm(analysis: VertebraAnalysis) -> float:
    """How far across the midline the proposal keeps C: MIN_CROSSING_MM plus one voxel along the vertebra's right
    axis, at least C_ACROSS_TARGET_MM."""
    voxel_along_right = float(np.abs(analysis.frame.right @ analysis.masks.ct.ijk_to_ras[:3, :3]).sum())
    return max(C_ACROSS_TARGET_MM, MIN_CROSSING_MM + voxel_along_right)
NEURAL_CHECKS = ("spinal_canal", "medial_pedicle_wall", "lateral_escape", "path_in_bone")
# The checks a search over B and C is run for: the neural ones, and the transverse angle (a path steeper than 45
# degrees; a C further forwards or nearer the midline, or a B further along the pedicle, can make it less steep).
SEARCHED_CHECKS = NEURAL_CHECKS + ("transverse_angle",)
OTHER_SIDE = {"left": "right", "right": "left"}


@dataclass(frozen=True, eq=False)
class ProposedPoints:
    """B and C (RAS) for one side of one vertebra and how they were placed."""

    level: str
    side: str
    b: np.ndarray
    c: np.ndarray
    c_rule: str  # 'anterior_third' or 'anterior_cortex_margin'
    c_depth_fraction: float
    c_to_anterior_cortex_mm: float
    b_rule: str  # 'first_bone_on_lateral_border', 'lateral_border_at_isthmus' or 'lateral_border_at_canal_back' (+searched)
    notes: tuple[str, ...] = ()
    adjustment: dict | None = None  # {'spec_C', 'C_shift_mm', 'reason'} when C was moved for safety

    def to_json(self) -> dict:
        return {"C_rule": self.c_rule, "C_depth_fraction": self.c_depth_fraction,
                "C_to_anterior_cortex_mm": self.c_to_anterior_cortex_mm, "B_rule": self.b_rule,
                "adjustment": self.adjustment, "notes": list(self.notes)}


def propose_points(analysis: VertebraAnalysis, side: str, *, needle_gauge: int = 13, adjust: bool = True,
                   depth_fraction: float = C_DEPTH_FRACTION, anterior_margin_mm: float = C_ANTERIOR_MARGIN_MM,
                   crossing: bool = True) -> ProposedPoints:
    """B and C for a puncture `side` ('left' or 'right') by the rules in this module's docstring.

    adjust=False gives the SPEC construction alone, even when its path fails a safety check. crossing=False: the
    bilateral non-crossing C (on the ipsilateral pedicle's axis line, kept on its own side), never adjusted.
    """
    if side not in SIDES:
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    if crossing:
        c_local, c_rule, fraction, to_cortex = _target(analysis, OTHER_SIDE[side], depth_fraction, anterior_margin_mm)
    else:
        c_local, c_rule, fraction, to_cortex = _own_side_target(analysis, side, depth_fraction, anterior_margin_mm)
        adjust = False
    b_local, b_rule, notes = _bony_entry(analysis, side)
    points = ProposedPoints(analysis.level, side, analysis.to_ras(b_local)[0], analysis.to_ras(c_local)[0], c_rule,
                            fraction, to_cortex, b_rule, tuple(notes))
    if not adjust:
        return points
    points, c_local = _across(analysis, points, c_local)
    return _adjusted(analysis, points, c_local, b_local, needle_gauge, anterior_margin_mm)


def _across(analysis: VertebraAnalysis, points: ProposedPoints, c_local: np.ndarray):
    """C moved to across_target_mm across the midline when the SPEC line puts it nearer or on the entry side (a
    strongly converging contralateral pedicle's medial border crosses the midline before the anterior third)."""
    towards_other = 1.0 if points.side == "left" else -1.0
    midline_x = float(analysis.body.centre[0])
    across = towards_other * (c_local[0] - midline_x)
    target = across_target_mm(analysis)
    if across >= target:
        return points, c_local
    x = midline_x + towards_other * target
    moved = np.array([x, c_local[1], analysis.endplates.mid_z(x, c_local[1])])
    adjustment = {"spec_C": [float(v) for v in points.c], "C_shift_mm": float(abs(x - c_local[0])),
                  "reason": f"the SPEC line puts C {across:.1f} mm across the midline (SPEC 5 wants "
                            f"{MIN_CROSSING_MM:g} mm on the side opposite the entry); C moved {abs(x - c_local[0]):.1f} "
                            f"mm, to {target:.1f} mm across (one voxel more than that), along the anterior third"}
    return replace(points, c=analysis.to_ras(moved)[0], c_rule=points.c_rule + "+across",
                    adjustment=adjustment), moved


def _neural_verdict(report: SafetyReport) -> str:
    """The worst verdict of the neural-safety checks (the ones moving C can change)."""
    return min((c.verdict for c in report.checks if c.name in NEURAL_CHECKS), key=verdict_rank)


def _searched_failures(report: SafetyReport) -> list[str]:
    return [c.name for c in report.checks if c.name in SEARCHED_CHECKS and c.verdict != "pass"]


def _adjusted(analysis: VertebraAnalysis, points: ProposedPoints, c_local: np.ndarray, b_local: np.ndarray,
              needle_gauge: int, anterior_margin_mm: float):
    """The search of the module docstring: when the SPEC path does not pass the searched checks, a few B along the
    lateral pedicle border and C along the anterior third, the one the safety checks rank best; said in the plan."""
    report = check_safety(analysis, b=points.b, c=points.c, side=points.side, needle_gauge=needle_gauge)
    failures = _searched_failures(report)
    if not failures:
        return points
    reasons = ", ".join(_figure(report, name) for name in failures)
    best, best_key, tried = None, _rank(report), 0
    c_candidates = list(_c_candidates(analysis, points.side, c_local, anterior_margin_mm))
    for b_name, b_shift, b in _b_candidates(analysis, points.side, b_local):
        b_ras = analysis.to_ras(b)[0]
        for c_candidate in c_candidates:
            if c_candidate.front:
                c_candidate = replace(c_candidate, c=_behind_cortex(analysis, b_ras, c_candidate.c, anterior_margin_mm))
                if c_candidate.c[1] - c_local[1] <= LINE_STEP_MM:
                    continue  # taken back to the SPEC depth or behind it: not a C further forwards
            c_ras = analysis.to_ras(c_candidate.c)[0]
            trial = check_safety(analysis, b=b_ras, c=c_ras, side=points.side, needle_gauge=needle_gauge)
            tried += 1
            if trial.value("anterior_cortex") is None:
                continue
            key = _rank(trial)
            if key > best_key:  # strictly better: ties keep the candidate nearer the SPEC points
                best, best_key = (b_name, b_shift, b_ras, c_candidate, c_ras), key
    if best is None:
        note = (f"the SPEC path gives {reasons}; no B along the lateral pedicle border nor C along the anterior third "
                f"(kept {across_target_mm(analysis):.1f} mm across the midline) did better, so the SPEC points are kept")
        return replace(points, notes=points.notes + (note,))
    b_name, b_shift, b, c_candidate, c = best
    spec_c = points.adjustment["spec_C"] if points.adjustment else [float(v) for v in points.c]
    moved = []
    if b_name != "spec" or b_shift > 0:
        moved.append(f"B moved {b_shift:g} mm forwards along the lateral pedicle border"
                     + (" to the pedicle's centre height" if b_name == "centre" else ""))
    if c_candidate.towards_midline_mm > 0:
        moved.append(f"C moved {c_candidate.towards_midline_mm:.1f} mm towards the midline along the anterior third")
    if c_candidate.front:
        moved.append(f"C moved {c_candidate.c[1] - c_local[1]:.1f} mm forwards, to {anterior_margin_mm:g} mm behind the "
                     "anterior cortex along the needle (the front of the anterior third)")
    c_shift = float(np.linalg.norm(c - np.asarray(spec_c)))
    adjustment = {"spec_C": spec_c, "spec_B": [float(v) for v in points.b], "C_shift_mm": c_shift,
                  "B_shift_mm": float(np.linalg.norm(b - points.b)),
                  "reason": f"the SPEC path gives {reasons} for a {needle_gauge}G needle; of {tried} "
                            "candidate paths the one with the best safety verdict and the largest neural clearance: "
                            + "; ".join(moved)}
    rule = points.b_rule + ("+searched" if b_name != "spec" or b_shift > 0 else "")
    c_moved = c_candidate.towards_midline_mm > 0 or c_candidate.front
    if c_candidate.front:
        points = replace(points, c_rule="anterior_cortex_margin")
    if c_moved:  # where the moved C lies: its depth, and its margin along the needle as the safety check measures it
        points = replace(points, c_depth_fraction=float((c_candidate.c[1] - analysis.body.posterior_y) / analysis.body.depth),
                         c_to_anterior_cortex_mm=to_anterior_cortex_mm(analysis, b, c))
    return replace(points, b=b, c=c, c_rule=points.c_rule + ("+adjusted" if c_moved else ""), b_rule=rule,
                   adjustment=adjustment)


def _figure(report: SafetyReport, name: str) -> str:
    check = report.check(name)
    return f"{name} {report.value(name):.1f} {check.limit.unit} ({check.verdict})"


def _rank(report: SafetyReport):
    """Order of candidate paths: neural verdict, then overall verdict, then the smallest neural clearance (0.1 mm)."""
    return (verdict_rank(_neural_verdict(report)), verdict_rank(report.verdict),
            round(10.0 * report.smallest_neural_clearance_mm))


def _b_candidates(analysis: VertebraAnalysis, side: str, b_local: np.ndarray):
    """B along the lateral border line from the SPEC B forwards (never past the isthmus), at the SPEC height and at
    the pedicle's centre height (the pedicle is tallest there: the path keeps the most bone above and below)."""
    pedicle = analysis.pedicles[side]
    for step in range(B_SEARCH_STEPS + 1):
        shift = step * B_SEARCH_STEP_MM
        point = b_local + shift * pedicle.direction
        if step and point[1] > pedicle.isthmus_y:
            break
        for name in B_HEIGHTS:
            b = point.copy()
            if name == "centre":
                b[2] = float(pedicle.centre_height(b[1]))
            elif step:
                b[2] = b_local[2] + pedicle.rise * (b[1] - b_local[1])
            yield name, shift, b


@dataclass(frozen=True)
class _CCandidate:
    c: np.ndarray  # local coordinates
    towards_midline_mm: float
    front: bool = False  # at the front of the anterior third: kept anterior_margin_mm behind the cortex per B


def _c_candidates(analysis: VertebraAnalysis, side: str, c_local: np.ndarray, anterior_margin_mm: float):
    """C from the SPEC C towards the midline along the anterior third, kept across_target_mm across it; each also at
    the front of the anterior third (anterior_margin_mm behind the body's surface along the anterior axis, then
    _behind_cortex per B) when that is further forwards."""
    for shift, c in _towards_midline(analysis, side, c_local):
        yield _CCandidate(c, shift)
        x = float(c[0])
        try:
            front = _target_on_line(analysis, lambda y, x=x: np.full(np.shape(y), x), "anterior third", 1.0,
                                    anterior_margin_mm)[0]
        except VertebraError:
            continue
        if front[1] - c[1] > LINE_STEP_MM:
            yield _CCandidate(front, shift, front=True)


def _behind_cortex(analysis: VertebraAnalysis, b_ras: np.ndarray, c_local: np.ndarray, margin: float) -> np.ndarray:
    """C (local) moved back along the anterior axis, at mid-height, until the needle from B keeps `margin` to the
    body's anterior surface beyond C as safety.py measures it (along the needle, which is oblique to the axis)."""
    c = np.array(c_local, dtype=float)
    for _ in range(10):
        ahead = to_anterior_cortex_mm(analysis, b_ras, analysis.to_ras(c)[0])
        if ahead >= margin - 1e-6:
            break
        c[1] -= max(margin - ahead, LINE_STEP_MM)
        c[2] = analysis.endplates.mid_z(c[0], c[1])
    return c


def _towards_midline(analysis: VertebraAnalysis, side: str, c_local: np.ndarray):
    """C from the SPEC C towards the midline along the anterior third, kept across_target_mm across it."""
    towards_midline = -1.0 if side == "left" else 1.0  # C lies contralateral: on +x for a left puncture
    midline_x = float(analysis.body.centre[0])
    target = across_target_mm(analysis)
    for step in range(C_SEARCH_STEPS + 1):
        x = c_local[0] + towards_midline * step * C_SEARCH_STEP_MM
        if step and -towards_midline * (x - midline_x) < target:
            if -towards_midline * (c_local[0] - midline_x) <= target:
                return  # the SPEC C (step 0) is already at the target or nearer
            x = midline_x - towards_midline * target
            yield float(abs(x - c_local[0])), np.array([x, c_local[1], analysis.endplates.mid_z(x, c_local[1])])
            return
        yield step * C_SEARCH_STEP_MM, np.array([x, c_local[1], analysis.endplates.mid_z(x, c_local[1])])


def _own_side_target(analysis: VertebraAnalysis, side: str, depth_fraction: float, margin: float):
    """C of a bilateral non-crossing path: on the ipsilateral pedicle's axis line, at least MIN_CROSSING_MM on the
    entry side of the midsagittal plane."""
    pedicle = analysis.pedicles[side]
    own = -1.0 if side == "left" else 1.0
    midline_x = float(analysis.body.centre[0])

    def x_of(y):
        x = 0.5 * (pedicle.border_x("medial", y) + pedicle.border_x("lateral", y))
        return midline_x + own * np.maximum(own * (x - midline_x), MIN_CROSSING_MM)

    c, rule, fraction, to_cortex = _target_on_line(analysis, x_of, f"{side} pedicle's axis line", depth_fraction,
                                                   margin)
    return c, rule + "+own_side", fraction, to_cortex


def _target(analysis: VertebraAnalysis, contralateral: str, depth_fraction: float, margin: float):
    pedicle = analysis.pedicles[contralateral]
    return _target_on_line(analysis, lambda y: pedicle.border_x("medial", y),
                           f"{contralateral} pedicle's medial border line", depth_fraction, margin)


def _target_on_line(analysis: VertebraAnalysis, x_of, what: str, depth_fraction: float, margin: float):
    endplates, body = analysis.endplates, analysis.body

    def point(y):
        y = np.asarray(y, dtype=float)
        x = x_of(y)
        return np.stack([x, y, endplates.mid_z(x, y)], axis=-1)

    per_y = float(np.linalg.norm(point(1.0) - point(0.0)))  # line length per mm along the anterior axis
    y_third = body.posterior_y + depth_fraction * body.depth
    ys = np.arange(analysis.canal.front_y, body.anterior_y + 20.0, LINE_STEP_MM / per_y)
    inside = analysis.body_at(analysis.to_ras(point(ys)))
    entered = np.flatnonzero(inside > 0.5)
    if entered.size == 0:
        raise VertebraError(f"{analysis.level or 'the vertebra'}: the {what}, carried to mid-height, never enters "
                            "the vertebral body; check the segmentation")
    start = int(entered[0])
    # The anterior surface: coming back along the line from in front of the body, where it first meets the body
    # (holes inside the body, a fracture cleft or a gap in the segmentation, do not end it).
    y_exit = first_rise(inside[None, start:][:, ::-1], ys[start:][::-1])[0]
    if not np.isfinite(y_exit):
        raise VertebraError(f"{analysis.level or 'the vertebra'}: the body's anterior surface is not in the field of "
                            "view along the target line; scan the whole vertebral body")
    y_c, rule = y_third, "anterior_third"
    if (y_exit - y_third) * per_y < margin:
        y_c, rule = y_exit - margin / per_y, "anterior_cortex_margin"
    return point(y_c), rule, float((y_c - body.posterior_y) / body.depth), float((y_exit - y_c) * per_y)


def _bony_entry(analysis: VertebraAnalysis, side: str):
    pedicle = analysis.pedicles[side]
    process = analysis.transverse_processes[side]
    notes = [] if process.found else [f"no {side} transverse process found: B at the pedicle's centre height"]
    # The pedicle lies in front of the laminae: behind the canal's back, the line runs along an articular process
    # or the lamina, not the pedicle, so B is sought from there forwards.
    behind = float(np.clip((pedicle.isthmus_y - analysis.canal.back_y) / max(pedicle.direction[1], 1e-6), 1.0,
                           B_SEARCH_BEHIND_MM))
    ts = np.arange(-behind, 0.0 + 1e-9, LINE_STEP_MM)
    points = pedicle.border_point("lateral") + ts[:, None] * pedicle.direction
    points[:, 2] = _b_height(pedicle, process, points[:, 1])
    bone = analysis.bone_at(analysis.to_ras(points))
    outside = np.flatnonzero(bone < 0.5)
    if outside.size == 0 or bone[0] >= 0.5:
        notes.append(f"the {side} pedicle's lateral border line is in bone already at the canal's back (the "
                     "articular process or lamina joins the pedicle there): B placed on the line at the canal's back")
        b = pedicle.border_point("lateral") + ts[0] * pedicle.direction
        b[2] = _b_height(pedicle, process, b[1])
        return b, "lateral_border_at_canal_back", notes
    first = int(outside[0])  # come from behind: start where the line is outside bone
    t_b = first_rise(bone[None, first:], ts[first:])[0]
    if not np.isfinite(t_b):
        notes.append(f"the {side} pedicle's lateral border line meets no bone behind the isthmus: B placed on the "
                     "border at the isthmus")
        return points[-1], "lateral_border_at_isthmus", notes
    b = pedicle.border_point("lateral") + t_b * pedicle.direction
    b[2] = _b_height(pedicle, process, b[1])
    return b, "first_bone_on_lateral_border", notes


def _b_height(pedicle, process, y):
    """The lateral border line carried to the process's mid-height: through it at the process, parallel to the
    pedicle's own tilt (which a wedge fracture leaves unchanged while it tilts the endplates and the frame)."""
    return process.mid_z + pedicle.rise * (np.asarray(y, dtype=float) - process.mid_y)


@dataclass(frozen=True, eq=False)
class SideProposal:
    """One side of one vertebra, planned and checked."""

    points: ProposedPoints
    trajectory: Trajectory
    safety: SafetyReport


def plan_side(ct: CTVolume, skin: SkinSurface | None, analysis: VertebraAnalysis, side: str, *,
              needle_gauge: int = 13, crossing: bool = True) -> SideProposal:
    """Propose B and C for `side`, find A and the measurements, check safety, attach the plan.json sections.

    crossing=False: the bilateral non-crossing path (C on its own side)."""
    points = propose_points(analysis, side, needle_gauge=needle_gauge, crossing=crossing)
    trajectory = plan_trajectory(ct, skin, b=points.b, c=points.c, side=side, level=analysis.level,
                                 landmarks=analysis.landmarks())
    safety = check_safety(analysis, a=trajectory.a, b=points.b, c=points.c, side=side, needle_gauge=needle_gauge,
                          crossing=crossing)
    thin = _thin_body_note(analysis, points, safety)
    if thin:
        points = replace(points, notes=points.notes + (thin,))
    trajectory = trajectory.with_sections(safety=safety.to_json(), proposal=points.to_json())
    return SideProposal(points, trajectory, safety)


def _thin_body_note(analysis: VertebraAnalysis, points: ProposedPoints, safety: SafetyReport) -> str | None:
    """When the body (a collapsed one) cannot hold the tip between its endplates or behind its anterior cortex, the
    measured figures in words; None when it can."""
    names = ("superior_endplate", "inferior_endplate", "anterior_cortex")
    if all(safety.check(n) is None or safety.check(n).verdict == "pass" for n in names):
        return None
    x, y, _ = analysis.to_local(points.c)[0]
    height = float(analysis.endplates.superior_z(x, y) - analysis.endplates.inferior_z(x, y))
    d = safety.needle_outer_diameter_mm
    figures = ", ".join(f"{n.replace('_', ' ')} {_mm(safety.value(n))}" for n in names)
    return (f"the body is {height:.1f} mm high at C: a {safety.needle_gauge}G needle ({d:.2f} mm) leaves "
            f"{max(0.0, 0.5 * (height - d)):.1f} mm to each endplate at best (2 mm wanted); measured {figures}")


@dataclass(frozen=True)
class SideRecommendation:
    level: str
    side: str
    reasons: tuple[str, ...]

    def to_json(self) -> dict:
        return {"level": self.level, "recommended_side": self.side, "reasons": list(self.reasons)}


def recommend_side(left: SideProposal, right: SideProposal) -> SideRecommendation:
    """The side for a unilateral plan: the better overall safety verdict, then the larger of the smallest
    clearances to the canal and the medial pedicle wall (to 0.5 mm), then the wider pedicle."""
    def key(p: SideProposal):
        return (verdict_rank(p.safety.verdict), round(2.0 * p.safety.smallest_neural_clearance_mm) / 2.0,
                p.safety.pedicle_width_mm)

    best, other = (left, right) if key(left) >= key(right) else (right, left)
    reasons = []
    for p in (best, other):
        s = p.safety
        reasons.append(f"{p.points.side}: safety {s.verdict}; canal clearance {_mm(s.value('spinal_canal'))}, medial "
                       f"pedicle wall {_mm(s.value('medial_pedicle_wall'))}, pedicle {s.pedicle_width_mm:.1f} mm wide")
    if key(best)[:2] == key(other)[:2]:
        reasons.append(f"both sides are equally safe to 0.5 mm; {best.points.side} has the wider pedicle")
    return SideRecommendation(best.points.level, best.points.side, tuple(reasons))


def _mm(value) -> str:
    return "n/a" if value is None else f"{value:.1f} mm"


def passes(report: SafetyReport) -> bool:
    """The needle passes the neural checks (canal, medial wall, lateral escape, path in bone): what a thinner needle
    can change. The other checks (endplates of a collapsed body, the plausibility cap) still set the verdict."""
    return _neural_verdict(report) == "pass"


NO_SAFE_UNILATERAL = "no safe unilateral path at this level"


@dataclass(frozen=True, eq=False)
class LevelProposal:
    """Both sides of one vertebra proposed and checked, the side recommended, the sides put into the plan.

    needle_gauge : the gauge of `sides` (the largest that passes, after a fallback); gauge_trials : per gauge
    tried, each side's verdict and smallest neural clearance; no_safe_path : the explanation when no gauge
    passes on either side (None otherwise); bilateral : the non-crossing alternative offered then (side ->
    SideProposal) and its gauge.
    """

    analysis: VertebraAnalysis
    sides: dict
    recommendation: SideRecommendation
    planned_sides: tuple[str, ...]
    needle_gauge: int = 13
    gauge_trials: tuple = ()
    no_safe_path: str | None = None
    bilateral: dict | None = None
    bilateral_gauge: int | None = None

    def to_json(self) -> dict:
        data = self.recommendation.to_json()
        data["planned_sides"] = list(self.planned_sides)
        data["needle_gauge"] = self.needle_gauge
        data["gauge_trials"] = list(self.gauge_trials)
        data["no_safe_unilateral_path"] = self.no_safe_path
        data["sides"] = {side: _side_json(p) for side, p in sorted(self.sides.items())}
        if self.bilateral is not None:
            data["bilateral_alternative"] = {
                "needle_gauge": self.bilateral_gauge,
                "sides": {side: {**_side_json(p), "B": _list(p.points.b), "C": _list(p.points.c),
                                 "A": None if p.trajectory.a is None else _list(p.trajectory.a)}
                          for side, p in sorted(self.bilateral.items())}}
        return data


def _list(v) -> list[float]:
    return [float(x) for x in np.asarray(v).ravel()]


def _side_json(p: SideProposal) -> dict:
    return {"safety_verdict": p.safety.verdict, "failed": [c.name for c in p.safety.checks if c.verdict == "fail"],
            "warned": [c.name for c in p.safety.checks if c.verdict == "warn"],
            "needle_gauge": p.safety.needle_gauge,
            "C_shift_mm": None if p.points.adjustment is None else p.points.adjustment["C_shift_mm"]}


def _trial(gauge: int, sides: dict) -> dict:
    return {"needle_gauge": gauge, "passes": any(passes(p.safety) for p in sides.values()),
            "sides": {s: {"verdict": p.safety.verdict, "canal_mm": p.safety.value("spinal_canal"),
                          "medial_wall_mm": p.safety.value("medial_pedicle_wall"),
                          "path_in_bone_percent": p.safety.value("path_in_bone")} for s, p in sorted(sides.items())}}


def _no_safe_text(trials) -> str:
    parts = []
    for t in trials:
        sides = "; ".join(f"{s} canal {_mm(v['canal_mm'])}, medial wall {_mm(v['medial_wall_mm'])}, "
                          f"in bone {v['path_in_bone_percent']:.0f} %" for s, v in t["sides"].items())
        parts.append(f"{t['needle_gauge']}G: {sides}")
    return f"{NO_SAFE_UNILATERAL} (no gauge passes on either side: " + " | ".join(parts) + ")"


PLAN_SIDES = SIDES + ("both", "auto")  # `pvpguide plan --side`: one side, both, or the recommended one


def propose_level(ct: CTVolume, skin: SkinSurface | None, analysis: VertebraAnalysis, *, side: str = "auto",
                  needle_gauge: int = 13, gauge_fallback: bool = True) -> LevelProposal:
    """Propose both sides of a vertebra; plan `side` ('left', 'right', 'both', or 'auto' = the recommended one).

    gauge_fallback : when neither side passes with `needle_gauge`, try the thinner gauges (module docstring).
    """
    if side not in PLAN_SIDES:
        raise ValueError(f"side must be one of {', '.join(PLAN_SIDES)}, got {side!r}")
    needle_outer_diameter_mm(needle_gauge)  # validates the gauge
    gauges = [needle_gauge] + (thinner_gauges(needle_gauge) if gauge_fallback else [])
    trials, first, chosen = [], None, None
    for gauge in gauges:
        sides = {s: plan_side(ct, skin, analysis, s, needle_gauge=gauge) for s in SIDES}
        trials.append(_trial(gauge, sides))
        first = first or (gauge, sides)
        if trials[-1]["passes"]:
            chosen = (gauge, sides)
            break
    no_safe, bilateral, bilateral_gauge = None, None, None
    if chosen is None:
        chosen = first
        no_safe = _no_safe_text(trials)
        for gauge in gauges:
            bilateral = {s: plan_side(ct, skin, analysis, s, needle_gauge=gauge, crossing=False) for s in SIDES}
            bilateral_gauge = gauge
            if all(passes(p.safety) for p in bilateral.values()):
                break
    gauge, sides = chosen
    recommendation = recommend_side(sides["left"], sides["right"])
    planned = SIDES if side == "both" else ((recommendation.side,) if side == "auto" else (side,))
    return LevelProposal(analysis, sides, recommendation, planned, gauge, tuple(trials), no_safe, bilateral,
                         bilateral_gauge)


def propose_plan(ct: CTVolume, skin: SkinSurface | None, analyses, *, side: str = "auto", needle_gauge: int = 13,
                 warnings=()) -> Plan:
    """A plan with proposed trajectories for every analysed vertebra (multi-level), on one or both sides.

    plan.json gets, per trajectory, `safety` and `proposal` (how B and C were placed); at the top level,
    `proposal` (per level: recommended side and why, per-side verdicts) and `vertebrae` (the landmarks).
    """
    levels = [propose_level(ct, skin, a, side=side, needle_gauge=needle_gauge) for a in analyses]
    chosen_gauges = {lp.needle_gauge for lp in levels}
    if not levels:
        raise ValueError("no vertebra to plan: give at least one level")
    names = [lp.analysis.level for lp in levels]
    if len(set(names)) != len(names):
        raise ValueError(f"the same level appears twice ({', '.join(names)}); plan each vertebra once")
    trajectories = [lp.sides[s].trajectory for lp in levels for s in lp.planned_sides]
    notes = list(warnings)
    for lp in levels:
        notes += [f"{lp.analysis.level or 'level ?'}: {n}" for n in lp.analysis.notes]
        for s in lp.planned_sides:
            p = lp.sides[s].points
            if p.adjustment is not None:
                notes.append(f"{p.level or 'level ?'} {s}: {p.adjustment['reason']}")
            if lp.needle_gauge != needle_gauge:
                notes.append(f"{p.level or 'level ?'} {s}: a {needle_gauge}G needle does not pass; {lp.needle_gauge}G, "
                             "the largest gauge that passes, is planned")
            if lp.sides[s].safety.verdict == "fail":
                failed = ", ".join(c.name for c in lp.sides[s].safety.checks if c.verdict == "fail")
                notes.append(f"{p.level or 'level ?'} {s}: the proposed path FAILS safety checks ({failed}); review it")
        if lp.no_safe_path:
            notes.append(f"{lp.analysis.level or 'level ?'}: {lp.no_safe_path}; bilateral non-crossing paths (each C "
                         "on its own side) are offered in the proposal section")
    # One gauge for the plan (the guide's bore): the one every level uses, else the requested one (notes say which).
    plan_gauge = chosen_gauges.pop() if len(chosen_gauges) == 1 else needle_gauge
    plan = build_plan(ct, skin, trajectories, needle_gauge=plan_gauge, warnings=notes)
    return plan.with_sections(
        proposal={"method": "SPEC section 3 rules (docs/automatic-planning.md)", "side_request": side,
                  "levels": {lp.analysis.level or str(n): lp.to_json() for n, lp in enumerate(levels)}},
        vertebrae={lp.analysis.level or str(n): lp.analysis.to_json() for n, lp in enumerate(levels)})


@dataclass(frozen=True, eq=False)
class BAndC:
    """What the Slicer module's "Propose B and C" needs: the points, the landmarks for vertebra-frame angles and
    offsets, the safety report, and the recommended side with its reasons."""

    side: str
    b: np.ndarray
    c: np.ndarray
    points: ProposedPoints
    safety: SafetyReport
    recommendation: SideRecommendation
    analysis: VertebraAnalysis

    @property
    def landmarks(self):
        return self.analysis.landmarks()


def propose_b_and_c(ct: CTVolume, labels, *, side: str = "auto", label: int = 1, parts=None, body_label: int = 1,
                    level: str = "", needle_gauge: int = 13, snap_mm: float | None = None) -> BAndC:
    """One call for an application: B and C for a vertebra given as a label map (CTVolume on any grid, or an
    array on the CT grid; `label` its value, 1 for a Slicer segment exported as a label map).

    side : 'left', 'right' or 'auto' (the recommended side). parts : optional body / posterior-elements label
    map (body = `body_label`). snap_mm : vertebra_from_labels's (None: its default). Raises ValueError
    (VertebraError) with what to fix when the vertebra cannot be analysed. A is not found here (the caller has
    the skin); the safety report covers B->C.
    """
    from ..vertebra import vertebra_from_labels

    if side not in ("left", "right", "auto"):
        raise ValueError(f"side must be 'left', 'right' or 'auto', got {side!r}")
    options = {} if snap_mm is None else {"snap_mm": snap_mm}
    analysis = analyse_vertebra(vertebra_from_labels(ct, labels, label, level=level or None, parts=parts,
                                                     body_label=body_label, **options))
    sides = {s: plan_side(ct, None, analysis, s, needle_gauge=needle_gauge) for s in SIDES}
    recommendation = recommend_side(sides["left"], sides["right"])
    chosen = recommendation.side if side == "auto" else side
    p = sides[chosen]
    return BAndC(chosen, p.points.b, p.points.c, p.points, p.safety, recommendation, analysis)
