"""The skin grid seen from behind the prone patient (head up, patient's left on the left): wires, their
numbers, A, its nearest crossing and its cell, drawn in the grid's own on-skin frame from plan.json alone."""

from __future__ import annotations

import numpy as np

from .colours import POINT_COLOURS, SKIN
from .overlay import Band, Label, Ring, draw_overlay
from .png import png_bytes

WIRE = (70, 70, 80)
CELL = (255, 235, 120)
CROSSING = (240, 80, 60)
LABEL = (255, 255, 255)
MARGIN_PX = 44
TARGET_WIDTH_PX = 520
# A grid given by hand has no known extent: this many cells are drawn around A's crossing.
HAND_GIVEN_HALF_CELLS = 3


def grid_picture(data: dict, index: int) -> bytes | None:
    """PNG of trajectory `index`'s A on the skin grid, or None when A has no grid position."""
    grid, position = data.get("grid"), data["trajectories"][index].get("grid_position")
    if not grid or not position:
        return None
    convention = grid.get("convention") or {"rows_from": "cranial", "columns_from": "left", "first_index": 0}
    first = int(convention.get("first_index", 0))
    if grid.get("rows") and grid.get("columns"):
        rows = (first, first + int(grid["rows"]) - 1)
        columns = (first, first + int(grid["columns"]) - 1)
    else:
        rows = (position["row"] - HAND_GIVEN_HALF_CELLS, position["row"] + HAND_GIVEN_HALF_CELLS)
        columns = (position["column"] - HAND_GIVEN_HALF_CELLS, position["column"] + HAND_GIVEN_HALF_CELLS)
    spacing = float(grid["spacing_mm"])
    along_row = position.get("offset_along_row_mm", position["residual_mm"][0])
    along_column = position.get("offset_along_column_mm", position["residual_mm"][1])
    a_row, a_column = position["row"] + along_column / spacing, position["column"] + along_row / spacing
    # The drawn range also holds A when it lies outside the wires.
    lo_r, hi_r = min(rows[0], int(np.floor(a_row))), max(rows[1], int(np.ceil(a_row)))
    lo_c, hi_c = min(columns[0], int(np.floor(a_column))), max(columns[1], int(np.ceil(a_column)))
    cell = max(16, min(64, (TARGET_WIDTH_PX - 2 * MARGIN_PX) // max(1, hi_c - lo_c)))
    flip_x = convention.get("columns_from") == "right"  # the patient's left stays on the picture's left
    flip_y = convention.get("rows_from") == "caudal"  # the head stays at the top

    def at(row, column):
        x = (hi_c - column) if flip_x else (column - lo_c)
        y = (hi_r - row) if flip_y else (row - lo_r)
        return MARGIN_PX + x * cell, MARGIN_PX + y * cell

    shape = (2 * MARGIN_PX + (hi_r - lo_r) * cell + 28, 2 * MARGIN_PX + (hi_c - lo_c) * cell)
    picture = np.zeros(shape + (3,), np.uint8)
    picture[:] = SKIN
    cell_r, cell_c = int(np.floor(a_row)), int(np.floor(a_column))
    corners = [at(cell_r, cell_c), at(cell_r + 1, cell_c + 1)]
    (x0, y0), (x1, y1) = corners
    box = (slice(int(min(y0, y1)), int(max(y0, y1)) + 1), slice(int(min(x0, x1)), int(max(x0, x1)) + 1))
    picture[box] = (0.4 * picture[box] + 0.6 * np.asarray(CELL, float)).astype(np.uint8)
    missing_rows, missing_columns = set(grid.get("missing_rows") or []), set(grid.get("missing_columns") or [])
    bands, labels = [], []
    for row in range(rows[0], rows[1] + 1):
        bands += _wire(at(row, columns[0]), at(row, columns[1]), dashed=row in missing_rows)
        _, y = at(row, columns[0] if not flip_x else columns[1])
        labels.append(Label(str(row), (MARGIN_PX // 2, y), LABEL, align="centre", valign="middle"))
    for column in range(columns[0], columns[1] + 1):
        bands += _wire(at(rows[0], column), at(rows[1], column), dashed=column in missing_columns)
        x, _ = at(rows[0], column)
        labels.append(Label(str(column), (x, MARGIN_PX // 2), LABEL, align="centre", valign="middle"))
    crossing = at(position["row"], position["column"])
    a = at(a_row, a_column)
    a_radius = max(4.0, 0.14 * cell)
    rings = [Ring(crossing, 0.28 * cell, 3.0, CROSSING), Ring(a, a_radius / 2, a_radius, POINT_COLOURS["A"])]
    labels += [
        Label("A", (a[0] + 0.18 * cell, a[1] - 0.18 * cell), LABEL, align="left", valign="bottom"),
        Label("patient's left", (MARGIN_PX // 2, shape[0] - 12), LABEL, align="left", valign="bottom"),
        Label("right", (shape[1] - MARGIN_PX // 2, shape[0] - 12), LABEL, align="right", valign="bottom"),
    ]
    picture = draw_overlay(picture, bands=bands, rings=rings, labels=labels)
    return png_bytes(picture)


def _wire(start, end, *, dashed: bool) -> list:
    """A wire as a band; a wire the CT does not show as a dashed one (every other 8-pixel piece)."""
    if not dashed:
        return [Band(tuple(start), tuple(end), 2.0, WIRE)]
    start, end = np.asarray(start, float), np.asarray(end, float)
    pieces = max(1, int(float(np.linalg.norm(end - start)) // 8))
    return [Band(tuple(start + (end - start) * k / pieces), tuple(start + (end - start) * min(k + 1, pieces) / pieces),
                 2.0, WIRE) for k in range(0, pieces, 2)]
