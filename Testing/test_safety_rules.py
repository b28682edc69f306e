"""SPEC section 5 rules pinned on constructed cases: lateral recess, C across the midline, plausibility cap, crushed
body planned, gauge fallback."""

from dataclasses import replace

import numpy as np
import pytest
from proposal_cases import analysis, phantom, truth_angles

from PVPGuideLib.core.needles import NEEDLE_OUTER_DIAMETER_MM, needle_outer_diameter_mm, thinner_gauges
from PVPGuideLib.phantom.build import shapes
from PVPGuideLib.planning import proposal
from PVPGuideLib.planning.safety import DEFAULT_LIMITS, SafetyCheck, SafetyReport, check_safety, judge
from PVPGuideLib.vertebra.canal import Canal
from PVPGuideLib.vertebra.plausibility import (
    MAX_CONVERGENCE_MISMATCH_DEG,
    mirrored_if_unreliable,
    pedicle_cautions,
    plausibility_cautions,
)

RADIUS_13G = 0.5 * needle_outer_diameter_mm(13)


def _truth(side="left"):
    level = phantom("upright").truth["levels"]["L1"]
    return np.array(level["plans"][side]["B"]), np.array(level["plans"][side]["C"])


def test_a_path_through_a_lateral_recess_fails():
    """Upright phantom (RAS = L1's local frame). 6 mm below the pedicles' centre the elliptic pedicle is narrower and
    the fillet shallower: the ring still closes, and the space it encloses beside the canal's ellipse is the lateral
    recess: at y = -18.7 it spans x = -9.1 (ellipse) to about -12.4 (pedicle). P = (-11.6, -18.7, -4) lies in it,
    about 2.3 mm outside the ellipse."""
    a = analysis("upright")
    p = np.array([-11.6, -18.7, -4.0])
    d = np.array([0.5, 1.0, 0.0]) / np.hypot(0.5, 1.0)  # converging forwards, as a transpedicular needle does
    b, c = p - 12.0 * d, p + 25.0 * d
    # Construction: P is outside the canal's ellipse, so a canal read as one projected section misses it...
    x, y = p[0], p[1] - shapes.CANAL_CENTRE_Y
    assert (x / shapes.CANAL_HALF_WIDTH) ** 2 + (y / shapes.CANAL_HALF_DEPTH) ** 2 > 1.0
    path = b + np.linspace(0.0, 1.0, 400)[:, None] * (c - b)
    projected = a.canal.distance_at(a.grid, a.to_local(path)).min() - RADIUS_13G
    assert projected > 0.0
    # ...but the canal slice by slice (SPEC 5) holds the recess, and the needle's axis runs through it.
    report = check_safety(a, b=b, c=c, side="left")
    assert report.value("spinal_canal") < 0.0
    assert report.check("spinal_canal").verdict == "fail" and report.verdict == "fail"


@pytest.mark.parametrize(("across_mm", "verdict"), [(-3.0, "fail"), (1.0, "warn"), (3.0, "pass")])
def test_c_across_the_midline(across_mm, verdict):
    """A left entry must put C on the patient's right (+R), at least 2 mm beyond the body's midsagittal plane."""
    a = analysis("upright")
    b, c = _truth("left")
    midline_x = a.body_centre[0]  # upright: the midsagittal plane is x = const
    c = np.array([midline_x + across_mm, c[1], c[2]])
    check = check_safety(a, b=b, c=c, side="left").check("c_across_midline")
    assert check.distance_mm == pytest.approx(across_mm, abs=0.3)  # the analysed midline vs the constructed 0
    assert check.verdict == verdict
    # The same C seen from the right entry is on the entry side when it is across for the left.
    mirrored = check_safety(a, b=_truth("right")[0], c=c, side="right").check("c_across_midline")
    assert mirrored.distance_mm == pytest.approx(-check.distance_mm)
    # A bilateral non-crossing path wants C on its own side instead: never a fail.
    own = check_safety(a, b=b, c=c, side="left", crossing=False)
    assert own.check("c_across_midline") is None
    assert own.check("c_own_side").verdict == ("pass" if across_mm < 0 else "warn")


def test_an_implausible_measurement_caps_the_verdict_at_warn():
    a = analysis("upright")
    b, c = _truth("left")
    b[2] = shapes.PEDICLE_CENTRE_Z  # B at the pedicle's centre height, where it is widest: a 15G path passes
    assert check_safety(a, b=b, c=c, side="left", needle_gauge=15).verdict == "pass"  # nothing doubtful: a pass
    doubtful = replace(a, cautions=("the spinal canal was found only after closing gaps of 2 mm",))
    report = check_safety(doubtful, b=b, c=c, side="left", needle_gauge=15)
    assert report.verdict == "warn"
    check = report.check("plausibility")
    assert check.verdict == "warn" and "closing gaps" in check.to_json()["reasons"][0]


