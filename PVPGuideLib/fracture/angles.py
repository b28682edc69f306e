"""Wedge angle of a vertebra and the local kyphotic (Cobb) angle, in the target's sagittal plane (SPEC section 10)."""

from __future__ import annotations

import numpy as np

from ..geometry import VertebraFrame


def sagittal_tilt_deg(normal_ras, frame: VertebraFrame) -> float:
    """Tilt (degrees) of a cranially pointing endplate normal towards anterior, in the frame's sagittal plane."""
    _, anterior, superior = frame.to_local(np.asarray(normal_ras, dtype=float))
    if superior < 0:  # an endplate normal given caudally: the same plane
        anterior, superior = -anterior, -superior
    return float(np.degrees(np.arctan2(anterior, superior)))


def wedge_angle_deg(superior_normal_ras, inferior_normal_ras, frame: VertebraFrame) -> float:
    """Angle between a vertebra's endplates; positive when they converge anteriorly (anterior height lower)."""
    return sagittal_tilt_deg(superior_normal_ras, frame) - sagittal_tilt_deg(inferior_normal_ras, frame)


def cobb_angle_deg(upper_superior_normal_ras, lower_inferior_normal_ras, frame: VertebraFrame) -> float:
    """Local kyphotic angle between the superior endplate of the vertebra above and the inferior endplate of the
    vertebra below; positive = kyphosis (the planes converge anteriorly)."""
    return wedge_angle_deg(upper_superior_normal_ras, lower_inferior_normal_ras, frame)
