"""Planning on the bundled phantom: A on the skin, A/B/C collinear, angles in both frames, any grid, `pvpguide demo`."""

import json

import numpy as np
import pytest
from phantom_truth import landmarks_from_truth
from scipy.ndimage import map_coordinates
from synthetic import rotation_matrix
from tolerances import ROUND_TRIP_MM

from PVPGuideLib.cli import main
from PVPGuideLib.core.geometry import distance_point_to_line
from PVPGuideLib.phantom.build import generate_phantom
from PVPGuideLib.planning.plan import plan_trajectory
from PVPGuideLib.planning.skin import SkinEntryStatus, skin_surface

GRIDS = {
    "identity": {},
    "oblique": {"direction": rotation_matrix(15, -10, 30)},
    "lps_stored": {"direction": np.diag([-1.0, -1.0, 1.0])},
}


def _hu(ct, point):
    ijk = ct.ras_to_ijk_points(point)[0]
    return map_coordinates(ct.voxels.astype(float), ijk[::-1].reshape(3, 1), order=1)[0]


def _truth_angles(truth_level, a, side, c=None):
    """SPEC section 4 written out: d = (C - A)/|C - A| in the truth frame, m = +-dR (C: the construction's unless
    given)."""
    frame = truth_level["frame"]
    c = np.array(truth_level["plans"][side]["C"]) if c is None else np.asarray(c, float)
    d = (c - a) / np.linalg.norm(c - a)
    d_r, d_a, d_s = (np.dot(d, frame[k]) for k in ("right", "anterior", "superior"))
    m = d_r if side == "left" else -d_r
    return np.degrees(np.arctan2(m, d_a)), np.degrees(np.arctan2(d_s, d_a))


@pytest.mark.parametrize("grid", GRIDS)
@pytest.mark.parametrize("side", ["left", "right"])
def test_a_on_skin_and_collinear(grid, side):
    phantom = generate_phantom(**GRIDS[grid])
    ct, level = phantom.ct, phantom.truth["levels"]["L1"]
    b, c = (np.array(level["plans"][side][k]) for k in ("B", "C"))
    t = plan_trajectory(ct, skin_surface(ct), b=b, c=c, side=side, level="L1", landmarks=landmarks_from_truth(level))
    assert t.skin_status is SkinEntryStatus.FOUND
    a = t.a
    outward = (a - c) / np.linalg.norm(a - c)
    half_voxel = 0.5 * ct.spacing.min()
    # On the skin within half a voxel: body inside, air outside, either side of A.
    assert _hu(ct, a - half_voxel * outward) > -300.0 > _hu(ct, a + half_voxel * outward)
    assert distance_point_to_line(b, a, c) < 0.1
    assert 0 < np.dot(b - a, c - a) < np.dot(c - a, c - a)  # B between A and C
    # The phantom's skin is posterior: A lies behind B along the vertebra's anterior axis.
    assert np.dot(a - b, level["frame"]["anterior"]) < -20.0
    transverse, sagittal = _truth_angles(level, a, side)
    assert t.angles_vertebra.transverse_deg == pytest.approx(transverse, abs=1e-6)
    assert t.angles_vertebra.sagittal_deg == pytest.approx(sagittal, abs=1e-6)
    assert t.entry_offsets.from_midline_mm == pytest.approx(
        abs(np.dot(a - np.array(level["midsagittal_plane"]["point"]), level["midsagittal_plane"]["normal"])))


def test_vertebra_frame_angles_survive_spine_rotation():
    upright = generate_phantom(noise_sigma=0.0)
    rotated = generate_phantom(noise_sigma=0.0, rotation_deg=(12.0, -20.0, 25.0))
    results = []
    for phantom in (upright, rotated):
        level = phantom.truth["levels"]["L1"]
        b, c = (np.array(level["plans"]["left"][k]) for k in ("B", "C"))
        results.append(plan_trajectory(phantom.ct, None, b=b, c=c, side="left", landmarks=landmarks_from_truth(level)))
    assert results[1].angles_vertebra.transverse_deg == pytest.approx(results[0].angles_vertebra.transverse_deg, abs=1e-3)
    assert results[1].angles_vertebra.sagittal_deg == pytest.approx(results[0].angles_vertebra.sagittal_deg, abs=1e-3)
    # In the scanner frame the rotated spine gives other angles: that is why both frames are reported.
    assert abs(results[1].angles_scanner.transverse_deg - results[0].angles_scanner.transverse_deg) > 1.0


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out), "--quiet"]) == 0
    return out


