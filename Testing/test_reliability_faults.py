"""Reliability: plan, score and demo runs killed at random moments leave --out holding one complete set (old or new)."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from reliability_helpers import check_set, plan_argv, score_argv, small_ct, write_score_inputs

from PVPGuideLib.io.ct_io import write_volume

ROOT = Path(__file__).resolve().parents[1]


def _start(argv) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "PVPGuideLib.cli", *map(str, argv)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _tree_digest(folder: Path) -> dict:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def _kill_runs(out: Path, argv_of, variants, signals, seed, value_of, manifest="plan.json", inputs=None):
    """Run argv_of(variants[0]) to the end, then one run per (signal, variant) killed at a random moment.

    After each kill --out must hold exactly one complete set (its manifest names every other file with its
    SHA-256), and that set must be the previous one or the killed run's own; the inputs never change; then a
    complete run leaves one set and no staging folder.
    """
    inputs_before = _tree_digest(inputs) if inputs else {}
    started = time.monotonic()
    first = _start(argv_of(variants[0]))
    assert first.wait(timeout=900) == 0, first.stderr.read()
    duration = time.monotonic() - started
    previous = variants[0]
    rng = random.Random(seed)
    for kill, variant in zip(signals, variants[1:]):
        process = _start(argv_of(variant))
        time.sleep(rng.uniform(0.2, duration))  # anywhere from start-up to the swap of the folders
        process.send_signal(kill)
        code = process.wait(timeout=900)
        stderr = process.stderr.read()
        assert "Traceback" not in stderr, stderr
        if kill == signal.SIGINT and code != 0:
            assert code == 130, stderr
        if kill == signal.SIGTERM and code != 0:
            assert code == 143, stderr
        data = check_set(out, manifest)  # the manifest and exactly the files it names, with their hashes
        value = value_of(data)
        # the previous complete set, or this run's when the kill came after the swap (or the run had ended)
        assert value == variant if code == 0 else value in (previous, variant), (kill, code, value)
        previous = value
        if inputs:
            assert _tree_digest(inputs) == inputs_before
        if kill != signal.SIGKILL:  # a run that could clean up left no hidden folder (an earlier SIGKILL's may wait)
            assert not list(out.parent.glob(f".pvpguide-{out.name}.{process.pid}.*")), os.listdir(out.parent)
    # the next complete run removes what the killed ones left and writes a whole set
    last = _start(argv_of(variants[0]))
    assert last.wait(timeout=900) == 0, last.stderr.read()
    assert value_of(check_set(out, manifest)) == variants[0]
    assert not list(out.parent.glob(".pvpguide-*")), os.listdir(out.parent)


def test_killed_plan_runs_leave_one_complete_set(tmp_path):
    write_volume(small_ct(), tmp_path / "inputs" / "ct.nrrd")
    out = tmp_path / "plan"
    _kill_runs(out, lambda gauge: plan_argv(tmp_path / "inputs" / "ct.nrrd", out, "--needle-gauge", str(gauge)),
               [13, 11, 10, 8, 11], (signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGKILL), seed=13,
               value_of=lambda data: data["needle_gauge"], inputs=tmp_path / "inputs")


def test_killed_score_runs_leave_one_complete_set(tmp_path):
    inputs = write_score_inputs(tmp_path / "inputs")
    out = tmp_path / "score"
    # the sides differ in the recorded side; the comparison adds two pictures, so a mix would show
    extra = {"right": (), "left": ("--predict-volume", "3", "--tip", ",".join(map(str, inputs["tip"])),
                                   "--compare-conventional")}
    _kill_runs(out, lambda side: score_argv(inputs, out, *extra[side], side=side), ["right", "left", "right", "left"],
               (signal.SIGTERM, signal.SIGKILL, signal.SIGINT), seed=131, value_of=lambda data: data["side"],
               manifest="score.json", inputs=tmp_path / "inputs")


def test_killed_demo_runs_leave_one_complete_set(tmp_path):
    out = tmp_path / "demo"
    # two kills only: a demo run takes most of a minute on a busy machine
    _kill_runs(out, lambda side: ["demo", "--side", side, "--out", out, "--quiet"], ["left", "right", "left"],
               (signal.SIGTERM, signal.SIGKILL), seed=132, value_of=lambda data: data["trajectories"][0]["side"])
