"""The panel's lifecycle on real MRML: observers on enter/exit, no empty nodes, segment reset, needle view, live A."""

from __future__ import annotations

import numpy as np
import pytest

slicer = pytest.importorskip("slicer", reason="the planning session needs slicer-core (pip install slicer-core)")

from PVPGuideLib.core.geometry import distance_point_to_line  # noqa: E402
from PVPGuideLib.mrml.planning_logic import PlanningLogic  # noqa: E402
from PVPGuideLib.mrml.planning_session import PlanningSession  # noqa: E402
from PVPGuideLib.mrml.scene import scene_of  # noqa: E402
from PVPGuideLib.mrml.segmentations import segmentation_node_from_labelmap  # noqa: E402
from PVPGuideLib.mrml.volumes import volume_node_from_ct  # noqa: E402
from PVPGuideLib.planning.skin import SkinEntryStatus, find_skin_entry  # noqa: E402
from PVPGuideLib.testing import scenarios  # noqa: E402

MOVE_MM = np.array([0.0, 0.0, 3.0])  # B moved 3 mm up: stays on the pedicle of the phantom


def _nodes(scene) -> list:
    scene = scene_of(scene)
    return [(n.GetClassName(), n.GetName()) for n in (scene.GetNthNode(i) for i in range(scene.GetNumberOfNodes()))]


def _drag(node, ras) -> None:
    """What dragging a control point in a view does to the markups node."""
    node.SetNthControlPointPositionWorld(0, *map(float, ras))


@pytest.fixture
def planned(scene, phantom):
    """(logic, session entered, B, C) on the phantom with B and C placed and A found."""
    logic, b, c = scenarios._new_planned_scene(scene, phantom, "left")
    logic.find_skin_entry()
    session = PlanningSession(logic)
    session.enter()
    yield logic, session, b, c
    session.exit()


def test_entering_the_module_adds_no_markups_or_models(scene, phantom):
    ct_node = volume_node_from_ct(scene_of(scene), phantom.ct, "CT")
    before = _nodes(scene)
    session = PlanningSession(PlanningLogic(scene))
    session.enter()
    added = [n for n in _nodes(scene) if n not in before]
    assert [cls for cls, _ in added] == ["vtkMRMLScriptedModuleNode"]  # the module's settings only
    assert session.logic.node("ctVolume") is ct_node  # the first CT is chosen, as Slicer's template does
    assert session.observed_point_names() == []
    session.exit()


def test_point_observers_are_added_on_enter_and_removed_on_exit(scene, phantom):
    logic, b, c = scenarios._new_planned_scene(scene, phantom, "left")
    node_b = logic.node("pointB")
    event = node_b.PointModifiedEvent
    observed_before = node_b.HasObserver(event)
    session = PlanningSession(logic)
    session.enter()
    assert session.observed_point_names() == ["A", "B", "C"] and node_b.HasObserver(event)
    _drag(node_b, b + MOVE_MM)
    assert logic.settings()["measurements"]["lengths_mm"]["BC"] == pytest.approx(np.linalg.norm(c - b - MOVE_MM), abs=1e-9)
    session.exit()
    assert session.observed_point_names() == [] and node_b.HasObserver(event) == observed_before
    _drag(node_b, b)
    # after leaving the module nothing measures: the stored BC is still that of the moved B
    assert logic.settings()["measurements"]["lengths_mm"]["BC"] == pytest.approx(np.linalg.norm(c - b - MOVE_MM), abs=1e-9)


def test_a_point_node_made_after_entering_is_observed(scene, phantom):
    logic = PlanningLogic(scene)
    volume_node_from_ct(scene_of(scene), phantom.ct, "CT")
    session = PlanningSession(logic)
    session.enter()
    logic.ensure_point_nodes()  # the user starts placing points
    assert session.observed_point_names() == ["A", "B", "C"]
    session.exit()


