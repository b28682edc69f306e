"""The panel's cement (SPEC section 6): body mask from the vertebra segment, the cement segment, freshness, table rows."""

from __future__ import annotations

import numpy as np

from ..core.display import format_percent, format_volume_ml
from ..core.volume import CTVolume
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
