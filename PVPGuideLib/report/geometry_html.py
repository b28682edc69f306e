"""The geometry part of a trajectory: A, B, C, both angle frames, lengths, entry offsets and the skin grid."""

from __future__ import annotations

from .html_parts import esc, note, table, value_span

SKIN_ENTRY_WORDS = {
    "found": "found on the skin",
    "skin_not_in_field_of_view": "not found: the skin behind B is outside the CT's field of view",
    "no_skin_crossing": "not found: the path C→B never crosses the skin",
}


def points_table(data: dict, index: int) -> str:
    base = ("trajectories", index, "points")
    t = data["trajectories"][index]
    rows = [
        ["A skin entry", value_span(data, base + ("A",), "point"), esc(SKIN_ENTRY_WORDS.get(t.get("skin_entry"), ""))],
        ["B bony entry", value_span(data, base + ("B",), "point"), "lateral edge of the pedicle"],
        ["C target", value_span(data, base + ("C",), "point"), "contralateral anterior third of the body"],
    ]
    return table(rows, header=["point", "R, A, S (RAS)", ""])


def angles_table(data: dict, index: int) -> str:
    t = data["trajectories"][index]
    base = ("trajectories", index, "angles_deg")
    has_vertebra = (t.get("angles_deg") or {}).get("vertebra") is not None

    def cell(frame, name):
        if frame == "vertebra" and not has_vertebra:
            return '<span class="na">no vertebra frame</span>'
        return value_span(data, base + (frame, name), "angle")

    rows = [
        ["transverse (convergence)", cell("scanner", "transverse"), cell("vertebra", "transverse")],
        ["sagittal (cranial tilt)", cell("scanner", "sagittal"), cell("vertebra", "sagittal")],
    ]
    return table(rows, header=["angle", "scanner frame", "vertebra frame"])


def lengths_table(data: dict, index: int) -> str:
    base = ("trajectories", index)
    rows = [
        ["AB soft tissue", value_span(data, base + ("lengths_mm", "AB"), "length")],
        ["BC path in bone", value_span(data, base + ("lengths_mm", "BC"), "length")],
        ["AC needle depth", value_span(data, base + ("lengths_mm", "AC"), "length")],
        ["A from the midline", value_span(data, base + ("entry_offsets_mm", "from_midline"), "length")],
        ["A from the spinous-process tip (+ cranial)",
         value_span(data, base + ("entry_offsets_mm", "from_spinous_tip"), "length")],
    ]
    return table(rows, header=["length / offset", "mm"])


def grid_block(data: dict, index: int) -> str:
    t = data["trajectories"][index]
    if t.get("grid_position") is None:
        if data.get("grid") is None:
            return note("No skin grid defined: grid coordinates not given.")
        return note("A is not on the skin grid (A not found).")
    base = ("trajectories", index, "grid_position")
    rows = [
        ["column", value_span(data, base + ("column",), "count")],
        ["row", value_span(data, base + ("row",), "count")],
        ["residual along the columns", value_span(data, base + ("residual_mm", 0), "length")],
        ["residual along the rows", value_span(data, base + ("residual_mm", 1), "length")],
        ["off the grid plane", value_span(data, base + ("off_plane_mm",), "length")],
    ]
    return table(rows, header=["skin grid", ""])
