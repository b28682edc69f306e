"""`pvpguide report`: (re)draw report.html, optionally a PDF, from a plan folder's plan.json and its CT."""

from __future__ import annotations

from pathlib import Path

from ..errors import PVPGuideError
from ..progress import Steps
from .common import add_summary_options, print_json, progress_for, say, warn

NAME = "report"
HELP = "draw the planning report (report.html, optional PDF) from a plan folder written by plan or demo"
EPILOG = """examples:
  pvpguide report pvpguide-demo                      # rewrites pvpguide-demo/report.html
  pvpguide report plan-L1/plan.json --pdf            # also plan-L1/report.pdf (needs Chromium)
  pvpguide report plan-L1 --out L1.html --case-id P017 --created 2026-11-22

The report renders every section plan.json holds (safety, cement, guide, ...) and says which steps
were not run. The CT is read from the path in plan.json (relative to the plan folder); without it
the report has no slices and no bone in the 3D view. plan.json itself is not changed.
Exit codes: 0 done, 2 bad input, 1 internal error."""


def add_arguments(parser) -> None:
    parser.add_argument("plan", help="plan folder (holding plan.json) or the plan.json file")
    parser.add_argument("--out", help="report file (default: report.html beside plan.json)")
    parser.add_argument("--pdf", action="store_true", help="also print a PDF beside the report (needs Chromium)")
    parser.add_argument("--case-id", help="case name shown in the report's heading")
    parser.add_argument("--created", help="date/time text shown in the report (none by default: same plan, same bytes)")
    add_summary_options(parser)


def plan_json_path(given) -> Path:
    path = Path(given)
    path = path / "plan.json" if path.is_dir() else path
    if not path.is_file():
        raise PVPGuideError(f"no plan.json at {path}: give a folder written by 'pvpguide plan' or 'pvpguide demo'")
    return path


def read_plan_json(path: Path) -> dict:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PVPGuideError(f"{path} is not valid JSON ({error})") from None
    if not isinstance(data, dict) or not str(data.get("schema", "")).startswith("pvpguide.plan/"):
        raise PVPGuideError(f"{path} is not a PVPGuide plan (schema pvpguide.plan/1 expected)")
    return data


def load_ct_and_skin(data: dict, base_dir: Path):
    """The plan's CT and skin surface, or (None, None, reason) when the CT cannot be read."""
    from ..ct_io import read_ct
    from ..skin import SKIN_THRESHOLD_HU, skin_surface

    recorded = (data.get("ct") or {}).get("path")
    if not recorded:
        return None, None, "plan.json records no CT path"
    recorded = Path(recorded)
    # `pvpguide plan` records --ct as typed: relative to where it ran; `demo` records it relative to the plan
    candidates = [recorded] if recorded.is_absolute() else [base_dir / recorded, recorded]
    path = next((c for c in candidates if c.exists()), None)
    if path is None:
        return None, None, f"the CT {recorded} named in plan.json is not there"
    ct = read_ct(path)
    threshold = (data.get("skin") or {}).get("threshold_hu", SKIN_THRESHOLD_HU)
    return ct, skin_surface(ct, threshold_hu=threshold), None


def run(args) -> int:
    from ..report import write_report

    steps = Steps(["reading the plan", "reading the CT", "drawing the report"], progress_for(args))
    steps.start("reading the plan")
    json_path = plan_json_path(args.plan)
    data = read_plan_json(json_path)
    steps.start("reading the CT")
    ct, skin, reason = load_ct_and_skin(data, json_path.parent)
    if reason:
        warn(f"{reason}: the report has no CT slices and no bone in the 3D view")
    steps.start("drawing the report")
    out = Path(args.out) if args.out else json_path.parent / "report.html"
    written = write_report(data, out, ct=ct, skin_mesh=None if skin is None else skin.mesh, base_dir=json_path.parent,
                           case_id=args.case_id, created=args.created, pdf=args.pdf)
    steps.done()
    for problem in written.problems:
        warn(f"report: {problem}")
    if args.pdf and written.pdf is None:
        warn("no PDF: Chromium is not installed (scripts/install_chromium.sh installs it on Debian)")
    summary = {"report": str(written.html), "pdf": None if written.pdf is None else str(written.pdf),
               "problems": list(written.problems)}
    if args.json:
        print_json(summary)
    else:
        say(args, f"wrote {written.html}" + (f" and {written.pdf}" if written.pdf else ""))
    return 0