def test_a_follows_b_and_c_live(planned):
    logic, session, b, c = planned
    moved_b = b + MOVE_MM
    _drag(logic.node("pointB"), moved_b)
    a = logic.point("A")
    # the full search over every skin triangle (PVPGuideLib.planning.skin) is the reference
    skin = logic.state.skin_cache[1]
    expected = find_skin_entry(skin, moved_b, c)
    assert expected.status is SkinEntryStatus.FOUND
    np.testing.assert_allclose(a, expected.point, rtol=0, atol=1e-9)
    assert distance_point_to_line(a, moved_b, c) < 1e-6 and np.dot(a - moved_b, moved_b - c) > 0  # beyond B
    data = logic.settings()["measurements"]
    assert data["skin_entry"] == "found"
    assert data["lengths_mm"]["AB"] == pytest.approx(np.linalg.norm(a - moved_b), abs=1e-9)
    assert data["lengths_mm"]["AC"] == pytest.approx(np.linalg.norm(a - c), abs=1e-9)
    line = logic.node("trajectoryLine")
    start = np.array(line.GetNthControlPointPositionWorld(0))
    np.testing.assert_allclose(start, a, atol=1e-9)
    from vtkmodules.util.numpy_support import vtk_to_numpy

    needle = vtk_to_numpy(logic.node("needleModel").GetPolyData().GetPoints().GetData())
    radius = data["needle"]["outer_diameter_mm"] / 2
    # every vertex of the needle cylinder is one radius from the axis A->C
    distances = [distance_point_to_line(p, a, c) for p in needle]
    assert max(distances) == pytest.approx(radius, abs=1e-6)
    # moving C moves A too
    moved_c = c + np.array([1.0, 0.0, 0.0])
    _drag(logic.node("pointC"), moved_c)
    np.testing.assert_allclose(logic.point("A"), find_skin_entry(skin, moved_b, moved_c).point, rtol=0, atol=1e-9)


def test_a_locked_keeps_a_hand_placed_a(planned):
    logic, session, b, c = planned
    logic.set_settings(pointALocked=True)
    hand = logic.point("A") + np.array([4.0, 0.0, 0.0])
    _drag(logic.node("pointA"), hand)
    _drag(logic.node("pointB"), b + MOVE_MM)
    np.testing.assert_array_equal(logic.point("A"), hand)
    data = logic.settings()["measurements"]
    assert data["skin_entry"] == "placed" and data["lengths_mm"]["AB"] == pytest.approx(
        np.linalg.norm(hand - b - MOVE_MM), abs=1e-9)
    logic.set_settings(pointALocked=False)
    _drag(logic.node("pointB"), b)
    assert distance_point_to_line(logic.point("A"), b, c) < 1e-6  # unlocked: A is back on C->B


def test_a_point_outside_the_ct_is_reported_not_raised(planned):
    logic, session, b, c = planned
    messages = []
    session.on_error = messages.append
    _drag(logic.node("pointC"), c + np.array([0.0, 0.0, 5000.0]))
    assert messages and "outside the CT" in messages[0]
    assert logic.settings()["measurements"] is None and "outside the CT" in logic.settings()["status"]


def test_switching_segmentations_resets_the_segment_id(scene, phantom):
    logic = PlanningLogic(scene)
    logic.load_phantom(phantom)
    first = logic.node("vertebraSegmentation")
    assert logic.settings()["vertebraSegmentId"] == phantom.truth["target_level"]
    other = segmentation_node_from_labelmap(scene_of(scene), phantom.labels, "other", segment_names={32: "L2"},
                                            reference_volume_node=logic.node("ctVolume"))
    session = PlanningSession(logic)
    session.enter()
    logic.state.set_node("vertebraSegmentation", other)  # what the panel's segmentation selector writes
    assert logic.settings()["vertebraSegmentId"] == ""
    logic.select_vertebra(first, phantom.truth["target_level"])  # choosing node and segment together keeps both
    assert logic.settings()["vertebraSegmentId"] == phantom.truth["target_level"]
    session.exit()


def test_needle_view_state_is_stored_with_the_view(planned):
    logic, session, b, c = planned
    params = logic.parameter_node()
    seen = []
    tag = params.AddObserver("ModifiedEvent", lambda caller, event: seen.append(
        (caller.GetParameter("needleViewEnabled"), caller.GetParameter("needleViewMatrix"))))
    logic.set_needle_view(True)
    params.RemoveObserver(tag)
    # no observer (the panel's button binding) ever saw the new view with the old "off" state
    assert seen and all(state == "True" for state, _ in seen)
    assert logic.settings()["needleViewEnabled"] and logic.settings()["needleViewMatrix"] is not None
    logic.set_needle_view(False)
    assert not logic.settings()["needleViewEnabled"]


def test_a_needle_view_that_cannot_be_made_stays_off(scene, phantom):
    logic, b, c = scenarios._new_planned_scene(scene, phantom, "left")
    logic.set_settings(needleViewAt="A")  # A is not placed
    with pytest.raises(ValueError, match="A is not placed"):
        logic.set_needle_view(True)
    assert not logic.settings()["needleViewEnabled"]