def test_demo_proposes_l1_from_the_left_close_to_the_constructed_points(demo_out):
    data = json.loads((demo_out / "plan.json").read_text())
    truth = json.loads((demo_out / "sample" / "truth.json").read_text())
    (t,) = data["trajectories"]
    assert (t["level"], t["side"]) == ("L1", "left")
    constructed = truth["levels"]["L1"]["plans"]["left"]
    # Issue 4's acceptance: the SPEC points within 1.5 mm of the construction. The construction's 13G path grazes
    # the lateral recess (canal 1.37 mm analytic, a warn), so the proposal's search (issue 11) moves B and C to a
    # passing path and gives the SPEC points it started from in plan.json.
    adjustment = t["proposal"]["adjustment"]
    assert adjustment is not None and "candidate paths" in adjustment["reason"]
    assert f"L1 left: {adjustment['reason']}" in data["warnings"]  # said in the plan's warnings too
    assert np.linalg.norm(np.subtract(adjustment["spec_B"], constructed["B"])) <= 1.5
    assert np.linalg.norm(np.subtract(adjustment["spec_C"], constructed["C"])) <= 1.5
    assert t["skin_entry"] == "found"
    assert t["safety"]["needle_gauge"] == 13 and t["safety"]["verdict"] == "pass"
    # The planned path's vertebra-frame angles, from its own points in the constructed frame, within 1 degree.
    a, c = (np.array(t["points"][k]) for k in ("A", "C"))
    transverse, sagittal = _truth_angles(truth["levels"]["L1"], a, "left", c=c)
    assert t["angles_deg"]["vertebra"]["transverse"] == pytest.approx(transverse, abs=1.0)
    assert t["angles_deg"]["vertebra"]["sagittal"] == pytest.approx(sagittal, abs=1.0)
    assert data["ct"]["path"] == "sample/ct.nrrd"
    cement = t["cement"]
    assert cement["planned_volume_ml"] == 4.5
    assert cement["bcv_ml"] == pytest.approx(4.5, rel=0.02)  # SPEC: volume within 2 % of the request
    assert cement["projections"] == {"ap": "L1_left_projection_ap.png", "lateral": "L1_left_projection_lateral.png"}
    assert (demo_out / "L1_left_projection_ap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    guide = t["guide"]
    assert guide["stl"] == "guide_L1_left.stl" and guide["coordinate_system"] == "LPS"
    assert guide["watertight"] and guide["passes"] and guide["volume_mm3"] > 0
    assert guide["min_wall_mm"] >= 1.5  # SPEC section 7 floor
    assert (demo_out / "guide_L1_left.stl").stat().st_size == 84 + 50 * guide["triangles"]  # binary STL


def test_demo_scene_reopens_with_every_node(demo_out):
    from PVPGuideLib.mrml.bundle import load_scene_bundle
    from PVPGuideLib.mrml.markups import point_from_fiducial_node
    from PVPGuideLib.mrml.models import mesh_from_model_node
    from PVPGuideLib.mrml.parameters import get_node_reference, get_parameters, parameter_node
    from PVPGuideLib.mrml.segmentations import labelmap_from_segment
    from PVPGuideLib.mrml.volumes import ct_from_volume_node
    from PVPGuideLib.phantom.build import generate_phantom as regenerate

    data = json.loads((demo_out / "plan.json").read_text())
    handle = load_scene_bundle(demo_out / "plan.mrb")
    params = parameter_node(handle.scene)
    # plan.json's `files` lists every file of the set with its SHA-256, plan.mrb included: the scene, written
    # before it, holds everything else.
    assert set(data["files"]) >= {"plan.mrb", "guide_L1_left.stl"}
    assert get_parameters(params) == {key: value for key, value in data.items() if key != "files"}
    for name in "ABC":
        point = point_from_fiducial_node(get_node_reference(params, name))
        # Slicer's markups JSON does not round-trip every double exactly (last-bit differences, ~1e-14 mm).
        np.testing.assert_allclose(point, data["trajectories"][0]["points"][name], rtol=0, atol=ROUND_TRIP_MM)
    ct = ct_from_volume_node(get_node_reference(params, "ct"))
    phantom = regenerate()
    assert np.array_equal(ct.voxels, phantom.ct.voxels)  # the phantom is deterministic and saved losslessly
    vertebrae = get_node_reference(params, "vertebrae")
    l1 = labelmap_from_segment(vertebrae, "L1", ct)
    assert np.array_equal(l1.astype(bool), phantom.labels.voxels == 31)
    cement = labelmap_from_segment(get_node_reference(params, "cement"), "cement", ct)
    voxel_ml = float(np.prod(ct.spacing)) / 1000.0
    assert cement.sum() * voxel_ml == pytest.approx(data["trajectories"][0]["cement"]["bcv_ml"], abs=1e-3)
    assert np.all(phantom.labels.voxels[cement.astype(bool)] == 31)  # predicted cement stays inside L1
    plate = mesh_from_model_node(get_node_reference(params, "guide_L1_left"))
    assert len(plate.faces) == data["trajectories"][0]["guide"]["triangles"]


def test_demo_is_deterministic(demo_out, tmp_path):
    assert main(["demo", "--out", str(tmp_path), "--quiet"]) == 0
    # plan.mrb is not byte-identical within one process (Slicer's subject hierarchy numbers its items across the
    # scenes a process made), so plan.json is compared without that one hash; every other file to the byte.
    first, second = (json.loads((folder / "plan.json").read_text()) for folder in (demo_out, tmp_path))
    for data in (first, second):
        data["files"].pop("plan.mrb")
    assert first == second
    for name in ("sample/truth.json", "sample/ct.nrrd", "L1_left_projection_ap.png", "report.html",
                 "guide_L1_left.stl"):
        assert (tmp_path / name).read_bytes() == (demo_out / name).read_bytes(), name
