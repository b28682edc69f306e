"""One vertebra's fracture measurements against its neighbours: normal heights, loss, Genant, wedge and Cobb angles."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..vertebra.analysis import VertebraAnalysis
from .angles import cobb_angle_deg, wedge_angle_deg
from .grading import GRADE_NAMES, genant_grade, genant_type, height_loss_percent, looks_fractured
from .heights import HEIGHT_NAMES, BodyHeights, measure_heights

JSON_KEYS = {"anterior": "AVH", "middle": "MVH", "posterior": "PVH"}


@dataclass(frozen=True, eq=False)
class FractureMeasurement:
    """SPEC section 10 measures of a target vertebra; None where a measure needs what is missing (notes say why)."""

    level: str
    heights: BodyHeights
    neighbours: dict  # "above"/"below" -> BodyHeights or None
    normal_used: tuple  # which neighbours gave the normal heights
    normal_mm: dict | None
    loss_percent: dict | None
    grade: int | None
    fracture_type: str | None
    wedge_deg: float
    cobb_deg: float | None
    notes: tuple

    def to_json(self) -> dict:
        def per_height(values):
            return None if values is None else {JSON_KEYS[k]: float(values[k]) for k in HEIGHT_NAMES}

        return {
            "level": self.level,
            "heights_mm": per_height(self.heights.heights_mm),
            "depth_mm": self.heights.depth_mm,
            "segments": {JSON_KEYS[k]: [[float(x) for x in p] for p in v] for k, v in self.heights.segments_ras.items()},
            "neighbours": {where: None if h is None else {"level": h.level, "heights_mm": per_height(h.heights_mm),
                                                           "used_for_normal": where in self.normal_used}
                           for where, h in sorted(self.neighbours.items())},
            "normal_heights_mm": per_height(self.normal_mm),
            "height_loss_percent": per_height(self.loss_percent),
            "genant_grade": self.grade,
            "genant_grade_name": None if self.grade is None else GRADE_NAMES[self.grade],
            "genant_type": self.fracture_type,
            "wedge_angle_deg": self.wedge_deg,
            "cobb_angle_deg": self.cobb_deg,
            "notes": list(self.notes),
        }


def measure_fracture(target: VertebraAnalysis, *, above: VertebraAnalysis | None = None,
                     below: VertebraAnalysis | None = None, neighbour_notes=()) -> FractureMeasurement:
    """Heights of the target and of its adjacent vertebrae (when given), and every SPEC section 10 measure.

    Normal heights are the mean of the non-fractured neighbours' same heights; without one they are unknown and
    so are the loss and the Genant grade (said in the notes, never guessed). The Cobb angle needs both neighbours.
    """
    notes = list(neighbour_notes)
    heights = measure_heights(target)
    measured = {"above": None if above is None else measure_heights(above),
                "below": None if below is None else measure_heights(below)}
    used = []
    for where, h in sorted(measured.items()):
        if h is None:
            continue
        if looks_fractured(h.anterior, h.middle, h.posterior):
            notes.append(f"the vertebra {where} ({h.level or '?'}) looks fractured itself (anterior or middle height "
                         "below 80 % of its posterior height): not used for the normal heights")
        else:
            used.append(where)
    normal = loss = grade = kind = None
    if used:
        normal = {k: float(np.mean([measured[w].heights_mm[k] for w in used])) for k in HEIGHT_NAMES}
        loss = {k: height_loss_percent(normal[k], heights.heights_mm[k]) for k in HEIGHT_NAMES}
        grade, kind = genant_grade(max(loss.values())), genant_type(loss)
        if len(used) == 1:
            notes.append(f"normal heights from one adjacent vertebra only (the one {used[0]})")
    else:
        notes.append("normal heights unknown: no adjacent non-fractured vertebra was measured, so the height loss "
                     "and the Genant grade are not given (segment the vertebrae above and below to have them)")
    frame = target.frame
    wedge = wedge_angle_deg(heights, frame)
    cobb = None
    if above is not None and below is not None:
        cobb = cobb_angle_deg(measured["above"], measured["below"], frame)
    else:
        notes.append("local kyphotic (Cobb) angle unknown: it needs the vertebrae above and below")
    return FractureMeasurement(target.level, heights, measured, tuple(used), normal, loss, grade, kind, wedge, cobb,
                               tuple(notes))
