"""report.html without a browser: numbers match plan.json with the documented rounding, pictures, absent sections."""

import hashlib
import json

import numpy as np
import pytest
from report_cases import CENTRE, B, C, cylinder_plan, with_sections
from report_checks import embedded_png, mismatched_values, parse_report

from PVPGuideLib.core.mesh import TriangleMesh
from PVPGuideLib.report import write_report
from PVPGuideLib.report.formatting import format_value, guess_format, rounded
from PVPGuideLib.report.meshes import read_stl
from PVPGuideLib.report.path_geometry import path_geometry
from PVPGuideLib.report.png import png_bytes, png_size
from PVPGuideLib.report.slices import path_planes, slice_picture


def _box_stl(path, lo, hi):
    """An axis-aligned box written as STL in LPS coordinates (what the guide writes by default)."""
    from vtkmodules.vtkFiltersCore import vtkTriangleFilter
    from vtkmodules.vtkFiltersSources import vtkCubeSource
    from vtkmodules.vtkIOGeometry import vtkSTLWriter

    lps_lo = np.array([-hi[0], -hi[1], lo[2]])
    lps_hi = np.array([-lo[0], -lo[1], hi[2]])
    cube = vtkCubeSource()
    cube.SetBounds(lps_lo[0], lps_hi[0], lps_lo[1], lps_hi[1], lps_lo[2], lps_hi[2])
    triangles = vtkTriangleFilter()
    triangles.SetInputConnection(cube.GetOutputPort())
    writer = vtkSTLWriter()
    writer.SetInputConnection(triangles.GetOutputPort())
    writer.SetFileName(str(path))
    writer.Write()


@pytest.fixture(scope="module")
def planned():
    return cylinder_plan()


@pytest.fixture(scope="module")
def full_report(planned, tmp_path_factory):
    """A report of the plan with every section, the guide STL beside it, the CT and skin given."""
    plan, data = planned
    data = with_sections(data)
    out = tmp_path_factory.mktemp("report")
    a = np.array(data["trajectories"][0]["points"]["A"])
    _box_stl(out / "guide_L1_left.stl", a - [6, 6, 6], a + [6, 6, 6])
    before = hashlib.sha256(plan.ct.voxels.tobytes()).hexdigest()
    written = write_report(data, out / "report.html", plan=plan, case_id="P001", created="2026-11-22")
    after = hashlib.sha256(plan.ct.voxels.tobytes()).hexdigest()
    return data, written, (out / "report.html").read_text(encoding="utf-8"), before == after


def test_rounding_rules():
    assert format_value("angle", 12.34) == "12.3°" and format_value("angle", -7.96) == "-8.0°"
    assert format_value("length", 109.867) == "109.9 mm"
    assert format_value("volume_ml", 4.967) == "4.97 ml"
    assert format_value("percent", 13.684) == "13.7 %"
    assert format_value("point", [1.04, -2.06, 3.0]) == "(1.0, -2.1, 3.0) mm"
    assert format_value("yes_no", False) == "no" and format_value("angle", None) == "n/a"
    assert rounded("angle", 38.51325) == 38.5 and rounded("volume_ml", 4.5012) == 4.5 and rounded("text", "x") == "x"
    assert guess_format("distance_to_canal_mm", 6.3) == "length" and guess_format("vv_ml", 2.0) == "volume_ml"
    assert guess_format("tilt_deg", 1.0) == "angle" and guess_format("normal", [1.0, 0.0, 0.0]) == "text"


