"""`pvpguide outcome`: heights, angles and cement after surgery, against the plan (SPEC section 10)."""

from __future__ import annotations

from .. import __version__
from ..io.atomic_io import write_json_atomic
from ..io.ct_io import read_ct, read_labelmap
from ..io.output_set import OutputTransaction, check_output_folder, manifest
from .common import add_output_options, print_json, say, warn
from .plan_input import plan_json_path, read_plan_ct, read_plan_json

NAME = "outcome"
HELP = "measure the result after surgery: body heights, height recovery, Cobb change, cement scores"
EPILOG = """examples:
  pvpguide outcome --plan plan-L1 --postop postop.nii.gz --segmentation postop_labels.nii.gz
  pvpguide outcome --plan plan-L1 --postop postop.nii.gz --segmentation postop_labels.nii.gz --label 31 --json

The plan must have its `fracture` section (planned with a vertebra label map). --segmentation is the
vertebra label map of the post-operative CT (TotalSegmentator ids: the target and its neighbours). The
post-operative CT is registered rigidly to the planning CT (plan.json's ct.path) on the target and its
neighbours; heights and angles are measured as before surgery; height recovery % = 100 (post - pre) /
(normal - pre); the cement is scored as `pvpguide score` does. Outputs: OUT/outcome.json, OUT/outcome.html.
Exit codes: 0 done, 2 bad input, 1 internal error."""


def add_arguments(parser) -> None:
    parser.add_argument("--plan", required=True, help="plan folder (holding plan.json) or plan.json itself")
    parser.add_argument("--postop", required=True, help="post-operative CT")
    parser.add_argument("--segmentation", required=True, help="vertebra label map of the post-operative CT")
    parser.add_argument("--label", type=int, help="label of the target (default: from the plan's level)")
    parser.add_argument("--parts", help="body / posterior-elements label map of the post-operative CT")
    parser.add_argument("--trajectory", type=int, default=0, help="index of the plan's trajectory (default 0)")
    add_output_options(parser, "pvpguide-outcome")


def run(args) -> int:
    from ..cement.projections import projection_rgb
    from ..fracture.picture import mid_sagittal_rgb
    from ..outcome.report import outcome_html
    from ..outcome.run import measure_outcome

    plan_path = plan_json_path(args.plan)
    plan = read_plan_json(plan_path)
    # Checked before any work: the run replaces --out as one set (io/output_set.py) and never an input.
    out = check_output_folder(args.out, [args.postop, args.segmentation, args.parts, plan_path.parent],
                              "outcome.json")
    planning = read_plan_ct(plan, plan_path.parent)  # relative to the plan folder; must be the plan's own scan
    postop = read_ct(args.postop)
    labels = read_labelmap(args.segmentation, postop)
    parts = read_labelmap(args.parts, postop) if args.parts else None
    outcome = measure_outcome(plan, planning, postop, labels, trajectory=args.trajectory, label=args.label,
                              parts=parts)
    data = {"schema": "pvpguide.outcome/1", "generator": {"name": "PVPGuide", "version": __version__},
            "coordinate_system": "RAS", "plan": str(plan_path), "postop_ct": str(args.postop), **outcome.to_json()}
    m = outcome.post_measurement
    pictures = {"mid-sagittal section after surgery, heights in mm":
                mid_sagittal_rgb(postop, outcome.analysis, m.heights,
                                 extra_heights=[h for h in m.neighbours.values() if h is not None]),
                "cement, AP projection": projection_rgb(outcome.cement.ap),
                "cement, lateral projection": projection_rgb(outcome.cement.lateral)}
    data["outputs"] = {"json": "outcome.json", "report": "outcome.html"}
    with OutputTransaction(out) as stage:
        (stage / "outcome.html").write_text(outcome_html(data, pictures), encoding="utf-8")
        data["files"] = manifest(stage, exclude=("outcome.json",))
        write_json_atomic(stage / "outcome.json", data)  # last: it names the set's other files
    for text in data.get("notes", []):
        warn(text)
    if args.json:
        print_json(data)
    else:
        recovery = data.get("height_recovery_percent") or {}
        shown = "unknown" if recovery.get("AVH") is None else f"{recovery['AVH']:.0f} %"
        say(args, f"{data['level']}: AVH {data['pre']['heights_mm']['AVH']:.1f} -> {data['post']['heights_mm']['AVH']:.1f}"
                  f" mm (recovery {shown}); cement {outcome.cement.to_json().get('bcv_ml', 0):.2f} ml; "
                  f"wrote {out / 'outcome.json'} and {out / 'outcome.html'}")
    return 0
