"""After surgery: a generated post-operative CT (restored height, cement of known shape, moved by a known transform)."""

from functools import cache

import numpy as np
import pytest
from fracture_truth import truth_heights
from operative_phantom import add_cement

from PVPGuideLib.fracture import measure_fracture
from PVPGuideLib.fracture.grading import height_loss_percent
from PVPGuideLib.outcome.recovery import height_recovery
from PVPGuideLib.outcome.run import OutcomeError, measure_outcome
from PVPGuideLib.phantom.build import generate_phantom
from PVPGuideLib.vertebra import analyse_vertebra, vertebra_from_labels

POSE = (10.0, -8.0, 12.0)
POSE_POST = (16.0, -2.0, 4.0)
KEYS = {"anterior": "AVH", "middle": "MVH", "posterior": "PVH"}


@cache
def _pre():
    p = generate_phantom(spacing=(0.9, 0.9, 1.0), wedge_fraction=0.4, rotation_deg=POSE)
    a = {v: analyse_vertebra(vertebra_from_labels(p.ct, p.labels, v, parts=p.parts)) for v in (30, 31, 32)}
    level = p.truth["levels"]["L1"]
    plan = {"trajectories": [{"level": "L1", "side": "left", "points": {"C": level["plans"]["left"]["C"]}}],
            "fracture": {"L1": measure_fracture(a[31], above=a[32], below=a[30]).to_json()}}
    return p, plan


@cache
def _post():
    """The spine turned to another pose (a known rotation: the two poses' difference) and rendered afresh, so the
    label map is exact (resampling a label map would move its borders by up to half a voxel)."""
    post = generate_phantom(spacing=(0.9, 0.9, 1.0), wedge_fraction=0.15, rotation_deg=POSE_POST, seed=3)
    level = post.truth["levels"]["L1"]
    axes = [level["frame"][k] for k in ("right", "anterior", "superior")]
    ct, volume_ml = add_cement(post.ct, level["body_centre"], (9.0, 7.0, 5.0), axes)
    return post, ct, post.labels, volume_ml


def test_recovery_cobb_and_cement_against_the_construction():
    pre_phantom, plan = _pre()
    post, ct, labels, volume_ml = _post()
    outcome = measure_outcome(plan, pre_phantom.ct, ct, labels).to_json()
    before, after = truth_heights(pre_phantom.truth, "L1"), truth_heights(post.truth, "L1")
    normal = {k: 0.5 * (truth_heights(post.truth, "T12")[k] + truth_heights(post.truth, "L2")[k]) for k in before}
    for key, name in KEYS.items():
        assert outcome["post"]["heights_mm"][name] == pytest.approx(after[key], abs=0.5)
        assert outcome["height_change_mm"][name] == pytest.approx(after[key] - before[key], abs=0.7)
    # The planned C is carried by the spine's move: anatomical = R_pre^T C, post = R_post anatomical.
    rotations = [np.asarray(x.truth["pose"]["rotation"]) for x in (pre_phantom, post)]
    expected_c = rotations[1] @ rotations[0].T @ np.asarray(plan["trajectories"][0]["points"]["C"])
    assert np.linalg.norm(np.asarray(outcome["planned_C_on_postop"]) - expected_c) < 1.0
    # AVH: 0.4 -> 0.15 wedge. Recovery % divides by normal - pre (7.6 mm), so 0.5 mm of height is 7 points.
    expected = 100.0 * (after["anterior"] - before["anterior"]) / (normal["anterior"] - before["anterior"])
    assert outcome["height_recovery_percent"]["AVH"] == pytest.approx(expected, abs=10.0)
    assert outcome["wedge_change_deg"] < -3.0  # 0.4 -> 0.15 of the height: about 10 degrees less wedge
    assert outcome["cobb_change_deg"] == pytest.approx(0.0, abs=1.5)  # neighbours are parallel before and after
    assert outcome["cement"]["bcv_ml"] == pytest.approx(volume_ml, rel=0.1)
    assert height_loss_percent(normal["anterior"], after["anterior"]) < 20.0  # restored: Genant 0 after
    assert outcome["post"]["genant_grade"] == 0


def test_recovery_formula():
    pre = {"heights_mm": {"AVH": 18.6, "MVH": 20.0, "PVH": 24.0}, "normal_heights_mm": {"AVH": 28.0, "MVH": 26.0,
           "PVH": 24.2}, "cobb_angle_deg": 18.4, "wedge_angle_deg": 12.0}
    post = {"heights_mm": {"AVH": 25.4, "MVH": 23.0, "PVH": 24.1}, "cobb_angle_deg": 11.2, "wedge_angle_deg": 5.0}
    r = height_recovery(pre, post)
    assert r["height_recovery_percent"]["AVH"] == pytest.approx(100 * 6.8 / 9.4)
    assert r["height_recovery_percent"]["PVH"] is None and any("PVH" in n for n in r["notes"])
    assert r["cobb_change_deg"] == pytest.approx(-7.2)


def test_plan_without_fracture_section_is_a_clear_error():
    pre_phantom, plan = _pre()
    post, ct, labels, _ = _post()
    with pytest.raises(OutcomeError, match="no fracture measurement"):
        measure_outcome({**plan, "fracture": {}}, pre_phantom.ct, ct, labels)
    assert np.any(labels.voxels == 31)
