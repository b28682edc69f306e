"""A skin grid locator (found on the CT or given by hand), its naming convention, and A located on it.

Naming (default, configurable by GridConvention): rows are the wires running across the back (left-right),
numbered from `first_index` at the most cranial row seen in the CT, increasing caudally; columns are the
wires running along the back, numbered from `first_index` at the patient's leftmost column, increasing
to the right: the view of a surgeon looking down at the prone patient's back, head at the top. A crossing
is (row, column). Offsets are measured on the skin from A's nearest crossing: along the row (positive
towards higher column numbers) and along the column (positive towards higher row numbers). A's cell is
named by its corner crossing with the lowest row and column numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.geometry import GridPosition, as_point, unit
from .errors import GridError
from .surface import SkinPatch

ROW_ORIGINS = ("cranial", "caudal")
COLUMN_ORIGINS = ("left", "right")
# Two hand-given directions must be perpendicular to within this (degrees); the column one is then squared up.
MAX_GIVEN_SKEW_DEG = 5.0
SUPERIOR = np.array([0.0, 0.0, 1.0])
RIGHT = np.array([1.0, 0.0, 0.0])


@dataclass(frozen=True)
class GridConvention:
    """Where numbering starts: rows from the cranial or caudal end, columns from the patient's left or right."""

    rows_from: str = "cranial"
    columns_from: str = "left"
    first_index: int = 1

    def __post_init__(self):
        if self.rows_from not in ROW_ORIGINS:
            raise GridError(f"rows are numbered from 'cranial' or 'caudal', got {self.rows_from!r}")
        if self.columns_from not in COLUMN_ORIGINS:
            raise GridError(f"columns are numbered from 'left' or 'right' (the patient's), got {self.columns_from!r}")

    @property
    def row_direction(self) -> np.ndarray:
        """RAS direction in which row numbers increase."""
        return -SUPERIOR if self.rows_from == "cranial" else SUPERIOR

    @property
    def column_direction(self) -> np.ndarray:
        return RIGHT if self.columns_from == "left" else -RIGHT

    def to_json(self) -> dict:
        return {"rows_from": self.rows_from, "columns_from": self.columns_from, "first_index": self.first_index}


@dataclass(frozen=True)
class GridLocation(GridPosition):
    """A on the grid: nearest crossing (row, column), on-skin offsets from it, its cell, whether inside the grid.

    residual_u_mm : offset along the row (towards higher columns); residual_v_mm : along the column (towards
    higher rows); off_plane_mm : A's height above the skin the grid lies on.
    """

    cell_row: int
    cell_column: int
    inside_grid: object  # True / False, or None when the grid's extent is unknown (given by hand)

    def to_json(self) -> dict:
        return {"row": self.row, "column": self.column,
                "residual_mm": [self.residual_u_mm, self.residual_v_mm],
                "offset_along_row_mm": self.residual_u_mm, "offset_along_column_mm": self.residual_v_mm,
                "off_plane_mm": self.off_plane_mm, "cell": {"row": self.cell_row, "column": self.cell_column},
                "inside_grid": self.inside_grid}