def test_every_number_matches_plan_json(full_report):
    data, _, text, _ = full_report
    parsed = parse_report(text)
    assert mismatched_values(parsed.values, data) == []
    keys = {v["key"] for v in parsed.values}
    for key in ("/trajectories/0/angles_deg/scanner/transverse", "/trajectories/0/angles_deg/vertebra/sagittal",
                "/trajectories/0/lengths_mm/AC", "/trajectories/0/entry_offsets_mm/from_spinous_tip",
                "/trajectories/0/grid_position/column", "/trajectories/0/points/A",
                "/trajectories/0/safety/checks/medial_pedicle_wall/distance_mm",
                "/trajectories/0/cement/psbcv_vv_percent", "/trajectories/0/cement/distribution_score/total",
                "/trajectories/0/guide/min_wall_mm", "/trajectories/0/proposal/distance_to_canal_mm",
                "/cohort_note/follow_up_deg", "/needle_gauge"):
        assert key in keys, key
    shown = {v["key"]: v["text"] for v in parsed.values}
    t = data["trajectories"][0]
    assert shown["/trajectories/0/angles_deg/scanner/transverse"] == f"{t['angles_deg']['scanner']['transverse']:.1f}°"
    assert shown["/trajectories/0/proposal/distance_to_canal_mm"] == "6.3 mm"  # unknown section: unit from the key
    assert shown["/trajectories/0/cement/bcv_ml"] == "4.50 ml"


def test_report_is_self_contained(full_report):
    _, _, text, _ = full_report
    parsed = parse_report(text)
    assert "script" not in parsed.tags and "link" not in parsed.tags and "iframe" not in parsed.tags
    assert "http://" not in text and "https://" not in text and "url(" not in text
    assert "Content-Security-Policy" in text and "img-src data:" in text
    # 3D view, two slices and A on the skin grid (no projection pictures beside this plan)
    assert [image["alt"] for image in parsed.images].count("A on the skin grid") == 1
    assert len(parsed.images) == 4
    for image in parsed.images:
        png = embedded_png(image["src"])
        width, height = png_size(png)
        assert int(image["width"]) % width == 0 and int(image["height"]) * width == height * int(image["width"])
        assert image["alt"]


def test_pictures_are_drawn(full_report):
    _, written, _, ct_untouched = full_report
    assert ct_untouched  # the report samples the CT, never changes it
    pictures = written.pictures[0]
    assert set(pictures) == {"view3d", "slice_axial", "slice_sagittal"}  # projections: no PNG files named here
    assert written.problems == ()
    assert png_size(pictures["view3d"]) == (800, 600)


def test_absent_sections_are_said_plainly(planned, tmp_path):
    _, data = planned
    written = write_report(data, tmp_path / "report.html")  # no CT, no skin: numbers and a 3D view of the needle
    text = written.html.read_text(encoding="utf-8")
    for sentence in ("Safety checks not run.", "Cement prediction not run.", "Guide plate not designed.",
                     "L1 left: safety checks not run; cement prediction not run; guide plate not designed",
                     "no CT slices: the CT was not given to the report"):
        assert sentence in text, sentence
    assert mismatched_values(parse_report(text).values, data) == []


def test_warnings_in_plain_words(full_report):
    _, _, text, _ = full_report
    assert "L1 left: safety check &#x27;medial pedicle wall&#x27; failed (distance 0.8 mm): the needle grazes" in text
    assert "safety check &#x27;superior endplate&#x27; needs attention" in text
    assert "cement on the puncture side is 14.4 % of the body volume, above 13.68 %" in text
    assert "Case P001" in text and "created 2026-11-22" in text


def test_guide_and_projection_pictures_come_from_their_files(planned, tmp_path):
    plan, data = planned
    data = with_sections(data)
    rgb = np.zeros((40, 60, 3), np.uint8)
    rgb[10:30, 20:40] = 255
    (tmp_path / "L1_left_projection_ap.png").write_bytes(png_bytes(rgb))
    (tmp_path / "L1_left_projection_lateral.png").write_bytes(png_bytes(rgb[:, ::-1]))
    written = write_report(data, tmp_path / "report.html", plan=plan)
    assert {"projection_ap", "projection_lateral"} <= set(written.pictures[0])
    assert any("guide plate is not drawn" in p and "not found" in p for p in written.problems)  # STL absent
    assert "guide plate is not drawn" in written.html.read_text(encoding="utf-8")


