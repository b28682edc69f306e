"""The panel's "Propose B and C" (issue 4, SPEC sections 3 and 5): B and C from the vertebra segment, A, safety rows.

The target vertebra's segment is analysed (PVPGuideLib.planning.proposal.propose_b_and_c), B and C are placed for the puncture
side (setting `side`; with 'both' the recommended side: the panel holds one A/B/C set, a bilateral plan is the command
line's `--side both`), the vertebra landmarks are stored, A is found on the skin, and the needle's safety checks and
the side recommendation are stored as proposalSection. B and C stay unlocked: the surgeon may move them.
"""

from __future__ import annotations

import json

import numpy as np

from ..core.display import format_length
from ..core.progress import Steps
from ..planning.plan import infer_side
from ..planning.skin import SkinEntryStatus, find_skin_entry
from .planning_cement import FRESH_TOLERANCE_MM
from .planning_fields import SIDE_CHOICES

_STEPS = ["reading the CT and the vertebra", "analysing the vertebra and proposing B and C", "reading the CT",
          "extracting the skin surface", "finding A", "placing the points"]


def propose_points(logic, *, side: str | None = None, progress=None) -> dict:
    """PlanningLogic.propose_points: analyse the target vertebra, place B, C and A, store safety and recommendation."""
    from ..planning.proposal import propose_b_and_c
    from ..planning.safety import check_safety
    from ..planning.skin import SkinError
    from .volumes import ct_from_volume_node

    steps = Steps(_STEPS, progress)
    ct_node = logic.state.ct_node()  # first: without a CT there is nothing to analyse (not even a parameter node)
    if side is not None and side not in SIDE_CHOICES:
        raise ValueError(f"side must be one of {', '.join(SIDE_CHOICES)}, got {side!r}")
    settings = logic.settings()
    requested = settings["side"] if side is None else side
    segmentation, segment_id = logic.state.vertebra_segment()
    for name in ("A", "B", "C"):
        logic.point(name, required=False)  # refuses a markups node with extra points before anything is computed
    logic.state.require_unlocked()
    gauge = settings["needleGauge"]

    steps.start("reading the CT and the vertebra")
    ct = ct_from_volume_node(ct_node)
    labels, label = target_and_neighbours(segmentation, segment_id, ct, settings["level"])
    if not (labels == label).any():
        raise ValueError(f"the target vertebra (segment '{segment_id}') is empty on the CT grid: choose the segment "
                         "of the vertebra to treat in Inputs")
    steps.start("analysing the vertebra and proposing B and C")
    try:
        # snap_mm=0: a segmentation in Slicer need not hold the ribs and vessels, so no CT bone is added to it.
        result = propose_b_and_c(ct, labels, side="auto" if requested == "both" else requested, label=label,
                                 level=settings["level"], needle_gauge=gauge, snap_mm=0.0)
    except ValueError as error:  # VertebraError: what to fix, passed through
        raise ValueError(f"B and C cannot be proposed: {error}") from error
    b, c = np.asarray(result.b, float), np.asarray(result.c, float)
    geometry_ct = logic.state.ct_geometry()
    geometry_ct.require_inside("B", b)
    geometry_ct.require_inside("C", c)

    warnings = list(result.analysis.notes) + list(result.points.notes)
    if result.points.adjustment:
        warnings.append(result.points.adjustment["reason"])
    entry = None
    try:
        skin = logic.state.skin(settings["skinThresholdHu"], steps)
        steps.start("finding A")
        found = find_skin_entry(skin, b, c)
        if found.status is SkinEntryStatus.FOUND:
            entry = found.point
        else:
            warnings.append(f"A is not placed: {found.message}")
    except SkinError as error:
        warnings.append(f"A is not placed: no skin surface ({error})")
    safety = result.safety if entry is None else check_safety(result.analysis, a=entry, b=b, c=c, side=result.side,
                                                              needle_gauge=gauge)
    section = {
        "level": settings["level"], "side": result.side, "requested_side": requested,
        "recommended_side": result.recommendation.side, "reasons": list(result.recommendation.reasons),
        "safety": safety.to_json(), "proposal": result.points.to_json(), "warnings": warnings,
        "inputs": proposal_inputs(entry, b, c, result.side, gauge, segment_id),
    }
    section = json.loads(json.dumps(section, sort_keys=True, allow_nan=False))

    # ---- everything is computed: now the scene changes
    steps.start("placing the points")
    params = logic.parameter_node()
    modifying = params.StartModify()
    if side is not None:
        logic.set_settings(side=side)
    logic.set_vertebra_landmarks(result.landmarks)
    logic.set_point("B", b)
    logic.set_point("C", c)
    if entry is not None:
        logic.find_skin_entry()  # the same A (skin cached): places it, shows the skin model, measures
    else:
        node = logic.node("pointA")
        if node is not None:
            node.RemoveAllControlPoints()  # an A from earlier points is not on the new line
        params.SetParameter("skinEntryPoint", "")
        logic.measure()
    params.SetParameter("proposalSection", json.dumps(section, sort_keys=True, allow_nan=False))
    verdict = section["safety"]["verdict"]
    params.SetParameter("status", f"B and C proposed for {section['level']} {result.side} (recommended side "
                                  f"{result.recommendation.side}); safety {verdict}"
                        + ("; FAILED checks are marked: move B or C" if verdict == "fail" else "")
                        + "".join(f"; {w}" for w in warnings))
    params.EndModify(modifying)
    steps.done()
    return section


