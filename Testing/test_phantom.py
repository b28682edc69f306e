"""The bundled phantom: anatomy at the ground-truth points, SPEC B/C construction, poses, grids, files."""

import json

import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial.transform import Rotation

from PVPGuideLib.core.compat import strict_zip
from PVPGuideLib.phantom.build import PhantomError, generate_phantom, phantom_truth, write_phantom

LEVEL_IDS = {"T12": 32, "L1": 31, "L2": 30}
BODY, POSTERIOR = 1, 2
COARSE = (2.0, 2.0, 3.0)
LPS = np.diag([-1.0, -1.0, 1.0])
ROTATION_DEG = (10.0, -15.0, 20.0)
ROTATED_SPACING = (1.2, 1.2, 2.5)


@pytest.fixture(scope="module")
def noisy():
    return generate_phantom()


@pytest.fixture(scope="module")
def clean():
    return generate_phantom(noise_sigma=0)


@pytest.fixture(scope="module")
def rotated():
    return generate_phantom(rotation_deg=ROTATION_DEG, spacing=ROTATED_SPACING, noise_sigma=0)


def sample(volume, points):
    """Nearest-voxel values at (n, 3) RAS points, which must lie in the field of view."""
    points = np.atleast_2d(np.asarray(points, dtype=float))
    assert volume.contains(points).all()
    i, j, k = np.rint(volume.ras_to_ijk_points(points)).astype(int).T
    return volume.voxels[k, j, i]


def mean_around(volume, point, reach=(2, 2, 1)):
    """Mean of the (2r+1)-voxel box around the voxel nearest to a RAS point."""
    i, j, k = np.rint(volume.ras_to_ijk_points(point)[0]).astype(int)
    ri, rj, rk = reach
    return float(volume.voxels[k - rk:k + rk + 1, j - rj:j + rj + 1, i - ri:i + ri + 1].astype(float).mean())


def run_length(volume, point, direction, keep, reach=40.0, step=0.1):
    """Length (mm) of the stretch of the line through point where keep(nearest-voxel value) holds."""
    d = np.asarray(direction, float) / np.linalg.norm(direction)
    ts = np.arange(-reach, reach + step / 2, step)
    ok = keep(sample(volume, np.asarray(point, float) + ts[:, None] * d))
    centre = len(ts) // 2
    backwards, forwards = ok[centre::-1], ok[centre:]
    assert ok[centre] and not backwards.all() and not forwards.all()
    return (np.argmin(backwards) + np.argmin(forwards) - 1) * step


def unit(v):
    v = np.asarray(v, float)
    return v / np.linalg.norm(v)


def frame_of(level):
    f = level["frame"]
    return np.asarray(f["origin"]), np.array([f["right"], f["anterior"], f["superior"]])


def in_frame(level, point):
    """(right, anterior, superior) coordinates of a RAS point relative to the level's body centre."""
    origin, axes = frame_of(level)
    return axes @ (np.asarray(point, float) - origin)


def axial_distance_to_line(level, point, line):
    """Distance from a point to a line, both projected along the level's superior axis."""
    _, axes = frame_of(level)
    p = (axes @ (np.asarray(point) - np.asarray(line["point"])))[:2]
    d = unit((axes @ np.asarray(line["direction"]))[:2])
    return abs(p[0] * d[1] - p[1] * d[0])


# ---------------------------------------------------------------- determinism, options, files


def test_same_seed_gives_identical_voxels_and_truth():
    a, b = generate_phantom(seed=7, spacing=COARSE), generate_phantom(seed=7, spacing=COARSE)
    for name in ("ct", "labels", "parts"):
        assert np.array_equal(getattr(a, name).voxels, getattr(b, name).voxels)
        assert np.array_equal(getattr(a, name).ijk_to_ras, getattr(b, name).ijk_to_ras)
    assert json.dumps(a.truth, sort_keys=True).encode() == json.dumps(b.truth, sort_keys=True).encode()
    other = generate_phantom(seed=8, spacing=COARSE)
    assert not np.array_equal(a.ct.voxels, other.ct.voxels)
    assert np.array_equal(a.labels.voxels, other.labels.voxels)  # the seed only moves the noise
    assert other.truth["levels"] == a.truth["levels"]


