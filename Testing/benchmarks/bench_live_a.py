"""Benchmark: A follows B and C live on the 512 x 512 DICOM sample; time per move of B or C (target < 30 ms).

Run: PYTHONPATH=. .venv/bin/python Testing/benchmarks/bench_live_a.py   (needs slicer-core and ../shared/data)
Prints the one-time cost (skin surface and its ray index) and, per move, the live update through the markups
observer (A re-found, needle model, lengths, offsets) against a full search of every skin triangle.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "totalseg_example"
MOVES = 60


def main() -> int:
    if not (DATA / "dicom_T11_T12").is_dir():
        print(f"the DICOM sample {DATA / 'dicom_T11_T12'} is missing", file=sys.stderr)
        return 1
    from PVPGuideLib.io.ct_io import read_ct, read_labelmap
    from PVPGuideLib.mrml.planning_live import skin_index
    from PVPGuideLib.mrml.planning_logic import PlanningLogic
    from PVPGuideLib.mrml.planning_session import PlanningSession
    from PVPGuideLib.mrml.scene import new_scene
    from PVPGuideLib.mrml.volumes import volume_node_from_ct
    from PVPGuideLib.planning.proposal import propose_plan
    from PVPGuideLib.planning.skin import find_skin_entry
    from PVPGuideLib.vertebra import analyse_vertebra, vertebra_from_labels

    ct = read_ct(DATA / "dicom_T11_T12")
    labels = read_labelmap(DATA / "labels_dicom_T11_T12.nii.gz", ct)
    (t,) = propose_plan(ct, None, [analyse_vertebra(vertebra_from_labels(ct, labels, 32))], side="auto").trajectories
    b0, c0 = np.asarray(t.b, float), np.asarray(t.c, float)

    handle = new_scene()
    logic = PlanningLogic(handle)
    logic.select_ct(volume_node_from_ct(handle.scene, ct, "CT"))
    logic.set_point("B", b0)
    logic.set_point("C", c0)
    start = time.perf_counter()
    index = skin_index(logic, logic.settings()["skinThresholdHu"])
    once = time.perf_counter() - start
    session = PlanningSession(logic)
    session.enter()

    rng = np.random.default_rng(0)
    live, full = [], []
    for move in range(MOVES):
        name = "B" if move % 2 == 0 else "C"
        target = (b0 if name == "B" else c0) + rng.uniform(-2.0, 2.0, 3)  # small drags around the proposed path
        node = logic.node("point" + name)
        start = time.perf_counter()
        node.SetNthControlPointPositionWorld(0, *target)  # the observer updates A, needle, lengths, offsets
        live.append(time.perf_counter() - start)
        b, c = logic.point("B"), logic.point("C")
        start = time.perf_counter()
        reference = find_skin_entry(index.skin, b, c)
        full.append(time.perf_counter() - start)
        assert np.allclose(logic.point("A"), reference.point, atol=1e-9), "the live A differs from the full search"
    session.exit()
    live_ms, full_ms = np.array(live) * 1000, np.array(full) * 1000
    print(f"CT {ct.shape_ijk} voxels, skin {len(index.skin.mesh.faces)} triangles")
    print(f"once per CT and threshold: skin surface and ray index {once:.2f} s")
    print(f"live update per move of B or C ({MOVES} moves): median {np.median(live_ms):.1f} ms, "
          f"95th percentile {np.percentile(live_ms, 95):.1f} ms, max {live_ms.max():.1f} ms (target < 30 ms)")
    print(f"full search of every skin triangle, for comparison: median {np.median(full_ms):.1f} ms "
          f"(live update / full search alone: {np.median(live_ms) / np.median(full_ms):.2f})")
    return 0 if np.median(live_ms) < 30.0 else 1


if __name__ == "__main__":
    sys.exit(main())
