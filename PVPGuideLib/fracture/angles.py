"""Wedge angle of a vertebra and the local kyphotic (Cobb) angle, in the target's sagittal plane (SPEC section 10).

Each endplate is the line through its rim points on the mid-sagittal section (the ends of the anterior and posterior
height segments), as on a lateral radiograph: a biconcave dent, symmetric front to back, does not tilt it.
"""

from __future__ import annotations

import numpy as np

from ..core.geometry import VertebraFrame


def line_tilt_deg(posterior_point, anterior_point, frame: VertebraFrame) -> float:
    """Rise (degrees) of the line from a posterior to an anterior point, in the frame's sagittal plane."""
    _, forward, up = frame.to_local(np.asarray(anterior_point, float) - np.asarray(posterior_point, float))
    return float(np.degrees(np.arctan2(up, forward)))


def endplate_tilts(heights, frame: VertebraFrame) -> tuple[float, float]:
    """(superior, inferior) endplate line tilts of a vertebra's BodyHeights, in a frame's sagittal plane."""
    posterior, anterior = heights.segments_ras["posterior"], heights.segments_ras["anterior"]
    return (line_tilt_deg(posterior[1], anterior[1], frame), line_tilt_deg(posterior[0], anterior[0], frame))


def wedge_angle_deg(heights, frame: VertebraFrame) -> float:
    """Angle between a vertebra's endplate lines; positive when they converge anteriorly (anterior height lower)."""
    superior, inferior = endplate_tilts(heights, frame)
    return inferior - superior


def cobb_angle_deg(upper_heights, lower_heights, frame: VertebraFrame) -> float:
    """Local kyphotic angle between the superior endplate of the vertebra above and the inferior endplate of the
    vertebra below; positive = kyphosis (the lines converge anteriorly)."""
    return endplate_tilts(lower_heights, frame)[1] - endplate_tilts(upper_heights, frame)[0]
