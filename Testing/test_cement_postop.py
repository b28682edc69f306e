"""Post-operative cement: threshold segmentation, the bone check, leakage by location, `pvpguide score`."""

import argparse
import json

import numpy as np
import pytest
from cement_cases import BODY_HALF, HU_POSTERIOR, Vertebra, rotation

from PVPGuideLib.cement import CementError, analyse_body, frame_from_segmentation, score_cement, segment_cement
from PVPGuideLib.cement.split import split_body
from PVPGuideLib.cli import score as score_command
from PVPGuideLib.core.compat import strict_zip
from PVPGuideLib.io.ct_io import write_volume

R, A, S = BODY_HALF
CEMENT_HU = 2500
# leakage blobs (frame centre, radius) and where the rule must put them
LEAKS = {
    "posterior_wall_canal": ((0.0, -20.0, 11.5), 1.6),  # behind the posterior wall, on the midline, above the arch
    "cortical_defect_disc": ((5.0, 5.0, 14.5), 1.6),  # above the upper endplate, within the body's outline
    "paravertebral_veins": ((24.5, 0.0, 0.0), 1.6),  # beside the right wall
}


def postop_case(**grid):
    v = Vertebra(**grid)
    hu = v.ct.voxels.copy()
    cement = v.inside_ball((-6.0, 4.0, 0.0), 6.0) & v.body
    hu[cement] = CEMENT_HU
    leaks = {name: v.inside_ball(centre, radius) for name, (centre, radius) in LEAKS.items()}
    for leak in leaks.values():
        hu[leak] = CEMENT_HU
    return v, v.ct.with_voxels(hu), cement, leaks


def test_segmentation_and_leakage_by_location():
    v, ct, cement, leaks = postop_case()
    body = analyse_body(ct, v.body, v.frame)
    result = segment_cement(ct, body, vertebra_mask=v.body | v.posterior)
    assert np.array_equal(result.mask, cement)
    assert result.bone_reference_hu == pytest.approx(HU_POSTERIOR)
    voxel_ml = v.voxel_ml
    for name, leak in leaks.items():
        assert result.leakage.by_location[name] == pytest.approx(leak.sum() * voxel_ml), name
    assert result.leakage.volume_ml == pytest.approx(sum(leak.sum() for leak in leaks.values()) * voxel_ml)
    assert result.leakage.components == 3
    scores = score_cement(body, result.mask, side="left", leakage=result.leakage)
    assert scores.bcv_ml == pytest.approx(cement.sum() * voxel_ml)
    assert scores.to_json()["leakage"]["volume_ml"] == pytest.approx(result.leakage.volume_ml, abs=1e-4)


def test_leakage_rule_on_an_oblique_grid():
    v, ct, _, leaks = postop_case(direction=rotation(20, -30, 45), pose=rotation(10, 0, -20), spacing=(0.9, 0.9, 1.2))
    body = analyse_body(ct, v.body, v.frame)
    result = segment_cement(ct, body, vertebra_mask=v.body | v.posterior)
    for name, leak in leaks.items():
        assert result.leakage.by_location[name] == pytest.approx(leak.sum() * v.voxel_ml), name


def test_threshold_must_be_above_bone():
    v, ct, _, _ = postop_case()
    body = analyse_body(ct, v.body, v.frame)
    with pytest.raises(CementError, match="not above bone"):
        segment_cement(ct, body, vertebra_mask=v.body | v.posterior, threshold_hu=300.0)
    with pytest.raises(CementError, match="posterior elements"):
        segment_cement(ct, body, vertebra_mask=v.body)


def test_frame_from_segmentation_recovers_the_pose():
    pose = rotation(12, -8, 25)
    v = Vertebra(pose=pose, direction=rotation(0, 20, 0), spacing=(0.9, 0.9, 1.1))
    frame = frame_from_segmentation(v.ct, v.body, v.posterior)
    for axis, column in strict_zip((frame.right, frame.anterior, frame.superior), pose.T):
        assert np.degrees(np.arccos(np.clip(axis @ column, -1, 1))) < 2.0
    assert frame.origin == pytest.approx(v.centre, abs=0.6)


def test_split_body_from_the_whole_vertebra():
    v = Vertebra()
    body, posterior = split_body(v.ct, v.body | v.posterior)
    dice = 2 * (body & v.body).sum() / (body.sum() + v.body.sum())
    assert dice > 0.97
    assert not (body & posterior).any()


def run_score(argv):
    parser = argparse.ArgumentParser()
    score_command.add_arguments(parser)
    args = parser.parse_args(argv)
    args.quiet = True
    return score_command.run(args)


def test_score_command_end_to_end(tmp_path):
    v, ct, cement, leaks = postop_case(spacing=(1.0, 1.0, 1.5))
    labels = np.zeros(ct.voxels.shape, np.uint8)
    labels[v.body | v.posterior] = 31
    parts = np.zeros(ct.voxels.shape, np.uint8)
    parts[v.body] = 1
    write_volume(ct, tmp_path / "postop.nii.gz")
    write_volume(ct.with_voxels(labels), tmp_path / "labels.nii.gz")
    write_volume(ct.with_voxels(parts), tmp_path / "parts.nii.gz")
    out = tmp_path / "out"
    argv = ["--ct", str(tmp_path / "postop.nii.gz"), "--segmentation", str(tmp_path / "labels.nii.gz"),
            "--label", "31", "--side", "right", "--body-segmentation", str(tmp_path / "parts.nii.gz"),
            "--out", str(out)]
    assert run_score(argv) == 0
    data = json.loads((out / "score.json").read_text())
    assert data["schema"] == "pvpguide.score/1"
    voxel_ml = float(np.prod(ct.spacing)) / 1000.0
    assert data["bcv_ml"] == pytest.approx(cement.sum() * voxel_ml, abs=1e-4)
    assert data["vv_ml"] == pytest.approx(v.body.sum() * voxel_ml, abs=1e-4)
    assert data["psbcv_ml"] == 0.0  # all the cement is left of the midline, the puncture was right
    assert data["leakage"]["volume_ml"] == pytest.approx(sum(x.sum() for x in leaks.values()) * voxel_ml, abs=1e-3)
    assert set(data["leakage"]["by_location"]) == set(LEAKS)
    pictures = {name: (out / f"projection_{name}.png").read_bytes() for name in ("ap", "lateral")}
    assert all(p.startswith(b"\x89PNG") for p in pictures.values())
    assert run_score(argv) == 0  # again: identical bytes, no temporary files left behind
    assert all((out / f"projection_{n}.png").read_bytes() == p for n, p in pictures.items())
    assert sorted(p.name for p in out.iterdir()) == ["projection_ap.png", "projection_lateral.png", "score.json"]


def test_score_command_bad_label(tmp_path):
    v, ct, _, _ = postop_case(spacing=(1.5, 1.5, 1.5))
    labels = np.zeros(ct.voxels.shape, np.uint8)
    labels[v.body | v.posterior] = 31
    write_volume(ct, tmp_path / "postop.nii.gz")
    write_volume(ct.with_voxels(labels), tmp_path / "labels.nii.gz")
    with pytest.raises(CementError, match=r"label 30 is not in .*labels present: \[31\]"):
        run_score(["--ct", str(tmp_path / "postop.nii.gz"), "--segmentation", str(tmp_path / "labels.nii.gz"),
                   "--label", "30", "--side", "left", "--out", str(tmp_path / "out")])