def test_noise_is_gaussian_with_the_requested_sigma():
    noisy = generate_phantom(seed=3, spacing=COARSE, noise_sigma=15.0)
    clean = generate_phantom(seed=3, spacing=COARSE, noise_sigma=0.0)
    assert noisy.ct.voxels.dtype == np.int16 and clean.ct.voxels.dtype == np.int16
    unclipped = clean.ct.voxels > -900  # air noise is clipped at -1024 HU
    noise = noisy.ct.voxels[unclipped].astype(float) - clean.ct.voxels[unclipped]
    assert abs(noise.mean()) < 0.5 and 14.0 < noise.std() < 16.0


@pytest.mark.parametrize("options", [
    dict(seed=-1), dict(spacing=(0.0, 1.0, 1.0)), dict(spacing=(1.0, 1.0)), dict(direction=np.diag([1.0, 2.0, 1.0])),
    dict(rotation_deg=(30.0, 0.0, 0.0)), dict(wedge_fraction=0.6), dict(bone_density="chalk"), dict(noise_sigma=-1.0),
    dict(biconcave_fraction=0.7), dict(crush_fraction=-0.1), dict(crush_fraction=0.95),
    dict(crush_fraction=0.6, wedge_fraction=0.4),  # anterior height 0 mm: nothing left to plan in
])
def test_bad_options_are_refused_with_a_value_error(options):
    with pytest.raises(PhantomError):
        phantom_truth(**options)
    assert issubclass(PhantomError, ValueError)


def test_write_phantom_writes_lps_nrrds_and_truth(tmp_path):
    import SimpleITK as sitk

    phantom = generate_phantom(spacing=COARSE, direction=LPS)
    paths = write_phantom(phantom, tmp_path / "sample")
    assert sorted(p.name for p in (tmp_path / "sample").iterdir()) == ["ct.nrrd", "labels.nrrd", "parts.nrrd",
                                                                        "truth.json"]
    for name, dtype in (("ct", np.int16), ("labels", np.uint8), ("parts", np.uint8)):
        image = sitk.ReadImage(str(paths[name]))
        volume = getattr(phantom, name)
        assert np.array_equal(sitk.GetArrayFromImage(image), volume.voxels)
        assert sitk.GetArrayFromImage(image).dtype == dtype
        np.testing.assert_allclose(image.GetSpacing(), COARSE)
        np.testing.assert_allclose(image.GetOrigin(), LPS @ volume.origin, atol=1e-6)
        np.testing.assert_allclose(np.reshape(image.GetDirection(), (3, 3)), LPS @ volume.direction, atol=1e-9)
    assert json.loads(paths["truth"].read_text()) == phantom.truth


# ---------------------------------------------------------------- anatomy at the truth points


def test_truth_schema_and_levels():
    truth = phantom_truth()
    assert truth["schema"] == "pvpguide.phantom-truth/1" and truth["coordinate_system"] == "RAS"
    assert truth["target_level"] == "L1" and list(truth["levels"]) == ["T12", "L1", "L2"]
    assert truth["parameters"]["rotation_deg"] == [0.0, 0.0, 0.0] and truth["parameters"]["seed"] == 0
    json.dumps(truth, allow_nan=False)
    for name, level in truth["levels"].items():
        assert level["label"] == LEVEL_IDS[name]
        for side in ("left", "right"):
            assert set(level["plans"][side]) >= {"B", "C"}
    # Stacked along S: T12 above L1 above L2, with discs of 8-10 mm between the endplates.
    s = {n: lv["body_centre"][2] for n, lv in truth["levels"].items()}
    assert s["T12"] > s["L1"] == 0.0 > s["L2"]
    levels = truth["levels"]
    for upper, lower in (("T12", "L1"), ("L1", "L2")):
        disc = levels[upper]["inferior_endplate_centre"][2] - levels[lower]["superior_endplate_centre"][2]
        assert 8.0 <= disc <= 10.0


