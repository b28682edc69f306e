"""`pvpguide demo`: generate the bundled anatomical phantom and plan L1 on it, end to end."""

from __future__ import annotations

from ..cement import DEFAULT_PLANNED_VOLUME_ML
from ..core.geometry import SIDES
from ..core.progress import Steps
from ..planning.plan import build_plan
from ..planning.plan_cement import add_cement_prediction
from ..planning.plan_guide import add_guide_plates
from ..planning.proposal import plan_side
from ..planning.skin import skin_surface
from ..vertebra import analyse_vertebra, vertebra_from_labels
from .common import add_needle_gauge, add_output_options, progress_for
from .outputs import check_output_folder, write_and_summarise

NAME = "demo"
HELP = "generate the bundled anatomical phantom (T12-L2) and plan L1 on it"
EPILOG = """examples:
  pvpguide demo                         # plan L1 from the left into ./pvpguide-demo
  pvpguide demo --side right --out demo-right
  pvpguide demo --rotation 10,-15,20 --wedge 0.3   # a rotated spine with a 30 % wedge fracture

The phantom is generated locally (seeded, no download). B and C are proposed automatically
from the phantom's vertebra labels (as `pvpguide plan --segmentation` does), checked for
safety, the cement spread is predicted for the planned volume and compared with the
conventional path to the body centre, and the guide plate is built. Outputs: OUT/plan.json,
OUT/plan.mrb (open in 3D Slicer), OUT/report.html, the guide plate OUT/guide_L1_left.stl
(LPS, mm) and OUT/sample/ (the phantom CT, labels and ground truth)."""


def _angles_triplet(text: str):
    from .common import ras_point

    return tuple(float(x) for x in ras_point(text))


def add_arguments(parser) -> None:
    parser.add_argument("--side", choices=SIDES, default="left", help="puncture side (default left)")
    parser.add_argument("--seed", type=int, default=0, help="phantom noise seed (default 0)")
    parser.add_argument("--rotation", type=_angles_triplet, default=(0.0, 0.0, 0.0), metavar="RX,RY,RZ",
                        help="rotate the spine about the R, A, S axes, degrees (default 0,0,0)")
    parser.add_argument("--wedge", type=float, default=0.0, help="L1 anterior wedge fracture fraction 0-0.5")
    parser.add_argument("--cement-volume", type=float, default=DEFAULT_PLANNED_VOLUME_ML, metavar="ML",
                        help=f"planned cement volume for the predicted spread (default {DEFAULT_PLANNED_VOLUME_ML} ml)")
    add_needle_gauge(parser)
    add_output_options(parser, "pvpguide-demo")


BODY_PART, POSTERIOR_PART = 1, 2  # the phantom's `parts` labels


def run(args) -> int:
    from ..phantom.build import generate_phantom, write_phantom

    progress = progress_for(args)
    steps = Steps(["generating the phantom", "finding the skin", "proposing B and C", "predicting the cement",
                   "building the guide plate", "writing outputs"], progress)
    out = check_output_folder(args.out)
    steps.start("generating the phantom")
    phantom = generate_phantom(seed=args.seed, rotation_deg=args.rotation, wedge_fraction=args.wedge)
    write_phantom(phantom, out / "sample")
    steps.start("finding the skin")
    skin = skin_surface(phantom.ct)
    steps.start("proposing B and C")
    level = phantom.truth["target_level"]
    truth = phantom.truth["levels"][level]
    # The same automatic planning as `pvpguide plan` (SPEC section 3 from the vertebra's labels); the
    # phantom's constructed points are the tests' ground truth, not the demo's input.
    analysis = analyse_vertebra(vertebra_from_labels(phantom.ct, phantom.labels, truth["label"], level=level,
                                                     parts=phantom.parts, body_label=BODY_PART))
    proposed = plan_side(phantom.ct, skin, analysis, args.side, needle_gauge=args.needle_gauge)
    trajectory = proposed.trajectory
    # As `pvpguide plan` does: a proposal that moved the SPEC points says so in the plan's warnings too.
    adjustment = proposed.points.adjustment
    warnings = [f"{level} {args.side}: {adjustment['reason']}"] if adjustment else []
    steps.start("predicting the cement")
    labels, parts = phantom.labels.voxels, phantom.parts.voxels
    vertebra = labels == truth["label"]
    trajectory = add_cement_prediction(trajectory, phantom.ct, vertebra & (parts == BODY_PART),
                                       volume_ml=args.cement_volume, posterior_mask=vertebra & (parts == POSTERIOR_PART))
    plan = build_plan(phantom.ct, skin, [trajectory], needle_gauge=args.needle_gauge, warnings=warnings)
    level_names = {int(v["label"]): name for name, v in sorted(phantom.truth["levels"].items())}
    plan = plan.with_artifacts(vertebra_labels=(phantom.labels, level_names))
    steps.start("building the guide plate")
    plan = add_guide_plates(plan, out)
    return write_and_summarise(args, plan, out, steps, ct_path="sample/ct.nrrd",
                               written=f"{out / 'plan.json'}, {out / 'plan.mrb'} and the phantom in {out / 'sample'}")