def test_an_implausible_pedicle_caps_only_the_paths_through_it():
    """A left pedicle read about 30 mm wide at L1 (published 8.6-8.7 mm: a transverse process read as pedicle) is a
    caution for the left paths (their medial-wall and B checks use its borders); a right path uses the left pedicle
    only for its C, which is checked on its own, so it keeps its verdict."""
    a = analysis("upright")
    left = a.pedicles["left"]
    wide = replace(left, lateral_offset=left.lateral_offset - 20.0)  # its lateral border 20 mm further out
    assert wide.width > 1.5 * 8.7
    said = f"{wide.width:.1f} mm wide"
    cautions = pedicle_cautions("L1", {"left": wide, "right": a.pedicles["right"]})
    assert list(cautions) == ["left"] and said in cautions["left"][0]
    doubtful = replace(a, side_cautions={side: tuple(notes) for side, notes in cautions.items()})
    paths = {}
    for side in ("left", "right"):
        b, c = _truth(side)
        b[2] = shapes.PEDICLE_CENTRE_Z  # where a 15G path passes (test above)
        paths[side] = (b, c)
    right = check_safety(doubtful, b=paths["right"][0], c=paths["right"][1], side="right", needle_gauge=15)
    left = check_safety(doubtful, b=paths["left"][0], c=paths["left"][1], side="left", needle_gauge=15)
    assert right.verdict == "pass"
    assert left.verdict == "warn" and left.check("plausibility").verdict == "warn"
    assert said in left.check("plausibility").to_json()["reasons"][0]


def test_plausibility_cautions_left_right_mismatch_canal_width_and_closing():
    a = analysis("upright")
    left, right = a.pedicles["left"], a.pedicles["right"]
    assert plausibility_cautions("L1", a.pedicles, a.canal, 22.0) == []
    # The left axis turned 15 degrees more convergent (a fit along the process-lamina junction).
    turned = replace(left, slope=float(np.tan(np.arctan(left.slope) + np.radians(15.0))))
    mismatch = abs(turned.convergence_deg - right.convergence_deg)
    assert mismatch > MAX_CONVERGENCE_MISMATCH_DEG
    notes = plausibility_cautions("L1", {"left": turned, "right": right}, a.canal, 22.0)
    assert any("convergence differ" in n for n in notes)
    # A canal found only after closing gaps, and one far too narrow (8 mm against 15-30 mm published).
    narrow = Canal(a.canal.centre, a.canal.front_y, a.canal.back_y, 7.0, a.canal.hole, a.canal.boundary, 2.0)
    notes = plausibility_cautions("L1", a.pedicles, narrow, 22.0)
    assert any("closing gaps" in n for n in notes) and any("7.0 mm wide" in n for n in notes)
    # The disagreeing side is replaced by the other mirrored about the midline, and said.
    few = replace(turned, medial_points=1, lateral_points=1)
    fixed, said = mirrored_if_unreliable("L1", {"left": few, "right": right}, {}, midline_x=0.0)
    assert fixed["left"].convergence_deg == pytest.approx(right.convergence_deg)
    assert fixed["left"].medial_offset == pytest.approx(-right.medial_offset)
    assert list(said) == ["left"] and "mirrored from the right" in said["left"].note
    # Two plausible widths: which side is wrong is only inferred (fewer border points), so the kept side is not
    # sure and the caution will cap both sides' paths. An implausible width is sure: only its side's paths.
    assert not said["left"].kept_side_sure
    wide = replace(left, lateral_offset=left.lateral_offset - 20.0)
    _, said = mirrored_if_unreliable("L1", {"left": wide, "right": right}, {}, midline_x=0.0)
    assert list(said) == ["left"] and said["left"].kept_side_sure


def test_a_crushed_body_is_planned_and_its_figures_given():
    """An 85 % crush leaves L1 3.5 mm high (phantom truth): planned, not refused; the endplates cannot both keep
    2 mm from a 13G needle, and the proposal says so with the measured figures."""
    from PVPGuideLib.phantom.build import generate_phantom
    from PVPGuideLib.vertebra import analyse_vertebra, vertebra_from_labels

    p = generate_phantom(crush_fraction=0.85, spacing=(0.9, 0.9, 1.0), noise_sigma=0)
    thin = p.truth["levels"]["L1"]["body"]["middle_height_mm"]
    assert thin == pytest.approx(3.525)
    a = analyse_vertebra(vertebra_from_labels(p.ct, p.labels, 31, parts=p.parts))
    level = proposal.propose_level(p.ct, None, a, side="both")
    for side, s in level.sides.items():
        assert s.safety.verdict == "fail"  # a needle 2.41 mm thick in a 3.5 mm body reaches an endplate
        note = next(n for n in s.points.notes if n.startswith("the body is"))
        height = float(note.split()[3])
        assert height == pytest.approx(thin, abs=1.0)
        truth_c = np.asarray(p.truth["levels"]["L1"]["plans"][side]["C"])
        assert abs(s.points.c[2] - truth_c[2]) < 1.0  # C at the thin body's mid-height


