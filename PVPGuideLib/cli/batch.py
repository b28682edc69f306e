"""`pvpguide batch`: plan or score a cohort from a cases CSV in parallel; one summary CSV, one folder per case."""

from __future__ import annotations

from pathlib import Path

from ..errors import PVPGuideError
from .common import add_summary_options, print_json, progress_for, say, warn

NAME = "batch"
HELP = "run plan, score or demo for every case of a CSV in parallel and write one summary CSV"
EPILOG = """examples:
  pvpguide batch cases.csv --out cohort            # 2 cases at a time; cohort/summary.csv
  pvpguide batch cases.csv --out cohort --jobs 4 --json

cases.csv (columns in docs/cli.md; relative paths are relative to the CSV's folder):
  case_id,command,ct,b,c,side,level,segmentation,label,seed,wedge,options
  P001,plan,ct/P001.nii.gz,"-25,96,386","2,134,385",left,L1,,,,,
  P002,score,postop/P002.nrrd,,,right,L2,labels/P002.nii.gz,30,,,--cement-threshold 1800
  phantom-w30,demo,,,,right,,,,3,0.3,

Each case's outputs go to OUT/<case_id>/. A failing case gets status=error and a one-line message
in its summary row; the others carry on. Re-running skips every case whose inputs (row, input
files' sizes and times, PVPGuide version) are unchanged since it finished (reused=yes); a case
that failed keeps its error until its inputs change or --retry-failed is given.
Exit codes: 0 all cases ok, 3 finished but some cases failed, 2 bad input (the CSV), 1 internal error."""


def add_arguments(parser) -> None:
    parser.add_argument("cases", help="cases CSV (one row per case; see docs/cli.md)")
    parser.add_argument("--out", required=True, help="output folder: summary.csv and one folder per case")
    parser.add_argument("--jobs", type=int, default=2, help="cases run at the same time, in separate processes (default 2)")
    parser.add_argument("--retry-failed", action="store_true",
                        help="run again the cases that failed last time although their inputs are unchanged")
    add_summary_options(parser)


def run(args) -> int:
    from ..batch import read_cases, run_batch
    from . import EXIT_CASES_FAILED

    if args.jobs < 1:
        raise PVPGuideError(f"--jobs must be at least 1, got {args.jobs}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise PVPGuideError(f"--out {out} is a file, not a folder")
    _check_summary_target(out, args.cases)
    cases = read_cases(args.cases)
    result = run_batch(cases, out, jobs=args.jobs, retry_failed=args.retry_failed, progress=progress_for(args),
                       extra_inputs=[args.cases])
    for row in result.rows:
        if row["status"] == "error":
            warn(f"case {row['case_id']}: {row['error']}")
    summary = {"summary_csv": str(result.summary_csv), "cases": len(cases), "ran": result.ran,
               "reused": result.reused, "failed": result.failed, "rows": result.rows}
    if args.json:
        print_json(summary)
    else:
        say(args, f"{len(cases)} case(s): {result.ran} run, {result.reused} reused (unchanged), {result.failed} failed; "
                  f"summary in {result.summary_csv}")
    return EXIT_CASES_FAILED if result.failed else 0


def _check_summary_target(out: Path, cases_csv) -> None:
    """summary.csv may replace only an earlier summary: never the cases CSV or another file."""
    import os

    from ..batch.runner import SUMMARY_NAME
    from ..batch.summary import COLUMNS

    target = out / SUMMARY_NAME
    if os.path.realpath(target) == os.path.realpath(cases_csv):
        raise PVPGuideError(f"the cases CSV {cases_csv} is the batch's {target}; keep the CSV outside --out or rename it")
    if target.exists():
        try:
            with open(target, encoding="utf-8", errors="replace") as stream:
                first = stream.readline().strip()
        except OSError:
            first = ""
        if first != ",".join(COLUMNS):
            raise PVPGuideError(f"{target} exists and is not a PVPGuide summary; the batch does not overwrite it: "
                                "choose another --out or move the file")