def test_bone_and_canal_hu_and_labels_at_truth_points(noisy):
    for name, level in noisy.truth["levels"].items():
        centre = level["body_centre"]
        assert 90.0 < mean_around(noisy.ct, centre) < 110.0  # osteoporotic cancellous, ~100 HU
        assert sample(noisy.labels, centre)[0] == LEVEL_IDS[name]
        assert sample(noisy.parts, centre)[0] == BODY
        canal = level["canal"]["centre"]
        assert 10.0 < mean_around(noisy.ct, canal) < 30.0  # cerebrospinal fluid, ~20 HU
        assert sample(noisy.labels, canal)[0] == 0
        for side in ("left", "right"):
            assert sample(noisy.labels, level["transverse_process_mid"][side])[0] == LEVEL_IDS[name]
            assert sample(noisy.parts, level["transverse_process_mid"][side])[0] == POSTERIOR
        # Across the anterior cortex: cancellous inside, a cortical shell, soft tissue in front.
        anterior = np.asarray(level["frame"]["anterior"])
        cortex = np.asarray(level["body"]["anterior_cortex_point"])
        across = sample(noisy.ct, cortex + np.arange(-3.0, 2.0, 0.2)[:, None] * anterior).astype(float)
        assert across.max() > 650.0
        assert mean_around(noisy.ct, cortex - 4.0 * anterior) < 150.0
        assert sample(noisy.labels, cortex + 2.0 * anterior)[0] == 0


def test_air_around_a_closed_body_in_every_slice(noisy):
    ct = noisy.ct.voxels
    border = np.concatenate([ct[:, 0, :], ct[:, -1, :], ct[:, :, 0], ct[:, :, -1]], axis=1)
    assert border.max() < -900  # air all round the field of view, so the skin closes in every slice
    assert np.all(ct.reshape(ct.shape[0], -1).max(axis=1) > 0)  # and every slice holds the body


def test_skin_fat_muscle_from_the_back(noisy):
    soft = noisy.truth["soft_tissue"]
    skin = np.asarray(soft["posterior_skin_point"])
    inwards = -np.asarray(soft["posterior_direction"])
    assert sample(noisy.ct, skin - 2.0 * inwards)[0] < -900  # air behind the back
    skin_hu = mean_around(noisy.ct, skin + 1.0 * inwards, reach=(2, 0, 1))
    fat_hu = mean_around(noisy.ct, skin + 12.0 * inwards, reach=(2, 0, 1))
    muscle_hu = mean_around(noisy.ct, skin + 27.0 * inwards, reach=(2, 0, 1))
    assert -115.0 < fat_hu < -85.0 and 15.0 < skin_hu < 45.0 and 35.0 < muscle_hu < 65.0
    assert soft["skin_thickness_mm"] == 2.0


def test_bone_density_option_sets_cancellous_hu():
    hu = {d: sample(generate_phantom(spacing=COARSE, bone_density=d, noise_sigma=0).ct,
                    phantom_truth()["levels"]["L1"]["body_centre"])[0] for d in ("low", "osteoporotic", "normal")}
    assert 40 <= hu["low"] <= 60 and 80 <= hu["osteoporotic"] <= 120 and hu["normal"] > hu["osteoporotic"]


def test_dimensions_measured_in_the_image(clean):
    level = clean.truth["levels"]["L1"]
    origin, (right, anterior, superior) = frame_of(level)
    is_body = lambda v: v == BODY
    # Endplate width (Panjabi L1 41.2 mm): the widest axial chord of the body.
    widths = [run_length(clean.parts, origin + a * anterior, right, is_body) for a in np.arange(-8.0, 8.1, 1.0)]
    assert abs(max(widths) - 41.2) < 1.0
    depth = run_length(clean.parts, origin, anterior, is_body)
    assert abs(depth - level["body"]["depth_mm"]) < 1.0 and 28.0 <= depth <= 32.0
    height = run_length(clean.parts, origin - 10.0 * anterior, superior, is_body)  # near the posterior wall
    assert abs(height - 23.5) < 2.5  # 2 mm slices
    is_csf = lambda v: v == 20
    canal = np.asarray(level["canal"]["centre"])
    assert abs(run_length(clean.ct, canal, right, is_csf) - 22.0) < 1.0
    assert abs(run_length(clean.ct, canal, anterior, is_csf) - 17.0) < 1.0
    for side in ("left", "right"):
        pedicle = level["pedicles"][side]
        across = np.cross(pedicle["axis_direction"], superior)  # axial, perpendicular to the pedicle axis
        width = run_length(clean.parts, pedicle["axis_point"], across, lambda v: v == POSTERIOR)
        assert abs(width - 8.6) < 1.2 and pedicle["isthmus_width_mm"] == 8.6
        convergence = np.degrees(np.arctan2(abs(np.dot(pedicle["axis_direction"], right)),
                                            np.dot(pedicle["axis_direction"], anterior)))
        assert abs(convergence - 10.0) < 1e-4  # the truth is rounded to 1e-6
        assert np.dot(pedicle["axis_direction"], right) * (1 if side == "left" else -1) > 0  # converges forwards
    tip = np.asarray(level["spinous_tip"])
    assert sample(clean.labels, tip - 1.0 * unit(tip - origin))[0] == 31  # just inside the tip
    assert sample(clean.labels, tip + 1.5 * unit(tip - origin))[0] == 0  # just beyond it


