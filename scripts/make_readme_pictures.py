"""Make the README pictures (docs/images/*.png) with the report renderer on the bundled sample (the demo phantom).

Usage: .venv/bin/python scripts/make_readme_pictures.py [--out docs/images]
Runs `pvpguide demo` into a temporary folder, adds a cement prediction when the demo has none, draws the
report and saves its pictures; with Chromium installed also a screenshot of the report's first screen.
Deterministic: the same code gives the same pictures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PVPGuideLib.cli import main as pvpguide  # noqa: E402
from PVPGuideLib.io.atomic_io import write_bytes_atomic, write_json_atomic  # noqa: E402
from PVPGuideLib.io.ct_io import read_ct, read_labelmap  # noqa: E402
from PVPGuideLib.planning.skin import skin_surface  # noqa: E402
from PVPGuideLib.report import write_report  # noqa: E402
from PVPGuideLib.report.chromium import find_chromium, run_headless  # noqa: E402

PICTURE_NAMES = {"view3d": "report_3d.png", "slice_axial": "report_axial.png", "slice_sagittal": "report_sagittal.png",
                 "projection_ap": "report_projection_ap.png", "projection_lateral": "report_projection_lateral.png"}


def add_cement_prediction(plan_dir: Path, data: dict) -> None:
    """The demo plan's cement section and projection pictures, predicted on the phantom's own L1 body label."""
    from PVPGuideLib.cement import write_projection_pngs
    from PVPGuideLib.cement.plan_section import plan_cement

    truth = json.loads((plan_dir / "sample" / "truth.json").read_text(encoding="utf-8"))
    ct = read_ct(plan_dir / "sample" / "ct.nrrd")
    labels = read_labelmap(plan_dir / "sample" / "labels.nrrd", ct).voxels
    parts = read_labelmap(plan_dir / "sample" / "parts.nrrd", ct).voxels
    vertebra = labels == truth["label_ids"]["L1"]
    body = vertebra & (parts == truth["part_ids"]["body"])
    posterior = vertebra & (parts == truth["part_ids"]["posterior_elements"])
    for t in data["trajectories"]:
        if t.get("cement") is not None:
            continue
        frame = t.get("vertebra_frame")
        planned = plan_cement(ct, body, side=t["side"], c=np.array(t["points"]["C"]), b=np.array(t["points"]["B"]),
                              frame=frame, posterior_mask=posterior, compare=False)
        prefix = f"{t['level']}_{t['side']}_"
        files = write_projection_pngs(planned.scores, plan_dir, prefix=prefix)
        t["cement"] = {**planned.section, "projections": {view: path.name for view, path in files.items()}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"), help="picture folder (default docs/images)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    with tempfile.TemporaryDirectory(prefix="pvpguide-readme-") as tmp:
        plan_dir = Path(tmp) / "demo"
        if pvpguide(["demo", "--out", str(plan_dir), "--quiet"]) != 0:
            print("make_readme_pictures: pvpguide demo failed", file=sys.stderr)
            return 1
        data = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))
        add_cement_prediction(plan_dir, data)
        write_json_atomic(plan_dir / "plan.json", data)
        ct = read_ct(plan_dir / data["ct"]["path"])
        written = write_report(data, plan_dir / "report.html", ct=ct, skin_mesh=skin_surface(ct).mesh)
        for name, png in sorted(written.pictures[0].items()):
            if name in PICTURE_NAMES:
                write_bytes_atomic(out / PICTURE_NAMES[name], png)
                print(f"wrote {out / PICTURE_NAMES[name]}")
        if find_chromium() is not None:
            shot = out / "report_page.png"
            run_headless(["--window-size=1150,1500", f"--screenshot={shot}", written.html.resolve().as_uri()])
            print(f"wrote {shot}")
        else:
            print("no Chromium: report_page.png not made (scripts/install_chromium.sh installs it)")
        for problem in written.problems:
            print(f"make_readme_pictures: warning: {problem}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
