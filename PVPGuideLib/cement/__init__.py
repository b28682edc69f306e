"""Cement (SPEC section 6): predicted spread from a planned tip, and scores of any cement region."""

from .body import BodyAnalysis, analyse_body
from .compare import PathComparison, PathResult, body_centre, compare_paths
from .errors import CementError
from .frame import as_vertebra_frame, frame_from_segmentation
from .plan_section import DEFAULT_PLANNED_VOLUME_ML, PlannedCement, plan_cement
from .postop import DEFAULT_CEMENT_THRESHOLD_HU, PostopCement, classify_leakage, segment_cement
from .predict import CementPrediction, predict_cement
from .projections import projection_png_bytes, projection_rgb, write_projection_pngs
from .scores import PSBCV_VV_THRESHOLD_PERCENT, SCHEMA, CementScores, LeakageReport, score_cement
from .split import split_body
from .summary import cement_summary_lines

__all__ = [
    "DEFAULT_CEMENT_THRESHOLD_HU",
    "DEFAULT_PLANNED_VOLUME_ML",
    "PSBCV_VV_THRESHOLD_PERCENT",
    "SCHEMA",
    "BodyAnalysis",
    "CementError",
    "CementPrediction",
    "CementScores",
    "LeakageReport",
    "PathComparison",
    "PathResult",
    "PlannedCement",
    "PostopCement",
    "analyse_body",
    "as_vertebra_frame",
    "body_centre",
    "cement_summary_lines",
    "classify_leakage",
    "compare_paths",
    "frame_from_segmentation",
    "plan_cement",
    "predict_cement",
    "projection_png_bytes",
    "projection_rgb",
    "score_cement",
    "segment_cement",
    "split_body",
    "write_projection_pngs",
]
