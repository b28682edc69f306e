"""The module's cement prediction and report on a real slicer-core MRML scene, and command-line scenes it adopts."""

import json

import numpy as np
import pytest

slicer = pytest.importorskip("slicer", reason="the planning logic needs slicer-core (pip install slicer-core)")

from PVPGuideLib.mrml.bundle import load_scene_bundle  # noqa: E402
from PVPGuideLib.mrml.planning_cement import cement_rows, stale_reasons  # noqa: E402
from PVPGuideLib.mrml.planning_logic import PlanningLogic  # noqa: E402
from PVPGuideLib.testing import scenarios  # noqa: E402

# ---------------------------------------------------------------- the module's behaviours (PVPGuideTest runs these too)


def test_predict_cement(scene, phantom):
    section = scenarios.predict_cement(scene, phantom, side="left", volume_ml=4.0)
    assert section["pattern"] in ("central", "unilateral", "diffuse")


def test_predict_cement_right_side(scene, phantom):
    scenarios.predict_cement(scene, phantom, side="right", volume_ml=3.0)


def test_write_report(scene, phantom, tmp_path):
    written = scenarios.write_report(scene, phantom, tmp_path / "report", side="left")
    assert written["outputs"] == {"plan_json": "plan.json", "report": "report.html"}


# ---------------------------------------------------------------- details


