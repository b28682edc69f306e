"""Reliability: a plan run killed at random moments leaves --out holding one complete set (old or new)."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from reliability_helpers import check_set, plan_argv, small_ct

from PVPGuideLib.ct_io import write_volume

ROOT = Path(__file__).resolve().parents[1]
SIGNALS = (signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGKILL)  # four kills: about a minute on 2 cores


def _start(argv) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "PVPGuideLib.cli", *map(str, argv)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_killed_plan_runs_leave_one_complete_set(tmp_path):
    write_volume(small_ct(), tmp_path / "ct.nrrd")
    ct_hash = _digest(tmp_path / "ct.nrrd")
    out = tmp_path / "plan"
    started = time.monotonic()
    first = _start(plan_argv(tmp_path / "ct.nrrd", out, "--needle-gauge", "13"))
    assert first.wait(timeout=600) == 0, first.stderr.read()
    duration = time.monotonic() - started
    previous = 13

    rng = random.Random(13)
    gauges = [11, 10, 8, 11]
    for kill, gauge in zip(SIGNALS, gauges):
        process = _start(plan_argv(tmp_path / "ct.nrrd", out, "--needle-gauge", str(gauge)))
        time.sleep(rng.uniform(0.2, duration))  # anywhere from start-up to the swap of the folders
        process.send_signal(kill)
        code = process.wait(timeout=600)
        stderr = process.stderr.read()
        assert "Traceback" not in stderr, stderr
        if kill == signal.SIGINT and code != 0:
            assert code == 130, stderr
        if kill == signal.SIGTERM and code != 0:
            assert code == 143, stderr
        data = check_set(out)  # plan.json and exactly the files it names, with their hashes
        # the previous complete set, or this run's when the kill came after the swap (or the run had ended)
        assert data["needle_gauge"] == (gauge if code == 0 else data["needle_gauge"])
        assert data["needle_gauge"] in (previous, gauge)
        previous = data["needle_gauge"]
        assert _digest(tmp_path / "ct.nrrd") == ct_hash
        if kill != signal.SIGKILL:  # a run that could clean up left no hidden folder
            assert not list(tmp_path.glob(".pvpguide-*")), os.listdir(tmp_path)

    # the next complete run removes what the killed ones left and writes a whole set
    last = _start(plan_argv(tmp_path / "ct.nrrd", out, "--needle-gauge", "13"))
    assert last.wait(timeout=600) == 0, last.stderr.read()
    assert check_set(out)["needle_gauge"] == 13
    assert not list(tmp_path.glob(".pvpguide-*"))
