"""Add the predicted cement of SPEC section 6 to a planned trajectory (JSON section + mask for the scene)."""

from __future__ import annotations

import numpy as np

from .cement import DEFAULT_PLANNED_VOLUME_ML, plan_cement
from .plan import Trajectory
from .volume import CTVolume


def add_cement_prediction(trajectory: Trajectory, ct: CTVolume, body_mask: np.ndarray, *,
                          volume_ml: float = DEFAULT_PLANNED_VOLUME_ML, posterior_mask: np.ndarray | None = None) -> None:
    """Predict the spread from C (channel back to B), score it against the conventional path, attach both.

    The vertebra frame of the trajectory is used when known, else derived from the masks.
    """
    planned = plan_cement(ct, body_mask, side=trajectory.side, c=trajectory.c, b=trajectory.b,
                          frame=trajectory.landmarks.frame, posterior_mask=posterior_mask, volume_ml=volume_ml)
    trajectory.sections["cement"] = planned.section
    trajectory.artifacts["cement_mask"] = planned.prediction.mask
    trajectory.artifacts["cement_scores"] = planned.scores


def cement_file_prefix(trajectory: Trajectory) -> str:
    """File-name prefix of a trajectory's cement pictures: '<level>_<side>_'."""
    return f"{trajectory.level or 'level'}_{trajectory.side}_"