@dataclass(frozen=True, eq=False)
class GridLocator:
    """The grid on the skin: on-skin (flat) coordinates of the first crossing, unit steps, spacing, extent.

    flat_origin : on-skin (P, Q) of crossing (first_index, first_index). row_step / column_step : on-skin unit
    vectors in which row / column numbers increase. rows, columns : numbers of wires from first to last
    (None when given by hand). missing_rows / missing_columns : numbers of wires the CT does not show.
    """

    patch: SkinPatch
    flat_origin: np.ndarray
    row_step: np.ndarray
    column_step: np.ndarray
    spacing_mm: float
    convention: GridConvention = GridConvention()
    source: str = "given"
    rows: int | None = None
    columns: int | None = None
    missing_rows: tuple = ()
    missing_columns: tuple = ()
    fit_residual_mm: float | None = None
    fit_max_residual_mm: float | None = None
    skin_residual_mm: float | None = None
    points_used: int | None = None
    warnings: tuple = field(default=())

    # ------------------------------------------------------------- SkinGrid's view (plan.json `grid`)
    @property
    def origin(self) -> np.ndarray:
        return self.patch.unflatten(self.flat_origin)[0]

    @property
    def u_axis(self) -> np.ndarray:
        """RAS unit vector along the rows at the origin crossing (column numbers increase along it)."""
        return self.patch.tangent(self.flat_origin, self.column_step)

    @property
    def v_axis(self) -> np.ndarray:
        """RAS unit vector along the columns at the origin crossing, squared up to u_axis."""
        v = self.patch.tangent(self.flat_origin, self.row_step)
        u = self.u_axis
        v = v - (v @ u) * u
        return v / np.linalg.norm(v)

    # ------------------------------------------------------------- locating points
    def grid_coordinates(self, ras) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(column, row) as real numbers (first_index at the origin) and height above the skin, per point."""
        flat, height = self.patch.flatten(ras)
        rel = flat - self.flat_origin
        first = self.convention.first_index
        return first + rel @ self.column_step / self.spacing_mm, first + rel @ self.row_step / self.spacing_mm, height

    def locate(self, a) -> GridLocation:
        """A's nearest crossing, its on-skin offsets from it, its cell and whether it lies inside the grid."""
        u, v, height = self.grid_coordinates(as_point(a, "A")[None])
        u, v = float(u[0]), float(v[0])
        column, row = int(np.round(u)), int(np.round(v))
        inside = None
        if self.rows is not None and self.columns is not None:
            first = self.convention.first_index
            inside = bool(first <= u <= first + self.columns - 1 and first <= v <= first + self.rows - 1)
        return GridLocation(column, row, (u - column) * self.spacing_mm, (v - row) * self.spacing_mm,
                            float(height[0]), int(np.floor(v)), int(np.floor(u)), inside)

    def crossing(self, row: float, column: float) -> np.ndarray:
        """RAS point of crossing (row, column) on the skin (real numbers allowed)."""
        first = self.convention.first_index
        flat = (self.flat_origin + (column - first) * self.spacing_mm * self.column_step
                + (row - first) * self.spacing_mm * self.row_step)
        return self.patch.unflatten(flat)[0]

    def wire(self, kind: str, number: int, step_mm: float = 2.0) -> np.ndarray:
        """(n, 3) RAS polyline of row or column `number` across the grid's extent (on the skin)."""
        if self.rows is None or self.columns is None:
            raise GridError("a grid given by hand has no known extent: its wires cannot be drawn")
        first = self.convention.first_index
        length = (self.columns - 1 if kind == "row" else self.rows - 1)
        t = np.linspace(0.0, 1.0, max(2, int(np.ceil(length * self.spacing_mm / step_mm)) + 1)) * length + first
        if kind == "row":
            return np.array([self.crossing(number, c) for c in t])
        return np.array([self.crossing(r, number) for r in t])

    def to_json(self) -> dict:
        first = self.convention.first_index
        return {
            "origin": self.origin.tolist(), "u_axis": self.u_axis.tolist(), "v_axis": self.v_axis.tolist(),
            "spacing_mm": self.spacing_mm, "source": self.source, "convention": self.convention.to_json(),
            "rows": self.rows, "columns": self.columns,
            "missing_rows": list(self.missing_rows), "missing_columns": list(self.missing_columns),
            "fit_residual_mm": self.fit_residual_mm, "fit_max_residual_mm": self.fit_max_residual_mm,
            "skin_residual_mm": self.skin_residual_mm, "points_used": self.points_used,
            "crossings": None if self.rows is None or self.columns is None else [
                [self.crossing(r, c).tolist() for c in range(first, first + self.columns)]
                for r in range(first, first + self.rows)],
            "warnings": list(self.warnings),
        }


def given_grid(origin, row_direction, column_direction, spacing_mm: float, *,
               convention: GridConvention | None = None) -> GridLocator:
    """A grid given by hand, flat: origin = crossing (first, first); row_direction runs along a row towards
    higher column numbers, column_direction along a column towards higher row numbers; spacing in mm."""
    origin = as_point(origin, "grid origin")
    u = unit(as_point(row_direction, "grid row direction"), "grid row direction")
    v = unit(as_point(column_direction, "grid column direction"), "grid column direction")
    skew = abs(90.0 - np.degrees(np.arccos(np.clip(u @ v, -1.0, 1.0))))
    if skew > MAX_GIVEN_SKEW_DEG:
        raise GridError(f"the grid's row and column directions are {90 - skew:.1f} degrees apart; they must be "
                        f"perpendicular (within {MAX_GIVEN_SKEW_DEG:g} degrees)")
    spacing = float(spacing_mm)
    if not np.isfinite(spacing) or spacing <= 0:
        raise GridError(f"the grid spacing must be a positive number of millimetres, got {spacing_mm!r}")
    v = v - (v @ u) * u
    v /= np.linalg.norm(v)
    return GridLocator(SkinPatch.flat(origin, u, v), np.zeros(2), np.array([0.0, 1.0]), np.array([1.0, 0.0]),
                       spacing, convention or GridConvention(), "given")


def grid_from_points(origin, along_row, along_column, spacing_mm: float, *,
                     convention: GridConvention | None = None) -> GridLocator:
    """A grid given by three points: the first crossing, a point along its row and one along its column."""
    origin = as_point(origin, "grid origin point")
    return given_grid(origin, as_point(along_row, "point along the first row") - origin,
                      as_point(along_column, "point along the first column") - origin, spacing_mm,
                      convention=convention)
