"""Benchmark (not a test): finding a skin grid locator on the 512x512 DICOM case and the 3 mm CT.

A 10 mm grid (1 mm wires, turned 12 degrees) is burnt onto each back first (Testing/grid_burn.py), then
detect_grid is timed (best of 3) and compared with reading the same CT in the same run. Also reported: the
found spacing and the wire fit residual. Target: under 2 s on the 512x512 case on the 2-core machine.
Run: .venv/bin/python Testing/benchmarks/bench_grid.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "totalseg_example"
sys.path.insert(0, str(ROOT / "Testing"))


def _best_of(fn, runs: int = 3):
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> int:
    from grid_burn import SkinHeightDrape

    from PVPGuideLib.grid import detect_grid
    from PVPGuideLib.io.ct_io import read_ct
    from PVPGuideLib.phantom.grid import GridLayout, burn_grid

    if not DATA.is_dir():
        print(f"skipped: {DATA} is absent")
        return 0
    for name, path in (("512x512 DICOM (T11-T12)", DATA / "dicom_T11_T12"), ("3 mm CT (T11-S1)", DATA / "ct_T11_S1_3mm.nii.gz")):
        read_s, ct = _best_of(lambda path=path: read_ct(path), runs=1)
        lo, hi = ct.bounds_ras()
        centre = 0.5 * (lo + hi)
        drape = SkinHeightDrape(ct, centre_r=float(centre[0]), centre_s=float(centre[2]))
        burnt, _ = burn_grid(ct, GridLayout(spacing_mm=10.0, rotation_deg=12.0, rows=9, columns=13), drape)
        seconds, grid = _best_of(lambda burnt=burnt: detect_grid(burnt))
        print(f"{name}: {ct.shape_ijk} voxels {tuple(round(float(s), 2) for s in ct.spacing)} mm; "
              f"detect_grid {seconds:.2f} s ({seconds / read_s:.2f} x reading the CT, {read_s:.2f} s); "
              f"spacing {grid.spacing_mm:.2f} mm (true 10), {grid.rows} rows x {grid.columns} columns, "
              f"fit residual {grid.fit_residual_mm:.2f} mm RMS")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
