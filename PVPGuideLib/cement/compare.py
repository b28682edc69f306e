"""SPEC path (tip at C) against the conventional transpedicular path (tip at the body centre), same volume."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .body import BodyAnalysis
from .predict import CementPrediction, predict_cement
from .scores import CementScores, score_cement


@dataclass(frozen=True, eq=False)
class PathResult:
    name: str
    prediction: CementPrediction
    scores: CementScores

    def to_json(self) -> dict:
        return {"prediction": self.prediction.to_json(), **self.scores.to_json()}


@dataclass(frozen=True, eq=False)
class PathComparison:
    """The studies' comparison: lower PSBCV/VV % and higher distribution score favour a path."""

    volume_ml: float
    spec: PathResult
    conventional: PathResult

    def to_json(self) -> dict:
        spec, conventional = self.spec.scores, self.conventional.scores
        return {
            "planned_volume_ml": round(self.volume_ml, 4),
            "spec_path": self.spec.to_json(),
            "conventional_path": self.conventional.to_json(),
            "difference_spec_minus_conventional": {
                "psbcv_vv_percent": round(spec.psbcv_vv_percent - conventional.psbcv_vv_percent, 3),
                "distribution_score": spec.distribution_score - conventional.distribution_score,
                "contralateral_fraction": round(spec.contralateral_fraction - conventional.contralateral_fraction, 4),
            },
        }


def body_centre(body: BodyAnalysis) -> np.ndarray:
    """(3,) RAS centroid of the body voxels: the conventional path's target."""
    return body.axes.to_ras(body.coords.mean(axis=0))[0]


def compare_paths(ct, body: BodyAnalysis, *, side: str, tip_ras, volume_ml: float, entry_ras=None,
                  conventional_tip_ras=None, conventional_entry_ras=None, **model) -> PathComparison:
    """Predict and score the same volume from C (SPEC path) and from the body centre (conventional path).

    entry_ras : B, where the SPEC needle enters the bone (its channel runs C -> B). The conventional
    needle enters through the same pedicle: its channel runs from its tip back to conventional_entry_ras
    (default B). model : options passed to predict_cement (cortex_mm, hu_speed, tract_speed, ...).
    """
    conventional_tip = body_centre(body) if conventional_tip_ras is None else np.asarray(conventional_tip_ras, float)
    conventional_entry = entry_ras if conventional_entry_ras is None else conventional_entry_ras
    results = []
    for name, tip, entry in (("spec", tip_ras, entry_ras), ("conventional", conventional_tip, conventional_entry)):
        prediction = predict_cement(ct, body.mask, tip, volume_ml, entry_ras=entry, **model)
        scores = score_cement(body, prediction.mask, side=side, tip_ras=tip_ras)
        results.append(PathResult(name, prediction, scores))
    return PathComparison(float(volume_ml), *results)
