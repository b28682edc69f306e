"""The panel's cement (SPEC section 6): prediction from C, body mask, the cement segment, freshness, table rows."""

from __future__ import annotations

import json

import numpy as np

from ..core.display import format_percent, format_volume_ml
from ..core.progress import Steps
from ..core.volume import CTVolume
from .planning_fields import COMMAND_LINE_BODY, FIELDS
from .planning_values import encode
from .segmentations import labelmap_from_segment, segmentation_node_from_labelmap, set_segment_from_mask

CEMENT_SEGMENT_ID = "cement"
CEMENT_COLOR = (0.35, 0.75, 0.95)  # as in the command line's plan.mrb (plan_scene.py)
# A prediction belongs to the B and C it was made for; markups coming back from a saved scene move by ~1e-5 mm.
FRESH_TOLERANCE_MM = 1e-3
BODY_FROM_SPLIT = "split of the vertebra segment (split_body)"


def vertebra_masks(segmentation_node, segment_id: str, ct: CTVolume, *, body_segment_id: str = ""):
    """(body, posterior or None, how the body was found) as bool masks on the CT grid.

    Without `body_segment_id` the vertebra segment is split into body and posterior elements by the
    documented rule of PVPGuideLib.cement.split_body; with it, that segment is the body and the rest of
    the vertebra segment the posterior elements.
    """
    vertebra = labelmap_from_segment(segmentation_node, segment_id, ct).astype(bool)
    if not vertebra.any():
        raise ValueError(f"the target vertebra (segment '{segment_id}') is empty on the CT grid: choose the "
                         "segment of the vertebra to treat in Inputs")
    if not body_segment_id:
        from ..cement import split_body

        body, posterior = split_body(ct, vertebra)
        return body, posterior, BODY_FROM_SPLIT
    body = labelmap_from_segment(segmentation_node, body_segment_id, ct).astype(bool)
    if not body.any():
        raise ValueError(f"the body segment '{body_segment_id}' is empty on the CT grid")
    posterior = vertebra & ~body
    return body, (posterior if posterior.any() else None), f"segment {body_segment_id}"


def cement_inputs(trajectory, volume_ml: float, segment_id: str, body_segment_id: str, body_source: str) -> dict:
    """What a prediction was made for (JSON): it is current while these still hold."""
    return {"B": [float(x) for x in trajectory.b], "C": [float(x) for x in trajectory.c], "side": trajectory.side,
            "volume_ml": float(volume_ml), "vertebra_segment": segment_id, "body_segment": body_segment_id,
            "body": body_source}


def stale_reasons(inputs: dict | None, b, c, side: str, volume_ml: float, segment_id: str) -> list[str]:
    """Why a stored prediction no longer matches the plan ([] when it does)."""
    if not inputs:
        return ["no record of what it was predicted for"]
    reasons = []
    for name, point in (("B", b), ("C", c)):
        if point is None or np.linalg.norm(np.asarray(inputs[name], float) - point) > FRESH_TOLERANCE_MM:
            reasons.append(f"{name} moved")
    if inputs["side"] != side:
        reasons.append(f"the puncture side is now {side}")
    if abs(inputs["volume_ml"] - volume_ml) > 1e-9:
        reasons.append(f"the planned volume is now {format_volume_ml(volume_ml)}")
    if inputs.get("vertebra_segment") is not None and inputs["vertebra_segment"] != segment_id:
        reasons.append("another target vertebra is selected")
    return reasons


def update_cement_segmentation(scene, node, ct: CTVolume, mask: np.ndarray, reference_volume_node):
    """The segmentation holding segment 'cement' = `mask` (on the CT grid): `node` updated in place, or a new one."""
    mask_ct = ct.with_voxels(np.asarray(mask, dtype=np.uint8))
    if node is None:
        return segmentation_node_from_labelmap(scene, mask_ct, "Cement", segment_names={1: CEMENT_SEGMENT_ID},
                                               colors={1: CEMENT_COLOR}, reference_volume_node=reference_volume_node)
    set_segment_from_mask(node, CEMENT_SEGMENT_ID, mask_ct, color=CEMENT_COLOR,
                          reference_volume_node=reference_volume_node)
    return node


def cement_rows(section: dict | None, stale: list[str] | None = None) -> list[tuple[str, str]]:
    """(quantity, value) rows for the panel's cement table (SPEC section 6 names, display.py rounding)."""
    if not section:
        return []
    rows = []
    if stale:
        rows.append(("Out of date", "; ".join(stale) + ": predict again"))
    threshold = section.get("psbcv_vv_threshold_percent", 13.68)
    over = "ABOVE" if section.get("psbcv_vv_over_threshold") else "below"
    score = section.get("distribution_score") or {}
    zones = section.get("nine_zones") or {}
    prediction = section.get("prediction") or {}
    rows += [
        ("Planned / predicted volume", f"{format_volume_ml(section.get('planned_volume_ml'))} / "
                                       f"{format_volume_ml(prediction.get('predicted_volume_ml'))}"),
        ("BCV in the body (VV), fill", f"{format_volume_ml(section.get('bcv_ml'))} in "
                                       f"{format_volume_ml(section.get('vv_ml'))}, "
                                       f"{format_percent(section.get('fill_percent'))}"),
        ("PSBCV/VV", f"{format_percent(section.get('psbcv_vv_percent'))} ({over} the {threshold:g} % threshold)"),
        ("Distribution score", f"{score.get('total', '?')}/8 (AP {score.get('ap', '?')}/4, "
                               f"lateral {score.get('lateral', '?')}/4)"),
        ("Endplate contact", str(section.get("endplate_contact", "n/a"))),
        ("Pattern", str(section.get("pattern", "n/a"))),
        ("C's zone (nine zones)", str(zones.get("c_zone") or "n/a").replace("_", " ")),
        ("Crosses the midline", "yes" if section.get("crosses_midline") else "no"),
    ]
    conventional = section.get("conventional_path")
    if conventional:
        rows.append(("Conventional path (body centre)",
                     f"PSBCV/VV {format_percent(conventional.get('psbcv_vv_percent'))}, distribution score "
                     f"{(conventional.get('distribution_score') or {}).get('total', '?')}/8"))
    return rows


