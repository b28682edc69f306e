"""Benchmark (not a test): the needle check end to end and one DRR per view on the 512x512 DICOM case.

The check: register T12 between the DICOM CT and a copy moved by 10 mm / 6 degrees with a needle burnt in, find
the needle, measure it. The DRRs: true AP and lateral, 120 mm at 0.5 mm pixels, rays through the whole CT.
Each figure is also given as a ratio to reading the CT from disk in the same run, so machines compare.
Run: PYTHONPATH=. .venv/bin/python Testing/benchmarks/bench_verify_drr.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from timing import best_of

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "totalseg_example"
sys.path.insert(0, str(ROOT / "Testing"))


_timed = best_of


def main() -> None:
    from operative_phantom import burn_needle, moved_ct

    from PVPGuideLib.core.geometry import VertebraFrame
    from PVPGuideLib.drr import project
    from PVPGuideLib.io.ct_io import read_ct, read_labelmap
    from PVPGuideLib.verify import check_needle
    from PVPGuideLib.verify.rigid import apply_points, apply_vectors, rigid_matrix

    folder = DATA / "dicom_T11_T12"
    if not folder.exists():
        print(f"skipped: {folder} is absent")
        return
    read_s, ct = _timed(lambda: read_ct(folder), repeat=2)
    mask = read_labelmap(DATA / "labels_dicom_T11_T12.nii.gz", ct).voxels == 32
    centre = ct.ijk_to_ras_points(np.argwhere(mask)[:, ::-1]).mean(axis=0)
    c, b = centre + [3.0, 5.0, 0.0], centre + [-20.0, -35.0, 0.0]
    move = rigid_matrix((3.0, -2.0, 5.0), (6.0, -5.0, 6.0), centre=centre)
    intraop = burn_needle(moved_ct(ct, move), apply_points(move, c), apply_vectors(move, c - b))
    verify_s, result = _timed(lambda: check_needle(ct, mask, intraop, b=b, c=c, side="left"), repeat=1)
    print(f"CT {ct.voxels.shape[::-1]} voxels, read {read_s:.2f} s")
    print(f"verify end to end: {verify_s:.2f} s ({verify_s / read_s:.1f} x reading the CT); tip error "
          f"{np.linalg.norm(result.tip - c):.2f} mm, axis error {result.angle_to_plan_deg:.2f} deg")
    frame = VertebraFrame.from_axes(origin=centre, right=(1, 0, 0), anterior=(0, 1, 0), superior=(0, 0, 1))
    for view in ("ap", "lateral"):
        seconds, drr = _timed(lambda view=view: project(ct, frame, view))
        print(f"DRR {view}: {seconds:.3f} s for {drr.line_integral.shape} pixels ({seconds / read_s:.2f} x reading)")


if __name__ == "__main__":
    main()
