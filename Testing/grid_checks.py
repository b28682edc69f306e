"""Test helper: compare a found grid with the truth of the grid laid on the skin (layout + drape)."""

from __future__ import annotations

import numpy as np

# Points closer than this (mm) to the middle between two crossings may round to either: the crossing is checked
# only beyond it; the offsets are checked everywhere (modulo the crossing chosen).
BOUNDARY_MM = 1.0


def angle_deg(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1.0, 1.0))))


def chord_errors(grid, truth: dict, last_row: int, last_column: int) -> tuple[float, float]:
    """The grid's turn on the skin: angle (degrees) between found and true chords along row 1 (column 1 to
    last_column) and along column 1 (row 1 to last_row), both projected on the true grid's mean plane (the
    chords' tilt out of that plane follows the skin's shape, which the skin residual reports)."""
    crossings = np.asarray(truth["crossings"])
    true_row = crossings[0, last_column - 1] - crossings[0, 0]
    true_column = crossings[last_row - 1, 0] - crossings[0, 0]
    normal = np.cross(true_row, true_column)
    normal /= np.linalg.norm(normal)

    def flat(v):
        return v - (v @ normal) * normal

    found_row = grid.crossing(1, last_column) - grid.crossing(1, 1)
    found_column = grid.crossing(last_row, 1) - grid.crossing(1, 1)
    return angle_deg(flat(found_row), flat(true_row)), angle_deg(flat(found_column), flat(true_column))


def last_row_inside(ct, truth: dict, column: int = 1) -> int:
    """The last row whose crossing with `column` lies inside the CT (rows counted from 1 at the cranial end)."""
    crossings = np.asarray(truth["crossings"])[:, column - 1]
    inside = np.flatnonzero(ct.contains(crossings))
    return int(inside.max()) + 1


def skin_points(layout, drape, count: int, rows=(1.0, 4.0), seed: int = 0):
    """Random points on the skin under the grid: (RAS (n, 3), true row (n,), true column (n,)) as real numbers."""
    rng = np.random.default_rng(seed)
    flat = layout.flat_crossing(rng.uniform(rows[0], rows[1], count), rng.uniform(1.0, layout.columns, count))
    points, _ = drape.skin(flat)
    row, column = layout.grid_coordinates(flat)
    return points, row, column


def location_errors(grid, layout, points, rows, columns):
    """(wrong crossings away from cell boundaries, max offset error along the row, along the column) in mm."""
    s = layout.spacing_mm
    wrong, along_row, along_column = 0, 0.0, 0.0
    for point, row, column in zip(points, rows, columns):
        found = grid.locate(point)
        clear = min(abs(abs(row - round(row)) - 0.5), abs(abs(column - round(column)) - 0.5)) * s > BOUNDARY_MM
        if clear and (found.row, found.column) != (round(row), round(column)):
            wrong += 1
        along_row = max(along_row, abs(found.residual_u_mm - (column - found.column) * s))
        along_column = max(along_column, abs(found.residual_v_mm - (row - found.row) * s))
    return wrong, along_row, along_column


def fraction_outside(ct, truth: dict) -> float:
    """Fraction of the grid's crossings outside the CT's field of view."""
    crossings = np.asarray(truth["crossings"]).reshape(-1, 3)
    return float(1.0 - ct.contains(crossings).mean())
