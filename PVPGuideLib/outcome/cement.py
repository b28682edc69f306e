"""The cement on a post-operative CT, scored with the `pvpguide score` code (SPEC section 6)."""

from __future__ import annotations

import numpy as np

from ..cement import DEFAULT_CEMENT_THRESHOLD_HU, analyse_body, frame_from_segmentation, score_cement, segment_cement
from ..planning.plan_cement import body_masks_from_analysis


def score_postop_cement(ct, analysis, labels: np.ndarray, *, side: str, tip_ras=None,
                        threshold_hu: float = DEFAULT_CEMENT_THRESHOLD_HU):
    """(scores, postop cement) of the analysed vertebra; labels : the post-operative label map (other bone)."""
    body, posterior = body_masks_from_analysis(analysis)
    frame = frame_from_segmentation(ct, body, posterior)
    body_analysis = analyse_body(ct, body, frame)
    vertebra = body | posterior
    postop = segment_cement(ct, body_analysis, vertebra_mask=vertebra, threshold_hu=threshold_hu,
                            other_bone_mask=(labels > 0) & ~vertebra)
    scores = score_cement(body_analysis, postop.mask, side=side, tip_ras=tip_ras, leakage=postop.leakage)
    return scores, postop
