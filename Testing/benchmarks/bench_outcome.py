"""Benchmark (not a test): `outcome` on the 512x512 DICOM case, with a simulated post-operative CT.

The post-operative CT: the DICOM CT moved by 6 mm / 4 degrees, an ellipsoid of cement (2500 HU, 1.5 ml) in
T12's body; its labels moved the same way. Timed: measure_outcome (analyses of T12 and its neighbours,
registration, heights, recovery, cement scores) and the report's pictures and HTML. Ratios to reading the CT.
Run: PYTHONPATH=. .venv/bin/python Testing/benchmarks/bench_outcome.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "totalseg_example"
sys.path.insert(0, str(ROOT / "Testing"))


def main() -> None:
    from operative_phantom import add_cement, moved_ct, moved_labels

    from PVPGuideLib.cement.projections import projection_rgb
    from PVPGuideLib.fracture import adjacent_analyses, measure_fracture
    from PVPGuideLib.fracture.picture import mid_sagittal_rgb
    from PVPGuideLib.io.ct_io import read_ct, read_labelmap
    from PVPGuideLib.outcome.report import outcome_html
    from PVPGuideLib.outcome.run import measure_outcome
    from PVPGuideLib.verify.rigid import rigid_matrix
    from PVPGuideLib.vertebra import analyse_vertebra, vertebra_from_labels

    folder = DATA / "dicom_T11_T12"
    if not folder.exists():
        print(f"skipped: {folder} is absent")
        return
    start = time.perf_counter()
    ct = read_ct(folder)
    read_s = time.perf_counter() - start
    labels = read_labelmap(DATA / "labels_dicom_T11_T12.nii.gz", ct)
    analysis = analyse_vertebra(vertebra_from_labels(ct, labels, 32, level="T12"))
    above, below, notes = adjacent_analyses(ct, labels, 32)
    pre = measure_fracture(analysis, above=above, below=below, neighbour_notes=notes).to_json()
    centre = analysis.body_centre
    plan = {"trajectories": [{"level": "T12", "side": "left", "points": {"C": list(centre)}}], "fracture": {"T12": pre}}
    move = rigid_matrix((2.0, -2.0, 3.0), (4.0, -3.0, 3.0), centre=centre)
    cemented, volume_ml = add_cement(ct, centre, (8.0, 6.0, 4.0), analysis.frame.rotation)
    postop, postop_labels = moved_ct(cemented, move), moved_labels(labels, move)
    start = time.perf_counter()
    outcome = measure_outcome(plan, ct, postop, postop_labels)
    measured = time.perf_counter() - start
    data = outcome.to_json()
    m = outcome.post_measurement
    pictures = {"mid": mid_sagittal_rgb(postop, outcome.analysis, m.heights),
                "ap": projection_rgb(outcome.cement.ap), "lateral": projection_rgb(outcome.cement.lateral)}
    outcome_html(data, pictures)
    total = time.perf_counter() - start
    print(f"CT {ct.voxels.shape[::-1]} voxels, read {read_s:.2f} s; notes: {notes}")
    print(f"outcome measured in {measured:.2f} s, with pictures and HTML {total:.2f} s ({total / read_s:.1f} x reading);"
          f" cement {outcome.cement.bcv_ml:.2f} ml of {volume_ml:.2f}; registration correlation "
          f"{outcome.registration.correlation:.3f}")


if __name__ == "__main__":
    main()
