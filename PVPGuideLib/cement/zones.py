"""Nine zones: the axial section through C split 3 x 3 (left-right x anterior-posterior), cement per zone."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import CementError

ROWS = ("anterior", "middle", "posterior")
COLUMNS = ("left", "central", "right")
ZONE_NAMES = tuple(f"{row}_{column}" for row in ROWS for column in COLUMNS)


@dataclass(frozen=True, eq=False)
class NineZones:
    """fractions : zone name -> fraction of the intravertebral cement volume in that zone's column.

    The zones are columns through the whole body along the superior axis; their borders are thirds
    of the body's extent along right and anterior in the section at section_s_mm (frame mm).
    """

    section_through: str
    section_s_mm: float
    right_edges_mm: tuple[float, float, float, float]
    anterior_edges_mm: tuple[float, float, float, float]
    c_zone: str | None
    fractions: dict

    def to_json(self) -> dict:
        return {
            "section_through": self.section_through,
            "c_zone": self.c_zone,
            "fractions": {name: round(self.fractions[name], 4) for name in ZONE_NAMES},
        }


def nine_zones(body, cement_values: np.ndarray, *, section_point_frame, section_through: str,
               c_frame=None) -> NineZones:
    """Split the body's axial section at section_point_frame's s into 3 x 3 zones and share the cement out.

    cement_values : (n,) bool over body.coords. c_frame : (3,) C in frame coordinates, or None.
    """
    grid, sampled = body.grid, body.sampled
    s_index = int(np.clip(np.round((float(section_point_frame[2]) - grid.lower[2]) / grid.step), 0, grid.shape[2] - 1))
    section = sampled[:, :, s_index]
    if not section.any():
        raise CementError(f"the axial section through the {section_through} misses the body: is the point inside it?")
    r_index, a_index = np.nonzero(section)
    half = 0.5 * grid.step
    r = grid.coordinates(0)[r_index]
    a = grid.coordinates(1)[a_index]
    right_edges = np.linspace(r.min() - half, r.max() + half, 4)
    anterior_edges = np.linspace(a.min() - half, a.max() + half, 4)

    def zone_of(points):
        column = np.clip(np.searchsorted(right_edges, points[:, 0], side="right") - 1, 0, 2)
        row_from_posterior = np.clip(np.searchsorted(anterior_edges, points[:, 1], side="right") - 1, 0, 2)
        return (2 - row_from_posterior) * 3 + column

    counts = np.bincount(zone_of(body.coords[cement_values]), minlength=9).astype(float)
    total = counts.sum()
    fractions = {name: float(counts[index] / total) if total else 0.0 for index, name in enumerate(ZONE_NAMES)}
    c_zone = None
    if c_frame is not None:
        c_zone = ZONE_NAMES[int(zone_of(np.atleast_2d(np.asarray(c_frame, dtype=float)))[0])]
    return NineZones(
        section_through=section_through,
        section_s_mm=float(grid.coordinates(2)[s_index]),
        right_edges_mm=tuple(float(x) for x in right_edges),
        anterior_edges_mm=tuple(float(x) for x in anterior_edges),
        c_zone=c_zone,
        fractions=fractions,
    )
