"""`pvpguide score`: segment and score the cement of one vertebra on a post-operative CT."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import __version__
from ..cement import (
    DEFAULT_CEMENT_THRESHOLD_HU,
    SCHEMA,
    CementError,
    analyse_body,
    cement_summary_lines,
    compare_paths,
    frame_from_segmentation,
    predict_cement,
    score_cement,
    segment_cement,
    split_body,
    write_projection_pngs,
)
from ..core.geometry import SIDES
from ..core.progress import Steps
from ..io.atomic_io import write_json_atomic
from ..io.ct_io import read_ct, read_labelmap
from ..io.output_set import OutputTransaction, check_output_folder, manifest
from .common import add_output_options, print_json, progress_for, ras_point, say, warn

NAME = "score"
HELP = ("score the cement of one vertebra (PSBCV/VV, 0-8 score, contact, leakage): segmented on a "
        "post-operative CT, or predicted from a planned tip")
EPILOG = """examples:
  pvpguide score --ct postop.nii.gz --segmentation vertebrae.nii.gz --label 31 --side left --out score-L1
  pvpguide score --ct postop_dicom/ --segmentation vertebrae.nii.gz --label 31 --side right \\
      --body-segmentation vertebral_bodies.nii.gz --cement-threshold 1800 --tip 6.0,-8.5,11.0 --json
  pvpguide score --ct preop.nrrd --segmentation vertebrae.nii.gz --label 31 --side left \\
      --predict-volume 4.5 --tip 6.0,-8.5,11.0 --entry -28.5,-42.0,10.0 --compare-conventional