def predict_cement(state, volume_ml: float | None = None, *, body_segment_id: str = "", progress=None) -> dict:
    """PlanningLogic.predict_cement: predict the spread from C, show it as segment 'cement', store its section."""
    from ..cement import CementError
    from ..planning.plan_cement import add_cement_prediction
    from .planning_measure import trajectory
    from .volumes import ct_from_volume_node

    steps = Steps(["reading the CT and the vertebra", "predicting the cement", "adding the cement segment"],
                  progress)
    ct_node = state.ct_node()  # first: without a CT there is nothing to look at (not even a parameter node)
    volume_text = encode(FIELDS["plannedCementVolumeMl"],
                         state.settings()["plannedCementVolumeMl"] if volume_ml is None else volume_ml)
    t = trajectory(state)
    segmentation, segment_id = state.vertebra_segment()
    if body_segment_id and segmentation.GetSegmentation().GetSegment(body_segment_id) is None:
        raise ValueError(f"segmentation '{segmentation.GetName()}' has no body segment '{body_segment_id}'")
    steps.start("reading the CT and the vertebra")
    ct = ct_from_volume_node(ct_node)
    try:
        body, posterior, body_source = vertebra_masks(segmentation, segment_id, ct, body_segment_id=body_segment_id)
        steps.start("predicting the cement")
        t = add_cement_prediction(t, ct, body, volume_ml=float(volume_text), posterior_mask=posterior)
    except CementError as error:
        raise ValueError(f"the cement cannot be predicted: {error}") from error
    section = json.loads(json.dumps(t.sections["cement"], sort_keys=True, allow_nan=False))
    steps.start("adding the cement segment")
    node = update_cement_segmentation(state.scene, state.node("cementSegmentation"), ct, t.artifacts["cement_mask"],
                                      ct_node)
    state.set_node("cementSegmentation", node)
    section_text = json.dumps(section, sort_keys=True, allow_nan=False)
    inputs = cement_inputs(t, float(volume_text), segment_id, body_segment_id, body_source)
    params = state.parameter_node()
    modifying = params.StartModify()
    params.SetParameter("plannedCementVolumeMl", volume_text)
    params.SetParameter("cementSection", section_text)
    params.SetParameter("cementInputs", json.dumps(inputs, sort_keys=True))
    params.SetParameter("status", "cement predicted")
    params.EndModify(modifying)
    state.cement_cache = (section_text, t.artifacts["cement_scores"])
    steps.done()
    return section


def cement_status(state) -> list[str] | None:
    """None without a prediction; [] while it matches B, C, side, volume and vertebra; else why it does not."""
    from ..planning.plan import infer_side
    from .planning_points import landmarks, point

    if state.existing_parameter_node() is None:
        return None
    settings = state.settings()
    if not settings["cementSection"]:
        return None
    try:
        b, c = point(state, "B", required=False), point(state, "C", required=False)
    except ValueError as error:
        return [str(error)]
    side = settings["side"]
    if side == "both" and b is not None and c is not None:
        side = infer_side(b, c, landmarks(state).frame)
    return stale_reasons(settings["cementInputs"], b, c, side, settings["plannedCementVolumeMl"],
                         settings["vertebraSegmentId"])


def cement_scores(state, ct: CTVolume):
    """(CementScores of the stored prediction or None, problem): recomputed when not in memory (reopened scene)."""
    from ..cement import CementError
    from ..planning.plan_cement import add_cement_prediction
    from .planning_measure import trajectory

    text = state.parameter_node().GetParameter("cementSection")
    if state.cement_cache is not None and state.cement_cache[0] == text:
        return state.cement_cache[1], None
    inputs = state.settings()["cementInputs"] or {}
    redo = "predict the cement again to draw the AP and lateral projections"
    if inputs.get("body") == COMMAND_LINE_BODY:
        return None, f"the command line drew this plan's cement projections in its output folder; {redo}"
    try:
        t = trajectory(state)
        segmentation, _ = state.vertebra_segment()
        body, posterior, _ = vertebra_masks(segmentation, inputs["vertebra_segment"], ct,
                                            body_segment_id=inputs["body_segment"])
        t = add_cement_prediction(t, ct, body, volume_ml=inputs["volume_ml"], posterior_mask=posterior)
    except (CementError, KeyError, ValueError) as error:
        return None, f"the cement prediction could not be repeated ({error}); {redo}"
    if json.dumps(t.sections["cement"], sort_keys=True, allow_nan=False) != text:
        return None, f"the CT, vertebra or landmarks changed since the cement prediction; {redo}"
    state.cement_cache = (text, t.artifacts["cement_scores"])
    return state.cement_cache[1], None
