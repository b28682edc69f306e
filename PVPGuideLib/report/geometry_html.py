"""The geometry part of a trajectory: A, B, C, both angle frames, lengths, entry offsets and the skin grid."""

from __future__ import annotations

from .html_parts import esc, figure, note, table, value_span

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
    position = t["grid_position"]
    rows = [
        ["nearest crossing: row", value_span(data, base + ("row",), "count")],
        ["nearest crossing: column", value_span(data, base + ("column",), "count")],
        ["A along the row from it (+ towards higher columns)", value_span(data, base + ("residual_mm", 0), "length")],
        ["A along the column from it (+ towards higher rows)", value_span(data, base + ("residual_mm", 1), "length")],
        ["A above the wires' surface (- under it)", value_span(data, base + ("off_plane_mm",), "length")],
    ]
    if position.get("cell"):
        cell = position["cell"]
        rows.append(["cell (rows, columns)", esc(f"{cell['row']}-{cell['row'] + 1}, {cell['column']}-{cell['column'] + 1}")])
    html = table(rows, header=["skin grid", ""])
    grid = data.get("grid") or {}
    if grid.get("source") == "detected":
        html += note(f"Grid found on the CT: {grid['rows']} rows x {grid['columns']} columns, wire fit residual "
                     f"{grid['fit_residual_mm']:.2f} mm RMS.", "ok")
    if position.get("inside_grid") is False:
        html += note("A lies outside the grid's wires: its crossing is extrapolated.", "warn")
    try:
        from .grid_picture import grid_picture

        png = grid_picture(data, index)
    except Exception as error:  # noqa: BLE001  a failed picture must not lose the report
        return html + note(f"the skin grid picture could not be drawn ({type(error).__name__}: {error})")
    if png is not None:
        html += figure(png, alt="A on the skin grid", caption="The skin grid seen from behind the prone patient, head up, "
                       "patient's left (L) on the left: A (green), its nearest crossing (red ring) and its cell "
                       "(yellow); dashed wires are not seen in the CT.")
    return html
