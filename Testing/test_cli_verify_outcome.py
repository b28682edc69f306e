"""`pvpguide verify` and `pvpguide outcome` end to end on written phantom files (plan.json written by hand)."""

import json
from functools import cache

import numpy as np
import pytest
from operative_phantom import add_cement, burn_needle

from PVPGuideLib.cli import main
from PVPGuideLib.fracture import measure_fracture
from PVPGuideLib.io.ct_io import write_volume
from PVPGuideLib.phantom.build import generate_phantom, write_phantom
from PVPGuideLib.vertebra import analyse_vertebra, vertebra_from_labels


@cache
def _phantom():
    return generate_phantom(wedge_fraction=0.3)


def _plan(tmp_path, *, fracture=False):
    p = _phantom()
    paths = write_phantom(p, tmp_path / "phantom")
    level = p.truth["levels"]["L1"]
    plan = {"schema": "pvpguide.plan/1", "ct": {"path": str(paths["ct"])}, "needle_gauge": 13,
            "trajectories": [{"level": "L1", "side": "left", "points": {"B": level["plans"]["left"]["B"],
                                                                        "C": level["plans"]["left"]["C"]},
                              "vertebra_frame": level["frame"]}]}
    if fracture:
        a = {v: analyse_vertebra(vertebra_from_labels(p.ct, p.labels, v)) for v in (30, 31, 32)}
        plan["fracture"] = {"L1": measure_fracture(a[31], above=a[32], below=a[30]).to_json()}
    (tmp_path / "plan").mkdir()
    (tmp_path / "plan" / "plan.json").write_text(json.dumps(plan))
    return p, paths, level


def test_verify_writes_the_check(tmp_path):
    p, paths, level = _plan(tmp_path)
    c, b = np.asarray(level["plans"]["left"]["C"]), np.asarray(level["plans"]["left"]["B"])
    intraop = burn_needle(p.ct, c + [0.0, 0.0, 1.0], c - b)
    write_volume(intraop.with_voxels(np.rint(intraop.voxels).astype(np.int16)), tmp_path / "intraop.nrrd")
    rc = main(["verify", "--plan", str(tmp_path / "plan"), "--intraop", str(tmp_path / "intraop.nrrd"),
               "--segmentation", str(paths["labels"]), "--label", "31", "--out", str(tmp_path / "v"), "--quiet"])
    assert rc == 0
    data = json.loads((tmp_path / "v" / "verify.json").read_text())
    assert data["tip_to_C_mm"] == pytest.approx(1.0, abs=0.5)
    assert data["angle_to_plan_deg"] < 0.5
    assert not [w for w in data["warnings"] if "from the planned target" in w or "off the planned path" in w]
    # The truth path is built inside the pedicle and the body: the placed needle (1 mm cranial) clears the canal.
    assert data["safety"]["checks"]["spinal_canal"]["distance_mm"] > 0
    assert (data["verdict"] == "pass") == (data["safety"]["verdict"] == "pass")


def test_verify_without_needle_exits_2(tmp_path, capsys):
    _, paths, _ = _plan(tmp_path)
    rc = main(["verify", "--plan", str(tmp_path / "plan"), "--intraop", str(paths["ct"]), "--out",
               str(tmp_path / "v"), "--quiet"])
    assert rc == 2 and "no needle found" in capsys.readouterr().err


def test_outcome_writes_json_and_html(tmp_path):
    p, paths, level = _plan(tmp_path, fracture=True)
    post = generate_phantom(wedge_fraction=0.1, seed=5)
    lv = post.truth["levels"]["L1"]
    ct, volume_ml = add_cement(post.ct, lv["body_centre"], (9.0, 7.0, 5.0),
                               [lv["frame"][k] for k in ("right", "anterior", "superior")])
    write_volume(ct.with_voxels(np.rint(ct.voxels).astype(np.int16)), tmp_path / "postop.nrrd")
    write_volume(post.labels, tmp_path / "postop_labels.nrrd")
    rc = main(["outcome", "--plan", str(tmp_path / "plan"), "--postop", str(tmp_path / "postop.nrrd"),
               "--segmentation", str(tmp_path / "postop_labels.nrrd"), "--out", str(tmp_path / "o"), "--quiet"])
    assert rc == 0
    data = json.loads((tmp_path / "o" / "outcome.json").read_text())
    assert data["cement"]["bcv_ml"] == pytest.approx(volume_ml, rel=0.15)
    assert data["post"]["heights_mm"]["AVH"] > data["pre"]["heights_mm"]["AVH"] + 1.0  # 30 % -> 10 % wedge
    page = (tmp_path / "o" / "outcome.html").read_text()
    assert page.count("data:image/png;base64,") == 3 and "recovery" in page


