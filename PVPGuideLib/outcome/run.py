"""The post-operative outcome of one planned level: registration, heights and angles, recovery, cement."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import PVPGuideError
from ..fracture import adjacent_analyses, measure_fracture
from ..verify.register import Registration, register_vertebra
from ..verify.rigid import apply_points
from ..vertebra import analyse_vertebra, vertebra_from_labels
from ..vertebra.levels import label_for_level
from .cement import score_postop_cement
from .recovery import height_recovery


class OutcomeError(PVPGuideError):
    """A post-operative CT that cannot be compared with the plan."""


@dataclass(frozen=True, eq=False)
class Outcome:
    level: str
    pre: dict
    post: dict
    recovery: dict
    registration: Registration
    cement: object  # CementScores
    postop_cement: object  # PostopCement
    analysis: object  # the post-operative VertebraAnalysis
    post_measurement: object  # FractureMeasurement
    planned_c_postop: np.ndarray | None

    def to_json(self) -> dict:
        return {"level": self.level, "pre": self.pre, "post": self.post, **self.recovery,
                "registration_postop_to_planning": self.registration.to_json(),
                "planned_C_on_postop": None if self.planned_c_postop is None else
                [float(x) for x in self.planned_c_postop],
                "cement": {**self.cement.to_json(), "postop": self.postop_cement.to_json()}}


def measure_outcome(plan: dict, planning_ct, postop_ct, postop_labels, *, trajectory: int = 0,
                    label: int | None = None, parts=None) -> Outcome:
    """Compare a post-operative CT (with its vertebra label map) with a plan.json that has a `fracture` section."""
    trajectories = plan.get("trajectories") or []
    if not 0 <= trajectory < len(trajectories):
        raise OutcomeError(f"trajectory {trajectory}: the plan has {len(trajectories)} trajectory(ies)")
    t = trajectories[trajectory]
    level = t.get("level") or ""
    pre = (plan.get("fracture") or {}).get(level or "0")
    if not pre or pre.get("heights_mm") is None:
        raise OutcomeError(f"the plan has no fracture measurement of {level or 'its level'}: plan with a vertebra "
                           "label map (--segmentation) so the heights before surgery are known")
    if label is None:
        if not level:
            raise OutcomeError("the plan's level is unknown: give the target's --label in the post-operative labels")
        label = label_for_level(level)
    values = postop_labels.voxels
    if not (values == label).any():
        raise OutcomeError(f"label {label} ({level}) is not in the post-operative label map")
    analysis = analyse_vertebra(vertebra_from_labels(postop_ct, postop_labels, label, level=level or None, parts=parts))
    above, below, notes = adjacent_analyses(postop_ct, postop_labels, label, parts=parts)
    measurement = measure_fracture(analysis, above=above, below=below, neighbour_notes=notes)
    post = measurement.to_json()
    # The target and its neighbours carry the registration: the fracture itself changed shape.
    mask = np.isin(values, [label - 1, label, label + 1])
    registration = register_vertebra(postop_ct, mask, planning_ct)
    c = t["points"].get("C")
    c_postop = None if c is None else apply_points(np.linalg.inv(registration.planning_to_other), c)
    scores, postop = score_postop_cement(postop_ct, analysis, values, side=t["side"], tip_ras=c_postop)
    return Outcome(level, pre, post, height_recovery(pre, post), registration, scores, postop, analysis, measurement,
                   c_postop)
