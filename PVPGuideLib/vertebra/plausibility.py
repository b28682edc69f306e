"""Measured sizes checked against published ones (SPEC section 9), so that a reading a coarse scan or a poor
segmentation distorts is reported in the analysis notes (and the plan's warnings) instead of used silently."""

from __future__ import annotations

import numpy as np

from .canal import Canal
from .local_grid import LocalGrid
from .pedicles import Pedicle
from .surfaces import LEVEL

# Transverse pedicle width, mm: (Panjabi 1992, Zindrick 1987 as cited), SPEC section 9.
PEDICLE_WIDTH_MM = {"L1": (8.6, 8.7), "L2": (8.25, 8.9), "L3": (10.15, 10.3), "L4": (14.05, 12.9), "L5": (18.6, 18.0)}
# Endplate width, mm (Panjabi 1992), SPEC section 9.
ENDPLATE_WIDTH_MM = {"L1": 41.2, "L2": 42.6, "L3": 44.1, "L4": 46.6, "L5": 47.3}
# A reading beyond these factors of the published range is reported. Wide enough for individual variation
# and fractures; narrow enough to catch what they are meant to: a transverse process or articular process read
# as pedicle (1.7-2.6 times the width on the 3 mm TotalSegmentator case at L4-L5), or a body missing a part.
PEDICLE_FACTORS = (0.5, 1.6)
BODY_WIDTH_FACTORS = (0.75, 1.3)


def body_width(grid: LocalGrid, body: np.ndarray, centre_y: float) -> float:
    """Width (mm) along the right axis of the body's outline seen along its superior axis, through its centre."""
    footprint = (body >= LEVEL).any(axis=2)
    row = footprint[:, int(np.argmin(np.abs(grid.axis(1) - centre_y)))]
    inside = np.flatnonzero(row)
    return float((inside[-1] - inside[0] + 1) * grid.step) if inside.size else 0.0


def plausibility_notes(level: str, pedicles: dict[str, Pedicle], width_mm: float, canal: Canal) -> list[str]:
    """Notes for every measurement outside the published range of its level (levels without published sizes
    are not checked) and for a canal that does not hold its own centre line."""
    notes = []
    published = PEDICLE_WIDTH_MM.get(level)
    if published:
        low, high = PEDICLE_FACTORS[0] * min(published), PEDICLE_FACTORS[1] * max(published)
        for side, pedicle in sorted(pedicles.items()):
            if not low <= pedicle.width <= high:
                cause = ("its lateral border probably follows the transverse or articular process (coarse scan or "
                         "segmentation), so B lies lateral to the pedicle's edge and the transverse angle is larger"
                         if pedicle.width > high else "the segmentation probably misses part of it")
                notes.append(f"the {side} pedicle reads {pedicle.width:.1f} mm wide against {min(published):g}-"
                             f"{max(published):g} mm published for {level}: {cause}; check B")
    if level in ENDPLATE_WIDTH_MM:
        reference = ENDPLATE_WIDTH_MM[level]
        if not BODY_WIDTH_FACTORS[0] * reference <= width_mm <= BODY_WIDTH_FACTORS[1] * reference:
            notes.append(f"the vertebral body reads {width_mm:.1f} mm wide against {reference:g} mm published for "
                         f"{level}: check the segmentation of the body")
    if canal.width <= 0.0:
        notes.append("the spinal canal found does not cross its own centre line (an irregular hole): the segmentation "
                     "around the canal is probably poor; check the canal clearance by eye")
    return notes
