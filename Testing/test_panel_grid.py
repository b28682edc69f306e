"""The panel's skin grid on a real MRML scene: given by three points, kept for the CT it was given on, written
into plan.json (`grid`, A's `grid_position`); left out with a warning for another CT."""

import numpy as np
import pytest

pytest.importorskip("slicer", reason="the panel's grid needs slicer-core (pip install slicer-core)")

from PVPGuideLib.grid import GridError  # noqa: E402
from PVPGuideLib.mrml.markups import fiducial_node_from_point  # noqa: E402
from PVPGuideLib.mrml.panel_grid import current_grid, find_grid_on_ct, grid_from_panel_points, grid_label  # noqa: E402
from PVPGuideLib.mrml.parameters import set_node_reference  # noqa: E402
from PVPGuideLib.mrml.volumes import volume_node_from_ct  # noqa: E402
from PVPGuideLib.testing import scenarios  # noqa: E402

RIGHT, INFERIOR = np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, -1.0])


def _grid_points(logic, origin, spacing):
    node = fiducial_node_from_point(logic.scene, "grid points", origin)
    for p in (origin + 5 * spacing * RIGHT, origin + 6 * spacing * INFERIOR):
        node.AddControlPoint(list(p), "")
    set_node_reference(logic.parameter_node(), "gridPoints", node)
    logic.set_settings(gridSpacingMm=spacing)


def test_grid_given_by_points_goes_into_plan_json(scene, phantom):
    logic, b, c = scenarios._new_planned_scene(scene, phantom, "left")
    a = logic.find_skin_entry()
    # A flat grid through A: A is 2.3 spacings along the first row and 4.1 down the first column, so
    # (numbering from 1, rows from cranial, columns from the patient's left) nearest crossing row 5, column 3.
    origin = a - 2.3 * 10.0 * RIGHT - 4.1 * 10.0 * INFERIOR
    _grid_points(logic, origin, 10.0)
    text = grid_from_panel_points(logic)
    assert text.startswith("row 5, column 3; +3.0 mm along the row, +1.0 mm along the column")
    assert grid_label(logic) == text
    data = logic.plan_json()
    assert data["grid"]["spacing_mm"] == 10.0 and data["grid"]["source"] == "given"
    assert np.allclose(data["grid"]["origin"], origin, atol=1e-6)
    position = data["trajectories"][0]["grid_position"]
    assert (position["row"], position["column"]) == (5, 3)
    assert logic.parameter_node().GetParameter("skinGrid")
    assert scene.scene.GetFirstNodeByName("Grid row 1") is not None


def test_grid_of_another_ct_is_left_out_with_a_warning(scene, phantom):
    logic, b, c = scenarios._new_planned_scene(scene, phantom, "left")
    a = logic.find_skin_entry()
    _grid_points(logic, a, 10.0)
    grid_from_panel_points(logic)
    logic.select_ct(volume_node_from_ct(scene.scene, phantom.ct, "another CT"))
    assert current_grid(logic) is None and grid_label(logic) == "no skin grid"
    data = logic.plan_json()
    assert data["grid"] is None and data["trajectories"][0]["grid_position"] is None
    assert any("skin grid" in w and "find the grid again" in w for w in data["warnings"])


def test_grid_inputs_missing_are_refused(scene):
    from PVPGuideLib.mrml.planning_logic import PlanningLogic

    logic = PlanningLogic(scene)
    with pytest.raises(GridError, match="place three points"):
        grid_from_panel_points(logic)
    with pytest.raises(GridError, match="select the CT"):
        find_grid_on_ct(logic)


def test_grid_label_says_what_is_wrong_with_a_instead_of_raising(scene, phantom):
    logic, b, c = scenarios._new_planned_scene(scene, phantom, "left")
    a = logic.find_skin_entry()
    _grid_points(logic, a, 10.0)
    grid_from_panel_points(logic)
    node = logic.node("pointA")
    node.SetMaximumNumberOfControlPoints(-1)  # as a node edited by hand in the Markups module may be
    node.AddControlPoint(list(a + 1.0), "")  # the panel refreshes on every change: the label must never raise
    assert "has 2 control points" in grid_label(logic)
