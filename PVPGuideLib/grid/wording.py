"""The grid position of A in words, one wording for the CLI summary, the report and the Slicer panel."""

from __future__ import annotations


def _signed(value: float) -> str:
    return f"{value:+.1f} mm"


def grid_position_text(position: dict) -> str:
    """'row 3, column 5; +2.1 mm along the row, -0.8 mm along the column; cell row 2-3 x column 5-6' from the
    grid_position of plan.json (hand-given grids without offsets' keys use residual_mm)."""
    along_row = position.get("offset_along_row_mm", position["residual_mm"][0])
    along_column = position.get("offset_along_column_mm", position["residual_mm"][1])
    text = (f"row {position['row']}, column {position['column']}; {_signed(along_row)} along the row, "
            f"{_signed(along_column)} along the column")
    cell = position.get("cell")
    if cell:
        text += (f"; cell between rows {cell['row']}-{cell['row'] + 1} and columns "
                 f"{cell['column']}-{cell['column'] + 1}")
    if position.get("inside_grid") is False:
        text += " (outside the grid's wires: extrapolated)"
    return text


def grid_summary_text(grid: dict) -> str:
    """'detected 9 x 7 grid, 15.0 mm spacing, fit residual 0.4 mm' from plan.json's grid."""
    if grid.get("source") == "detected":
        return (f"skin grid found on the CT: {grid['rows']} rows x {grid['columns']} columns, "
                f"{grid['spacing_mm']:.2f} mm spacing, wire fit residual {grid['fit_residual_mm']:.2f} mm RMS")
    return f"skin grid given by hand: {grid['spacing_mm']:.2f} mm spacing"
