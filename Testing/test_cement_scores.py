"""Cement scores on synthetic box vertebrae: expected values from the geometry of the boxes and balls."""

import numpy as np
import pytest
from cement_cases import BODY_HALF, Vertebra, rotation

from PVPGuideLib.cement import CementError, analyse_body, score_cement
from PVPGuideLib.cement.zones import ZONE_NAMES

R, A, S = BODY_HALF  # 20, 15, 12 mm: the body is the box |r| <= 20, |a| <= 15, |s| <= 12 in the frame


@pytest.fixture(scope="module")
def aligned():
    v = Vertebra()
    return v, analyse_body(v.ct, v.body, v.frame)


def ball_volume_ml(radius):
    return 4.0 / 3.0 * np.pi * radius**3 / 1000.0


def test_body_volume_and_endplates(aligned):
    v, body = aligned
    assert body.volume_ml == pytest.approx(2 * R * 2 * A * 2 * S / 1000.0)
    assert v.to_frame(body.superior_endplate_centre) == pytest.approx([0, 0, S], abs=1e-6)
    assert v.to_frame(body.inferior_endplate_centre) == pytest.approx([0, 0, -S], abs=1e-6)
    assert body.midsagittal_normal == pytest.approx(v.frame.right)


@pytest.mark.parametrize("side", ["left", "right"])
def test_ball_wholly_on_one_side(aligned, side):
    v, body = aligned
    sign = -1 if side == "left" else 1
    ball = v.inside_ball((sign * 10.0, 0.0, 0.0), 6.0)
    scores = score_cement(body, ball, side=side)
    assert scores.bcv_ml == pytest.approx(ball_volume_ml(6.0), rel=0.03)
    assert scores.psbcv_ml == pytest.approx(scores.bcv_ml)
    assert scores.contralateral_fraction == 0.0 and not scores.crosses_midline
    other = score_cement(body, ball, side="right" if side == "left" else "left")
    assert other.psbcv_ml == 0.0 and other.contralateral_fraction == 1.0
    assert other.pattern.pattern == "unilateral"


def test_psbcv_of_a_ball_across_the_midline(aligned):
    v, body = aligned
    radius, offset = 6.0, 2.0  # centre 2 mm right of the midline; the left cap is 4 mm high
    scores = score_cement(body, v.inside_ball((offset, 0.0, 0.0), radius), side="left")
    h = radius - offset
    left_cap = np.pi * h**2 * (3 * radius - h) / 3.0 / 1000.0
    assert scores.psbcv_ml / scores.bcv_ml == pytest.approx(left_cap / ball_volume_ml(radius), abs=0.03)
    assert scores.psbcv_vv_percent == pytest.approx(100 * scores.psbcv_ml / scores.vv_ml)
    assert scores.crosses_midline and scores.contralateral_extent_mm == pytest.approx(offset + radius, abs=1.0)
    assert scores.pattern.pattern == "central"


def test_psbcv_threshold_flag(aligned):
    v, body = aligned
    # the whole left half of the body: PSBCV/VV = 50 % > 13.68 %; a 2 ml ball: 2/28.8 = 6.9 % < 13.68 %
    assert score_cement(body, v.inside_box((-R, -A, -S), (0, A, S)), side="left").psbcv_vv_over_threshold
    assert score_cement(body, v.inside_box((-R, -A, -S), (0, A, S)), side="left").psbcv_vv_percent == pytest.approx(50)
    small = score_cement(body, v.inside_ball((-10, 0, 0), 7.8), side="left")
    assert not small.psbcv_vv_over_threshold


def test_body_filling_block_scores_eight(aligned):
    v, body = aligned
    scores = score_cement(body, v.body, side="left")
    assert scores.distribution_score == 8 and scores.ap.score == 4 and scores.lateral.score == 4
    assert scores.fill_percent == pytest.approx(100.0)
    assert scores.endplate_contact == "both"
    assert scores.pattern.pattern == "central"
    assert scores.psbcv_vv_percent == pytest.approx(50.0)


