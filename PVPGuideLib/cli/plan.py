"""`pvpguide plan`: plan PVP trajectories on a CT, from given B and C or proposed automatically (SPEC section 3)."""

from __future__ import annotations

import argparse

import numpy as np

from ..cement import DEFAULT_PLANNED_VOLUME_ML
from ..core.compat import strict_zip
from ..core.progress import Steps
from ..errors import PVPGuideError
from ..io.ct_io import read_ct, read_labelmap
from ..planning.plan import build_plan, check_points, plan_trajectory
from ..planning.plan_cement import add_cement_prediction, body_masks_from_analysis
from ..planning.plan_guide import add_guide_plates
from ..planning.proposal import PLAN_SIDES
from ..planning.skin import skin_surface
from .common import add_needle_gauge, add_output_options, check_posterior_entry, progress_for, ras_point
from .grid_options import add_grid_options, grid_from_args, wants_grid
from .outputs import check_output_folder, write_and_summarise

NAME = "plan"
HELP = "plan PVP trajectories on a CT (NRRD, NIfTI, MHA or DICOM folder): proposed automatically, or from B and C"
EPILOG = """examples:
  pvpguide plan --ct ct.nii.gz --segmentation labels.nii.gz --label 31            # propose L1, best side
  pvpguide plan --ct ct.nii.gz --segmentation labels.nii.gz --level L1,L2 --side both
  pvpguide plan --ct ct.nii.gz --segmentation labels.nii.gz --label 31 --parts bodies.nii.gz
  pvpguide plan --ct ct.nrrd --level L1 --seed 2.0,120.5,386.0                   # CT alone, seed in the body
  pvpguide plan --ct patient.nrrd --b -28.5,-42.0,10.0 --c 6.0,-8.5,11.0 --side left --out plan-L1
  pvpguide plan --ct dicom_folder/ --b ... --c ... --segmentation labels.nii.gz --label 31   # + safety

Without --b/--c, B and C are proposed by the SPEC section 3 rules for each level (docs/automatic-planning.md):
the vertebra comes from --segmentation (labels by --label, or by --level with TotalSegmentator ids:
L1 = 31, T12 = 32, ...; --parts adds a body / posterior-elements split, body = --body-label), or from the
CT alone around each --seed (bone 226-3071 HU; needs a closed cortex, about 1.5 mm voxels or finer).
--side auto (default) plans the recommended side of each level and says why; both plans both sides.
Every trajectory gets the SPEC section 5 safety checks for the needle gauge when the vertebra is known.
Points are R,A,S in millimetres (3D Slicer's world coordinates). A (skin entry) is found by extending
C->B to the skin. Outputs: OUT/plan.json, OUT/plan.mrb (open it in 3D Slicer) and OUT/report.html.
Exit codes: 0 done, 2 bad input, 1 internal error."""


def _list_of(kind):
    """argparse type: comma-separated values (repeatable options are flattened in run)."""
    def parse(text: str):
        try:
            return [kind(v) for v in text.replace(" ", "").split(",") if v]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}") from None
    return parse


def add_arguments(parser) -> None:
    parser.add_argument("--ct", required=True, help="CT: NRRD, NIfTI, MHA file or a DICOM folder (one series)")
    parser.add_argument("--b", type=ras_point, metavar="R,A,S", help="bony entry B (RAS mm); with --c: no proposal")
    parser.add_argument("--c", type=ras_point, metavar="R,A,S", help="target C (RAS mm); with --b: no proposal")
    parser.add_argument("--side", choices=PLAN_SIDES,
                        help="puncture side; proposals: auto (default: the recommended side) or both; "
                             "given B and C: default from B relative to C")
    parser.add_argument("--level", "--levels", dest="level", action="append", type=_list_of(str), default=[],
                        metavar="L1[,L2]", help="vertebra level name(s), e.g. L1 (repeatable or comma-separated)")
    parser.add_argument("--segmentation", help="vertebra label map (any grid; resampled to the CT), e.g. TotalSegmentator")
    parser.add_argument("--label", action="append", type=_list_of(int), default=[], metavar="N[,N]",
                        help="label value(s) of the vertebrae in --segmentation (repeatable or comma-separated)")
    parser.add_argument("--parts", help="label map splitting vertebral bodies (--body-label) from posterior elements")
    parser.add_argument("--body-label", type=int, default=1, help="body label in --parts (default 1)")
    parser.add_argument("--seed", action="append", type=ras_point, default=[], metavar="R,A,S",
                        help="a point inside the vertebral body, one per level, to segment it from the CT alone")
    parser.add_argument("--cement-volume", type=float, default=DEFAULT_PLANNED_VOLUME_ML, metavar="ML",
                        help=f"planned cement volume for the predicted spread when the vertebra is known "
                             f"(default {DEFAULT_PLANNED_VOLUME_ML} ml)")
    parser.add_argument("--no-cement", action="store_true", help="skip the cement prediction")
    parser.add_argument("--no-guide", action="store_true", help="skip the guide plate")
    add_needle_gauge(parser)
    add_grid_options(parser)
    add_output_options(parser, "pvpguide-plan")


