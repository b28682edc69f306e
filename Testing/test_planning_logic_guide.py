"""The module's guide plate on a real slicer-core MRML scene: design, STL, report, reopen, and refusals naming the step."""

import json

import numpy as np
import pytest

slicer = pytest.importorskip("slicer", reason="the planning logic needs slicer-core (pip install slicer-core)")

from PVPGuideLib.core.volume import CTVolume  # noqa: E402
from PVPGuideLib.guide import GuideError, read_stl  # noqa: E402
from PVPGuideLib.mrml import planning_guide  # noqa: E402
from PVPGuideLib.mrml.bundle import load_scene_bundle  # noqa: E402
from PVPGuideLib.mrml.models import mesh_from_model_node  # noqa: E402
from PVPGuideLib.mrml.planning_guide import guide_rows  # noqa: E402
from PVPGuideLib.mrml.planning_logic import PlanningLogic  # noqa: E402
from PVPGuideLib.mrml.scene import scene_of  # noqa: E402
from PVPGuideLib.mrml.volumes import volume_node_from_ct  # noqa: E402
from PVPGuideLib.testing import scenarios  # noqa: E402

# ---------------------------------------------------------------- the module's behaviour (PVPGuideTest runs it too)


def test_design_guide(scene, phantom, tmp_path):
    section = scenarios.design_guide(scene, phantom, tmp_path, side="left")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["guide_L1_left.stl"]  # nothing else, no temporary files
    assert section["sleeves"][0]["axis_offset_mm"] <= 0.1 and section["sleeves"][0]["needle_passes"]


# ---------------------------------------------------------------- details


def test_ras_on_request_reopen_and_report(scene, phantom, tmp_path, monkeypatch):
    import PVPGuideLib.guide

    logic, b, c = scenarios._new_planned_scene(scene, phantom, "right")
    logic.find_skin_entry()
    section = logic.design_guide()
    assert logic.settings()["guideFolder"] == ""
    # the same plate written again in RAS: taken from memory, not built again; the header names RAS
    logic.set_settings(guideCoordinateSystem="RAS")
    monkeypatch.setattr(PVPGuideLib.guide, "plan_guides", lambda *args, **kwargs: pytest.fail("built again"))
    ras = logic.design_guide(tmp_path / "stl")
    assert ras == {**section, "coordinate_system": "RAS"}
    written = read_stl(tmp_path / "stl" / "guide_L1_right.stl")
    assert written.coordinate_system == "RAS" and "SPACE=RAS" in written.header
    model = mesh_from_model_node(logic.node("guideModel"))
    assert np.array_equal(written.mesh.vertices[written.mesh.faces], model.vertices[model.faces])

    # a reopened scene has the model node and the section, and its report carries the plate
    reopened = PlanningLogic(load_scene_bundle(logic.save_scene(tmp_path / "plan.mrb")))
    node = reopened.node("guideModel")
    assert node is not None and node.GetName() == "guide_L1_right"
    assert reopened.settings()["guideSection"] == ras and reopened.guide_status() == []
    data = reopened.write_report(tmp_path / "report")
    assert data["trajectories"][0]["guide"] == ras
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == ["guide_L1_right.stl", "plan.json", "report.html"]
    again = read_stl(tmp_path / "report" / "guide_L1_right.stl")
    assert again.coordinate_system == "RAS" and np.allclose(again.mesh.vertices[again.mesh.faces],
                                                             model.vertices[model.faces], atol=1e-4)
    html = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert "guide_L1_right.stl" in html and "guide plate" in html.lower()
    assert json.loads((tmp_path / "report" / "plan.json").read_text(encoding="utf-8")) == data


def test_a_failed_boolean_names_its_step_and_leaves_scene_and_folder_unchanged(scene, phantom, tmp_path, monkeypatch):
    import PVPGuideLib.guide.build

    logic, b, c = scenarios._new_planned_scene(scene, phantom, "left")
    logic.find_skin_entry()

    difference = PVPGuideLib.guide.build.difference

    def empty_difference(solid, cutters, *, step):
        if step.startswith("cut bores"):  # the last boolean of the plate
            raise GuideError(step, "the result is empty")
        return difference(solid, cutters, step=step)

    monkeypatch.setattr(PVPGuideLib.guide.build, "difference", empty_difference)
    message = scenarios.expect_refused(logic, lambda: logic.design_guide(tmp_path), "step 'cut bores",
                                       "an empty boolean")
    assert "the result is empty" in message
    assert list(tmp_path.iterdir()) == []