# (r range, a range, s range) of a cement block -> the quadrants it covers in AP and lateral views
QUADRANT_CASES = [
    (((0, R), (0, A), (0, S)), {"superior_right"}, {"superior_anterior"}),
    (((-R, 0), (-A, A), (-S, 0)), {"inferior_left"}, {"inferior_anterior", "inferior_posterior"}),
    (((-R, R), (-A, 0), (0, S)), {"superior_left", "superior_right"}, {"superior_posterior"}),
    # 5 of 12 mm high = 42 % of the quadrant: scores; 3 of 12 mm = 25 %: does not
    (((0, R), (-A, A), (0, 5)), {"superior_right"}, {"superior_anterior", "superior_posterior"}),
    (((0, R), (-A, A), (0, 3)), set(), set()),
]


@pytest.mark.parametrize(("block", "ap_expected", "lateral_expected"), QUADRANT_CASES)
def test_blocks_score_exactly_their_quadrants(aligned, block, ap_expected, lateral_expected):
    v, body = aligned
    lo, hi = np.array(block, float).T
    scores = score_cement(body, v.inside_box(lo, hi), side="left")
    assert {q for q, c in scores.ap.coverage.items() if c > 1 / 3} == ap_expected
    assert {q for q, c in scores.lateral.coverage.items() if c > 1 / 3} == lateral_expected
    assert scores.distribution_score == len(ap_expected) + len(lateral_expected)


def test_quadrant_coverage_fraction(aligned):
    v, body = aligned
    scores = score_cement(body, v.inside_box((0, -A, 0), (R, A, 5)), side="left")
    assert scores.ap.coverage["superior_right"] == pytest.approx(5 / S, abs=0.03)
    assert scores.ap.centre == pytest.approx((0, 0), abs=0.3)


@pytest.mark.parametrize(
    ("s_range", "expected"),
    [
        ((8, S), "superior"),  # reaches the upper endplate
        ((-S, -8), "inferior"),
        ((-S, S), "both"),
        ((-5, 5), "none"),
        ((4, 8.6), "none"),  # top voxel centres at 8.5 mm: 3.5 mm below the endplate, beyond the 3 mm contact depth
        ((4, 9.6), "superior"),  # top voxel centres at 9.5 mm: 2.5 mm below the endplate
    ],
)
def test_endplate_contact(aligned, s_range, expected):
    v, body = aligned
    scores = score_cement(body, v.inside_box((-5, -5, s_range[0]), (5, 5, s_range[1])), side="left")
    assert scores.endplate_contact == expected


def test_nine_zones(aligned):
    v, body = aligned
    c = (13.0, 10.0, 0.0)  # right third (r > 6.7) and anterior third (a > 5)
    scores = score_cement(body, v.inside_ball(c, 3.0), side="left", tip_ras=v.to_ras(c))
    assert scores.zones.c_zone == "anterior_right"
    assert scores.zones.fractions["anterior_right"] == pytest.approx(1.0)
    # the whole body: each zone holds a third of the width times a third of the depth
    full = score_cement(body, v.body, side="left", tip_ras=v.to_ras((-13.0, -10.0, 0.0)))
    assert full.zones.c_zone == "posterior_left"
    for name in ZONE_NAMES:
        assert full.zones.fractions[name] == pytest.approx(1 / 9, abs=0.01)
    assert sum(full.zones.fractions.values()) == pytest.approx(1.0)
    # without C the section passes through the cement
    assert score_cement(body, v.inside_ball(c, 3.0), side="left").zones.c_zone is None


def test_diffuse_pattern(aligned):
    v, body = aligned
    scattered = np.zeros_like(v.body)
    for r in (-12, 0, 12):
        for a in (-8, 0, 8):
            scattered |= v.inside_ball((r, a, 0), 2.0)
    scores = score_cement(body, scattered, side="left")
    assert scores.pattern.pattern == "diffuse" and scores.pattern.components == 9


