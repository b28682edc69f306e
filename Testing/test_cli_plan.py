"""`pvpguide plan` end to end on an analytic CT: plan.json, plan.mrb round trip, exit codes, nothing half-written."""

import json

import numpy as np
import pytest
from synthetic import cylinder_ct, rotation_matrix
from tolerances import ROUND_TRIP_MM

from PVPGuideLib.cli import EXIT_BAD_INPUT, main
from PVPGuideLib.io.ct_io import write_volume

CENTRE = np.array([10.0, -20.0, 50.0])
B = CENTRE + [-8.0, -20.0, 0.0]
C = CENTRE + [4.0, 6.0, 3.0]


def _fmt(p):
    return ",".join(f"{x:.6f}" for x in p)


@pytest.fixture(scope="module")
def ct_file(tmp_path_factory):
    ct = cylinder_ct(radius=60.0, centre=CENTRE, direction=rotation_matrix(0, 0, 15), spacing=(1.0, 1.0, 2.0))
    path = tmp_path_factory.mktemp("ct") / "cylinder.nrrd"
    write_volume(ct, path)
    return path


@pytest.fixture(scope="module")
def planned(ct_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("plan")
    code = main(["plan", "--ct", str(ct_file), "--b", _fmt(B), "--c", _fmt(C), "--level", "L1", "--out", str(out),
                 "--quiet"])
    assert code == 0
    return out


def test_plan_json_content(planned, ct_file):
    data = json.loads((planned / "plan.json").read_text())
    assert data["schema"] == "pvpguide.plan/1"
    assert data["coordinate_system"] == "RAS" and data["units"] == "mm"
    assert data["needle_gauge"] == 13 and data["needle_outer_diameter_mm"] == 2.41
    assert data["ct"]["path"] == str(ct_file)
    (t,) = data["trajectories"]
    assert t["level"] == "L1" and t["side"] == "left"  # B lies left of C: inferred
    a = np.array(t["points"]["A"])
    # A on the cylinder of radius 60 about CENTRE's S axis, on the line C->B beyond B.
    assert np.hypot(*(a - CENTRE)[:2]) == pytest.approx(60.0, abs=0.5)
    d = (C - B) / np.linalg.norm(C - B)
    assert np.linalg.norm(np.cross(a - B, d)) < 0.1 and np.dot(B - a, d) > 0
    expected_transverse = np.degrees(np.arctan2(d[0], d[1]))
    assert t["angles_deg"]["scanner"]["transverse"] == pytest.approx(expected_transverse)
    assert t["angles_deg"]["scanner"]["sagittal"] == pytest.approx(np.degrees(np.arctan2(d[2], d[1])))
    assert t["angles_deg"]["vertebra"] is None  # no vertebra frame without landmarks
    lengths = t["lengths_mm"]
    assert lengths["BC"] == pytest.approx(np.linalg.norm(C - B))
    assert lengths["AB"] + lengths["BC"] == pytest.approx(lengths["AC"])
    # No vertebra known: the guide plate is built without the spinous-process ridge, and says so; every
    # warning is the guide plate's (the path itself is clean).
    assert "L1 left: guide plate: no midline plane was given: no spinous-process ridge was made" in data["warnings"]
    assert all(w.startswith("L1 left: guide plate: ") for w in data["warnings"])
    assert t["guide"]["stl"] == "guide_L1_left.stl" and t["guide"]["watertight"]
    assert "cement" not in t  # no vertebra, no body to fill


def test_plan_scene_reopens_exactly(planned):
    from PVPGuideLib.mrml.bundle import load_scene_bundle
    from PVPGuideLib.mrml.markups import point_from_fiducial_node, points_from_line_node
    from PVPGuideLib.mrml.models import mesh_from_model_node
    from PVPGuideLib.mrml.parameters import get_node_reference, get_parameters, parameter_node
    from PVPGuideLib.mrml.volumes import ct_from_volume_node

    data = json.loads((planned / "plan.json").read_text())
    handle = load_scene_bundle(planned / "plan.mrb")
    params = parameter_node(handle.scene)
    data.pop("files")  # the set's manifest names plan.mrb itself, so the scene holds the plan without it
    assert get_parameters(params) == data  # every setting and result, exactly
    t = data["trajectories"][0]
    for name in ("A", "B", "C"):
        node = get_node_reference(params, name)
        assert node.GetName() == name
        # Slicer's markups JSON does not round-trip every double exactly (last-bit differences, ~1e-14 mm).
        np.testing.assert_allclose(point_from_fiducial_node(node), t["points"][name], rtol=0, atol=ROUND_TRIP_MM)
    line = points_from_line_node(get_node_reference(params, "trajectory"))
    np.testing.assert_allclose(line, [t["points"]["A"], t["points"]["C"]], rtol=0, atol=ROUND_TRIP_MM)
    ct = ct_from_volume_node(get_node_reference(params, "ct"))
    assert ct.shape_ijk == tuple(data["ct"]["size"])
    assert np.allclose(ct.ijk_to_ras, np.array(data["ct"]["ijk_to_ras"]), atol=1e-6)
    skin = mesh_from_model_node(get_node_reference(params, "skin"))
    assert len(skin.faces) > 1000


def test_same_inputs_same_plan_json(planned, ct_file, tmp_path):
    assert main(["plan", "--ct", str(ct_file), "--b", _fmt(B), "--c", _fmt(C), "--level", "L1", "--out", str(tmp_path),
                 "--quiet"]) == 0
    again, first = (json.loads((p / "plan.json").read_bytes()) for p in (tmp_path, planned))
    # plan.mrb's subject-hierarchy ids count the scenes made in this process, so its hash may differ in-process
    again["files"].pop("plan.mrb"), first["files"].pop("plan.mrb")
    assert again == first


def test_json_summary_on_stdout(ct_file, tmp_path, capsys):
    assert main(["plan", "--ct", str(ct_file), "--b", _fmt(B), "--c", _fmt(C), "--out", str(tmp_path), "--json",
                 "--quiet"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["trajectories"][0]["points"]["B"] == pytest.approx(list(B))


@pytest.mark.parametrize(("b", "c", "message"), [
    (B, B + [0.0, 0.0, 0.5], "degenerate"),
    (B, CENTRE + [0.0, 0.0, 500.0], "point C"),
    (CENTRE + [-200.0, 0.0, 0.0], C, "point B"),
])
def test_bad_points_write_nothing(ct_file, tmp_path, capsys, b, c, message):
    out = tmp_path / "out"
    assert main(["plan", "--ct", str(ct_file), "--b", _fmt(b), "--c", _fmt(c), "--out", str(out), "--quiet"]) == EXIT_BAD_INPUT
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_path_that_never_meets_skin_warns_and_keeps_b_c(ct_file, tmp_path, capsys):
    b_in_air = CENTRE + [0.0, -70.0, 0.0]
    assert main(["plan", "--ct", str(ct_file), "--b", _fmt(b_in_air), "--c", _fmt(C), "--out", str(tmp_path),
                 "--quiet"]) == 0
    data = json.loads((tmp_path / "plan.json").read_text())
    t = data["trajectories"][0]
    assert t["points"]["A"] is None and t["skin_entry"] == "no_skin_crossing"
    assert t["lengths_mm"]["AC"] is None
    assert any("no skin" in w or "meets no skin" in w for w in data["warnings"])
    assert "warning" in capsys.readouterr().err


def test_unreadable_ct_is_bad_input(tmp_path, capsys):
    bogus = tmp_path / "ct.nrrd"
    bogus.write_bytes(b"NRRD0004\ngarbage")
    assert main(["plan", "--ct", str(bogus), "--b", "1,2,3", "--c", "4,5,6", "--out", str(tmp_path / "o")]) == EXIT_BAD_INPUT
    assert "cannot be read" in capsys.readouterr().err


def test_existing_outputs_replaced_whole_and_inputs_untouched(ct_file, tmp_path, capsys):
    before = ct_file.read_bytes()
    (tmp_path / "plan.json").write_text("old")
    (tmp_path / "notes.txt").write_text("user file")
    # a folder holding files PVPGuide did not write is refused (a run replaces the folder's contents)
    assert main(["plan", "--ct", str(ct_file), "--b", _fmt(B), "--c", _fmt(C), "--out", str(tmp_path), "--quiet"]) == 2
    assert "notes.txt" in capsys.readouterr().err
    assert (tmp_path / "plan.json").read_text() == "old" and (tmp_path / "notes.txt").read_text() == "user file"
    (tmp_path / "notes.txt").unlink()
    (tmp_path / "plan.json").unlink()
    assert main(["plan", "--ct", str(ct_file), "--b", _fmt(B), "--c", _fmt(C), "--out", str(tmp_path), "--quiet"]) == 0
    assert json.loads((tmp_path / "plan.json").read_text())["schema"] == "pvpguide.plan/1"
    assert ct_file.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["guide_left.stl", "plan.json", "plan.mrb", "report.html"]