# ---------------------------------------------------------------- frames and the SPEC B / C points


@pytest.mark.parametrize("wedge", [0.0, 0.4])
def test_frames_are_orthonormal_and_right_handed(wedge):
    for level in phantom_truth(wedge_fraction=wedge, rotation_deg=ROTATION_DEG)["levels"].values():
        _, axes = frame_of(level)
        np.testing.assert_allclose(axes @ axes.T, np.eye(3), atol=1e-5)
        np.testing.assert_allclose(np.cross(axes[1], axes[2]), axes[0], atol=1e-5)  # right = anterior x superior
        assert np.linalg.det(axes) > 0
        np.testing.assert_allclose(level["midsagittal_plane"]["normal"], axes[0], atol=1e-6)


def test_target_c_follows_the_construction_rule(clean):
    for name, level in clean.truth["levels"].items():
        body = level["body"]
        for side, contra, sign in (("left", "right", 1.0), ("right", "left", -1.0)):
            plan = level["plans"][side]
            c = in_frame(level, plan["C"])
            assert sign * c[0] > 2.0  # contralateral: the patient's right for a left puncture
            assert axial_distance_to_line(level, plan["C"], level["pedicles"][contra]["medial_border"]) < 1e-5
            depth_from_wall = np.dot(np.asarray(plan["C"]) - body["posterior_wall_point"], frame_of(level)[1][1])
            assert depth_from_wall >= 2.0 / 3.0 * body["depth_mm"] - 1e-5  # in the anterior third
            assert abs(c[2]) < 1e-5  # mid-height of an intact body
            # Walk forwards along the medial-border line: the body goes on for at least 5 mm beyond C.
            direction = np.asarray(level["pedicles"][contra]["medial_border"]["direction"])
            ts = np.arange(0.0, 30.0, 0.1)
            inside = sample(clean.parts, np.asarray(plan["C"]) + ts[:, None] * direction) == BODY
            ahead = ts[np.argmin(inside)]
            assert ahead >= 5.0 - 0.7 and abs(ahead - plan["C_to_anterior_cortex_mm"]) < 1.0
            assert sample(clean.ct, plan["C"])[0] == 100  # cancellous bone, not cortex
            assert sample(clean.labels, plan["C"])[0] == LEVEL_IDS[name]


def test_bony_entry_b_follows_the_construction_rule(clean):
    for name, level in clean.truth["levels"].items():
        for side, sign in (("left", -1.0), ("right", 1.0)):
            plan = level["plans"][side]
            b = np.asarray(plan["B"])
            assert sign * in_frame(level, b)[0] > 15.0  # ipsilateral, lateral to the canal
            assert axial_distance_to_line(level, b, level["pedicles"][side]["lateral_border"]) < 1e-5
            height = np.dot(b - level["transverse_process_mid"][side], frame_of(level)[1][2])
            assert abs(height) < 1e-5  # at the middle of the transverse process
            inwards = unit(np.asarray(plan["C"]) - b)
            assert sample(clean.labels, b + 1.5 * inwards)[0] == LEVEL_IDS[name]  # bone just past B
            assert sample(clean.labels, b - 2.0 * inwards)[0] == 0  # soft tissue just before it
            path = b + np.linspace(1.5, np.linalg.norm(plan["C"] - b), 200)[:, None] * inwards
            assert np.mean(sample(clean.labels, path) == LEVEL_IDS[name]) > 0.97  # the needle stays in bone


def test_c_to_b_extended_leaves_through_the_posterior_skin(noisy):
    for level in noisy.truth["levels"].values():
        for side in ("left", "right"):
            b, c = (np.asarray(level["plans"][side][k]) for k in ("B", "C"))
            outwards = unit(b - c)
            ts = np.arange(2.0, 150.0, 0.25)
            line = b + ts[:, None] * outwards
            inside = noisy.ct.contains(line)
            hu = np.where(inside, 0, -1000).astype(float)
            hu[inside] = sample(noisy.ct, line[inside])
            exit_index = int(np.argmax(hu < -500))
            assert exit_index > 0 and inside[exit_index]  # the skin is crossed inside the field of view
            soft = hu[:exit_index - 8]  # up to 2 mm before the exit: the skin's partial-volume ramp
            assert soft.min() > -200 and soft.max() < 200  # soft tissue only: no more bone behind B
            a = line[exit_index]
            assert in_frame(level, a)[1] < -40.0  # well behind the vertebra: the back, not a flank


