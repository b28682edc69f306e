"""Add the predicted cement of SPEC section 6 to a planned trajectory (JSON section + mask for the scene)."""

from __future__ import annotations

import numpy as np

from ..cement import DEFAULT_PLANNED_VOLUME_ML, plan_cement
from ..core.compat import strict_zip
from ..core.volume import CTVolume
from .plan import Trajectory


def add_cement_prediction(trajectory: Trajectory, ct: CTVolume, body_mask: np.ndarray, *,
                          volume_ml: float = DEFAULT_PLANNED_VOLUME_ML, posterior_mask: np.ndarray | None = None
                          ) -> Trajectory:
    """The trajectory with the spread predicted from C (channel back to B) and scored against the conventional path.

    The vertebra frame of the trajectory is used when known, else derived from the masks.
    """
    planned = plan_cement(ct, body_mask, side=trajectory.side, c=trajectory.c, b=trajectory.b,
                          frame=trajectory.landmarks.frame, posterior_mask=posterior_mask, volume_ml=volume_ml)
    return trajectory.with_sections(cement=planned.section).with_artifacts(cement_mask=planned.prediction.mask,
                                                                           cement_scores=planned.scores)


def cement_file_prefix(trajectory: Trajectory) -> str:
    """File-name prefix of a trajectory's cement pictures: '<level>_<side>_'."""
    return f"{trajectory.level or 'level'}_{trajectory.side}_"


def body_masks_from_analysis(analysis) -> tuple[np.ndarray, np.ndarray]:
    """(body, posterior elements) bool masks on the whole CT grid from a vertebra analysis (PVPGuideLib.vertebra).

    The analysis holds its masks on a crop of the CT; a given body label is used as is, otherwise the body
    is split from the posterior elements by PVPGuideLib.cement.split_body.
    """
    from ..cement import split_body

    masks = analysis.masks
    crop = tuple(slice(o, o + n) for o, n in strict_zip(masks.offset, masks.vertebra.shape))
    vertebra = np.zeros(masks.ct.voxels.shape, dtype=bool)
    vertebra[crop] = masks.vertebra
    if masks.body is None:
        return split_body(masks.ct, vertebra)
    body = np.zeros_like(vertebra)
    body[crop] = masks.body & masks.vertebra
    return body, vertebra & ~body