def run(args) -> int:
    levels = [name for group in args.level for name in group]
    labels = [value for group in args.label for value in group]
    manual = args.b is not None or args.c is not None
    if manual and (args.b is None or args.c is None):
        raise PVPGuideError("give both --b and --c (or neither, to have them proposed)")
    if manual and args.side in ("both", "auto"):
        raise PVPGuideError(f"--side {args.side} is for proposals; with --b and --c give left or right (or leave it out)")
    if args.seed and args.segmentation:
        raise PVPGuideError("give either --segmentation (with --label or --level) or --seed (CT alone), not both")
    if not manual and not args.segmentation and not args.seed:
        raise PVPGuideError("to propose B and C give --segmentation (with --label or --level) or --seed R,A,S inside the "
                         "vertebral body (CT alone); or give --b and --c")
    progress = progress_for(args)
    grid_step = ["finding the skin grid"] if wants_grid(args) else []
    steps = Steps(["reading the CT", *grid_step, "analysing the vertebrae", "finding the skin", "planning",
                   "predicting the cement", "building the guide plate", "writing outputs"], progress)
    protected = [args.ct, args.segmentation, args.parts]
    out = check_output_folder(args.out, protected_paths=protected)
    steps.start("reading the CT")
    ct = read_ct(args.ct)
    if manual:
        check_points(ct, B=args.b, C=args.c)
        check_posterior_entry(args.b, args.c)
    grid = None
    if wants_grid(args):
        steps.start("finding the skin grid")
        grid = grid_from_args(args, ct)
    steps.start("analysing the vertebrae")
    analyses, label_map = _analyses(ct, args, levels, labels, manual)
    steps.start("finding the skin")
    skin = skin_surface(ct)
    steps.start("planning")
    if manual:
        plan = _manual_plan(ct, skin, args, levels, analyses)
    else:
        from ..planning.proposal import propose_plan

        plan = propose_plan(ct, skin, analyses, side=args.side or "auto", needle_gauge=args.needle_gauge)
    if grid is not None:
        from ..grid import attach_grid

        plan = attach_grid(plan, grid)
    if label_map is not None:
        from ..fracture.plan_section import fracture_sections

        plan = plan.with_artifacts(vertebra_labels=label_map)
        plan = plan.with_sections(fracture=fracture_sections(ct, args, analyses, out))
    if not args.no_cement and analyses:
        steps.start("predicting the cement")
        plan = _add_cement(plan, analyses, args.cement_volume)
    if analyses:
        from ..drr.plan_section import add_c_arm_views

        plan = add_c_arm_views(plan, analyses, out)
    if not args.no_guide:
        steps.start("building the guide plate")
        plan = add_guide_plates(plan, out)
    return write_and_summarise(args, plan, out, steps, ct_path=str(args.ct),
                               written=f"{out / 'plan.json'}, {out / 'plan.mrb'} and {out / 'report.html'}")


