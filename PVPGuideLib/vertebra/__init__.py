"""Vertebra inputs (segmentation or CT alone) and analysis: landmarks and frame for automatic planning."""

from .analysis import VertebraAnalysis, analyse_vertebra
from .errors import VertebraError
from .inputs import vertebra_from_labels
from .levels import label_for_level, level_for_label, normalise_level
from .masks import VertebraMasks
from .segment import BONE_HU_RANGE, vertebra_from_ct

__all__ = [
    "BONE_HU_RANGE",
    "VertebraAnalysis",
    "VertebraError",
    "VertebraMasks",
    "analyse_vertebra",
    "label_for_level",
    "level_for_label",
    "normalise_level",
    "vertebra_from_ct",
    "vertebra_from_labels",
]
