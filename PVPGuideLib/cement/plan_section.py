"""The plan's per-trajectory `cement` section: predicted spread from C, its scores, and the conventional path."""

from __future__ import annotations

from dataclasses import dataclass

from .body import analyse_body
from .compare import compare_paths
from .frame import frame_from_segmentation
from .predict import CementPrediction, predict_cement
from .scores import CementScores, score_cement

DEFAULT_PLANNED_VOLUME_ML = 4.5  # mid-range of the studies' 3-6 ml


@dataclass(frozen=True, eq=False)
class PlannedCement:
    """section : JSON-ready plan.json `cement` section. prediction.mask : the cement segment for the scene."""

    section: dict
    prediction: CementPrediction
    scores: CementScores


def plan_cement(ct, body_mask, *, side: str, c, b=None, frame=None, posterior_mask=None,
                volume_ml: float = DEFAULT_PLANNED_VOLUME_ML, compare: bool = True, **model) -> PlannedCement:
    """Predict the cement of one trajectory and score it; with compare, also the conventional path.

    frame : the vertebra frame (VertebraFrame, mapping or VertebraFrame); None derives it from the masks.
    b : the bony entry (the needle channel runs C -> B). model : predict_cement options.
    The section holds the score keys at its top level (the same keys as score.json), plus
    `planned_volume_ml`, `prediction` and, with compare, `conventional_path` and the differences.
    """
    if frame is None:
        frame = frame_from_segmentation(ct, body_mask, posterior_mask)
    body = analyse_body(ct, body_mask, frame)
    if compare:
        comparison = compare_paths(ct, body, side=side, tip_ras=c, entry_ras=b, volume_ml=volume_ml, **model)
        prediction, scores = comparison.spec.prediction, comparison.spec.scores
        full = comparison.to_json()
        extra = {"conventional_path": full["conventional_path"],
                 "difference_spec_minus_conventional": full["difference_spec_minus_conventional"]}
    else:
        prediction = predict_cement(ct, body_mask, c, volume_ml, entry_ras=b, **model)
        scores = score_cement(body, prediction.mask, side=side, tip_ras=c)
        extra = {}
    section = {
        "planned_volume_ml": round(float(volume_ml), 4),
        "prediction": prediction.to_json(),
        **scores.to_json(),
        **extra,
    }
    return PlannedCement(section, prediction, scores)