def _add_cement(plan, analyses, volume_ml: float):
    """The plan with the predicted cement of every trajectory whose vertebra was analysed (SPEC section 6)."""
    by_level = {a.level: a for a in analyses}
    masks = {}
    trajectories = []
    for t in plan.trajectories:
        analysis = by_level.get(t.level) or (analyses[0] if len(analyses) == 1 else None)
        if analysis is not None:
            if id(analysis) not in masks:
                masks[id(analysis)] = body_masks_from_analysis(analysis)
            body, posterior = masks[id(analysis)]
            t = add_cement_prediction(t, plan.ct, body, volume_ml=volume_ml, posterior_mask=posterior)
        trajectories.append(t)
    return plan.with_trajectories(trajectories)


def _analyses(ct, args, levels, labels, manual):
    """Vertebra analyses for the requested levels (none in manual mode without a vertebra), and the label map
    for the scene ((CTVolume, {value: name}) or None)."""
    from ..vertebra import (
        analyse_vertebra,
        label_for_level,
        level_for_label,
        normalise_level,
        vertebra_from_ct,
        vertebra_from_labels,
    )
    from ..vertebra.label_checks import check_vertebra_labels

    if args.segmentation:
        label_volume = read_labelmap(args.segmentation, ct)
        parts = read_labelmap(args.parts, ct) if args.parts else None
        if not labels:
            if not levels:
                raise PVPGuideError("with --segmentation give --label N (its value) or --level L1 (TotalSegmentator ids)")
            labels = [label_for_level(name) for name in levels]
        if levels and len(levels) != len(labels):
            raise PVPGuideError(f"{len(levels)} --level name(s) for {len(labels)} --label value(s): give one name per label")
        names = levels or [level_for_label(v) for v in labels]
        check_vertebra_labels(ct, label_volume.voxels, labels, names, source=str(args.segmentation))
        if manual and len(labels) != 1:
            raise PVPGuideError("with --b and --c give one vertebra (one --label or --level)")
        analyses = [analyse_vertebra(vertebra_from_labels(ct, label_volume, value, level=name or None, parts=parts,
                                                          body_label=args.body_label))
                    for value, name in strict_zip(labels, names)]
        shown = {int(v): (n or f"label {v}") for v, n in strict_zip(labels, names)}
        values = label_volume.voxels
        kept = ct.with_voxels(np.where(np.isin(values, list(shown)), values, 0).astype(
            np.uint8 if max(shown) < 256 else np.uint16))
        return analyses, (kept, shown)
    if args.seed:
        if levels and len(levels) != len(args.seed):
            raise PVPGuideError(f"{len(levels)} --level name(s) for {len(args.seed)} --seed point(s): give one per seed")
        if manual and len(args.seed) != 1:
            raise PVPGuideError("with --b and --c give one --seed")
        names = [normalise_level(n) for n in levels] or [""] * len(args.seed)
        return [analyse_vertebra(vertebra_from_ct(ct, seed=seed, level=name))
                for seed, name in strict_zip(args.seed, names)], None
    if labels:
        raise PVPGuideError("--label needs --segmentation (the label map it refers to)")
    return [], None


def _manual_plan(ct, skin, args, levels, analyses):
    """The given B and C, measured; with a known vertebra, also in its frame and checked for safety."""
    from ..planning.safety import check_safety

    analysis = analyses[0] if analyses else None
    level = levels[0] if levels else (analysis.level if analysis else "")
    side = args.side
    landmarks = analysis.landmarks() if analysis else None
    trajectory = plan_trajectory(ct, skin, b=args.b, c=args.c, side=side, level=level, landmarks=landmarks)
    warnings = []
    if analysis is not None:
        safety = check_safety(analysis, a=trajectory.a, b=args.b, c=args.c, side=trajectory.side,
                              needle_gauge=args.needle_gauge)
        trajectory = trajectory.with_sections(safety=safety.to_json())
        if safety.verdict == "fail":
            warnings.append(f"{level or 'level ?'} {trajectory.side}: the path FAILS safety checks "
                            f"({', '.join(safety.to_json()['failed'])}); it is kept as given")
    plan = build_plan(ct, skin, [trajectory], needle_gauge=args.needle_gauge, warnings=warnings)
    if analysis is not None:
        plan = plan.with_sections(vertebrae={analysis.level or "0": analysis.to_json()})
    return plan
