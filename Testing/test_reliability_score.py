"""Reliability of `score` and `report` outputs: one complete set, nothing of the user's overwritten or lost."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest
from reliability_helpers import (
    check_set,
    copy_plan,
    fmt,
    leftovers,
    plan_argv,
    plan_folder,
    run_cli,
    score_argv,
    small_ct,
    tree_hashes,
    write_score_inputs,
)

from PVPGuideLib.io.ct_io import write_volume

PICTURES = {"projection_ap.png", "projection_lateral.png"}


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """Score inputs and one score folder made from them."""
    root = tmp_path_factory.mktemp("score")
    inputs = write_score_inputs(root / "inputs")
    from PVPGuideLib.cli import main

    assert main([str(a) for a in score_argv(inputs, root / "score")]) == 0
    return root, inputs


def _copy_score(scored, tmp_path) -> Path:
    shutil.copytree(scored[0] / "score", tmp_path / "score")
    return tmp_path / "score"


def test_score_json_names_every_file_with_sha256(scored):
    data = check_set(scored[0] / "score", "score.json")
    assert set(data["files"]) == PICTURES
    assert leftovers(scored[0] / "score") == []


def test_rescore_replaces_the_set_and_keeps_the_inputs(scored, tmp_path, capsys):
    _, inputs = scored
    out = _copy_score(scored, tmp_path)
    before = tree_hashes(inputs["ct"].parent)
    compare = ["--predict-volume", "3", "--tip", fmt(inputs["tip"]), "--compare-conventional"]
    code, err = run_cli(score_argv(inputs, out, *compare), capsys)
    assert code == 0, err
    assert set(check_set(out, "score.json")["files"]) == PICTURES | {f"conventional_{p}" for p in PICTURES}
    # back to the segmentation: the comparison's pictures belong to the earlier set and go with it
    code, err = run_cli(score_argv(inputs, out, side="left"), capsys)
    assert code == 0, err
    data = check_set(out, "score.json")
    assert set(data["files"]) == PICTURES and data["side"] == "left"
    assert tree_hashes(inputs["ct"].parent) == before
    assert leftovers(out) == []


def test_failed_score_leaves_the_previous_set_and_nothing_else(scored, tmp_path, capsys, monkeypatch):
    _, inputs = scored
    out = _copy_score(scored, tmp_path)
    before = tree_hashes(out, inputs["ct"].parent)
    import PVPGuideLib.cli.score as score_command

    def disk_full(target, obj):  # the pictures are staged; score.json, the last file, finds the disk full
        Path(target).write_text("{")
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(score_command, "write_json_atomic", disk_full)
    code, err = run_cli(score_argv(inputs, out, side="left"), capsys)
    assert code == 2
    assert f"{out / 'score.json'}: the disk is full" in err  # the user's folder, never the staging folder
    assert ".pvpguide-" not in err and "[Errno" not in err
    assert tree_hashes(out, inputs["ct"].parent) == before
    assert leftovers(out) == []


def test_failed_first_score_leaves_nothing(scored, tmp_path, capsys, monkeypatch):
    _, inputs = scored
    import PVPGuideLib.cli.score as score_command

    def interrupted(target, obj):
        raise KeyboardInterrupt()

    monkeypatch.setattr(score_command, "write_json_atomic", interrupted)
    code, err = run_cli(score_argv(inputs, tmp_path / "new"), capsys)
    assert code == 130, err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_score_out_holding_an_input_is_refused(scored, tmp_path, capsys):
    _, inputs = scored
    shutil.copytree(inputs["ct"].parent, tmp_path / "inputs")
    local = {key: tmp_path / "inputs" / Path(value).name for key, value in inputs.items() if key != "tip"}
    before = tree_hashes(tmp_path)
    code, err = run_cli(score_argv(local, tmp_path / "inputs"), capsys)
    assert code == 2 and "lies inside --out" in err
    assert tree_hashes(tmp_path) == before and leftovers(tmp_path / "inputs") == []


@pytest.mark.parametrize("kind", ["users-file", "plan-folder"])
def test_score_never_replaces_files_it_did_not_write(scored, tmp_path, capsys, kind):
    _, inputs = scored
    out = tmp_path / "out"
    if kind == "users-file":
        out = _copy_score(scored, tmp_path)
        (out / "notes.txt").write_text("mine")
    else:  # a plan folder: PVPGuide's, but not a score set
        write_volume(small_ct(), tmp_path / "ct.nrrd")
        assert run_cli(plan_argv(tmp_path / "ct.nrrd", out), capsys)[0] == 0
    before = tree_hashes(tmp_path)
    code, err = run_cli(score_argv(inputs, out), capsys)
    assert code == 2 and "PVPGuide did not write" in err
    assert ("notes.txt" if kind == "users-file" else "plan.json") in err
    assert tree_hashes(tmp_path) == before


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """A CT and a plan folder made from it (paths relative to a common folder, as a user would have them)."""
    return plan_folder(tmp_path_factory.mktemp("work"))


def test_report_rewrites_report_html_only(planned, tmp_path, capsys):
    plan = copy_plan(planned, tmp_path)
    (plan / "report.html").write_text("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"> older")
    before = tree_hashes(tmp_path)
    code, err = run_cli(["report", plan, "--quiet", "--case-id", "P1"], capsys)
    assert code == 0, err
    after = tree_hashes(tmp_path)
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed == {str(plan / "report.html")} and set(after) == set(before)


@pytest.mark.parametrize("fault", ["disk-full", "ctrl-c"])
def test_failed_report_leaves_the_previous_report_intact(planned, tmp_path, capsys, monkeypatch, fault):
    plan = copy_plan(planned, tmp_path)
    before = tree_hashes(tmp_path)
    original = Path.write_bytes

    def half_then_fault(self, data):  # the report's bytes are half written when the fault comes
        original(self, data[: len(data) // 2])
        if fault == "ctrl-c":
            raise KeyboardInterrupt()
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_bytes", half_then_fault)
    code, err = run_cli(["report", plan, "--quiet", "--case-id", "P1"], capsys)
    monkeypatch.undo()
    assert code == (2 if fault == "disk-full" else 130), err
    if fault == "disk-full":
        assert f"{plan}: the disk is full" in err and ".tmp" not in err
    assert tree_hashes(tmp_path) == before  # report.html as it was, no temporary file left
