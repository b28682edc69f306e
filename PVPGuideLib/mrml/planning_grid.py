"""The panel's skin grid locator: found on the CT volume node, or given by three markups points (first crossing,
a point along the first row, a point along the first column) and a spacing; shown as markups; A located on it.

The widget only needs: a "Find grid on CT" button (find_grid), or a point list selector + spacing box
(grid_from_markups), and a label showing grid_text() for each trajectory's A.
"""

from __future__ import annotations

from ..grid import GridConvention, GridError, detect_grid, grid_from_points
from ..grid.wording import grid_position_text
from .markups import _defined_positions_world
from .scene import scene_of
from .volumes import ct_from_volume_node


def find_grid(volume_node, *, convention: GridConvention | None = None):
    """The grid found on the CT of volume_node (GridError with the reason when none, or an ambiguous one)."""
    if volume_node is None:
        raise GridError("select the CT volume to find the skin grid on")
    return detect_grid(ct_from_volume_node(volume_node), convention=convention)


def grid_from_markups(points_node, spacing_mm: float, *, convention: GridConvention | None = None):
    """The grid given by a point list of three points: crossing (first row, first column), then a point further
    along the first row, then one further along the first column."""
    if points_node is None:
        raise GridError("place three points: the first crossing, a point along its row, a point along its column")
    points = _defined_positions_world(points_node, 3, f"grid points {points_node.GetName()}")
    return grid_from_points(points[0], points[1], points[2], spacing_mm, convention=convention)


def show_grid(scene, grid) -> list:
    """Replace the scene's grid markups by this grid's (one curve per wire, or the first row and column)."""
    from .grid_markups import add_grid_markups

    scene = scene_of(scene)
    old = [scene.GetNthNodeByClass(n, "vtkMRMLMarkupsNode") for n in range(scene.GetNumberOfNodesByClass("vtkMRMLMarkupsNode"))]
    for node in old:
        if node.GetName().split(" ")[:2] in (["Grid", "row"], ["Grid", "column"]):
            scene.RemoveNode(node)
    return add_grid_markups(scene, grid)


def grid_text(grid, a) -> str:
    """A's place on the grid in words for the panel ('row 3, column 5; ...'), or why there is none."""
    if grid is None:
        return "no skin grid"
    if a is None:
        return "A not placed"
    return grid_position_text(grid.locate(a).to_json())
