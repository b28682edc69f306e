"""plan.json's `fracture` section: SPEC section 10 measures of each planned level against its neighbours."""

from __future__ import annotations

from pathlib import Path

from ..io.ct_io import read_labelmap
from ..report.png import png_bytes
from ..vertebra.levels import label_for_level
from .errors import FractureError
from .measure import measure_fracture
from .neighbours import adjacent_analyses


def fracture_sections(ct, args, analyses, out_dir=None) -> dict:
    """{level: measurement JSON} for every analysed level of a label map (TotalSegmentator ids give neighbours);
    with out_dir, the mid-sagittal picture is written there as fracture_<level>.png (named under `picture`)."""
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
            measurement = measure_fracture(analysis, above=above, below=below, neighbour_notes=notes)
            sections[key] = measurement.to_json()
            if out_dir is not None:
                sections[key]["picture"] = _write_picture(ct, analysis, measurement, Path(out_dir))
        except FractureError as error:
            sections[key] = {"notes": [str(error)], "heights_mm": None}
    return sections


def _write_picture(ct, analysis, measurement, out: Path) -> str:
    from .picture import mid_sagittal_rgb

    name = f"fracture_{analysis.level or 'level'}.png"
    out.mkdir(parents=True, exist_ok=True)
    rgb = mid_sagittal_rgb(ct, analysis, measurement.heights,
                           extra_heights=[h for h in measurement.neighbours.values() if h is not None])
    (out / name).write_bytes(png_bytes(rgb))
    return name
