"""The module's headless logic and its scenarios on a real slicer-core MRML scene (no Slicer application, no fakes)."""

import json
import math

import numpy as np
import pytest

slicer = pytest.importorskip("slicer", reason="the planning logic needs slicer-core (pip install slicer-core)")

from PVPGuideLib.mrml.bundle import load_scene_bundle  # noqa: E402
from PVPGuideLib.mrml.planning_display import measurement_rows, needle_view_matrix  # noqa: E402
from PVPGuideLib.mrml.planning_logic import (  # noqa: E402
    NODE_ROLES,
    RESULTS,
    SETTINGS,
    PlanningLogic,
)
from PVPGuideLib.testing import scenarios  # noqa: E402

# ---------------------------------------------------------------- the module's behaviours (PVPGuideTest runs these too)


def test_place_points_gives_measurements(scene, phantom):
    data = scenarios.place_points_and_measure(scene, phantom, side="left")
    assert 0 < data["angles_deg"]["scanner"]["transverse"] < 45


def test_place_points_right_side(scene, phantom):
    scenarios.place_points_and_measure(scene, phantom, side="right")


def test_find_skin_entry(scene, phantom):
    scenarios.find_skin_entry(scene, phantom, side="left")


def test_save_and_reopen_restores_everything(scene, phantom, tmp_path):
    scenarios.save_and_reopen(scene, phantom, tmp_path, load_scene_bundle, side="right")


def test_bad_input_is_refused_and_leaves_the_scene_unchanged(scene, phantom):
    messages = scenarios.bad_input(scene, phantom)
    assert all(len(m) > 20 for m in messages), messages


# ---------------------------------------------------------------- details


def test_no_ct_on_an_empty_scene_adds_nothing(scene):
    logic = PlanningLogic(scene)
    count = scene.scene.GetNumberOfNodes()
    with pytest.raises(ValueError, match="no CT selected"):
        logic.measure()
    with pytest.raises(ValueError, match="no CT selected"):
        logic.find_skin_entry()
    assert scene.scene.GetNumberOfNodes() == count


def test_settings_are_stored_as_parameter_node_wrapper_stores_them(scene):
    logic = PlanningLogic(scene)
    logic.set_settings(needleGauge=11, plannedCementVolumeMl=0.1 + 5.2, guideRunwaySlot=False, side="both")
    params = logic.parameter_node()
    # slicer.parameterNodeWrapper: int and float as str(value), bool as "True"/"False", str as is
    assert params.GetParameter("needleGauge") == "11"
    assert params.GetParameter("plannedCementVolumeMl") == str(0.1 + 5.2)
    assert params.GetParameter("guideRunwaySlot") == "False"
    assert params.GetParameter("side") == "both"
    assert logic.settings()["plannedCementVolumeMl"] == 0.1 + 5.2  # exact
    for name in NODE_ROLES:  # node fields: an empty parameter marks them set, the reference holds the node
        assert params.HasParameter(name) and params.GetParameter(name) == ""
    assert {s.name for s in SETTINGS + RESULTS} <= set(params.GetParameterNames())


@pytest.mark.parametrize("values, message", [
    ({"needleGauge": 12}, "needleGauge must be one of 15, 13, 11, 10, 8"),
    ({"needleGauge": 11.5}, "whole number"),
    ({"plannedCementVolumeMl": 40.0}, "between 0.5 and 12"),
    ({"plannedCementVolumeMl": float("nan")}, "finite"),
    ({"side": "up"}, "side must be one of left, right, both"),
    ({"guideLabel": "yes"}, "True or False"),
    ({"colour": "red"}, "unknown setting"),
])
def test_bad_settings_are_refused_and_nothing_is_written(scene, values, message):
    logic = PlanningLogic(scene)
    logic.set_settings(level="L2")
    before = logic.settings()
    with pytest.raises(ValueError, match=message):
        logic.set_settings(level="L3", **values)
    assert logic.settings() == before


