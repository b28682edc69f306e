"""The skin grid in a Slicer scene: one markups curve per wire of a found grid, through its crossings on the
skin (named 'Grid row 3', 'Grid column 5'); a grid given by hand: its first row and column as markups lines."""

from __future__ import annotations

from .markups import _add_points, line_node_from_points

# Length of the first row and column drawn for a grid given by hand (its extent is unknown), in spacings.
HAND_GIVEN_CELLS = 5


def add_grid_markups(scene, grid) -> list:
    """Markups nodes of `grid` (a PVPGuideLib.grid.GridLocator), locked: the grid is a fact of the CT."""
    first = grid.convention.first_index
    if grid.rows is None or grid.columns is None:
        length = HAND_GIVEN_CELLS * grid.spacing_mm
        return [line_node_from_points(scene, f"Grid row {first}", grid.origin, grid.origin + length * grid.u_axis,
                                      locked=True),
                line_node_from_points(scene, f"Grid column {first}", grid.origin, grid.origin + length * grid.v_axis,
                                      locked=True)]
    nodes = []
    rows = range(first, first + grid.rows)
    columns = range(first, first + grid.columns)
    for kind, numbers, others in (("row", rows, columns), ("column", columns, rows)):
        missing = grid.missing_rows if kind == "row" else grid.missing_columns
        for number in numbers:
            if number in missing:
                continue
            crossings = [grid.crossing(number, o) if kind == "row" else grid.crossing(o, number) for o in others]
            labels = [f"{number},{o}" if kind == "row" else f"{o},{number}" for o in others]
            node = _add_points(scene, "vtkMRMLMarkupsCurveNode", f"Grid {kind} {number}",
                               [p.tolist() for p in crossings], labels, True)
            display = node.GetDisplayNode()
            if display is not None and hasattr(display, "SetPointLabelsVisibility"):
                display.SetPointLabelsVisibility(False)
            nodes.append(node)
    return nodes
