"""The 0-8 distribution score: body and cement projected on simulated AP and lateral views, four quadrants each."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# SPEC section 6: a quadrant scores 1 when more than one third of its area is covered by cement.
COVERAGE_THRESHOLD = 1.0 / 3.0
# (horizontal axis, name when the frame coordinate is >= the centre, name when below) per view
VIEWS = {
    "ap": {"frame_axis": 0, "ray_axis": 1, "high": "right", "low": "left"},
    "lateral": {"frame_axis": 1, "ray_axis": 0, "high": "anterior", "low": "posterior"},
}


@dataclass(frozen=True, eq=False)
class Projection:
    """One simulated view.

    body, cement : (nu, nv) bool silhouettes; u runs along the view's horizontal frame axis (right for
    AP, anterior for lateral), v along superior; u_mm, v_mm are the pixel centres (frame mm).
    centre : (u, v) area centroid of the body silhouette, where the quadrants meet.
    coverage : quadrant name -> covered fraction of its body area; score : quadrants above the threshold.
    """

    view: str
    body: np.ndarray
    cement: np.ndarray
    u_mm: np.ndarray
    v_mm: np.ndarray
    centre: tuple[float, float]
    coverage: dict
    score: int


def project(view: str, body_sampled: np.ndarray, cement_sampled: np.ndarray, grid) -> Projection:
    """Project frame-grid samples (nr, na, ns) along the view's ray axis and score its quadrants."""
    spec = VIEWS[view]
    body = body_sampled.any(axis=spec["ray_axis"])
    cement = (cement_sampled & body_sampled).any(axis=spec["ray_axis"])
    u_mm, v_mm = grid.coordinates(spec["frame_axis"]), grid.coordinates(2)
    uu, vv = np.meshgrid(u_mm, v_mm, indexing="ij")
    centre = (float(uu[body].mean()), float(vv[body].mean()))
    coverage = {}
    for vertical, upper in (("superior", True), ("inferior", False)):
        for horizontal, high in ((spec["high"], True), (spec["low"], False)):
            quadrant = body & ((vv >= centre[1]) == upper) & ((uu >= centre[0]) == high)
            area = int(quadrant.sum())
            coverage[f"{vertical}_{horizontal}"] = float((cement & quadrant).sum() / area) if area else 0.0
    score = sum(1 for value in coverage.values() if value > COVERAGE_THRESHOLD)
    return Projection(view, body, cement, u_mm, v_mm, centre, coverage, score)
