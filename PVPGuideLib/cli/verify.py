"""`pvpguide verify`: the intra-operative needle check against a saved plan (SPEC section 10)."""

from __future__ import annotations

import numpy as np

from .. import __version__
from ..core.geometry import VertebraFrame
from ..io.atomic_io import write_json_atomic
from ..io.ct_io import read_ct, read_labelmap
from ..io.output_set import OutputTransaction, check_output_folder
from ..verify import VerifyError, check_needle
from .common import add_output_options, print_json, say, warn
from .plan_input import plan_json_path, read_plan_ct, read_plan_json

NAME = "verify"
HELP = "check a placed needle on an intra-operative CT against the plan: tip-to-C distance, angle, safety"
EPILOG = """examples:
  pvpguide verify --plan plan-L1 --intraop intraop.nii.gz --segmentation labels.nii.gz --label 31
  pvpguide verify --plan plan-L1 --intraop intraop_dicom/ --json

The planning CT is read from plan.json (ct.path). The target vertebra is registered rigidly (SimpleITK,
mask-restricted, multi-resolution) from the planning CT to the intra-operative one; --segmentation/--label
give its mask on the planning CT (default: bone >= 200 HU within 35 mm of the plan's body centre, its
cortex filled) and,
with it, the SPEC section 5 safety checks of the needle as placed (B taken on the placed axis at the planned
B-C distance from the tip). The
needle is the one long thin metal piece (>= 2500 HU); its tip is the deepest end. Reported: tip-to-C
distance, angle to the planned path, tip to body centre, angle to the sagittal plane; warns beyond 2 mm or
2 degrees. Outputs: OUT/verify.json. Exit codes: 0 done, 2 bad input, 1 internal error."""

BONE_HU = 200.0
DEFAULT_REACH_MM = 35.0


def add_arguments(parser) -> None:
    parser.add_argument("--plan", required=True, help="plan folder (holding plan.json) or plan.json itself")
    parser.add_argument("--intraop", required=True, help="intra-operative CT with the needle in place")
    parser.add_argument("--segmentation", help="vertebra label map on the planning CT (any grid)")
    parser.add_argument("--label", type=int, help="label of the target vertebra in --segmentation")
    parser.add_argument("--trajectory", type=int, default=0, help="index of the plan's trajectory (default 0)")
    add_output_options(parser, "pvpguide-verify")


def run(args) -> int:
    plan_path = plan_json_path(args.plan)
    plan = read_plan_json(plan_path)
    # Checked before any work: the run replaces --out as one set (io/output_set.py) and never an input.
    out = check_output_folder(args.out, [args.intraop, args.segmentation, plan_path.parent], "verify.json")
    trajectories = plan.get("trajectories") or []
    if not 0 <= args.trajectory < len(trajectories):
        raise VerifyError(f"--trajectory {args.trajectory}: the plan has {len(trajectories)} trajectory(ies)")
    t = trajectories[args.trajectory]
    planning = read_plan_ct(plan, plan_path.parent)  # relative to the plan folder; must be the plan's own scan
    intraop = read_ct(args.intraop)
    b, c = np.asarray(t["points"]["B"], float), np.asarray(t["points"]["C"], float)
    frame = None if not t.get("vertebra_frame") else VertebraFrame.from_axes(**t["vertebra_frame"])
    centre = None if frame is None else frame.origin
    mask = _vertebra_mask(planning, args, c if centre is None else centre)
    analysis = _analysis(planning, args, t.get("level") or None)
    result = check_needle(planning, mask, intraop, b=b, c=c, side=t["side"], frame=frame, body_centre=centre,
                          analysis=analysis, needle_gauge=int(plan.get("needle_gauge", 13)))
    data = {"schema": "pvpguide.verify/1", "generator": {"name": "PVPGuide", "version": __version__},
            "coordinate_system": "RAS", "plan": str(plan_path), "intraop_ct": str(args.intraop),
            "level": t.get("level", ""), "side": t["side"], "planned": {"B": b.tolist(), "C": c.tolist()},
            **result.to_json()}
    with OutputTransaction(out) as stage:
        write_json_atomic(stage / "verify.json", data)
    for text in result.warnings:
        warn(text)
    if args.json:
        print_json(data)
    else:
        say(args, f"tip to C {result.tip_to_c_mm:.1f} mm, angle to plan {result.angle_to_plan_deg:.1f} deg "
                  f"(registration correlation {result.registration.correlation:.3f}); wrote {out / 'verify.json'}")
    return 0


def _analysis(planning, args, level):
    """The target's analysis for the SPEC section 5 checks of the needle as placed (needs the segmentation)."""
    if not args.segmentation:
        warn("no --segmentation: the SPEC section 5 safety checks of the placed needle are skipped")
        return None
    from ..vertebra import analyse_vertebra, vertebra_from_labels

    labels = read_labelmap(args.segmentation, planning)
    return analyse_vertebra(vertebra_from_labels(planning, labels, args.label, level=level))


def _vertebra_mask(planning, args, centre) -> np.ndarray:
    """The target vertebra on the planning CT: from the segmentation, else bone near the body centre."""
    if args.segmentation:
        if args.label is None:
            raise VerifyError("--segmentation needs --label (the target vertebra's value)")
        mask = read_labelmap(args.segmentation, planning).voxels == args.label
        if not mask.any():
            raise VerifyError(f"label {args.label} is not in {args.segmentation}")
        return mask
    from scipy import ndimage

    kji = np.indices(planning.voxels.shape).reshape(3, -1).T
    near = np.linalg.norm(planning.ijk_to_ras_points(kji[:, ::-1]) - centre, axis=1) <= DEFAULT_REACH_MM
    bone = near.reshape(planning.voxels.shape) & (np.asarray(planning.voxels) >= BONE_HU)
    # Osteoporotic cancellous bone can be below BONE_HU: the inside of the cortex is filled, slice by slice too
    # (a cortex open somewhere in 3D is usually closed in most slices).
    filled = ndimage.binary_fill_holes(bone)
    for k in range(filled.shape[0]):
        filled[k] = ndimage.binary_fill_holes(filled[k])
    return filled
