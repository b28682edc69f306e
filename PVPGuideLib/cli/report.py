"""`pvpguide report`: (re)draw report.html, optionally a PDF, from a plan folder's plan.json and its CT."""

from __future__ import annotations

from pathlib import Path

from ..core.progress import Steps
from ..errors import PVPGuideError
from .common import add_summary_options, print_json, progress_for, say, warn
from .plan_input import check_ct_matches_plan, plan_ct_path, plan_json_path, read_plan_json

NAME = "report"
HELP = "draw the planning report (report.html, optional PDF) from a plan folder written by plan or demo"
EPILOG = """examples:
  pvpguide report pvpguide-demo                      # rewrites pvpguide-demo/report.html
  pvpguide report plan-L1/plan.json --pdf            # also plan-L1/report.pdf (needs Chromium)
  pvpguide report plan-L1 --out L1.html --case-id P017 --created 2026-11-22

The report renders every section plan.json holds (safety, cement, guide, ...) and says which steps
were not run. The CT is read from the path in plan.json (relative to the plan folder); without it
the report has no slices and no bone in the 3D view; a CT that differs from the one plan.json
records (size, spacing, direction, voxel hash) is refused. plan.json itself is not changed, and --out
never overwrites plan.json, the plan's CT or any file that is not a PVPGuide report.
Exit codes: 0 done, 2 bad input, 1 internal error."""


def add_arguments(parser) -> None:
    parser.add_argument("plan", help="plan folder (holding plan.json) or the plan.json file")
    parser.add_argument("--out", help="report file (default: report.html beside plan.json)")
    parser.add_argument("--pdf", action="store_true", help="also print a PDF beside the report (needs Chromium)")
    parser.add_argument("--case-id", help="case name shown in the report's heading")
    parser.add_argument("--created", help="date/time text shown in the report (none by default: same plan, same bytes)")
    add_summary_options(parser)


def load_ct_and_skin(data: dict, base_dir: Path):
    """The plan's CT and skin surface, or (None, None, reason) when the CT is not there.

    A relative CT path is relative to the plan folder (never the working folder); the CT read must be the
    plan's own (check_ct_matches_plan).
    """
    from ..io.ct_io import read_ct
    from ..planning.skin import SKIN_THRESHOLD_HU, skin_surface

    path, reason = plan_ct_path(data, base_dir)
    if path is None:
        return None, None, reason
    ct = read_ct(path)
    check_ct_matches_plan(ct, data, path)
    threshold = (data.get("skin") or {}).get("threshold_hu", SKIN_THRESHOLD_HU)
    return ct, skin_surface(ct, threshold_hu=threshold), None


# The first bytes of every report PVPGuide writes (report/page.py): an existing --out file must start so.
REPORT_START = b"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"


def check_report_target(out: Path, json_path: Path, data: dict) -> None:
    """Refuse a report path that is plan.json, an input or any existing file that is not a PVPGuide report."""
    import os

    real = Path(os.path.realpath(out))
    protected = {Path(os.path.realpath(json_path)): "the plan's plan.json"}
    for name in (data.get("files") or {}):
        if name != "report.html":
            protected[Path(os.path.realpath(json_path.parent / name))] = f"the plan's file {name}"
    ct_path = (data.get("ct") or {}).get("path")
    if ct_path:
        ct = Path(ct_path) if Path(ct_path).is_absolute() else json_path.parent / ct_path
        protected[Path(os.path.realpath(ct))] = "the plan's CT"
    if real in protected:
        raise PVPGuideError(f"--out {out} is {protected[real]}; the report must not overwrite it: give a new .html name")
    if real.is_dir():
        raise PVPGuideError(f"--out {out} is a folder; give the report's file name (e.g. {out}/report.html)")
    if real.exists():
        try:
            with open(real, "rb") as stream:
                head = stream.read(len(REPORT_START)) if real.is_file() else b""
        except OSError:
            head = b""
        if head != REPORT_START:
            raise PVPGuideError(f"--out {out} exists and is not a PVPGuide report; the report does not overwrite other "
                                "files: give a new name or remove it")


def run(args) -> int:
    from ..report import write_report

    steps = Steps(["reading the plan", "reading the CT", "drawing the report"], progress_for(args))
    steps.start("reading the plan")
    json_path = plan_json_path(args.plan)
    data = read_plan_json(json_path)
    check_report_target(Path(args.out) if args.out else json_path.parent / "report.html", json_path, data)
    steps.start("reading the CT")
    ct, skin, reason = load_ct_and_skin(data, json_path.parent)
    if reason:
        warn(f"{reason}: the report has no CT slices and no bone in the 3D view")
    steps.start("drawing the report")
    out = Path(args.out) if args.out else json_path.parent / "report.html"
    data = {key: value for key, value in data.items() if key != "files"}  # the set's manifest is not drawn
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
