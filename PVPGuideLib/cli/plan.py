"""`pvpguide plan`: plan one trajectory on a CT from given bony entry B and target C."""

from __future__ import annotations

from ..ct_io import read_ct
from ..display import trajectory_summary_lines
from ..plan import build_plan, check_points, plan_trajectory
from ..progress import Steps
from ..skin import skin_surface
from .common import add_needle_gauge, add_output_options, print_json, progress_for, ras_point, say, warn
from .outputs import check_output_folder, write_plan_outputs

NAME = "plan"
HELP = "plan a PVP trajectory on a CT (NRRD, NIfTI, MHA or DICOM folder) from B and C"
EPILOG = """examples:
  pvpguide plan --ct patient.nrrd --b -28.5,-42.0,10.0 --c 6.0,-8.5,11.0 --side left --out plan-L1
  pvpguide plan --ct dicom_folder/ --b ... --c ... --needle-gauge 11 --json

Points are R,A,S in millimetres (3D Slicer's world coordinates). A (skin entry) is found by
extending C->B to the skin. Outputs: OUT/plan.json and OUT/plan.mrb (open it in 3D Slicer).
Exit codes: 0 done, 2 bad input, 1 internal error."""


def add_arguments(parser) -> None:
    parser.add_argument("--ct", required=True, help="CT: NRRD, NIfTI, MHA file or a DICOM folder (one series)")
    parser.add_argument("--b", type=ras_point, required=True, metavar="R,A,S", help="bony entry B (RAS mm)")
    parser.add_argument("--c", type=ras_point, required=True, metavar="R,A,S", help="target C (RAS mm)")
    parser.add_argument("--side", choices=("left", "right"), help="puncture side (default: from B relative to C)")
    parser.add_argument("--level", default="", help="vertebra level name, e.g. L1 (for labels and file names)")
    add_needle_gauge(parser)
    add_output_options(parser, "pvpguide-plan")


def run(args) -> int:
    progress = progress_for(args)
    steps = Steps(["reading the CT", "finding the skin", "measuring the trajectory", "writing outputs"], progress)
    out = check_output_folder(args.out, protected_paths=[args.ct])
    steps.start("reading the CT")
    ct = read_ct(args.ct)
    check_points(ct, B=args.b, C=args.c)
    steps.start("finding the skin")
    skin = skin_surface(ct)
    steps.start("measuring the trajectory")
    trajectory = plan_trajectory(ct, skin, b=args.b, c=args.c, side=args.side, level=args.level)
    plan = build_plan(ct, skin, [trajectory], needle_gauge=args.needle_gauge)
    steps.start("writing outputs")
    data = write_plan_outputs(plan, out, ct_path=str(args.ct))
    steps.done()
    for w in plan.warnings:
        warn(w)
    if args.json:
        print_json(data)
    else:
        say(args, "\n".join(trajectory_summary_lines(trajectory)))
        say(args, f"wrote {out / 'plan.json'} and {out / 'plan.mrb'}")
    return 0
