"""Benchmark (not a test): automatic planning of one level, from a segmentation and from the CT alone.

On the bundled phantom (L1) and the 512x512 DICOM case (T12), plus the 3 mm CT (L1) from its labels and body
split. "Proposal" = vertebra input + analysis + B and C for both sides with their safety checks (A needs the
skin, timed in bench_foundation.py). Each is also a ratio to reading the same CT in the same run. Peak memory:
the step's own allocations (tracemalloc; numpy arrays included) and the process's maximum resident set.
Target: under 2 s per level on the 2-core development machine.
Run: .venv/bin/python Testing/benchmarks/bench_proposal.py
"""

from __future__ import annotations

import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "totalseg_example"


def _measure(fn):
    """(seconds, peak MB allocated by fn, result or the error it raised)."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        result = fn()
    except ValueError as error:  # a clear error is a result too
        result = error
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak / 2**20, result


def _propose(make_masks):
    from PVPGuideLib.planning.proposal import propose_points
    from PVPGuideLib.planning.safety import check_safety
    from PVPGuideLib.vertebra import analyse_vertebra

    analysis = analyse_vertebra(make_masks())
    for side in ("left", "right"):
        points = propose_points(analysis, side)
        check_safety(analysis, b=points.b, c=points.c, side=side)
    return analysis


def _report(case: str, source: str, read_s: float, measured) -> None:
    seconds, peak, result = measured
    outcome = "ok" if not isinstance(result, Exception) else f"clear error: {str(result)[:90]}..."
    print(f"  {case} from {source}: {seconds:.2f} s ({seconds / read_s:.1f} x reading the CT), step peak "
          f"{peak:.0f} MB, process peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB - {outcome}")


def bench_phantom() -> None:
    from PVPGuideLib.io.ct_io import read_ct, read_labelmap
    from PVPGuideLib.phantom.build import generate_phantom, write_phantom
    from PVPGuideLib.vertebra import vertebra_from_ct, vertebra_from_labels

    p = generate_phantom()
    with tempfile.TemporaryDirectory() as folder:
        paths = write_phantom(p, folder)
        read_s, _, ct = _measure(lambda: read_ct(paths["ct"]))
        labels = read_labelmap(paths["labels"], ct)
    centre = p.truth["levels"]["L1"]["body_centre"]
    print(f"phantom {ct.shape_ijk} ({', '.join(f'{s:g}' for s in ct.spacing)} mm): read {read_s:.2f} s")
    _report("L1", "its label", read_s, _measure(lambda: _propose(lambda: vertebra_from_labels(ct, labels, 31))))
    _report("L1", "the CT alone (seed)", read_s,
            _measure(lambda: _propose(lambda: vertebra_from_ct(ct, seed=centre, level="L1"))))


def bench_real() -> None:
    from PVPGuideLib.io.ct_io import read_ct, read_labelmap
    from PVPGuideLib.vertebra import vertebra_from_ct, vertebra_from_labels

    read_s, _, ct = _measure(lambda: read_ct(DATA / "dicom_T11_T12"))
    labels = read_labelmap(DATA / "labels_dicom_T11_T12.nii.gz", ct)
    seed = ct.ijk_to_ras_points(np.argwhere(labels.voxels == 32)[:, ::-1].mean(axis=0))[0]
    print(f"512x512 DICOM {ct.shape_ijk}: read {read_s:.2f} s")
    _report("T12", "its label", read_s, _measure(lambda: _propose(lambda: vertebra_from_labels(ct, labels, 32))))
    _report("T12", "the CT alone (seed)", read_s,
            _measure(lambda: _propose(lambda: vertebra_from_ct(ct, seed=seed, level="T12"))))
    read_s, _, ct = _measure(lambda: read_ct(DATA / "ct_T11_S1_3mm.nii.gz"))
    labels = read_labelmap(DATA / "labels_T11_S1_3mm.nii.gz", ct)
    bodies = read_labelmap(DATA / "labels_vertebral_body_3mm.nii.gz", ct)
    print(f"3 mm CT {ct.shape_ijk}: read {read_s:.2f} s")
    _report("L1", "its label and body split", read_s,
            _measure(lambda: _propose(lambda: vertebra_from_labels(ct, labels, 31, parts=bodies))))


def main() -> None:
    bench_phantom()
    if not DATA.is_dir():
        print(f"real CT benchmarks skipped: {DATA} is absent")
        return
    bench_real()


if __name__ == "__main__":
    main()
