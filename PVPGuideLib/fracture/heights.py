"""Anterior, middle and posterior body heights (AVH, MVH, PVH) of one vertebra in its own frame (SPEC section 10)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..vertebra.analysis import VertebraAnalysis
from ..vertebra.surfaces import column_surfaces
from .errors import FractureError

HEIGHT_NAMES = ("anterior", "middle", "posterior")
# Each height is read at the centre of its third of the body's depth (posterior wall -> anterior surface at
# mid-height, along the frame's anterior axis): 5/6, 1/2 and 1/6 of the depth in front of the posterior wall.
THIRD_CENTRES = {"anterior": 5.0 / 6.0, "middle": 0.5, "posterior": 1.0 / 6.0}
# Each height is the mean over a small bundle of parallel lines (right x anterior, mm): one line would carry the
# quantisation of a voxel mask; the bundle stays well inside the mid-sagittal section.
BAND_RIGHT_MM = (-2.0, -1.0, 0.0, 1.0, 2.0)
BAND_ANTERIOR_MM = (-1.0, 0.0, 1.0)
SAMPLE_STEP_MM = 0.1
# Lines reach this far beyond the fitted endplates (a biconcave endplate lies inside, a bulging one outside).
REACH_MM = 8.0


@dataclass(frozen=True, eq=False)
class BodyHeights:
    """Heights (mm) along the vertebra's superior axis, and each height's measured segment (bottom, top) in RAS."""

    level: str
    heights_mm: dict  # name -> float
    segments_ras: dict  # name -> (2, 3) array: inferior point, superior point
    positions_mm: dict  # name -> distance in front of the posterior wall
    depth_mm: float

    @property
    def anterior(self) -> float:
        return self.heights_mm["anterior"]

    @property
    def middle(self) -> float:
        return self.heights_mm["middle"]

    @property
    def posterior(self) -> float:
        return self.heights_mm["posterior"]

    def to_json(self) -> dict:
        return {"AVH_mm": self.anterior, "MVH_mm": self.middle, "PVH_mm": self.posterior,
                "depth_mm": self.depth_mm,
                "positions_mm": {k: float(v) for k, v in self.positions_mm.items()},
                "segments": {k: [[float(x) for x in p] for p in v] for k, v in self.segments_ras.items()}}


def measure_heights(analysis: VertebraAnalysis) -> BodyHeights:
    """AVH, MVH, PVH of an analysed vertebra: the body's extent along the superior axis on the mid-sagittal section.

    Local coordinates are the analysis grid's (right, anterior, superior axes of the vertebra frame).
    """
    body, endplates = analysis.body, analysis.endplates
    x0 = float(body.centre[0])
    depth = float(body.depth)
    bottom_z = min(endplates.inferior_z(x0, body.posterior_y), endplates.inferior_z(x0, body.anterior_y)) - REACH_MM
    top_z = max(endplates.superior_z(x0, body.posterior_y), endplates.superior_z(x0, body.anterior_y)) + REACH_MM
    z = np.arange(bottom_z, top_z + SAMPLE_STEP_MM, SAMPLE_STEP_MM)
    heights, segments, positions = {}, {}, {}
    for name in HEIGHT_NAMES:
        y0 = float(body.posterior_y + THIRD_CENTRES[name] * depth)
        offsets = [(dx, dy) for dx in BAND_RIGHT_MM for dy in BAND_ANTERIOR_MM]
        local = np.array([[x0 + dx, y0 + dy, zz] for dx, dy in offsets for zz in z])
        values = analysis.body_at(analysis.to_ras(local)).reshape(len(offsets), 1, z.size)
        top, bottom = column_surfaces(values, z)
        ok = np.isfinite(top[:, 0])
        if ok.sum() < len(offsets) // 2:
            raise FractureError(f"{analysis.level or 'the vertebra'}: no body found along the {name} third of the "
                                "mid-sagittal section; check the segmentation of the vertebral body")
        lo, hi = float(np.mean(bottom[ok, 0])), float(np.mean(top[ok, 0]))
        heights[name] = hi - lo
        segments[name] = analysis.to_ras([[x0, y0, lo], [x0, y0, hi]])
        positions[name] = THIRD_CENTRES[name] * depth
    return BodyHeights(analysis.level, heights, segments, positions, depth)