def test_midsagittal_plane_follows_the_body_not_the_frame_origin():
    # body shifted 10 mm to the right of the frame origin: the midline is at r = 10
    v = Vertebra(body_half=BODY_HALF)
    shifted = v.inside_box((-10, -A, -S), (30, A, S))
    body = analyse_body(v.ct, shifted, v.frame)
    assert v.to_frame(body.midsagittal_point)[0] == pytest.approx(10.0, abs=1e-6)
    scores = score_cement(body, v.inside_ball((5.0, 0, 0), 4.0), side="left")
    assert scores.psbcv_ml == pytest.approx(scores.bcv_ml)


def test_orientation_and_grid_invariance(aligned):
    """Same vertebra and cement in frame coordinates; oblique, mirrored, anisotropic grids; rotated vertebra."""
    v0, body0 = aligned

    def cement_of(v):
        return v.inside_ball((6.0, 6.0, 0.0), 7.0) | v.inside_box((-12, -4, -S), (6, 8, -4))

    reference = score_cement(body0, cement_of(v0), side="left", tip_ras=v0.to_ras((6.0, 8.0, 2.0)))
    cases = [
        {"direction": rotation(25, -40, 60), "spacing": (0.9, 1.1, 1.3)},
        {"direction": rotation(0, 0, 180) @ np.diag([1.0, 1.0, -1.0]), "pose": rotation(15, -10, 30)},  # mirrored
        {"direction": rotation(10, 20, 0), "pose": rotation(-20, 5, 40), "spacing": (0.8, 0.8, 1.5)},
    ]
    for case in cases:
        v = Vertebra(**case)
        body = analyse_body(v.ct, v.body, v.frame)
        scores = score_cement(body, cement_of(v), side="left", tip_ras=v.to_ras((6.0, 8.0, 2.0)))
        assert scores.vv_ml == pytest.approx(reference.vv_ml, rel=0.02)
        assert scores.bcv_ml == pytest.approx(reference.bcv_ml, rel=0.05)
        assert scores.psbcv_vv_percent == pytest.approx(reference.psbcv_vv_percent, abs=0.4)
        assert scores.contralateral_fraction == pytest.approx(reference.contralateral_fraction, abs=0.03)
        assert scores.ap.coverage == pytest.approx(reference.ap.coverage, abs=0.05)
        assert scores.lateral.coverage == pytest.approx(reference.lateral.coverage, abs=0.05)
        assert scores.distribution_score == reference.distribution_score
        assert scores.endplate_contact == reference.endplate_contact
        assert scores.zones.c_zone == reference.zones.c_zone
        assert scores.zones.fractions == pytest.approx(reference.zones.fractions, abs=0.04)
        assert scores.pattern.pattern == reference.pattern.pattern


def test_json_keys(aligned):
    v, body = aligned
    data = score_cement(body, v.inside_ball((5, 5, 0), 5), side="right").to_json()
    for key in ("bcv_ml", "vv_ml", "fill_percent", "psbcv_ml", "psbcv_vv_percent", "psbcv_vv_over_threshold",
                "distribution_score", "endplate_contact", "nine_zones", "pattern", "leakage",
                "contralateral_fraction", "crosses_midline"):
        assert key in data
    assert set(data["distribution_score"]) >= {"ap", "lateral", "total"}
    assert data["leakage"] is None
    assert data["endplate_contact"] in ("none", "superior", "inferior", "both")
    assert data["pattern"] in ("central", "unilateral", "diffuse")


def test_bad_input(aligned):
    v, body = aligned
    with pytest.raises(CementError, match="empty"):
        analyse_body(v.ct, np.zeros_like(v.body), v.frame)
    with pytest.raises(CementError, match="no vertebral body mask"):
        analyse_body(v.ct, None, v.frame)
    with pytest.raises(CementError, match="shape"):
        analyse_body(v.ct, v.body[:-1], v.frame)
    with pytest.raises(CementError, match="no cement inside"):
        score_cement(body, np.zeros_like(v.body), side="left")
    with pytest.raises(CementError, match="side"):
        score_cement(body, v.body, side="up")
    with pytest.raises(CementError, match="orthonormal"):
        analyse_body(v.ct, v.body, (np.zeros(3), (1, 0, 0), (1, 0, 0), (0, 0, 1)))