def test_verify_without_segmentation_uses_bone_near_the_body_centre(tmp_path, capsys):
    p, paths, level = _plan(tmp_path)
    c, b = np.asarray(level["plans"]["left"]["C"]), np.asarray(level["plans"]["left"]["B"])
    intraop = burn_needle(p.ct, c - 1.0 * (c - b) / np.linalg.norm(c - b), c - b)  # 1 mm short of C
    write_volume(intraop.with_voxels(np.rint(intraop.voxels).astype(np.int16)), tmp_path / "intraop.nrrd")
    rc = main(["verify", "--plan", str(tmp_path / "plan"), "--intraop", str(tmp_path / "intraop.nrrd"),
               "--out", str(tmp_path / "v"), "--quiet"])
    assert rc == 0 and "safety checks of the placed needle are skipped" in capsys.readouterr().err
    data = json.loads((tmp_path / "v" / "verify.json").read_text())
    assert data["tip_to_C_mm"] == pytest.approx(1.0, abs=0.5) and data["safety"] is None


def test_verify_and_outcome_never_replace_what_they_did_not_write(tmp_path, capsys):
    """--out is replaced as one set: never the plan folder, never a folder holding a user's file (exit 2, nothing
    changed); a second run into its own folder replaces the set."""
    p, paths, level = _plan(tmp_path)
    c, b = np.asarray(level["plans"]["left"]["C"]), np.asarray(level["plans"]["left"]["B"])
    intraop = burn_needle(p.ct, c + [0.0, 0.0, 1.0], c - b)
    write_volume(intraop.with_voxels(np.rint(intraop.voxels).astype(np.int16)), tmp_path / "intraop.nrrd")
    plan_before = (tmp_path / "plan" / "plan.json").read_bytes()
    base = ["verify", "--plan", str(tmp_path / "plan"), "--intraop", str(tmp_path / "intraop.nrrd"), "--quiet"]
    assert main(base + ["--out", str(tmp_path / "plan")]) == 2
    assert "--out" in capsys.readouterr().err
    assert (tmp_path / "plan" / "plan.json").read_bytes() == plan_before
    assert sorted(f.name for f in (tmp_path / "plan").iterdir()) == ["plan.json"]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("the surgeon's notes")
    for command in (base, ["outcome", "--plan", str(tmp_path / "plan"), "--postop", str(tmp_path / "intraop.nrrd"),
                           "--segmentation", str(paths["labels"]), "--quiet"]):
        assert main(command + ["--out", str(mine)]) == 2
        assert "did not write" in capsys.readouterr().err
        assert sorted(f.name for f in mine.iterdir()) == ["notes.txt"]
    assert main(base + ["--out", str(tmp_path / "v")]) == 0
    assert main(base + ["--out", str(tmp_path / "v")]) == 0  # its own set: replaced
    assert sorted(f.name for f in (tmp_path / "v").iterdir()) == ["verify.json"]
    assert not [f for f in tmp_path.iterdir() if f.name.startswith(".pvpguide-")]  # no staging folder left


def test_verify_reads_a_relative_ct_from_the_plan_folder_not_the_working_folder(tmp_path, monkeypatch, capsys):
    """plan.json's relative CT path is resolved from the plan folder; a same-named scan in the working folder is
    never read, and a CT that is not the plan's (recorded size) is refused."""
    p, paths, level = _plan(tmp_path)
    data = json.loads((tmp_path / "plan" / "plan.json").read_text())
    (tmp_path / "plan" / "ct.nrrd").write_bytes(paths["ct"].read_bytes())
    data["ct"] = {"path": "ct.nrrd", "size": [int(n) for n in p.ct.shape_ijk]}
    (tmp_path / "plan" / "plan.json").write_text(json.dumps(data))
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    other = generate_phantom(spacing=(1.0, 1.0, 2.0))  # another patient's scan under the same name
    write_volume(other.ct, elsewhere / "ct.nrrd")
    c, b = np.asarray(level["plans"]["left"]["C"]), np.asarray(level["plans"]["left"]["B"])
    intraop = burn_needle(p.ct, c + [0.0, 0.0, 1.0], c - b)
    write_volume(intraop.with_voxels(np.rint(intraop.voxels).astype(np.int16)), tmp_path / "intraop.nrrd")
    argv = ["verify", "--plan", str(tmp_path / "plan"), "--intraop", str(tmp_path / "intraop.nrrd"),
            "--segmentation", str(paths["labels"]), "--label", "31", "--quiet"]
    assert main(argv + ["--out", str(tmp_path / "v")]) == 0
    write_volume(other.ct, tmp_path / "plan" / "ct.nrrd")  # now the plan folder holds the wrong scan
    assert main(argv + ["--out", str(tmp_path / "v2")]) == 2
    assert "not the scan this plan was made on" in capsys.readouterr().err
