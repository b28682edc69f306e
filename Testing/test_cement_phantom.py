"""The bundled phantom: body geometry against its ground truth, and the SPEC path against the conventional one."""

import numpy as np
import pytest

from PVPGuideLib.cement import analyse_body, compare_paths, frame_from_segmentation
from PVPGuideLib.phantom.build import generate_phantom

L1 = 31


def l1_body(phantom):
    labels, parts = phantom.labels.voxels, phantom.parts.voxels
    return (labels == L1) & (parts == 1), (labels == L1) & (parts == 2)


@pytest.fixture(scope="module")
def aligned():
    phantom = generate_phantom(seed=0)
    truth = phantom.truth["levels"]["L1"]
    body_mask, _ = l1_body(phantom)
    return phantom, truth, analyse_body(phantom.ct, body_mask, truth["frame"])


@pytest.fixture(scope="module")
def rotated():
    phantom = generate_phantom(seed=1, rotation_deg=(6.0, -8.0, 20.0), spacing=(1.1, 1.1, 1.6))
    truth = phantom.truth["levels"]["L1"]
    body_mask, _ = l1_body(phantom)
    return phantom, truth, analyse_body(phantom.ct, body_mask, truth["frame"])


def angle_deg(u, v):
    u, v = np.asarray(u, float), np.asarray(v, float)
    return float(np.degrees(np.arccos(np.clip(u @ v / np.linalg.norm(u) / np.linalg.norm(v), -1.0, 1.0))))


@pytest.mark.parametrize("case", ["aligned", "rotated"])
def test_midsagittal_plane_matches_the_truth(case, request):
    _, truth, body = request.getfixturevalue(case)
    plane = truth["midsagittal_plane"]
    assert angle_deg(body.midsagittal_normal, plane["normal"]) < 1.0
    assert abs((body.midsagittal_point - np.asarray(plane["point"])) @ np.asarray(plane["normal"])) < 0.5


def test_frame_from_segmentation_matches_the_truth():
    phantom = generate_phantom(seed=2, rotation_deg=(0.0, 12.0, -18.0))
    truth = phantom.truth["levels"]["L1"]["frame"]
    frame = frame_from_segmentation(phantom.ct, *l1_body(phantom))
    assert angle_deg(frame.superior, truth["superior"]) < 2.0
    assert angle_deg(frame.anterior, truth["anterior"]) < 2.0


# The model's channel speed relative to cancellous bone: 1 is a closed channel (no channel at all); an open 11G
# channel in osteoporotic bone comes to about 4-12 by Darcy and Poiseuille (docs/cement.md, Baroud et al. 2004).
TRACT_SPEEDS = (1.0, 2.0, 4.0, 6.0, 8.0, 10.0)


def assert_crossing_path_favoured(comparison, volume_ml, setting):
    """Gao et al.'s finding the model must reproduce whatever its parameters: the path across the midline puts less
    cement on the puncture side (lower PSBCV/VV %) and more on the other side, and its cement crosses the midline."""
    spec, conventional = comparison.spec.scores, comparison.conventional.scores
    assert spec.bcv_ml == pytest.approx(volume_ml, rel=0.02), setting
    assert conventional.bcv_ml == pytest.approx(volume_ml, rel=0.02), setting
    assert spec.psbcv_vv_percent < conventional.psbcv_vv_percent, setting
    assert spec.contralateral_fraction > conventional.contralateral_fraction, setting
    assert spec.crosses_midline, setting


@pytest.mark.parametrize("case", ["aligned", "rotated"])
@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("volume_ml", [3.0, 6.0])
def test_crossing_path_lowers_psbcv_at_every_channel_speed(case, side, volume_ml, request):
    """The claim holds from a closed channel to a fast one. The distribution score does not (it depends on the speed):
    docs/cement.md gives it as a sensitivity table, not as a pass/fail claim."""
    phantom, truth, body = request.getfixturevalue(case)
    plan = truth["plans"][side]
    for speed in TRACT_SPEEDS:
        comparison = compare_paths(phantom.ct, body, side=side, tip_ras=plan["C"], entry_ras=plan["B"],
                                   volume_ml=volume_ml, tract_speed=speed)
        assert_crossing_path_favoured(comparison, volume_ml, f"tract_speed {speed:g}")


@pytest.mark.parametrize("tract_radius_mm", [0.9, 2.1])  # a 15G to an 8G needle's channel
@pytest.mark.parametrize("cortex_mm", [0.5, 1.5])  # the thin to the thick end of the vertebral cortex
def test_crossing_path_lowers_psbcv_for_any_needle_and_cortex(aligned, tract_radius_mm, cortex_mm):
    phantom, truth, body = aligned
    plan = truth["plans"]["left"]
    for speed in (TRACT_SPEEDS[0], TRACT_SPEEDS[-1]):
        comparison = compare_paths(phantom.ct, body, side="left", tip_ras=plan["C"], entry_ras=plan["B"], volume_ml=4.5,
                                   tract_speed=speed, tract_radius_mm=tract_radius_mm, cortex_mm=cortex_mm)
        assert_crossing_path_favoured(comparison, 4.5, f"radius {tract_radius_mm}, cortex {cortex_mm}, speed {speed:g}")


def test_rotated_phantom_scores_like_the_aligned_one(aligned, rotated):
    results = []
    for phantom, truth, body in (aligned, rotated):
        plan = truth["plans"]["left"]
        results.append(compare_paths(phantom.ct, body, side="left", tip_ras=plan["C"], entry_ras=plan["B"],
                                     volume_ml=4.5))
    a, r = results
    for path in ("spec", "conventional"):
        sa, sr = getattr(a, path).scores, getattr(r, path).scores
        assert sr.vv_ml == pytest.approx(sa.vv_ml, rel=0.05)  # the phantom labels differ by ~4 % between grids
        assert sr.psbcv_vv_percent == pytest.approx(sa.psbcv_vv_percent, abs=1.0)
        assert sr.contralateral_fraction == pytest.approx(sa.contralateral_fraction, abs=0.05)
        assert abs(sr.distribution_score - sa.distribution_score) <= 1
