"""Reliability: one complete set in --out, nothing of the user's overwritten, reports only from their own scan."""

from __future__ import annotations

import errno
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from reliability_helpers import check_set, copy_plan, leftovers, plan_argv, plan_folder, run_cli, small_ct, tree_hashes

from PVPGuideLib.io.ct_io import write_volume


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """A CT and a plan folder made from it (paths relative to a common folder, as a user would have them)."""
    return plan_folder(tmp_path_factory.mktemp("work"))


def test_plan_json_names_every_file_with_sha256(planned):
    data = check_set(planned / "plan")
    assert {"plan.mrb", "report.html"} <= set(data["files"])


def test_replan_removes_files_of_the_earlier_plan(planned, tmp_path, capsys):
    plan = copy_plan(planned, tmp_path)
    # an earlier plan's guide (listed in its plan.json, so PVPGuide wrote it) that the new run does not write
    (plan / "guide_L1_left.stl").write_bytes(b"solid old\nendsolid old\n")
    data = json.loads((plan / "plan.json").read_text())
    data["files"]["guide_L1_left.stl"] = "0" * 64
    (plan / "plan.json").write_text(json.dumps(data))
    code, err = run_cli(plan_argv(tmp_path / "ct.nrrd", plan, "--needle-gauge", "11"), capsys)
    assert code == 0, err
    assert not (plan / "guide_L1_left.stl").exists()
    assert check_set(plan)["needle_gauge"] == 11
    assert leftovers(plan) == []


def test_failed_run_leaves_the_previous_set_and_nothing_else(planned, tmp_path, capsys, monkeypatch):
    plan = copy_plan(planned, tmp_path)
    before = tree_hashes(plan, tmp_path / "ct.nrrd")
    import PVPGuideLib.mrml.plan_scene as plan_scene

    def disk_full(plan_, data, path):
        Path(path).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(plan_scene, "save_plan_scene", disk_full)
    code, err = run_cli(plan_argv(tmp_path / "ct.nrrd", plan, "--needle-gauge", "11"), capsys)
    assert code == 2
    assert f"{plan / 'plan.mrb'}: the disk is full" in err  # the user's folder, never the hidden staging folder
    assert ".pvpguide-" not in err and "[Errno" not in err
    assert tree_hashes(plan, tmp_path / "ct.nrrd") == before
    assert leftovers(plan) == []


def test_out_holding_an_input_is_refused(planned, tmp_path, capsys):
    shutil.copy(planned / "ct.nrrd", tmp_path / "ct.nrrd")
    before = tree_hashes(tmp_path)
    code, err = run_cli(plan_argv(tmp_path / "ct.nrrd", tmp_path), capsys)
    assert code == 2 and "lies inside --out" in err
    link = tmp_path.parent / f"{tmp_path.name}-link"
    os.symlink(tmp_path, link)
    try:
        code, err = run_cli(plan_argv(tmp_path / "ct.nrrd", link), capsys)
        assert code == 2 and "lies inside --out" in err
    finally:
        link.unlink()
    assert tree_hashes(tmp_path) == before


def test_demo_refuses_a_folder_with_the_users_files(tmp_path, capsys):
    (tmp_path / "X" / "sample").mkdir(parents=True)
    (tmp_path / "X" / "sample" / "ct.nrrd").write_text("the user's scan")
    code, err = run_cli(["demo", "--out", tmp_path / "X", "--quiet"], capsys)
    assert code == 2 and "sample/ct.nrrd" in err
    assert (tmp_path / "X" / "sample" / "ct.nrrd").read_text() == "the user's scan"


@pytest.mark.parametrize("target", ["plan.json", "../ct.nrrd", "notes.txt"])
def test_report_never_overwrites_plan_json_ct_or_a_users_file(planned, tmp_path, capsys, target):
    plan = copy_plan(planned, tmp_path)
    (plan.parent / "notes.txt").write_text("mine")
    out = plan / target if target != "notes.txt" else plan.parent / "notes.txt"
    before = tree_hashes(tmp_path)
    code, err = run_cli(["report", plan, "--out", out, "--quiet"], capsys)
    assert code == 2, err
    assert tree_hashes(tmp_path) == before


