"""The phantom's constructed landmarks as PVPGuideLib types, for tests that plan on the ground truth."""

import numpy as np

from PVPGuideLib.core.geometry import VertebraFrame
from PVPGuideLib.planning.plan import VertebraLandmarks


def landmarks_from_truth(level_truth: dict) -> VertebraLandmarks:
    """The phantom's constructed vertebra frame, midsagittal plane and spinous-process tip."""
    frame = level_truth["frame"]
    plane = level_truth["midsagittal_plane"]
    return VertebraLandmarks(
        frame=VertebraFrame.from_axes(origin=frame["origin"], right=frame["right"], anterior=frame["anterior"],
                                      superior=frame["superior"]),
        midline_point=np.asarray(plane["point"], float),
        midline_normal=np.asarray(plane["normal"], float),
        spinous_tip=np.asarray(level_truth["spinous_tip"], float),
    )
