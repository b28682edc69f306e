"""Benchmark (not a test): `pvpguide demo` end to end, and skin + ray on the real 3 mm CT and 512x512 DICOM case.

Each step is also given as a ratio to reading the same CT from disk, measured in the same run, so the
figures compare across machines. Peak memory is the process's maximum resident set size.
Run: .venv/bin/python Testing/benchmarks/bench_foundation.py
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from timing import best_of

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "totalseg_example"


_timed = best_of


def _peak_mb(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0


def bench_demo() -> None:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run([str(ROOT / ".venv" / "bin" / "pvpguide"), "demo", "--quiet", "--out", out], check=True)
        elapsed = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import slicer, PVPGuideLib.phantom.build"], check=True)
    baseline = time.perf_counter() - start
    print(f"pvpguide demo end to end: {elapsed:.2f} s = {elapsed / baseline:.1f} x importing slicer-core "
          f"({baseline:.2f} s); peak memory {_peak_mb(resource.RUSAGE_CHILDREN):.0f} MB")


def bench_real(name: str, ct_path: Path, labels_path: Path, label: int) -> None:
    from PVPGuideLib.io.ct_io import read_ct, read_labelmap
    from PVPGuideLib.planning.skin import find_skin_entry, skin_surface

    read_s, ct = _timed(lambda: read_ct(ct_path))
    labels = read_labelmap(labels_path, ct)
    ijk = np.argwhere(labels.voxels == label)[:, ::-1].mean(axis=0)
    centre = ct.ijk_to_ras_points(ijk)[0]
    skin_s, skin = _timed(lambda: skin_surface(ct))
    ray_s, entry = _timed(lambda: find_skin_entry(skin, centre + [-15, -25, 0], centre + [5, 8, 0]), repeat=5)
    print(f"{name} {ct.shape_ijk}: read {read_s:.3f} s; skin surface {skin_s:.3f} s ({skin_s / read_s:.1f} x read, "
          f"{len(skin.mesh.faces)} triangles); skin entry ray {1000 * ray_s:.1f} ms ({ray_s / read_s:.2f} x read), "
          f"{entry.status.value}; peak memory {_peak_mb():.0f} MB")


def main() -> None:
    bench_demo()
    if not DATA.is_dir():
        print(f"real CT benchmarks skipped: {DATA} is absent")
        return
    bench_real("3 mm CT (L1)", DATA / "ct_T11_S1_3mm.nii.gz", DATA / "labels_T11_S1_3mm.nii.gz", 31)
    bench_real("512x512 DICOM (T12)", DATA / "dicom_T11_T12", DATA / "labels_dicom_T11_T12.nii.gz", 32)


if __name__ == "__main__":
    main()