def test_same_inputs_same_bytes(planned, tmp_path):
    plan, data = planned
    first = write_report(data, tmp_path / "a.html", plan=plan).html.read_bytes()
    second = write_report(data, tmp_path / "b.html", plan=plan).html.read_bytes()
    assert first == second


def test_slice_planes_contain_the_path(planned):
    _, data = planned
    path = path_geometry(data["trajectories"][0])
    for plane in path_planes(path):
        normal = np.cross(plane.screen_right, plane.screen_down)
        for point in (path.a, path.b, path.c):
            assert abs(np.dot(point - plane.centre, normal)) < 1e-9
            column, row = plane.to_pixels(point)[0]
            assert 0 < column < plane.size and 0 < row < plane.size
    axial, sagittal = path_planes(path)
    assert np.dot(-axial.screen_down, path.anterior) > 0.9  # anterior up
    assert np.dot(axial.screen_right, path.right) < -0.9  # radiological: patient's right on the left
    assert np.dot(-sagittal.screen_down, path.superior) > 0.9 and np.dot(sagittal.screen_right, path.anterior) < 0


def test_slice_marks_a_b_c_where_they_are(planned):
    from PVPGuideLib.report.colours import POINT_COLOURS

    plan, data = planned
    path = path_geometry(data["trajectories"][0])
    plane = path_planes(path)[0]
    picture = slice_picture(plan.ct, plane, path, needle_diameter_mm=3.05)
    for name, point in path.points.items():
        column, row = plane.to_pixels(point)[0]
        ring = picture[int(row) - 9:int(row) + 10, int(column) - 9:int(column) + 10].reshape(-1, 3)
        assert np.any(np.all(ring == POINT_COLOURS[name], axis=1)), name
    # the bone cube (400 HU) at the centre is brighter than the soft tissue around it
    centre_col, centre_row = plane.to_pixels(CENTRE)[0]
    soft_col, soft_row = plane.to_pixels(CENTRE + 30.0 * path.right)[0]
    assert picture[int(centre_row), int(centre_col), 0] > picture[int(soft_row), int(soft_col), 0] + 40


def test_stl_read_back_in_ras(tmp_path):
    _box_stl(tmp_path / "box.stl", np.array([1.0, 2.0, 3.0]), np.array([4.0, 6.0, 8.0]))
    mesh = read_stl(tmp_path / "box.stl", coordinate_system="LPS")
    assert isinstance(mesh, TriangleMesh)
    assert np.allclose(mesh.vertices.min(axis=0), [1, 2, 3]) and np.allclose(mesh.vertices.max(axis=0), [4, 6, 8])
    with pytest.raises(ValueError, match="coordinate system"):
        read_stl(tmp_path / "box.stl", coordinate_system="XYZ")


def test_plan_command_writes_the_report(tmp_path):
    from synthetic import cylinder_ct

    from PVPGuideLib.cli import main
    from PVPGuideLib.io.ct_io import write_volume

    write_volume(cylinder_ct(radius=60.0, centre=CENTRE, spacing=(1.5, 1.5, 2.0)), tmp_path / "ct.nrrd")
    fmt = lambda p: ",".join(f"{x:.6f}" for x in p)
    out = tmp_path / "plan"
    assert main(["plan", "--ct", str(tmp_path / "ct.nrrd"), "--b", fmt(B), "--c", fmt(C), "--level", "L1",
                 "--out", str(out), "--quiet"]) == 0
    data = json.loads((out / "plan.json").read_text())
    assert data["outputs"]["report"] == "report.html"
    text = (out / "report.html").read_text(encoding="utf-8")
    parsed = parse_report(text)
    assert mismatched_values(parsed.values, data) == [] and len(parsed.images) == 3
