"""Print docs/automatic-planning.md's real-anatomy table: L1-L5 of the TotalSegmentator 3 mm example, both sides.

Usage: .venv/bin/python scripts/realdata_table.py [DATA_DIR]   (default ../shared/data/totalseg_example)
"""

import sys
from pathlib import Path

from PVPGuideLib.io.ct_io import read_ct, read_labelmap
from PVPGuideLib.planning.proposal import propose_plan
from PVPGuideLib.planning.skin import skin_surface
from PVPGuideLib.vertebra import analyse_vertebra, vertebra_from_labels

LABELS = (31, 30, 29, 28, 27)  # L1-L5 (TotalSegmentator v2)


def _mm(value) -> str:
    if value is None:
        return "–"
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text.replace("-", "−")


def main(data: Path) -> None:
    ct = read_ct(data / "ct_T11_S1_3mm.nii.gz")
    labels = read_labelmap(data / "labels_T11_S1_3mm.nii.gz", ct)
    bodies = read_labelmap(data / "labels_vertebral_body_3mm.nii.gz", ct)
    analyses = [analyse_vertebra(vertebra_from_labels(ct, labels, value, parts=bodies)) for value in LABELS]
    plan = propose_plan(ct, skin_surface(ct), analyses, side="both", needle_gauge=13)
    print("| level | side | transverse | sagittal | AB | BC | AC | canal | medial wall | anterior cortex | "
          "endplates sup / inf | outside bone | C shift | verdict |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for t in plan.trajectories:
        checks = {name: check.get("distance_mm") for name, check in t.sections["safety"]["checks"].items()}
        adjustment = t.sections["proposal"]["adjustment"]
        v, s = t.angles_vertebra, t.angles_scanner
        print(f"| {t.level} | {t.side} | {_mm(v.transverse_deg)} / {_mm(s.transverse_deg)} | "
              f"{_mm(v.sagittal_deg)} / {_mm(s.sagittal_deg)} | {_mm(t.lengths.ab_mm)} | {_mm(t.lengths.bc_mm)} | "
              f"{_mm(t.lengths.ac_mm)} | {_mm(checks['spinal_canal'])} | {_mm(checks['medial_pedicle_wall'])} | "
              f"{_mm(checks['anterior_cortex'])} | {_mm(checks['superior_endplate'])} / "
              f"{_mm(checks['inferior_endplate'])} | {_mm(checks['lateral_escape'])} | "
              f"{_mm(adjustment['C_shift_mm'] if adjustment else 0.0)} | {t.sections['safety']['verdict']} |")
    print()
    levels = plan.sections["proposal"]["levels"]
    print("Recommended sides:", ", ".join(f"{level} {data['recommended_side']}" for level, data in levels.items()))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "data" / "totalseg_example")
