"""Automatic planning on real anatomy (TotalSegmentator example): safe paths for L1-L5, clear errors otherwise."""

from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "totalseg_example"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"real CT sample not found at {DATA}")

LEVELS = {"L1": 31, "L2": 30, "L3": 29, "L4": 28, "L5": 27}
CANAL_FLOOR_MM = 1.0


@pytest.fixture(scope="module")
def coarse():
    from PVPGuideLib.io.ct_io import read_ct, read_labelmap
    from PVPGuideLib.planning.skin import skin_surface

    ct = read_ct(DATA / "ct_T11_S1_3mm.nii.gz")
    labels = read_labelmap(DATA / "labels_T11_S1_3mm.nii.gz", ct)
    bodies = read_labelmap(DATA / "labels_vertebral_body_3mm.nii.gz", ct)  # 1 = vertebral body (2 = discs)
    return ct, labels, bodies, skin_surface(ct)


@pytest.fixture(scope="module")
def plan(coarse):
    from PVPGuideLib.planning.proposal import propose_plan
    from PVPGuideLib.vertebra import analyse_vertebra, vertebra_from_labels

    ct, labels, bodies, skin = coarse
    analyses = [analyse_vertebra(vertebra_from_labels(ct, labels, value, parts=bodies)) for value in LEVELS.values()]
    return propose_plan(ct, skin, analyses, side="both", needle_gauge=13)


def test_no_path_is_passed_unless_safe(plan, coarse):
    """Every level is planned on both sides; a path marked pass keeps 1 mm from the canal (slice by slice, SPEC 5),
    stays in the vertebra's label from B to C and puts C 2 mm across the midline; any other path is marked, and a
    failing one is named in the plan's warnings. (Measured slice by slice, some of these paths pass through a
    lateral recess that the projected canal hid: Testing/benchmarks/bench_real_anatomy.py's independent checker
    finds the same.)"""
    ct, labels, _, _ = coarse
    vertebrae = plan.sections["vertebrae"]
    assert [(t.level, t.side) for t in plan.trajectories] == [(n, s) for n in LEVELS for s in ("left", "right")]
    for t in plan.trajectories:
        where = f"{t.level} {t.side}"
        verdict = t.sections["safety"]["verdict"]
        assert t.sections["proposal"]["C_depth_fraction"] >= 2.0 / 3.0 - 1e-6, where  # the anterior third
        assert t.a is not None and t.lengths.ac_mm > t.lengths.bc_mm, where  # A on the real skin
        if verdict == "fail":
            assert any(f"{t.level} {t.side}: the proposed path FAILS" in w for w in plan.warnings), where
        if verdict != "pass":
            continue
        safety = t.sections["safety"]["checks"]
        assert safety["spinal_canal"]["distance_mm"] >= CANAL_FLOOR_MM, where
        # In bone from B to C: every sample of the segmentation along the path (past the entry voxel) is this vertebra.
        samples = t.b + np.linspace(0.0, 1.0, 400)[:, None] * (t.c - t.b)
        kji = np.rint(ct.ras_to_ijk_points(samples)[:, ::-1]).astype(int)
        inside = labels.voxels[tuple(kji.T)] == LEVELS[t.level]
        skip = int(np.ceil(400 * 3.0 / np.linalg.norm(t.c - t.b)))  # the first 3 mm: B's own 3 mm voxel
        assert inside[skip:].all(), where
        plane = vertebrae[t.level]["midsagittal_plane"]
        across = np.dot(t.c - plane["point"], plane["normal"]) * (1.0 if t.side == "left" else -1.0)
        assert across >= 2.0, where


def test_t12_cut_by_the_field_of_view_is_a_clear_error(coarse):
    from PVPGuideLib.vertebra import VertebraError, analyse_vertebra, vertebra_from_labels

    ct, labels, bodies, _ = coarse
    with pytest.raises(VertebraError, match="superior endplate is cut by the CT's field of view"):
        analyse_vertebra(vertebra_from_labels(ct, labels, 32, parts=bodies))


def test_ct_alone_on_a_coarse_scan_is_a_clear_error(coarse):
    from PVPGuideLib.vertebra import VertebraError, vertebra_from_ct

    ct, labels, bodies, _ = coarse
    seed = ct.ijk_to_ras_points(np.argwhere((labels.voxels == 31) & (bodies.voxels == 1))[:, ::-1]).mean(axis=0)
    with pytest.raises(VertebraError, match="not a closed shell|give a segmentation"):
        vertebra_from_ct(ct, seed=seed, level="L1")