# ---------------------------------------------------------------- grids and poses


def test_lps_grid_holds_the_same_anatomy(clean):
    mirrored = generate_phantom(direction=LPS, noise_sigma=0)
    assert mirrored.truth["levels"] == clean.truth["levels"]
    np.testing.assert_allclose(mirrored.ct.direction, LPS)
    # Same voxel centres, visited in mirrored order: the arrays are the flipped upright ones.
    assert np.mean(mirrored.ct.voxels == clean.ct.voxels[:, ::-1, ::-1]) > 0.9999
    assert np.mean(mirrored.labels.voxels == clean.labels.voxels[:, ::-1, ::-1]) > 0.9999


def _vectors(tree):
    """Every 3-vector in a truth tree, in a fixed order."""
    if isinstance(tree, dict):
        return [v for key in sorted(tree) for v in _vectors(tree[key])]
    if isinstance(tree, list) and len(tree) == 3 and all(isinstance(x, float) for x in tree):
        return [np.asarray(tree)]
    return []


def test_rotated_truth_is_the_pose_applied_to_the_upright_truth(rotated):
    pose = Rotation.from_euler("xyz", ROTATION_DEG, degrees=True).as_matrix()  # about R, then A, then S
    upright = _vectors(phantom_truth()["levels"])
    turned = _vectors(rotated.truth["levels"])
    assert len(upright) == len(turned) == 3 * 33  # every point and direction of the three levels
    for u, t in strict_zip(upright, turned):
        np.testing.assert_allclose(t, pose @ u, atol=2e-5)  # the pose turns about the L1 body centre


def deep_points(level):
    """Truth points well inside one tissue, whatever the grid: HU can be compared there."""
    return [level["body_centre"], level["canal"]["centre"], level["plans"]["left"]["C"], level["plans"]["right"]["C"]]


def bony_points(level):
    """deep_points plus points inside small bones: labels can be compared there."""
    return [*deep_points(level), level["transverse_process_mid"]["left"], level["transverse_process_mid"]["right"]]


def test_rotated_phantom_has_the_same_anatomy_at_the_truth_points(rotated, clean):
    for name, level in rotated.truth["levels"].items():
        upright = clean.truth["levels"][name]
        assert np.array_equal(sample(rotated.ct, deep_points(level)), sample(clean.ct, deep_points(upright)))
        assert np.array_equal(sample(rotated.labels, bony_points(level)), sample(clean.labels, bony_points(upright)))
        b, c = np.asarray(level["plans"]["left"]["B"]), np.asarray(level["plans"]["left"]["C"])
        assert sample(rotated.labels, b + 2.0 * unit(c - b))[0] == LEVEL_IDS[name]
        assert sample(rotated.labels, b - 3.0 * unit(c - b))[0] == 0
    # The field of view grew to keep the back of the body: the skin behind L1 is inside it, with air beyond.
    soft = rotated.truth["soft_tissue"]
    skin = np.asarray(soft["posterior_skin_point"])
    backwards = np.asarray(soft["posterior_direction"])
    assert sample(rotated.ct, skin + 3.0 * backwards)[0] < -700  # air (a voxel may touch the skin's ramp)
    assert sample(rotated.ct, skin - 10.0 * backwards)[0] == -100  # subcutaneous fat


