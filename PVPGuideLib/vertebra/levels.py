"""Vertebra level names and their TotalSegmentator (v2) label ids, which the phantom uses too."""

from __future__ import annotations

import re

from ..core.levels import SPINE_LEVELS
from .errors import VertebraError

# TotalSegmentator v2 "total" task: vertebrae_S1 = 26, L5 = 27, ..., T12 = 32, ..., C1 = 50.
_ORDER = SPINE_LEVELS[::-1]
TOTALSEGMENTATOR_LABELS = {name: 26 + index for index, name in enumerate(_ORDER)}
LEVEL_NAMES = {label: name for name, label in TOTALSEGMENTATOR_LABELS.items()}


def normalise_level(level: str) -> str:
    """'l1' -> 'L1'; a clear error for a name that is no vertebra."""
    name = str(level).strip().upper()
    if name not in TOTALSEGMENTATOR_LABELS:
        raise VertebraError(f"unknown vertebra level {level!r}: use a name such as T12, L1 or L5")
    return name


def label_for_level(level: str) -> int:
    """TotalSegmentator id of a level name (L1 -> 31)."""
    return TOTALSEGMENTATOR_LABELS[normalise_level(level)]


def level_for_label(label: int) -> str:
    """Level name of a TotalSegmentator id, or '' when the id names no vertebra (e.g. a custom label map)."""
    return LEVEL_NAMES.get(int(label), "")


def level_from_name(name: str) -> str:
    """The level a segment's name gives ('vertebrae_T12', 'T12 vertebra', 'L1' -> 'T12', 'T12', 'L1'); '' when it
    names none or several ('rib_left_12', 'aorta', 'T12-L1')."""
    found = {token for token in re.split(r"[^A-Z0-9]+", str(name).upper()) if token in TOTALSEGMENTATOR_LABELS}
    return found.pop() if len(found) == 1 else ""


def neighbouring_levels(level: str, reach: int = 2) -> list[str]:
    """The levels up to `reach` above and below a level (T12, reach 1 -> ['T11', 'L1'])."""
    index = _ORDER.index(normalise_level(level))
    return [_ORDER[i] for i in range(max(0, index - reach), min(len(_ORDER), index + reach + 1)) if i != index]