def test_report_reads_the_ct_from_the_plan_folder_not_the_working_folder(planned, tmp_path, capsys, monkeypatch):
    plan = copy_plan(planned, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    other = small_ct()
    shifted = other.voxels.copy()
    shifted[: shifted.shape[0] // 3] += 7
    write_volume(other.with_voxels(shifted), elsewhere / "ct.nrrd")  # another "patient", same grid
    (elsewhere / "sub").mkdir()
    monkeypatch.chdir(elsewhere / "sub")  # '../ct.nrrd' from here is the other scan
    code, err = run_cli(["report", plan, "--quiet"], capsys)
    assert code == 0, err


def test_report_refuses_another_scan_at_the_recorded_path(planned, tmp_path, capsys):
    plan = copy_plan(planned, tmp_path)
    other = small_ct()
    shifted = other.voxels.copy()
    shifted[: shifted.shape[0] // 3] += 7  # same grid, other voxel values
    write_volume(other.with_voxels(shifted), tmp_path / "ct.nrrd")
    before = tree_hashes(plan)
    code, err = run_cli(["report", plan, "--quiet"], capsys)
    assert code == 2 and "not the scan this plan was made on" in err and "content hash" in err
    assert tree_hashes(plan) == before


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd"])
def test_report_refuses_files_outside_the_plan_folder(planned, tmp_path, capsys, name):
    plan = copy_plan(planned, tmp_path)
    data = json.loads((plan / "plan.json").read_text())
    data["trajectories"][0]["guide"] = {"stl": name}
    (plan / "plan.json").write_text(json.dumps(data))
    code, err = run_cli(["report", plan, "--quiet"], capsys)
    assert code == 2 and "inside the plan folder" in err


@pytest.mark.parametrize("content", [
    "[" * 100000 + "]" * 100000,
    json.dumps({"schema": "pvpguide.plan/1", "trajectories": "L1"}),
    json.dumps({"schema": "pvpguide.plan/1", "ct": {"size": "big"}, "trajectories": []}),
    json.dumps({"schema": "pvpguide.plan/1", "trajectories": [{"points": {"B": [1, 2]}}]}),
], ids=["nested", "trajectories-text", "size-text", "short-point"])
def test_hostile_plan_json_gives_a_clear_error(tmp_path, capsys, content):
    (tmp_path / "plan.json").write_text(content)
    code, err = run_cli(["report", tmp_path, "--quiet"], capsys)
    assert code == 2 and "Traceback" not in err
    assert "plan.json" in err


def test_fifo_as_plan_json_is_refused(tmp_path, capsys):
    os.mkfifo(tmp_path / "plan.json")
    code, err = run_cli(["report", tmp_path / "plan.json", "--quiet"], capsys)
    assert code == 2 and "not a regular file" in err


def _bundle(path: Path, mrml: str, extra=()) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("scene/scene.mrml", mrml)
        for name, data in extra:
            archive.writestr(name, data)


def test_mrb_that_unpacks_beyond_the_limit_is_refused(tmp_path):
    from PVPGuideLib.mrml.bundle import load_scene_bundle
    from PVPGuideLib.mrml.errors import SceneBundleError

    path = tmp_path / "bomb.mrb"
    _bundle(path, "<MRML></MRML>", [("scene/Data/zeros.raw", bytes(64 << 20))])  # 64 MiB of zeros, ~64 KiB zipped
    with pytest.raises(SceneBundleError, match="--max-expansion"):
        load_scene_bundle(path)


def test_mrb_storage_node_outside_the_bundle_is_refused(tmp_path):
    from PVPGuideLib.mrml.bundle import load_scene_bundle
    from PVPGuideLib.mrml.errors import SceneBundleError

    path = tmp_path / "escape.mrb"
    mrml = ('<MRML version="Slicer4.4.0"><VolumeArchetypeStorage id="vtkMRMLVolumeArchetypeStorageNode1" '
            'name="s" fileName="/etc/passwd" /></MRML>')
    _bundle(path, mrml)
    with pytest.raises(SceneBundleError, match="outside the bundle"):
        load_scene_bundle(path)