def test_a_failed_report_leaves_the_folder_and_the_scene_as_they_were(scene, phantom, tmp_path, monkeypatch):
    import PVPGuideLib.report

    logic, b, c = scenarios._new_planned_scene(scene, phantom, "left")
    logic.predict_cement()
    (tmp_path / "notes.txt").write_text("the user's file")

    def broken(*args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(PVPGuideLib.report, "write_report", broken)
    before = scenarios._state(logic)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        logic.write_report(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert scenarios._state(logic) == before


def test_a_reopened_scene_redraws_the_projections_without_predicting_again(scene, phantom, tmp_path):
    logic, b, c = scenarios._new_planned_scene(scene, phantom, "right")
    section = logic.predict_cement(5.0)
    reopened = PlanningLogic(load_scene_bundle(logic.save_scene(tmp_path / "plan.mrb")))
    data = reopened.write_report(tmp_path / "out")
    cement = data["trajectories"][0]["cement"]
    assert {k: v for k, v in cement.items() if k != "projections"} == section
    assert all((tmp_path / "out" / name).is_file() for name in cement["projections"].values())
    assert reopened.settings()["status"] == f"report written to {tmp_path / 'out' / 'report.html'}"


def test_a_report_without_cement_says_it_was_not_run(scene, phantom, tmp_path):
    logic, b, c = scenarios._new_planned_scene(scene, phantom, "left")
    data = logic.write_report(tmp_path)
    assert "cement" not in data["trajectories"][0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json", "report.html"]
    assert "cement prediction not run" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_changing_the_planned_volume_makes_the_prediction_out_of_date(scene, phantom):
    logic, b, c = scenarios._new_planned_scene(scene, phantom, "left")
    logic.predict_cement(4.0)
    logic.set_settings(plannedCementVolumeMl=5.0)
    assert logic.cement_status() == ["the planned volume is now 5.00 ml"]
    rows = cement_rows(logic.settings()["cementSection"], logic.cement_status())
    assert rows[0] == ("Out of date", "the planned volume is now 5.00 ml: predict again")


def test_stale_reasons():
    inputs = {"B": [0.0, 0.0, 0.0], "C": [1.0, 2.0, 3.0], "side": "left", "volume_ml": 4.5,
              "vertebra_segment": "L1"}
    assert stale_reasons(inputs, np.zeros(3), np.array([1.0, 2.0, 3.0005]), "left", 4.5, "L1") == []
    assert stale_reasons(inputs, np.zeros(3), None, "right", 4.5, "L2") == [
        "C moved", "the puncture side is now right", "another target vertebra is selected"]
    assert stale_reasons(None, np.zeros(3), np.ones(3), "left", 4.5, "L1") == ["no record of what it was predicted for"]


def test_cement_rows_use_the_display_rounding():
    section = {"planned_volume_ml": 4.5, "prediction": {"predicted_volume_ml": 4.49871}, "bcv_ml": 4.49871,
               "vv_ml": 25.3071, "fill_percent": 17.776, "psbcv_vv_percent": 14.415, "psbcv_vv_over_threshold": True,
               "psbcv_vv_threshold_percent": 13.68, "distribution_score": {"ap": 3, "lateral": 4, "total": 7},
               "endplate_contact": "both", "pattern": "central", "nine_zones": {"c_zone": "anterior_right"},
               "crosses_midline": True,
               "conventional_path": {"psbcv_vv_percent": 20.04, "distribution_score": {"total": 5}}}
    rows = dict(cement_rows(section))
    assert rows["Planned / predicted volume"] == "4.50 ml / 4.50 ml"
    assert rows["PSBCV/VV"] == "14.4 % (ABOVE the 13.68 % threshold)"
    assert rows["Distribution score"] == "7/8 (AP 3/4, lateral 4/4)"
    assert rows["C's zone (nine zones)"] == "anterior right"
    assert rows["Conventional path (body centre)"] == "PSBCV/VV 20.0 %, distribution score 5/8"
    assert cement_rows(None) == []


def test_a_command_line_plan_with_cement_opens_with_the_panel_restored(phantom, tmp_path):
    """`pvpguide demo`-like plan.mrb: CT, vertebrae, points, landmarks, measurements and the cement are adopted."""
    from phantom_truth import landmarks_from_truth

    from PVPGuideLib.io.plan_json import plan_to_json
    from PVPGuideLib.mrml.plan_scene import save_plan_scene
    from PVPGuideLib.planning.plan import build_plan, plan_trajectory
    from PVPGuideLib.planning.plan_cement import add_cement_prediction
    from PVPGuideLib.planning.skin import skin_surface

    level, b, c = scenarios.phantom_points(phantom, "right")
    truth = phantom.truth["levels"][level]
    skin = skin_surface(phantom.ct)
    trajectory = plan_trajectory(phantom.ct, skin, b=b, c=c, side="right", level=level,
                                 landmarks=landmarks_from_truth(truth))
    vertebra = phantom.labels.voxels == truth["label"]
    trajectory = add_cement_prediction(trajectory, phantom.ct, vertebra & (phantom.parts.voxels == 1), volume_ml=3.5,
                                       posterior_mask=vertebra & (phantom.parts.voxels == 2))
    plan = build_plan(phantom.ct, skin, [trajectory], needle_gauge=10)
    plan = plan.with_artifacts(vertebra_labels=(phantom.labels, {int(v["label"]): name
                                                                 for name, v in phantom.truth["levels"].items()}))
    data = plan_to_json(plan)
    path = save_plan_scene(plan, data, tmp_path / "plan.mrb")

    logic = PlanningLogic(load_scene_bundle(path))
    settings = logic.settings()
    assert (settings["needleGauge"], settings["level"], settings["side"]) == (10, level, "right")
    assert settings["plannedCementVolumeMl"] == 3.5 and settings["vertebraSegmentId"] == level
    assert logic.node("vertebraSegmentation").GetName() == "Vertebrae" and logic.node("skinModel") is not None
    assert logic.node("cementSegmentation").GetSegmentation().GetSegment("cement") is not None
    assert settings["cementSection"] == data["trajectories"][0]["cement"]
    assert logic.cement_status() == []
    assert logic.landmarks().frame is not None and settings["skinEntryPoint"] == data["trajectories"][0]["points"]["A"]
    # the adopted measurements are what the module measures on the same points
    adopted = settings["measurements"]
    assert adopted["needle"] == {"gauge": 10, "outer_diameter_mm": 3.4}
    assert scenarios._same_numbers(logic.measure(), adopted, scenarios.SAVED_TOLERANCE_MM)
    # the command line's projections are not in the scene: the report says so instead of drawing other ones
    written = logic.write_report(tmp_path / "report")
    assert "projections" not in written["trajectories"][0]["cement"]
    assert "predict the cement again" in logic.settings()["status"]
    # predicting in the module replaces the command line's cement in the same node
    node = logic.node("cementSegmentation")
    logic.predict_cement()
    assert logic.node("cementSegmentation") is node and logic.settings()["cementInputs"]["body"].startswith("split")


def test_a_scene_saved_before_the_cement_results_existed_still_opens(scene, phantom, tmp_path):
    logic, b, c = scenarios._new_planned_scene(scene, phantom, "left")
    params = logic.parameter_node()
    for name in ("cementSection", "cementInputs", "reportFolder", "cementSegmentation"):
        params.UnsetParameter(name)
    reopened = PlanningLogic(load_scene_bundle(logic.save_scene(tmp_path / "old.mrb")))
    assert reopened.cement_status() is None and reopened.node("cementSegmentation") is None
    assert json.loads(reopened.parameter_node().GetParameter("cementSection") or "null") is None