def test_wedge_fracture_lowers_the_anterior_height_of_l1():
    wedge = 0.3
    phantom = generate_phantom(wedge_fraction=wedge, spacing=(1.5, 1.5, 0.5), noise_sigma=0)
    level = phantom.truth["levels"]["L1"]
    body = level["body"]
    assert body["posterior_height_mm"] == 23.5
    assert abs(body["anterior_height_mm"] - (1 - wedge) * 23.5) < 1e-6
    # Measure along S (the scanner axis here) at the midline 2 mm inside the posterior and anterior walls.
    depth, s_axis = body["depth_mm"], np.array([0.0, 0.0, 1.0])
    heights = {}
    for where, a in (("posterior", -depth / 2 + 2.0), ("anterior", depth / 2 - 2.0)):
        start = np.array([0.0, a, -5.0])
        heights[where] = run_length(phantom.parts, start, s_axis, lambda v: v == BODY)
        expected = 23.5 - wedge * 23.5 * (a + depth / 2) / depth  # the endplate falls linearly forwards
        assert abs(heights[where] - expected) < 0.8
    assert heights["anterior"] < 0.8 * heights["posterior"]
    # The mid-endplate plane tilts forwards by half the wedge angle; T12 and L2 are untouched.
    half_angle = 0.5 * np.arctan(wedge * 23.5 / depth)
    np.testing.assert_allclose(level["frame"]["superior"], [0.0, np.sin(half_angle), np.cos(half_angle)], atol=1e-6)
    for other in ("T12", "L2"):
        assert phantom.truth["levels"][other] == phantom_truth()["levels"][other]
    # C stays at mid-height between the actual endplates, so it drops with the collapsed superior endplate.
    c = np.asarray(level["plans"]["left"]["C"])
    top = 23.5 / 2 - wedge * 23.5 * (c[1] + depth / 2) / depth
    assert abs(c[2] - 0.5 * (top - 23.5 / 2)) < 1e-5


def measured_heights(phantom, depth, s_start):
    """Body height along S on the midline 2 mm inside the posterior wall, at the centre, 2 mm inside the front."""
    s_axis = np.array([0.0, 0.0, 1.0])
    out = {}
    for where, a in (("posterior", -depth / 2 + 2.0), ("middle", 0.0), ("anterior", depth / 2 - 2.0)):
        out[where] = run_length(phantom.parts, np.array([0.0, a, s_start]), s_axis, lambda v: v == BODY)
    return out


def test_biconcave_fracture_lowers_the_middle_height_only():
    fraction, intact = 0.4, 23.5
    phantom = generate_phantom(biconcave_fraction=fraction, spacing=(1.5, 1.5, 0.5), noise_sigma=0)
    level = phantom.truth["levels"]["L1"]
    body = level["body"]
    assert abs(body["middle_height_mm"] - (1 - fraction) * intact) < 1e-6
    assert body["anterior_height_mm"] == intact and body["posterior_height_mm"] == intact
    measured = measured_heights(phantom, body["depth_mm"], 0.0)
    # Construction: each endplate sinks 0.5 * fraction * height * sin(pi * (a + depth/2) / depth) on the midline.
    for where, a in (("posterior", -body["depth_mm"] / 2 + 2.0), ("middle", 0.0),
                     ("anterior", body["depth_mm"] / 2 - 2.0)):
        # The endplates are steep near the walls: take A of the voxel column actually sampled.
        ijk = np.rint(phantom.parts.ras_to_ijk_points(np.array([[0.0, a, 0.0]])))
        a = phantom.parts.ijk_to_ras_points(ijk)[0, 1]
        expected = intact - fraction * intact * np.sin(np.pi * (a / body["depth_mm"] + 0.5))
        assert abs(measured[where] - expected) < 0.8, where
    # Symmetric dents keep the body centre and C at mid-height between the two dented endplates.
    assert abs(level["body_centre"][2]) < 1e-6
    for other in ("T12", "L2"):
        assert phantom.truth["levels"][other] == phantom_truth()["levels"][other]


def test_crush_fracture_leaves_a_thin_body_with_its_posterior_elements():
    fraction, intact = 0.85, 23.5
    phantom = generate_phantom(crush_fraction=fraction, spacing=(1.5, 1.5, 0.5), noise_sigma=0)
    level = phantom.truth["levels"]["L1"]
    body = level["body"]
    thin = (1 - fraction) * intact
    for where in ("anterior", "middle", "posterior"):
        assert abs(body[f"{where}_height_mm"] - thin) < 1e-6
    measured = measured_heights(phantom, body["depth_mm"], 0.0)
    for where, value in measured.items():
        assert abs(value - thin) < 0.8, where
    # Both endplates close in on the mid-height (the pedicles' level): C stays at 0, and the body still joins its
    # posterior elements (one piece of bone: the label is one connected vertebra).
    c = np.asarray(level["plans"]["left"]["C"])
    assert abs(c[2]) < 1e-5
    assert ndimage.label(phantom.labels.voxels == LEVEL_IDS["L1"], structure=np.ones((3, 3, 3)))[1] == 1
    # The pedicles are intact: bone at their truth axis point.
    assert sample(phantom.parts, level["pedicles"]["left"]["axis_point"])[0] == POSTERIOR