def target_and_neighbours(segmentation, segment_id: str, ct, level: str = "") -> tuple[np.ndarray, int]:
    """The target segment on the CT grid as a label map, and its label value.

    When its level is known (from its name, e.g. TotalSegmentator's 'vertebrae_T12', else the module's level
    setting), the map uses TotalSegmentator ids and also holds the segments named as vertebrae up to two levels
    above and below: parts of the target labelled as a neighbour are then taken back (vertebra/enclosed.py).
    Otherwise it is the target alone, label 1.
    """
    from ..vertebra.levels import label_for_level, level_from_name, neighbouring_levels, normalise_level
    from .segmentations import labelmap_from_segment, segment_names_by_id

    target = labelmap_from_segment(segmentation, segment_id, ct) > 0
    names = segment_names_by_id(segmentation)
    name = level_from_name(names.get(segment_id, "")) or level_from_name(segment_id)
    if not name and level:
        try:
            name = normalise_level(level)
        except ValueError:  # a free-text level: no neighbours to look for
            name = ""
    if not name:
        return target.astype(np.int16), 1
    near = set(neighbouring_levels(name))
    labels = np.zeros(target.shape, dtype=np.int16)
    for other_id, other_name in names.items():
        other = level_from_name(other_name)
        if other_id != segment_id and other in near:
            labels[labelmap_from_segment(segmentation, other_id, ct) > 0] = label_for_level(other)
    labels[target] = label_for_level(name)
    return labels, label_for_level(name)


def proposal_inputs(a, b, c, side: str, gauge: int, segment_id: str) -> dict:
    """What the safety checks were made for (JSON): they are current while these still hold."""
    def point(p):
        return None if p is None else [float(x) for x in p]

    return {"A": point(a), "B": point(b), "C": point(c), "side": side, "needle_gauge": gauge,
            "vertebra_segment": segment_id}


def proposal_status(logic) -> list[str] | None:
    """None without a proposal; [] while A, B, C, side, gauge and vertebra are as proposed; else why not."""
    if logic.state.existing_parameter_node() is None:
        return None
    settings = logic.settings()
    section = settings["proposalSection"]
    if not section:
        return None
    inputs = section.get("inputs") or {}
    try:
        points = {name: logic.point(name, required=False) for name in ("A", "B", "C")}
    except ValueError as error:
        return [str(error)]
    reasons = []
    for name, current in points.items():
        stored = inputs.get(name)
        if current is None and stored is None:
            continue
        if current is None or stored is None or np.linalg.norm(np.subtract(current, stored)) > FRESH_TOLERANCE_MM:
            reasons.append(f"{name} moved" if current is not None else f"{name} is not placed")
    side = settings["side"]
    if side == "both" and points["B"] is not None and points["C"] is not None:
        side = infer_side(points["B"], points["C"], logic.landmarks().frame)
    if inputs.get("side") != side:
        reasons.append(f"the puncture side is now {side}")
    if inputs.get("needle_gauge") != settings["needleGauge"]:
        reasons.append(f"the needle is now {settings['needleGauge']}G")
    if inputs.get("vertebra_segment") != settings["vertebraSegmentId"]:
        reasons.append("another target vertebra is selected")
    return reasons


def add_proposal_to_plan_json(logic, data: dict) -> None:
    """Put the proposal's `safety` and `proposal` sections into plan.json's trajectory while they are current."""
    stale = proposal_status(logic)
    if stale == []:
        section = logic.settings()["proposalSection"]
        data["trajectories"][0]["safety"] = section["safety"]
        data["trajectories"][0]["proposal"] = {**section["proposal"], "recommended_side": section["recommended_side"],
                                               "reasons": section["reasons"]}
    elif stale:
        data["warnings"].append("the safety checks of the proposed B and C are out of date (" + "; ".join(stale)
                                + ") and are left out: propose B and C again")


def safety_rows(section: dict | None) -> list[tuple[str, str, str]]:
    """(check, distance, verdict) rows for the panel's safety table (display.py rounding: 0.1 mm)."""
    if not section:
        return []
    safety = section.get("safety") or {}
    # A check that is not a length (path in bone %, transverse angle, plausibility) shows its message instead.
    rows = [(name.replace("_", " "), format_length(check.get("distance_mm")) if "distance_mm" in check
             else check.get("message", ""), check.get("verdict", "?"))
            for name, check in (safety.get("checks") or {}).items()]
    rows.append((f"overall ({safety.get('needle_gauge', '?')}G)", "", safety.get("verdict", "?")))
    return rows


def proposal_text(section: dict | None, stale: list[str] | None = None) -> str:
    """The recommendation and its reasons (and why the checks are out of date) for the panel's label."""
    if not section:
        return ""
    lines = []
    if stale:
        lines.append("Out of date (" + "; ".join(stale) + "): propose B and C again")
    lines.append(f"Proposed {section.get('level') or ''} {section.get('side')}; recommended side: "
                 f"{section.get('recommended_side')}")
    lines += [f"  {reason}" for reason in section.get("reasons", [])]
    lines += [f"Note: {warning}" for warning in section.get("warnings", [])]
    return "\n".join(lines)
