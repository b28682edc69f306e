"""The module's "Propose B and C" on a real slicer-core MRML scene: SPEC points, A, safety, refusals."""

import numpy as np
import pytest

slicer = pytest.importorskip("slicer", reason="the planning logic needs slicer-core (pip install slicer-core)")

from PVPGuideLib.display import format_length  # noqa: E402
from PVPGuideLib.mrml import scenarios  # noqa: E402
from PVPGuideLib.mrml.planning_logic import PlanningLogic  # noqa: E402
from PVPGuideLib.mrml.planning_proposal import proposal_text, safety_rows  # noqa: E402
from PVPGuideLib.mrml.segmentations import segmentation_node_from_labelmap  # noqa: E402

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
    assert np.linalg.norm(logic.point("B") - b) <= scenarios.PROPOSAL_TOLERANCE_MM
    assert np.linalg.norm(logic.point("C") - c) <= scenarios.PROPOSAL_TOLERANCE_MM
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
