"""The intra-operative needle check on generated intra-operative CTs: known rigid moves and burnt-in needles."""

from functools import cache
from pathlib import Path

import numpy as np
import pytest
from operative_phantom import burn_needle, moved_ct

from PVPGuideLib.phantom.build import generate_phantom
from PVPGuideLib.verify import VerifyError, check_needle
from PVPGuideLib.verify.rigid import apply_points, apply_vectors, rigid_matrix

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "totalseg_example"


def _angle(u, v):
    return float(np.degrees(np.arccos(np.clip(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v), -1.0, 1.0))))


@cache
def _phantom():
    p = generate_phantom()
    level = p.truth["levels"]["L1"]
    return p, np.asarray(level["plans"]["left"]["B"]), np.asarray(level["plans"]["left"]["C"]), level


def _placed(b, c):
    """A needle placed near the plan: tip 1.2 mm from C, axis about 2 degrees off (what the check must measure)."""
    d = (c - b) / np.linalg.norm(c - b)
    off = np.cross(d, [0.0, 0.0, 1.0])
    d_placed = d + 0.035 * off / np.linalg.norm(off)
    return c + np.array([0.8, -0.6, 0.7]), d_placed / np.linalg.norm(d_placed)


# Moves up to 20 mm and 10 degrees (about an oblique axis through the body centre and beyond it).
MOVES = {"max_move": ((6.0, -5.0, 6.5), (12.0, -10.0, 12.8)), "small_turn": ((-3.0, 2.0, -4.0), (4.0, 3.0, -2.0))}


@pytest.mark.parametrize("name", sorted(MOVES))
def test_phantom_needle_recovered_through_a_known_move(name):
    p, b, c, level = _phantom()
    rotation, translation = MOVES[name]
    move = rigid_matrix(rotation, translation, centre=level["body_centre"])
    tip, direction = _placed(b, c)
    intraop = burn_needle(moved_ct(p.ct, move), apply_points(move, tip), apply_vectors(move, direction))
    result = check_needle(p.ct, p.labels.voxels == 31, intraop, b=b, c=c, side="left")
    assert np.linalg.norm(result.tip - tip) < 0.5
    assert _angle(result.direction, direction) < 0.5
    assert result.tip_to_c_mm == pytest.approx(np.linalg.norm(tip - c), abs=0.5)
    assert result.angle_to_plan_deg == pytest.approx(_angle(direction, c - b), abs=0.5)


def test_phantom_check_reports_frame_measures_and_warns_beyond_limits():
    p, b, c, level = _phantom()
    frame = level["frame"]
    from PVPGuideLib.core.geometry import VertebraFrame

    vf = VertebraFrame.from_axes(origin=frame["origin"], right=frame["right"], anterior=frame["anterior"],
                                 superior=frame["superior"])
    d = (c - b) / np.linalg.norm(c - b)
    tip = c + 3.0 * np.cross(d, vf.superior)  # 3 mm beside C: beyond the 2 mm limit
    intraop = burn_needle(p.ct, tip, d)
    result = check_needle(p.ct, p.labels.voxels == 31, intraop, b=b, c=c, side="left", frame=vf,
                          body_centre=level["body_centre"])
    data = result.to_json()
    assert data["tip_to_C_mm"] == pytest.approx(3.0, abs=0.5)
    assert data["tip_to_body_centre_mm"] == pytest.approx(np.linalg.norm(tip - level["body_centre"]), abs=0.5)
    assert data["angle_to_sagittal_plane_deg"] == pytest.approx(np.degrees(np.arcsin(abs(d @ vf.right))), abs=0.5)
    assert data["verdict"] == "warn" and any("mm from the planned target" in w for w in data["warnings"])
    assert not any("degrees off" in w for w in data["warnings"])


def test_no_needle_is_a_clear_error():
    p, b, c, _ = _phantom()
    with pytest.raises(VerifyError, match="no needle found"):
        check_needle(p.ct, p.labels.voxels == 31, p.ct, b=b, c=c, side="left")


def test_two_needles_are_a_clear_error():
    p, b, c, level = _phantom()
    tip, direction = _placed(b, c)
    beside = tip + 8.0 * np.asarray(level["frame"]["superior"])  # a second needle 8 mm above the first
    ct = burn_needle(burn_needle(p.ct, tip, direction), beside, direction)
    with pytest.raises(VerifyError, match="2 needles found"):
        check_needle(p.ct, p.labels.voxels == 31, ct, b=b, c=c, side="left")


def test_needle_in_another_vertebra_is_a_clear_error():
    p, b, c, _ = _phantom()
    l2 = np.asarray(p.truth["levels"]["L2"]["body_centre"])
    ct = burn_needle(p.ct, l2, c - b)
    with pytest.raises(VerifyError, match="outside the target vertebra"):
        check_needle(p.ct, p.labels.voxels == 31, ct, b=b, c=c, side="left")


def test_registration_that_cannot_converge_is_a_clear_error_with_its_measure():
    p, b, c, level = _phantom()
    # The spine moved 45 mm cranially: L1's place now holds the disc and T12, beyond the check's 20 mm range.
    move = rigid_matrix((0.0, 0.0, 0.0), 45.0 * np.asarray(level["frame"]["superior"]))
    ct = burn_needle(moved_ct(p.ct, move), *[apply_points(move, x) if i == 0 else x
                                             for i, x in enumerate(_placed(b, c))])
    with pytest.raises(VerifyError, match=r"did not converge: correlation -?\d\.\d\d"):
        check_needle(p.ct, p.labels.voxels == 31, ct, b=b, c=c, side="left")


@pytest.mark.skipif(not (DATA / "ct_T11_S1_3mm.nii.gz").exists(), reason="../shared/data/totalseg_example is absent")
@pytest.mark.parametrize("move", [((5.0, 4.0, -8.0), (-9.0, 12.0, 14.0)), MOVES["max_move"]])
def test_real_3mm_ct_needle_recovered_through_a_known_move(move):
    from PVPGuideLib.io.ct_io import read_ct, read_labelmap

    ct = read_ct(DATA / "ct_T11_S1_3mm.nii.gz")
    mask = read_labelmap(DATA / "labels_T11_S1_3mm.nii.gz", ct).voxels == 31  # L1
    centre = ct.ijk_to_ras_points(np.argwhere(mask)[:, ::-1]).mean(axis=0)
    # A path from behind and the left, converging, ending 4 mm in front of the vertebra's centroid (in the body).
    c = centre + np.array([2.0, 4.0, 0.0])
    b = c + np.array([-22.0, -38.0, -3.0])
    move = rigid_matrix(*move, centre=centre)  # both about 10 degrees and 20 mm
    tip, direction = _placed(b, c)
    intraop = burn_needle(moved_ct(ct, move), apply_points(move, tip), apply_vectors(move, direction))
    result = check_needle(ct, mask, intraop, b=b, c=c, side="left")
    assert np.linalg.norm(result.tip - tip) < 0.5
    assert _angle(result.direction, direction) < 0.5
