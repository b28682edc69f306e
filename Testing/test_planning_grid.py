"""The panel's grid logic on a real MRML scene: three markups points give the grid, it is shown as markups
(replacing an earlier grid's), and A is located on it in words."""

import numpy as np
import pytest

from PVPGuideLib.grid import GridError
from PVPGuideLib.mrml.markups import fiducial_node_from_point
from PVPGuideLib.mrml.planning_grid import find_grid, grid_from_markups, grid_text, show_grid


def _points(scene, points):
    node = fiducial_node_from_point(scene.scene, "grid points", points[0])
    for p in points[1:]:
        node.AddControlPoint(list(p), "")
    return node


def test_grid_from_three_points_shown_and_used(scene):
    node = _points(scene, [[0.0, -90.0, 30.0], [50.0, -90.0, 30.0], [0.0, -90.0, -30.0]])
    grid = grid_from_markups(node, 10.0)
    a = np.array([23.0, -92.0, 30.0 - 41.0])  # columns 1 + 2.3, rows 1 + 4.1
    assert grid_text(grid, a).startswith("row 5, column 3; +3.0 mm along the row, +1.0 mm along the column; "
                                     "cell between rows 5-6 and columns 3-4")
    first = show_grid(scene.scene, grid)
    again = show_grid(scene.scene, grid)
    names = [scene.scene.GetNthNodeByClass(n, "vtkMRMLMarkupsNode").GetName()
             for n in range(scene.scene.GetNumberOfNodesByClass("vtkMRMLMarkupsNode"))]
    assert sorted(n for n in names if n.startswith("Grid")) == ["Grid column 1", "Grid row 1"]
    assert len(first) == len(again) == 2
    assert grid_text(None, a) == "no skin grid" and grid_text(grid, None) == "A not placed"


def test_grid_needs_three_points_and_a_volume(scene):
    with pytest.raises(ValueError):
        grid_from_markups(_points(scene, [[0.0, 0.0, 0.0], [10.0, 0.0, 0.0]]), 10.0)
    with pytest.raises(GridError, match="select the CT"):
        find_grid(None)
