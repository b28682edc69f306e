"""Guide plate on synthetic skins: printable STL, bore on the plan, runway, skin fit, both sides, rotated, bilateral."""

import numpy as np
import pytest
from guide_synthetic import (
    assert_printable,
    assert_sleeve_holds_plan,
    bumpy_back_height,
    bumpy_back_skin,
    contact_distances_under,
    elliptic_cylinder_skin,
    entry_on_ellipse,
    entry_on_height_surface,
    planned_path,
    read_back,
)
from synthetic import rotation_matrix

from PVPGuideLib.core.mesh import TriangleMesh
from PVPGuideLib.guide import GuideOptions, GuideTrajectory, build_guide, read_stl

MIDLINE = dict(midline_point=[0.0, -100.0, 0.0], midline_normal=[1.0, 0.0, 0.0])
# The analytic skins here are smooth: the exact skin-contact path (no smoothing) is checked against them to 0.1 mm.
EXACT = dict(skin_smoothing_mm=0.0)


def _trajectory(side, *, skin="bumpy", gauge=11, sagittal=5.0):
    target, d = planned_path(side, transverse_deg=30.0, sagittal_deg=sagittal, target=[8.0 if side == "left" else -8.0,
                                                                                        -20.0, 0.0])
    a = (entry_on_height_surface(target, d, bumpy_back_height) if skin == "bumpy"
         else entry_on_ellipse(target, d))
    return GuideTrajectory(a, target, side, gauge, "L1")


@pytest.fixture(scope="module")
def bumpy():
    return bumpy_back_skin()


@pytest.fixture(scope="module")
def left_guide(bumpy):
    return build_guide(bumpy, [_trajectory("left")], frame_superior=[0, 0, 1], spinous_tips=[[0.0, -97.0, 3.0]],
                       options=GuideOptions(case_id="S01", **EXACT), **MIDLINE)


def test_left_guide_passes_every_acceptance_check_on_the_stl(left_guide, bumpy, tmp_path):
    section, mesh = read_back(left_guide, tmp_path)
    assert section["stl"] == "guide_L1_left.stl" and section["coordinate_system"] == "LPS"
    for key in ("watertight", "volume_mm3", "min_wall_mm"):
        assert key in section
    assert section["watertight"] and section["manifold"] and section["passes"]
    report, wall = assert_printable(mesh)
    assert abs(report.volume_mm3 - left_guide.volume_mm3) < 1e-6 * report.volume_mm3
    assert section["min_wall_mm"] >= 1.5 and abs(wall.min_mm - left_guide.min_wall_mm) < 1e-6
    assert_sleeve_holds_plan(mesh, left_guide.sleeves[0])
    distances = contact_distances_under(left_guide, mesh, bumpy)
    measured = distances[np.isfinite(distances)]
    assert len(measured) > 300
    # Never closer than the clearance allows anywhere; within +-0.1 mm of it over the contact patch.
    assert measured.min() >= 0.2 - 0.1
    assert np.mean(np.abs(measured - 0.2) <= 0.1) > 0.98
    assert left_guide.fit_deviation_mm <= 0.1 and left_guide.contact_samples > 200
    assert left_guide.label is not None and left_guide.warnings == ()


def test_stl_header_names_the_coordinate_system_and_ras_is_on_request(left_guide, tmp_path):
    section, mesh = read_back(left_guide, tmp_path / "lps")
    raw = (tmp_path / "lps" / section["stl"]).read_bytes()
    assert b"SPACE=LPS" in raw[:80] and not raw[:5].lower().startswith(b"solid")
    lps_file = np.frombuffer(raw, "<f4", 9, 84 + 12)  # first triangle's vertices as stored
    section_ras, mesh_ras = read_back(left_guide, tmp_path / "ras", coordinate_system="RAS")
    raw_ras = (tmp_path / "ras" / section_ras["stl"]).read_bytes()
    assert b"SPACE=RAS" in raw_ras[:80] and section_ras["coordinate_system"] == "RAS"
    ras_file = np.frombuffer(raw_ras, "<f4", 9, 84 + 12)
    assert np.array_equal(lps_file.reshape(3, 3) * [-1, -1, 1], ras_file.reshape(3, 3))
    assert np.array_equal(mesh.vertices, mesh_ras.vertices)
    assert list((tmp_path / "lps").iterdir()) == [tmp_path / "lps" / section["stl"]]  # no temporary left


def test_same_inputs_give_a_byte_identical_stl(bumpy, left_guide, tmp_path):
    again = build_guide(bumpy, [_trajectory("left")], frame_superior=[0, 0, 1], spinous_tips=[[0.0, -97.0, 3.0]],
                        options=GuideOptions(case_id="S01", **EXACT), **MIDLINE)
    first, _ = read_back(left_guide, tmp_path / "a")
    second, _ = read_back(again, tmp_path / "b")
    assert (tmp_path / "a" / first["stl"]).read_bytes() == (tmp_path / "b" / second["stl"]).read_bytes()
    assert first == second