def test_dicom_case_recommended_path_is_safe():
    """The DICOM slab's T12 label is poor (TotalSegmentator at about 3 mm on 20 slices: part of the body labelled
    T11, bone missed along its edges, holes, part of the inferior endplate in the scan's bottom slice). The parts
    T12 surrounds are taken back, the bone along its edges added, and the recommended side's path meets issue 4's
    acceptance; a side that cannot be planned safely would be kept and marked failed, never silent."""
    from scipy import ndimage

    from PVPGuideLib.io.ct_io import read_ct, read_labelmap
    from PVPGuideLib.planning.proposal import C_ANTERIOR_MARGIN_MM, propose_plan
    from PVPGuideLib.vertebra import analyse_vertebra, vertebra_from_labels

    ct = read_ct(DATA / "dicom_T11_T12")
    labels = read_labelmap(DATA / "labels_dicom_T11_T12.nii.gz", ct)
    analysis = analyse_vertebra(vertebra_from_labels(ct, labels, 32))
    assert any("labelled as 33 (T11)" in n and "taken as part of it" in n for n in analysis.notes)
    assert any("of bone on the CT" in n and "within 2 mm of its edge" in n for n in analysis.notes)
    assert any("inferior endplate" in n for n in analysis.notes)
    auto = propose_plan(ct, None, [analysis], side="auto")
    (t,) = auto.trajectories
    checks = t.sections["safety"]["checks"]
    # Slice by slice (SPEC 5) both sides of this poor label cut the canal's lateral recess with 13G and 15G alike
    # (fail): the level then says there is no safe unilateral path, with the figures, and offers the bilateral
    # non-crossing pair, which keeps clear of the canal.
    level = auto.sections["proposal"]["levels"]["T12"]
    if t.sections["safety"]["verdict"] == "fail":
        assert level["no_safe_unilateral_path"].startswith("no safe unilateral path at this level")
        assert any("no safe unilateral path" in w for w in auto.warnings)
        for side, alternative in level["bilateral_alternative"]["sides"].items():
            assert "spinal_canal" not in alternative["failed"], side
        return
    assert checks["spinal_canal"]["distance_mm"] >= (CANAL_FLOOR_MM if t.sections["safety"]["verdict"] == "pass"
                                                     else 0.0)
    # In bone from B to C: in the TotalSegmentator vertebra labels (T12, or the T11 it gave part of T12's body
    # to), or, where the coarse label misses it, bone on the CT: above 130 HU, which this scan's discs and soft
    # tissue never reach (at most 120 HU along the body's centre column).
    samples = t.b + np.linspace(0.0, 1.0, 400)[:, None] * (t.c - t.b)
    kji = np.rint(ct.ras_to_ijk_points(samples)[:, ::-1]).astype(int)
    skip = int(np.ceil(400 * 2.0 / np.linalg.norm(t.c - t.b)))  # the first 2 mm: B on the bone's surface
    in_label = np.isin(labels.voxels[tuple(kji.T)], (32, 33))[skip:]
    hu = ndimage.uniform_filter(ct.voxels.astype(np.float32), size=(1, 3, 3))[tuple(kji.T)][skip:]  # 3 x 3 mm mean
    assert (in_label | (hu >= 130)).all()
    assert in_label.mean() >= 0.75
    # The anterior third, or 5 mm behind the anterior cortex where the body is shallower (SPEC section 3).
    proposal = t.sections["proposal"]
    assert (proposal["C_depth_fraction"] >= 2.0 / 3.0 - 1e-6
            or proposal["C_to_anterior_cortex_mm"] == pytest.approx(C_ANTERIOR_MARGIN_MM))
    plane = auto.sections["vertebrae"]["T12"]["midsagittal_plane"]
    assert np.dot(t.c - plane["point"], plane["normal"]) * (1.0 if t.side == "left" else -1.0) >= 1.0
    both = propose_plan(ct, None, [analysis], side="both")
    for path in both.trajectories:
        if path.sections["safety"]["verdict"] == "fail":
            assert any(f"T12 {path.side}: the proposed path FAILS safety checks" in w for w in both.warnings)
        elif path.sections["safety"]["verdict"] == "pass":
            assert path.sections["safety"]["checks"]["spinal_canal"]["distance_mm"] >= CANAL_FLOOR_MM