def test_no_skin_names_the_step(scene):
    air = CTVolume(np.full((12, 12, 12), -1000, np.int16), np.diag([2.0, 2.0, 2.0, 1.0]))
    logic = PlanningLogic(scene)
    logic.select_ct(volume_node_from_ct(scene_of(scene), air, "air"))
    for name, point in (("A", [1, 2, 3]), ("B", [5, 6, 7]), ("C", [15, 16, 17])):
        logic.set_point(name, point)
    scenarios.expect_refused(logic, logic.design_guide, "step 'skin'", "a CT without a body")


def test_a_missing_package_says_how_to_install_it(scene, phantom, monkeypatch):
    logic, b, c = scenarios._new_planned_scene(scene, phantom, "left")
    logic.set_point("A", b - 30 * (c - b) / np.linalg.norm(c - b))
    monkeypatch.setattr(planning_guide, "GUIDE_PACKAGES", ("manifold3d", "no_such_package_pvpguide"))
    assert planning_guide.missing_guide_packages() == ["no_such_package_pvpguide"]
    message = scenarios.expect_refused(logic, logic.design_guide, "step 'booleans'", "a missing package")
    assert "slicer.util.pip_install('no_such_package_pvpguide')" in message


def test_guide_rows_round_for_display_and_say_when_out_of_date():
    section = {"stl": "guide_L2_left.stl", "coordinate_system": "LPS", "watertight": True, "manifold": True,
               "self_intersecting": False, "passes": False, "volume_mm3": 12345.6, "min_wall_mm": 1.46,
               "min_wall_floor_mm": 1.5, "fit_deviation_mm": 0.04, "fit_clearance_mm": 0.2, "warnings": ["trimmed"],
               "sleeves": [{"side": "left", "sagittal_range_deg": [-8.04, 14.56], "sagittal_deg": 3.26,
                            "transverse_deg": 30.04, "axis_offset_mm": 1e-6, "axis_angle_deg": 2e-5}]}
    rows = guide_rows(section, ["A moved"])
    assert rows[0] == ("Out of date", "A moved: design again")
    rows = dict(rows)
    assert rows["Passes every check"].startswith("NO")
    assert rows["Volume"] == "12.35 ml" and rows["Thinnest wall"] == "1.5 mm (at least 1.5 mm)"
    assert rows["Sagittal range (left)"] == "-8.0° to 14.6° (plan 3.3°)"
    assert rows["Note"] == "trimmed"
    assert guide_rows(None) == []


def test_a_command_line_plan_with_a_guide_opens_with_the_plate_adopted(phantom, tmp_path):
    """`pvpguide demo`-like plan.mrb: the plate's model, section and options are the panel's, and current."""
    from phantom_truth import landmarks_from_truth

    from PVPGuideLib.io.plan_json import plan_to_json
    from PVPGuideLib.mrml.plan_scene import save_plan_scene
    from PVPGuideLib.planning.plan import build_plan, plan_trajectory
    from PVPGuideLib.planning.plan_guide import add_guide_plates
    from PVPGuideLib.planning.skin import skin_surface

    level, b, c = scenarios.phantom_points(phantom, "left")
    skin = skin_surface(phantom.ct)
    trajectory = plan_trajectory(phantom.ct, skin, b=b, c=c, side="left", level=level,
                                 landmarks=landmarks_from_truth(phantom.truth["levels"][level]))
    unguided = build_plan(phantom.ct, skin, [trajectory], needle_gauge=13)
    plan = add_guide_plates(unguided, tmp_path / "cli", coordinate_system="RAS")
    assert plan.warnings == unguided.warnings  # the plate added no warning
    data = plan_to_json(plan)
    logic = PlanningLogic(load_scene_bundle(save_plan_scene(plan, data, tmp_path / "cli" / "plan.mrb")))
    settings = logic.settings()
    assert logic.node("guideModel").GetName() == "guide_L1_left"
    assert settings["guideSection"] == data["trajectories"][0]["guide"] and settings["guideCoordinateSystem"] == "RAS"
    assert logic.guide_status() == []
    written = logic.write_report(tmp_path / "report")
    assert written["trajectories"][0]["guide"] == settings["guideSection"]
    assert (tmp_path / "report" / "guide_L1_left.stl").is_file()
    logic.set_settings(guideLabel=False)
    assert logic.guide_status() == ["the guide options changed"]