def test_rotated_scene_gives_the_rotated_guide(bumpy, left_guide, tmp_path):
    rotation = rotation_matrix(12.0, -20.0, 35.0)
    shift = np.array([15.0, -40.0, 250.0])
    skin = TriangleMesh(bumpy.vertices @ rotation.T + shift, bumpy.faces)
    t = _trajectory("left")
    moved = GuideTrajectory(rotation @ t.A + shift, rotation @ t.C + shift, "left", 11, "L1")
    result = build_guide(skin, [moved], frame_superior=rotation @ [0, 0, 1], frame_anterior=rotation @ [0, 1, 0],
                         midline_point=rotation @ [0, -100, 0] + shift, midline_normal=rotation @ [1, 0, 0],
                         spinous_tips=[rotation @ [0.0, -97.0, 3.0] + shift], options=GuideOptions(case_id="S01", **EXACT))
    _, mesh = read_back(result, tmp_path)
    assert_printable(mesh)
    assert abs(result.volume_mm3 - left_guide.volume_mm3) < 0.01 * left_guide.volume_mm3
    assert result.sleeves[0].sagittal_range_deg == pytest.approx(left_guide.sleeves[0].sagittal_range_deg, abs=1e-6)
    assert result.fit_deviation_mm <= 0.1


def test_right_side_on_an_elliptic_trunk_with_a_round_bore(tmp_path):
    skin = elliptic_cylinder_skin()
    result = build_guide(skin, [_trajectory("right", skin="ellipse", gauge=8)], frame_superior=[0, 0, 1],
                         options=GuideOptions(runway_length_mm=0.0, midline_feature="groove", **EXACT), **MIDLINE)
    section, mesh = read_back(result, tmp_path)
    assert section["stl"] == "guide_L1_right.stl" and section["passes"]
    assert_printable(mesh)
    sleeve = result.sleeves[0]
    assert sleeve.tilt_half_range_deg == 0 and sleeve.bore_diameter_mm == pytest.approx(4.19 + 0.3)
    assert sleeve.sagittal_range_deg[0] == pytest.approx(sleeve.sagittal_range_deg[1])


def test_bilateral_plan_is_one_plate_with_two_sleeves(bumpy, tmp_path):
    both = [_trajectory("right"), _trajectory("left")]
    result = build_guide(bumpy, both, frame_superior=[0, 0, 1], options=GuideOptions(case_id="S01", **EXACT), **MIDLINE)
    section, mesh = read_back(result, tmp_path)
    assert section["stl"] == "guide_L1_bilateral.stl" and section["side"] == "bilateral"
    assert [s["side"] for s in section["sleeves"]] == ["left", "right"]
    assert_printable(mesh)
    for sleeve in result.sleeves:
        assert_sleeve_holds_plan(mesh, sleeve)
    assert result.label.startswith("L1 B")


def test_stl_read_back_is_the_mesh_in_memory(left_guide, tmp_path):
    section, mesh = read_back(left_guide, tmp_path)
    assert np.array_equal(mesh.vertices, left_guide.mesh.vertices)
    assert np.array_equal(mesh.faces, left_guide.mesh.faces)
    assert read_stl(tmp_path / section["stl"]).coordinate_system == "LPS"


def test_marker_sockets_are_open_windows_over_the_markers(bumpy, tmp_path):
    markers = np.array([[r, bumpy_back_height(r, s), s] for r, s in ((0.0, -12.0), (0.0, 0.0), (0.0, 12.0))])
    result = build_guide(bumpy, [_trajectory("left")], frame_superior=[0, 0, 1], marker_points=markers,
                         options=GuideOptions(midline_feature="none", label=False, **EXACT), **MIDLINE)
    _, mesh = read_back(result, tmp_path)
    assert_printable(mesh)
    from PVPGuideLib.guide.spatial import TriangleGrid, first_hits

    grid = TriangleGrid(mesh.vertices, mesh.faces, cell_mm=2.0)
    w = result.frame.w
    # Straight out of each marker nothing of the plate is met; 5 mm beside it the plate is there.
    t, hit = first_hits(grid, markers - 0.5 * w, np.tile(w, (3, 1)), 30.0)
    assert np.all(hit < 0)
    beside = markers + 5.0 * result.frame.v
    t, hit = first_hits(grid, beside - 0.5 * w, np.tile(w, (3, 1)), 30.0)
    assert np.all(hit >= 0)