def test_needle_view_matrix_reads_like_a_coronal_view_for_a_straight_forward_needle():
    matrix = needle_view_matrix([0, -80, 0], [0, 20, 0], [0, 20, 0])
    # Slicer's coronal slice: screen right = patient's left (-R), up = superior, normal = anterior
    assert np.allclose(matrix[:3, :3], [[-1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert np.allclose(matrix[:3, 3], [0, 20, 0])


@pytest.mark.parametrize("a", [[-60, -70, -10], [40, -60, 25], [0, 0, -90]])
def test_needle_view_matrix_is_a_rotation_with_the_needle_as_normal(a):
    c = np.array([3.0, 5.0, 2.0])
    matrix = needle_view_matrix(a, c, c)
    rotation = matrix[:3, :3]
    assert np.allclose(rotation.T @ rotation, np.eye(3)) and np.isclose(np.linalg.det(rotation), 1)
    assert np.allclose(rotation[:, 2], (c - a) / np.linalg.norm(c - np.asarray(a)))
    assert rotation[2, 1] >= 0  # screen up never points caudally


def test_needle_view_reslices_a_real_slice_node(scene, phantom):
    logic, b, c = scenarios._new_planned_scene(scene, phantom, "left")
    # a slice view as the Slicer application sets it up: orientation presets, layout name, coronal by default
    slicer.vtkMRMLSliceNode.AddDefaultSliceOrientationPresets(scene.scene)
    green = scene.scene.AddNewNodeByClass("vtkMRMLSliceNode")
    green.SetLayoutName("Green")
    green.SetDefaultOrientation("Coronal")
    logic.set_settings(needleViewEnabled=True, needleViewAt="C")
    logic.measure()  # follows the points while enabled
    slice_to_ras = np.array([[green.GetSliceToRAS().GetElement(r, k) for k in range(4)] for r in range(4)])
    assert np.allclose(slice_to_ras, needle_view_matrix(b, c, c))
    assert np.allclose(logic.settings()["needleViewMatrix"], slice_to_ras)
    logic.reset_needle_view()
    assert green.GetOrientation() == "Coronal"


def test_export_plan_json_matches_the_measurements(scene, phantom, tmp_path):
    logic, b, c = scenarios._new_planned_scene(scene, phantom, "left")
    logic.find_skin_entry()
    data = logic.export_plan_json(tmp_path / "plan.json")
    written = json.loads((tmp_path / "plan.json").read_text())
    assert written == data and written["schema"] == "pvpguide.plan/1"
    assert written["trajectories"] == [logic.settings()["measurements"]]
    assert written["needle_gauge"] == 13 and written["skin"]["threshold_hu"] == -300.0


def test_a_hand_placed_a_off_the_line_is_measured_from_a_and_flagged(scene, phantom):
    logic, b, c = scenarios._new_planned_scene(scene, phantom, "left")
    a = logic.find_skin_entry()
    moved = a + [0, 0, 5.0]
    logic.set_point("A", moved)
    data = logic.measure()
    assert data["skin_entry"] == "placed"
    d = (c - moved) / np.linalg.norm(c - moved)
    assert math.isclose(data["angles_deg"]["scanner"]["sagittal"], math.degrees(math.atan2(d[2], d[1])), abs_tol=1e-9)
    assert any("off the line A-C" in w for w in data["warnings"])


def test_measurement_rows_round_for_display(scene, phantom):
    logic, b, c = scenarios._new_planned_scene(scene, phantom, "left")
    rows = dict(measurement_rows(logic.measure()))
    assert rows["AB (soft tissue)"] == "n/a"
    assert rows["BC (path in bone)"].endswith(" mm") and rows["Transverse angle (scanner)"].endswith("°")
    assert measurement_rows(None) == []


def test_a_command_line_plan_scene_opens_in_the_module(phantom, tmp_path):
    """`pvpguide plan` writes references ct/A/B/C/trajectory; the module adopts them."""
    from PVPGuideLib.io.plan_json import plan_to_json
    from PVPGuideLib.mrml.plan_scene import save_plan_scene
    from PVPGuideLib.planning.plan import build_plan, plan_trajectory

    level, b, c = scenarios.phantom_points(phantom, "right")
    trajectory = plan_trajectory(phantom.ct, None, b=b, c=c, side="right", level=level)
    plan = build_plan(phantom.ct, None, [trajectory], needle_gauge=11)
    path = save_plan_scene(plan, plan_to_json(plan), tmp_path / "plan.mrb")
    logic = PlanningLogic(load_scene_bundle(path))
    assert logic.node("ctVolume") is not None and logic.node("pointB").GetName() == "B"
    settings = logic.settings()
    assert (settings["needleGauge"], settings["level"], settings["side"]) == (11, level, "right")
    assert np.allclose(logic.measure()["points"]["C"], c)


def test_needle_view_at_a_missing_a_does_not_block_measuring(scene, phantom):
    logic, b, c = scenarios._new_planned_scene(scene, phantom, "left")
    logic.set_settings(needleViewEnabled=True, needleViewAt="A")
    data = logic.measure()
    assert data["lengths_mm"]["BC"] > 0 and "needle view not updated" in logic.settings()["status"]
    with pytest.raises(ValueError, match="A is not placed"):
        logic.update_needle_view()


@pytest.mark.parametrize("direction", [
    [[0, -1, 0], [-1, 0, 0], [0, 0, -1]],  # mirrored, axes swapped (LPS-like storage)
    [[0.9659258, -0.258819, 0], [0.258819, 0.9659258, 0], [0, 0, 1]],  # oblique: 15 degrees about S
])
def test_find_skin_entry_on_any_grid(scene, direction):
    from PVPGuideLib.phantom.build import generate_phantom

    scenarios.find_skin_entry(scene, generate_phantom(direction=direction, rotation_deg=(5, -8, 10)), side="right")