--segmentation is a label map of vertebrae (e.g. TotalSegmentator: 31 = L1); --body-segmentation a
label map whose --body-label (default 1) marks vertebral bodies. Without it the body is split from
the vertebra by an approximate rule (see docs/cement.md). Cement = voxels at or above
--cement-threshold HU (default 1500), which must lie above the posterior elements' bone.
With --predict-volume the cement is not segmented but predicted: grown from --tip (C) along the
needle channel back to --entry (B) until it holds the volume (docs/cement.md); --compare-conventional
also predicts the same volume from the body centre (the conventional transpedicular path) and
reports both. Outputs: OUT/score.json (schema pvpguide.score/1), OUT/projection_ap.png,
OUT/projection_lateral.png (and OUT/conventional_projection_*.png when comparing), written as one set:
OUT must be new, empty or a folder PVPGuide wrote (holding no input); a failed run leaves it as it was.
Exit codes: 0 done, 2 bad input, 1 internal error."""

def add_arguments(parser) -> None:
    parser.add_argument("--ct", required=True,
                        help="post-operative CT (pre-operative with --predict-volume): NRRD, NIfTI, MHA or DICOM folder")
    parser.add_argument("--segmentation", required=True, help="vertebra label map (any grid; resampled to the CT)")
    parser.add_argument("--label", type=int, required=True, help="label of the treated vertebra in --segmentation")
    parser.add_argument("--side", choices=SIDES, required=True, help="puncture side")
    parser.add_argument("--body-segmentation", help="label map of vertebral bodies (default: split from the vertebra)")
    parser.add_argument("--body-label", type=int, default=1, help="body label in --body-segmentation (default 1)")
    parser.add_argument("--cement-threshold", type=float, default=DEFAULT_CEMENT_THRESHOLD_HU, metavar="HU",
                        help=f"cement = voxels at or above this HU (default {DEFAULT_CEMENT_THRESHOLD_HU:g})")
    parser.add_argument("--tip", type=ras_point, metavar="R,A,S",
                        help="planned target C (RAS mm): the nine zones' section and C's zone")
    parser.add_argument("--predict-volume", type=float, metavar="ML",
                        help="predict this cement volume from --tip instead of segmenting cement")
    parser.add_argument("--entry", type=ras_point, metavar="R,A,S",
                        help="bony entry B (RAS mm): the needle channel for the prediction")
    parser.add_argument("--compare-conventional", action="store_true",
                        help="with --predict-volume: also predict from the body centre and report both paths")
    add_output_options(parser, "pvpguide-score")


def run(args) -> int:
    _check_mode(args)
    progress = progress_for(args)
    steps = Steps(["reading the CT and labels", "analysing the body", "segmenting cement", "predicting cement",
                   "writing outputs"], progress)
    # Checked before any work; the files are written as one set (output_set.py): staged, then swapped in.
    out = check_output_folder(args.out, [args.ct, args.segmentation, args.body_segmentation], "score.json")
    warnings = []
    steps.start("reading the CT and labels")
    ct = read_ct(args.ct)
    labels = read_labelmap(args.segmentation, ct).voxels
    vertebra = labels == args.label
    if not vertebra.any():
        present = [int(x) for x in np.unique(labels) if x != 0]
        raise CementError(f"label {args.label} is not in {args.segmentation} (labels present: {present})")
    if args.body_segmentation:
        body = vertebra & (read_labelmap(args.body_segmentation, ct).voxels == args.body_label)
        if not body.any():
            raise CementError(
                f"no voxel of label {args.label} carries body label {args.body_label} in {args.body_segmentation}"
            )
        posterior = vertebra & ~body
        body_source = f"label {args.body_label} of {args.body_segmentation}"
    else:
        body, posterior = split_body(ct, vertebra)
        body_source = "split from the vertebra label (approximate rule, docs/cement.md)"
        warnings.append("no --body-segmentation: the body was split from the vertebra by an approximate rule")
    steps.start("analysing the body")
    frame = frame_from_segmentation(ct, body, posterior)
    body_analysis = analyse_body(ct, body, frame)
    if args.predict_volume is not None:
        steps.start("predicting cement")
        postop_json, extra = None, {}
        if args.compare_conventional:
            comparison = compare_paths(ct, body_analysis, side=args.side, tip_ras=args.tip, entry_ras=args.entry,
                                       volume_ml=args.predict_volume)
            prediction, scores = comparison.spec.prediction, comparison.spec.scores
            full = comparison.to_json()
            extra = {"conventional_path": full["conventional_path"],
                     "difference_spec_minus_conventional": full["difference_spec_minus_conventional"]}
        else:
            prediction = predict_cement(ct, body, args.tip, args.predict_volume, entry_ras=args.entry)
            scores = score_cement(body_analysis, prediction.mask, side=args.side, tip_ras=args.tip)
        extra = {"prediction": prediction.to_json(), **extra}
    else:
        steps.start("segmenting cement")
        postop = segment_cement(ct, body_analysis, vertebra_mask=vertebra, threshold_hu=args.cement_threshold,
                                other_bone_mask=(labels > 0) & ~vertebra)
        scores = score_cement(body_analysis, postop.mask, side=args.side, tip_ras=args.tip, leakage=postop.leakage)
        postop_json, extra = postop.to_json(), {}
    steps.start("writing outputs")
    with OutputTransaction(out) as stage:
        data = _write_outputs(stage, args, scores, body_source, postop_json, extra, warnings,
                              comparison.conventional.scores if "conventional_path" in extra else None)
    steps.done()
    for text in warnings:
        warn(text)
    if args.json:
        print_json(data)
    else:
        say(args, "\n".join(cement_summary_lines(scores)))
        if "conventional_path" in extra:
            say(args, "conventional path (tip at the body centre), same volume:")
            say(args, "\n".join("  " + line for line in cement_summary_lines(comparison.conventional.scores)))
        say(args, f"wrote {out / 'score.json'} and the projections in {out}")
    return 0


def _check_mode(args) -> None:
    """Options of the prediction mode make no sense without it: say so before any work."""
    if args.predict_volume is None:
        for flag, value in (("--entry", args.entry), ("--compare-conventional", args.compare_conventional)):
            if value is not None and value is not False:
                raise CementError(f"{flag} needs --predict-volume (it belongs to the prediction mode)")
    elif args.tip is None:
        raise CementError("--predict-volume needs --tip (the planned target C)")


def _write_outputs(stage: Path, args, scores, body_source, postop_json, extra, warnings, conventional) -> dict:
    """The pictures, then score.json naming each of them with its SHA-256 (score.json last: it marks a whole set)."""
    outputs = {"score_json": "score.json"}
    for view, path in write_projection_pngs(scores, stage).items():
        outputs[f"projection_{view}"] = path.name
    if conventional is not None:
        for view, path in write_projection_pngs(conventional, stage, prefix="conventional_").items():
            outputs[f"conventional_projection_{view}"] = path.name
    data = {
        "schema": SCHEMA,
        "generator": {"name": "PVPGuide", "version": __version__},
        "coordinate_system": "RAS",
        "input": {
            "ct": str(args.ct),
            "segmentation": str(args.segmentation),
            "label": args.label,
            "body_source": body_source,
            "tip_ras": None if args.tip is None else [float(x) for x in args.tip],
            "entry_ras": None if args.entry is None else [float(x) for x in args.entry],
        },
        **scores.to_json(),
        "postop": postop_json,
        **extra,
        "outputs": outputs,
        "warnings": warnings,
    }
    data["files"] = manifest(stage, exclude=("score.json",))
    write_json_atomic(stage / "score.json", data)
    return data
