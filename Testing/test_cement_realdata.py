"""Real anatomy (TotalSegmentator example, L1, 3 mm): a documented synthetic cement insertion, scored
through `pvpguide score`, against a hand calculation.

Insertion (on a copy of the CT; the data folder is never written):
- cement: a 3 x 3 x 3 voxel cube (27 voxels of 3 mm = 0.729 ml) at HU 2500, centred 4 voxels (12 mm)
  to the patient's left of the median body voxel of L1 (i runs towards R on this grid);
- leakage: a 2 x 2 x 2 voxel block (8 voxels = 0.216 ml) at HU 2500 in the spinal canal, 2-3 voxels
  behind the posterior wall of the body on the median column.
Hand calculation: VV = (L1 body voxels) x 0.027 ml = 1519 x 0.027 = 41.013 ml; BCV = 0.729 ml;
fill = PSBCV/VV = 1.778 %. The cube lies 9-15 mm left of the body's median voxel, so PSBCV = BCV
for a left puncture and 0 for a right one. It spans the median voxel's slice +-1 (+-4.5 mm) in a
body about 24 mm high, so it stays over 7 mm from each endplate: no contact (contact depth 3 mm).
The leak lies outside all bone, on the midline, behind the body: 0.216 ml, all "posterior_wall_canal".
"""

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "totalseg_example"  # ../shared/data next to the repo
pytestmark = pytest.mark.skipif(not (DATA / "ct_T11_S1_3mm.nii.gz").exists(),
                                reason=f"real CT sample not found at {DATA}")

VOXEL_ML = 27.0 / 1000.0
L1 = 31


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    from PVPGuideLib.io.ct_io import read_ct, read_labelmap, write_volume

    ct = read_ct(DATA / "ct_T11_S1_3mm.nii.gz")
    labels = read_labelmap(DATA / "labels_T11_S1_3mm.nii.gz", ct).voxels
    parts = read_labelmap(DATA / "labels_vertebral_body_3mm.nii.gz", ct).voxels
    assert np.allclose(ct.direction, np.eye(3))  # i -> R, j -> A, k -> S on this grid
    body = (labels == L1) & (parts == 1)
    k, j, i = np.median(np.argwhere(body), axis=0).astype(int)
    cube = (slice(k - 1, k + 2), slice(j - 1, j + 2), slice(i - 5, i - 2))
    assert body[cube].all()  # the cube lies in the body
    wall = int(np.nonzero(body[k, :, i])[0].min())  # first body voxel from behind on the median column
    leak = (slice(k - 1, k + 1), slice(wall - 3, wall - 1), slice(i - 1, i + 1))
    assert (labels[leak] == 0).all()  # the leak lies outside every vertebra: in the canal
    hu = np.array(ct.voxels, copy=True)
    hu[cube] = 2500
    hu[leak] = 2500
    folder = tmp_path_factory.mktemp("postop")
    write_volume(ct.with_voxels(hu), folder / "postop.nii.gz")
    return {"folder": folder, "vv_ml": int(body.sum()) * VOXEL_ML, "body_voxels": int(body.sum())}


def run_score(folder, side, extra=()):
    from PVPGuideLib.cli import score

    parser = argparse.ArgumentParser()
    score.add_arguments(parser)
    out = folder / f"out-{side}"
    args = parser.parse_args([
        "--ct", str(folder / "postop.nii.gz"), "--segmentation", str(DATA / "labels_T11_S1_3mm.nii.gz"),
        "--label", str(L1), "--side", side, "--out", str(out), *extra])
    args.quiet = True
    assert score.run(args) == 0
    return json.loads((out / "score.json").read_text())


def test_hand_calculation_left_puncture(case):
    data = run_score(case["folder"], "left", ["--body-segmentation", str(DATA / "labels_vertebral_body_3mm.nii.gz")])
    bcv = 27 * VOXEL_ML
    assert case["body_voxels"] == 1519
    assert data["vv_ml"] == pytest.approx(case["vv_ml"], abs=1e-4)  # 41.013 ml
    assert data["bcv_ml"] == pytest.approx(bcv, abs=1e-4)  # 0.729 ml
    assert data["fill_percent"] == pytest.approx(100 * bcv / case["vv_ml"], abs=1e-3)  # 1.778 %
    assert data["psbcv_ml"] == pytest.approx(bcv, abs=1e-4)
    assert data["psbcv_vv_percent"] == pytest.approx(100 * bcv / case["vv_ml"], abs=1e-3)
    assert data["psbcv_vv_over_threshold"] is False
    assert data["contralateral_fraction"] == 0.0 and data["crosses_midline"] is False
    assert data["endplate_contact"] == "none"
    assert data["pattern"] == "unilateral"
    assert data["leakage"]["volume_ml"] == pytest.approx(8 * VOXEL_ML, abs=1e-4)  # 0.216 ml
    assert data["leakage"]["by_location"]["posterior_wall_canal"] == pytest.approx(8 * VOXEL_ML, abs=1e-4)
    assert data["postop"]["bone_reference_hu"] < 1500
    # a 0.73 ml cube covers under a third of any quadrant of a 41 ml body
    assert data["distribution_score"]["total"] == 0


def test_hand_calculation_right_puncture_without_body_label(case):
    data = run_score(case["folder"], "right")
    bcv = 27 * VOXEL_ML
    assert data["bcv_ml"] == pytest.approx(bcv, abs=1e-4)
    assert data["psbcv_ml"] == 0.0 and data["contralateral_fraction"] == 1.0
    # the approximate split lands within 3 % of the labelled body volume on L1
    assert data["vv_ml"] == pytest.approx(case["vv_ml"], rel=0.03)
    assert data["warnings"]
