"""PSBCV rules on a synthetic box body, expected values counted by hand: on-plane voxels count half; the 13.68 %
flag just below and just above the threshold and across the range between a small ball (6.9 %) and a half (50 %)."""

import numpy as np
import pytest
from cement_cases import BODY_HALF, Vertebra

from PVPGuideLib.cement import analyse_body, score_cement

R, A, S = BODY_HALF  # the body is the box |r| <= 20, |a| <= 15, |s| <= 12 mm in the frame


@pytest.fixture(scope="module")
def on_plane_grid():
    """1 mm voxels whose centres sit on whole mm of the frame, so a row of centres lies on the plane r = 0.

    The body |r| <= 20 then holds 41 columns of centres (-20 .. 20), symmetric about r = 0: the midsagittal
    plane (through both endplate midpoints) is r = 0 exactly, through the middle column's centres.
    """
    v = Vertebra(half_extent_mm=40.5)  # 82 voxels a side: the grid's centre falls on a voxel centre
    assert np.any(np.abs(v.frame_coords[..., 0]) < 1e-9)  # the construction: centres on r = 0
    return v, analyse_body(v.ct, v.body, v.frame)


@pytest.mark.parametrize("side", ["left", "right"])
def test_cement_centred_on_the_plane_splits_exactly_in_half(on_plane_grid, side):
    v, body = on_plane_grid
    # a slab 7 voxel columns wide (r = -3 .. 3): 3 columns on each side and one on the plane, which counts half
    slab = v.inside_box((-3.0, -5.0, -5.0), (3.0, 5.0, 5.0))
    scores = score_cement(body, slab, side=side)
    assert scores.psbcv_ml == pytest.approx(0.5 * scores.bcv_ml, rel=1e-12)
    assert scores.contralateral_fraction == pytest.approx(0.5, abs=1e-12)


def test_cement_only_on_the_plane_counts_half_to_each_side(on_plane_grid):
    v, body = on_plane_grid
    sheet = v.inside_box((-0.2, -5.0, -5.0), (0.2, 5.0, 5.0))  # one layer of centres, all on r = 0
    expected_ml = 0.5 * np.count_nonzero(sheet) * v.voxel_ml  # 11 x 11 voxels, half of them on each side
    for side in ("left", "right"):
        assert score_cement(body, sheet, side=side).psbcv_ml == pytest.approx(expected_ml, rel=1e-12)


@pytest.fixture(scope="module")
def aligned():
    v = Vertebra()  # centres at half mm: none on the plane r = 0
    return v, analyse_body(v.ct, v.body, v.frame)


# PSBCV/VV by construction: n voxels, all on the puncture side, in a body of 40 x 30 x 24 = 28 800 voxels.
# 13.68 % of 28 800 is 3939.8: n = 3917 is 13.601 % (below), n = 3974 is 13.799 % (above).
VV_VOXELS = 40 * 30 * 24
THRESHOLD_CASES = [(1987, False), (2880, False), (3917, False), (3974, True), (5760, True), (8640, True),
                   (12000, True)]


@pytest.mark.parametrize(("puncture_voxels", "over"), THRESHOLD_CASES)
@pytest.mark.parametrize("side", ["left", "right"])
def test_psbcv_vv_threshold(aligned, puncture_voxels, over, side):
    v, body = aligned
    r = v.frame_coords[..., 0]
    own_side = v.body & ((r < 0) if side == "left" else (r > 0))
    cement = np.zeros_like(v.body)
    cement.ravel()[np.flatnonzero(own_side)[:puncture_voxels]] = True  # the first n, in grid order
    scores = score_cement(body, cement, side=side)
    assert body.volume_ml == pytest.approx(VV_VOXELS / 1000.0)
    assert scores.psbcv_vv_percent == pytest.approx(100.0 * puncture_voxels / VV_VOXELS, rel=1e-9)
    assert scores.psbcv_vv_over_threshold is over
    assert scores.to_json()["psbcv_vv_over_threshold"] is over
