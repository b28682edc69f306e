"""One rounding for people (report, module, CLI): angles to 0.1 degree, lengths to 0.1 mm. JSON keeps full precision."""

from __future__ import annotations

# Cement volumes are planned and published to 0.01 ml (e.g. 4.97 ml); percentages (PSBCV/VV, fill) to 0.1 %.
VOLUME_ML_DECIMALS = 2
PERCENT_DECIMALS = 1


def format_angle(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}°"


def format_length(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} mm"


def format_volume_ml(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.{VOLUME_ML_DECIMALS}f} ml"


def format_percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.{PERCENT_DECIMALS}f} %"


def format_point(point) -> str:
    return "n/a" if point is None else "(" + ", ".join(f"{x:.1f}" for x in point) + ")"


def trajectory_summary_lines(t) -> list[str]:
    """A few lines describing one trajectory (Trajectory from PVPGuideLib.planning.plan)."""
    lines = [
        f"{t.level or 'level ?'} {t.side}:",
        f"  A {format_point(t.a)}  B {format_point(t.b)}  C {format_point(t.c)}  (RAS mm)",
        f"  scanner frame:  transverse {format_angle(t.angles_scanner.transverse_deg)}, "
        f"sagittal {format_angle(t.angles_scanner.sagittal_deg)}",
    ]
    if t.angles_vertebra is not None:
        lines.append(f"  vertebra frame: transverse {format_angle(t.angles_vertebra.transverse_deg)}, "
                     f"sagittal {format_angle(t.angles_vertebra.sagittal_deg)}")
    lines.append(f"  AB {format_length(t.lengths.ab_mm)}, BC {format_length(t.lengths.bc_mm)}, "
                 f"AC {format_length(t.lengths.ac_mm)}")
    offsets = t.entry_offsets
    if offsets.from_midline_mm is not None or offsets.from_spinous_tip_mm is not None:
        lines.append(f"  entry offsets: {format_length(offsets.from_midline_mm)} from the midline, "
                     f"{format_length(offsets.from_spinous_tip_mm)} from the spinous-process tip (+ cranial)")
    return lines


def plan_summary_lines(plan, data: dict) -> list[str]:
    """What `pvpguide plan` and `demo` print: each trajectory, its safety verdict, the side recommendations."""
    lines = []
    if data.get("grid"):
        from ..grid.wording import grid_summary_text

        lines.append(grid_summary_text(data["grid"]))
    for index, t in enumerate(plan.trajectories):
        lines.extend(trajectory_summary_lines(t))
        position = data["trajectories"][index].get("grid_position") if data.get("trajectories") else None
        if position:
            from ..grid.wording import grid_position_text

            lines.append(f"  A on the skin grid: {grid_position_text(position)}")
        safety = t.sections.get("safety")
        if safety:
            failed = f" - failed: {', '.join(safety['failed'])}" if safety["failed"] else ""
            lines.append(f"  safety ({safety['needle_gauge']}G): {safety['verdict']}{failed}")
    for level, info in sorted(data.get("proposal", {}).get("levels", {}).items()):
        lines.append(f"{level}: recommended side {info['recommended_side']} ({'; '.join(info['reasons'])})")
    return lines
