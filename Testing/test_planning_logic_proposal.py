"""The module's "Propose B and C" on a real slicer-core MRML scene: SPEC points, A, safety, refusals."""

import numpy as np
import pytest

slicer = pytest.importorskip("slicer", reason="the planning logic needs slicer-core (pip install slicer-core)")

from proposal_cases import body_part_labelled_as_t12  # noqa: E402

from PVPGuideLib.core.display import format_length  # noqa: E402
from PVPGuideLib.mrml.planning_logic import PlanningLogic  # noqa: E402
from PVPGuideLib.mrml.planning_proposal import proposal_text, safety_rows  # noqa: E402
from PVPGuideLib.mrml.segmentations import segmentation_node_from_labelmap  # noqa: E402
from PVPGuideLib.testing import scenarios  # noqa: E402

# ---------------------------------------------------------------- the module's behaviour (PVPGuideTest runs it too)


def test_propose_points(scene, phantom):
    section = scenarios.propose_points(scene, phantom, side="left")
    assert section["proposal"]["C_rule"].startswith(("anterior_third", "anterior_cortex_margin"))


# ---------------------------------------------------------------- details


def test_both_sides_places_the_recommended_side_and_keeps_the_setting(scene, phantom):
    logic = PlanningLogic(scene)
    logic.load_phantom(phantom)
    logic.set_settings(side="both")
    section = logic.propose_points()
    assert section["requested_side"] == "both" and section["side"] == section["recommended_side"]
    assert logic.settings()["side"] == "both"
    level, b, c = scenarios.phantom_points(phantom, section["side"])
    assert np.linalg.norm(scenarios.spec_point(logic, section, "B") - b) <= scenarios.PROPOSAL_TOLERANCE_MM
    assert np.linalg.norm(scenarios.spec_point(logic, section, "C") - c) <= scenarios.PROPOSAL_TOLERANCE_MM
    assert logic.settings()["measurements"]["side"] == section["side"]
    assert logic.proposal_status() == []
    logic.set_settings(needleGauge=8)
    assert logic.proposal_status() == ["the needle is now 8G"]


def test_refusals_leave_the_scene_unchanged(scene, phantom):
    logic = PlanningLogic(scene)
    scenarios.expect_refused(logic, logic.propose_points, "no CT", "no CT")
    logic.load_phantom(phantom)
    scenarios.expect_refused(logic, lambda: logic.propose_points(side="up"), "side", "an unknown side")
    logic.lock_points(True)
    scenarios.expect_refused(logic, logic.propose_points, "locked", "locked points")
    logic.lock_points(False)
    segmentation, segment_id = logic.node("vertebraSegmentation"), logic.settings()["vertebraSegmentId"]
    logic.select_vertebra(segmentation, "")
    scenarios.expect_refused(logic, logic.propose_points, "no target vertebra", "no segment chosen")

    # a segment that is no vertebra: the analysis's message is passed through, nothing is placed
    blob = np.zeros(phantom.ct.voxels.shape, np.uint8)
    centre = np.array(blob.shape) // 2
    blob[tuple(slice(x - 2, x + 3) for x in centre)] = 1
    stray = segmentation_node_from_labelmap(logic.scene, phantom.ct.with_voxels(blob), "Stray",
                                            segment_names={1: "stray"})
    logic.select_vertebra(stray, "stray")
    message = scenarios.expect_refused(logic, logic.propose_points, "B and C cannot be proposed", "a stray blob")
    assert len(message) > len("B and C cannot be proposed: ")
    assert logic.point("B", required=False) is None and logic.settings()["proposalSection"] is None
    logic.select_vertebra(segmentation, segment_id)


def test_rows_round_as_the_display_module():
    section = {"level": "L1", "side": "left", "recommended_side": "left", "reasons": ["left: safety warn"],
               "warnings": [], "safety": {"needle_gauge": 13, "verdict": "warn", "checks": {
                   "spinal_canal": {"distance_mm": 1.3749, "verdict": "warn"},
                   "anterior_cortex": {"distance_mm": None, "verdict": "pass"}}}}
    rows = safety_rows(section)
    assert rows[0] == ("spinal canal", format_length(1.3749), "warn") == ("spinal canal", "1.4 mm", "warn")
    assert rows[1] == ("anterior cortex", "n/a", "pass") and rows[-1] == ("overall (13G)", "", "warn")
    assert safety_rows(None) == [] and proposal_text(None) == ""
    text = proposal_text(section, ["C moved"])
    assert text.startswith("Out of date (C moved)") and "recommended side: left" in text


def test_a_body_part_labelled_as_the_next_level_is_taken_back_in_the_module(scene, phantom):
    """TotalSegmentator-named segments: the target's neighbours are read too, so a part of the target's body
    that the segmentation gave to T12 is taken back, and the analysis says so in the status and warnings."""
    logic = PlanningLogic(scene)
    logic.load_phantom(phantom)
    assert phantom.truth["target_level"] == "L1"
    labels, _ = body_part_labelled_as_t12(phantom)
    segmentation = segmentation_node_from_labelmap(
        logic.scene, phantom.ct.with_voxels(labels), "TotalSegmentator",
        segment_names={31: "vertebrae_L1", 32: "vertebrae_T12", 30: "vertebrae_L2"})
    logic.select_vertebra(segmentation, "vertebrae_L1")
    section = logic.propose_points(side="left")
    assert any("labelled as 32 (T12)" in w and "taken as part of it" in w for w in section["warnings"])
    assert "labelled as 32 (T12)" in logic.parameter_node().GetParameter("status")
    _, b, c = scenarios.phantom_points(phantom, "left")
    assert np.linalg.norm(scenarios.spec_point(logic, section, "B") - b) <= scenarios.PROPOSAL_TOLERANCE_MM
    assert np.linalg.norm(scenarios.spec_point(logic, section, "C") - c) <= scenarios.PROPOSAL_TOLERANCE_MM


def test_target_and_neighbours_label_map(scene, phantom):
    from PVPGuideLib.mrml.planning_proposal import target_and_neighbours

    labels = phantom.labels.voxels
    mrml_scene = PlanningLogic(scene).scene
    segmentation = segmentation_node_from_labelmap(
        mrml_scene, phantom.labels, "Named", segment_names={31: "vertebrae_L1", 32: "T12 vertebra", 30: "rib_left_12"})
    mapped, value = target_and_neighbours(segmentation, "vertebrae_L1", phantom.ct)
    assert value == 31
    assert np.array_equal(mapped == 31, labels == 31) and np.array_equal(mapped == 32, labels == 32)
    assert not (mapped == 30).any()  # 'rib_left_12' names no vertebra: not read
    unnamed = segmentation_node_from_labelmap(mrml_scene, phantom.labels, "Unnamed", segment_names={31: "target"})
    mapped, value = target_and_neighbours(unnamed, "target", phantom.ct)
    assert value == 1 and np.array_equal(mapped == 1, labels == 31)
    mapped, value = target_and_neighbours(unnamed, "target", phantom.ct, level="l1")  # the module's level setting
    assert value == 31 and np.array_equal(mapped == 31, labels == 31)
