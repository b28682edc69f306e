"""plan.json's `fracture` section: SPEC section 10 measures of each planned level against its neighbours."""

from __future__ import annotations

from ..ct_io import read_labelmap
from ..vertebra.levels import label_for_level
from .errors import FractureError
from .measure import measure_fracture
from .neighbours import adjacent_analyses


def fracture_sections(ct, args, analyses) -> dict:
    """{level: measurement JSON} for every analysed level of a label map (TotalSegmentator ids give neighbours)."""
    labels = read_labelmap(args.segmentation, ct)
    parts = read_labelmap(args.parts, ct) if getattr(args, "parts", None) else None
    sections = {}
    for analysis in analyses:
        key = analysis.level or "0"
        try:
            label = label_for_level(analysis.level)
        except (FractureError, ValueError):
            sections[key] = {"notes": ["level unknown: the adjacent vertebrae cannot be found"], "heights_mm": None}
            continue
        try:
            above, below, notes = adjacent_analyses(ct, labels, label, parts=parts, body_label=args.body_label)
            sections[key] = measure_fracture(analysis, above=above, below=below, neighbour_notes=notes).to_json()
        except FractureError as error:
            sections[key] = {"notes": [str(error)], "heights_mm": None}
    return sections
