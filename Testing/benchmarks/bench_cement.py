"""Benchmark (not a test): cement prediction and scoring on the phantom, a 512x512 phantom grid and the real DICOM.

Targets (issue 5): scoring under 1 s, prediction under 2 s per level. Prints the best of three runs in
seconds and the peak memory of each step (tracemalloc: Python/numpy allocations during the step).
Run: .venv/bin/python Testing/benchmarks/bench_cement.py
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "totalseg_example"

from PVPGuideLib.cement import analyse_body, frame_from_segmentation, predict_cement, score_cement  # noqa: E402
from PVPGuideLib.cement.split import split_body  # noqa: E402


def _measure(fn, repeat=3):
    """(best seconds, peak MB of one run, result)."""
    tracemalloc.start()
    result = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, peak / 2**20, result


def _report(name, ct, body_mask, frame, tip, entry, volume_ml=4.5):
    shape = "x".join(str(n) for n in ct.voxels.shape[::-1])
    print(f"\n{name}: grid {shape} (i x j x k), spacing {np.round(ct.spacing, 3).tolist()} mm, "
          f"body {body_mask.sum() * abs(np.linalg.det(ct.ijk_to_ras[:3, :3])) / 1000:.1f} ml")
    t, mb, body = _measure(lambda: analyse_body(ct, body_mask, frame))
    print(f"  body analysis        {t:6.3f} s  peak {mb:7.1f} MB")
    t, mb, prediction = _measure(lambda: predict_cement(ct, body_mask, tip, volume_ml, entry_ras=entry))
    print(f"  prediction {volume_ml} ml    {t:6.3f} s  peak {mb:7.1f} MB")
    t, mb, scores = _measure(lambda: score_cement(body, prediction.mask, side="left", tip_ras=tip))
    print(f"  scoring              {t:6.3f} s  peak {mb:7.1f} MB  "
          f"(PSBCV/VV {scores.psbcv_vv_percent:.2f} %, score {scores.distribution_score}/8)")


def bench_phantom(spacing, name):
    from PVPGuideLib.phantom.build import generate_phantom

    phantom = generate_phantom(seed=0, spacing=spacing)
    truth = phantom.truth["levels"]["L1"]
    body = (phantom.labels.voxels == 31) & (phantom.parts.voxels == 1)
    plan = truth["plans"]["left"]
    _report(name, phantom.ct, body, truth["frame"], plan["C"], plan["B"])


def bench_dicom():
    if not (DATA / "dicom_T11_T12").is_dir():
        print(f"\nreal DICOM: skipped, {DATA / 'dicom_T11_T12'} not found")
        return
    from PVPGuideLib.io.ct_io import read_ct, read_labelmap

    ct = read_ct(DATA / "dicom_T11_T12")
    vertebra = read_labelmap(DATA / "labels_dicom_T11_T12.nii.gz", ct).voxels == 32  # T12
    body, posterior = split_body(ct, vertebra)
    frame = frame_from_segmentation(ct, body, posterior)
    # C: 8 mm right of the body centre, 5 mm forward; entry B: left, at the posterior elements
    tip = frame.origin + 8.0 * frame.right + 5.0 * frame.anterior
    entry = frame.origin - 20.0 * frame.right - 28.0 * frame.anterior
    _report("real DICOM T12 (body split from the vertebra label)", ct, body, frame, tip, entry, volume_ml=3.0)


if __name__ == "__main__":
    bench_phantom((0.9, 0.9, 2.0), "phantom (default grid)")
    bench_phantom((0.57, 0.57, 1.0), "phantom on a 512x512 grid")
    bench_dicom()