def _report(gauge: int, wall_mm: float) -> SafetyReport:
    """A report whose needle axis runs wall_mm from the canal: the clearance is wall minus the gauge's radius."""
    radius = 0.5 * NEEDLE_OUTER_DIAMETER_MM[gauge]
    checks = []
    for name in ("spinal_canal", "medial_pedicle_wall"):
        limit = DEFAULT_LIMITS[name]
        checks.append(SafetyCheck(name, wall_mm - radius, judge(wall_mm - radius, limit), limit))
    for name, value in (("lateral_escape", 0.0), ("path_in_bone", 100.0)):
        checks.append(SafetyCheck(name, value, "pass", DEFAULT_LIMITS[name]))
    return SafetyReport(gauge, 2 * radius, tuple(checks), 8.0)


def _fake_plan_side(wall_mm):
    def plan_side(ct, skin, analysis, side, *, needle_gauge=13, crossing=True):
        points = proposal.ProposedPoints("L1", side, np.zeros(3), np.ones(3), "anterior_third", 0.66, 5.0, "x")
        trajectory = type("T", (), {"a": None})()
        return proposal.SideProposal(points, trajectory, _report(needle_gauge, wall_mm + (0.0 if crossing else 1.0)))
    return plan_side


def test_the_gauge_fallback_chooses_the_largest_gauge_that_passes(monkeypatch):
    # 2.3 mm from axis to canal: 8G-11G leave under 1 mm (warn); 13G leaves 1.095 mm and 15G 1.385 mm (pass).
    monkeypatch.setattr(proposal, "plan_side", _fake_plan_side(2.3))
    assert thinner_gauges(8) == [10, 11, 13, 15]
    level = proposal.propose_level(None, None, None, side="auto", needle_gauge=8)
    assert level.needle_gauge == 13
    assert [t["needle_gauge"] for t in level.gauge_trials] == [8, 10, 11, 13]
    assert level.no_safe_path is None and level.bilateral is None
    # Asked for 15G, the thinnest: nothing thinner to try, and it passes.
    assert proposal.propose_level(None, None, None, needle_gauge=15).needle_gauge == 15


def test_no_gauge_passes_says_so_and_offers_bilateral_paths(monkeypatch):
    # 1.9 mm from the canal: even 15G (0.915 mm radius) leaves under 1 mm.
    monkeypatch.setattr(proposal, "plan_side", _fake_plan_side(1.9))
    level = proposal.propose_level(None, None, None, needle_gauge=13)
    assert level.no_safe_path.startswith(proposal.NO_SAFE_UNILATERAL)
    assert "13G" in level.no_safe_path and "15G" in level.no_safe_path
    assert level.needle_gauge == 13  # the requested gauge's paths stay, marked
    # Non-crossing paths (1 mm farther from the canal in this construction) pass with 13G: offered.
    assert set(level.bilateral) == {"left", "right"} and level.bilateral_gauge == 13


def test_transverse_angle_in_context_warns_above_45_degrees():
    a = analysis("upright")
    b, c = _truth("left")
    level = phantom("upright").truth["levels"]["L1"]
    check = check_safety(a, b=b, c=c, side="left").check("transverse_angle")
    # SPEC 4 in the constructed frame, from the truth alone (proposal_cases.truth_angles).
    assert check.distance_mm == pytest.approx(truth_angles(level, "left").transverse_deg, abs=1.0)
    assert check.verdict == "pass" and "published 10-30" in check.to_json()["message"]
    # B moved 40 mm further lateral (same depth): atan(dR / dA) > 45 degrees warns, and never fails.
    steep = check_safety(a, b=b + [-40.0, 0.0, 0.0], c=c, side="left").check("transverse_angle")
    dx, dy = (c - (b + [-40.0, 0.0, 0.0]))[:2]
    assert steep.distance_mm == pytest.approx(np.degrees(np.arctan2(dx, dy)), abs=1.0)
    assert steep.distance_mm > 45.0 and steep.verdict == "warn"


def test_c_on_the_entry_side_is_moved_across_and_said():
    """A contralateral medial border line converging so much that it crosses the midline before the anterior third
    would put C on the entry side: the proposal moves C to 3 mm across (2 mm and a margin) and says so."""
    a = analysis("upright")
    right = a.pedicles["right"]
    # The right pedicle turned to converge 40 degrees (slope of x on y), its medial border through the same isthmus.
    slope = float(np.tan(np.radians(40.0)))  # right side: convergence = atan(-slope) > 0 needs slope < 0
    steep = replace(right, slope=-slope,
                    medial_offset=right.border_x("medial", right.isthmus_y) + slope * right.isthmus_y,
                    lateral_offset=right.border_x("lateral", right.isthmus_y) + slope * right.isthmus_y)
    turned = replace(a, pedicles={**a.pedicles, "right": steep})
    spec = proposal.propose_points(turned, "left", adjust=False)
    midline_x = a.body.centre[0]
    assert a.to_local(spec.c)[0][0] - midline_x < 0.0  # the SPEC line ends on the entry (left) side
    moved = proposal.propose_points(turned, "left")
    assert a.to_local(moved.c)[0][0] - midline_x == pytest.approx(proposal.C_ACROSS_TARGET_MM, abs=0.6)
    assert moved.adjustment is not None and "across" in moved.adjustment["reason"]
