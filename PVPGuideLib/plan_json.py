"""plan.json: the plan as plain JSON (schema pvpguide.plan/1, RAS mm, full precision; see docs/plan-schema.md)."""

from __future__ import annotations

from . import __version__
from .plan import Plan, Trajectory

SCHEMA = "pvpguide.plan/1"


def _point(p):
    return None if p is None else [float(x) for x in p]


def _angles(angles):
    return None if angles is None else {"transverse": angles.transverse_deg, "sagittal": angles.sagittal_deg}


def trajectory_to_json(t: Trajectory) -> dict:
    lm = t.landmarks
    grid = t.grid_position
    data = {
        "level": t.level,
        "side": t.side,
        "points": {"A": _point(t.a), "B": _point(t.b), "C": _point(t.c)},
        "skin_entry": t.skin_status.value,
        "angles_deg": {"scanner": _angles(t.angles_scanner), "vertebra": _angles(t.angles_vertebra)},
        "lengths_mm": {"AB": t.lengths.ab_mm, "BC": t.lengths.bc_mm, "AC": t.lengths.ac_mm},
        "entry_offsets_mm": {
            "from_midline": t.entry_offsets.from_midline_mm,
            "from_spinous_tip": t.entry_offsets.from_spinous_tip_mm,
        },
        # A grid locator's position (PVPGuideLib.grid) also gives the offsets by name, the cell and inside_grid.
        "grid_position": None if grid is None else grid.to_json() if hasattr(grid, "to_json") else {
            "column": grid.column,
            "row": grid.row,
            "residual_mm": [grid.residual_u_mm, grid.residual_v_mm],
            "off_plane_mm": grid.off_plane_mm,
        },
        "vertebra_frame": None if lm.frame is None else lm.frame.to_json(),
        "midsagittal_plane": None if lm.midline_point is None else {
            "point": _point(lm.midline_point), "normal": _point(lm.midline_normal)},
        "spinous_tip": _point(lm.spinous_tip),
        "warnings": list(t.warnings),
    }
    data.update(t.sections)
    return data


def plan_to_json(plan: Plan, *, ct_path: str | None = None) -> dict:
    ct = plan.ct
    data = {
        "schema": SCHEMA,
        "generator": {"name": "PVPGuide", "version": __version__},
        "coordinate_system": "RAS",
        "units": "mm",
        "ct": {
            "path": ct_path if ct_path is not None else ct.source,
            "size": [int(n) for n in ct.shape_ijk],
            "spacing": [float(s) for s in ct.spacing],
            "ijk_to_ras": [[float(x) for x in row] for row in ct.ijk_to_ras],
        },
        "skin": None if plan.skin is None else {"threshold_hu": plan.skin.threshold_hu},
        "needle_gauge": plan.needle_gauge,
        "needle_outer_diameter_mm": plan.needle_outer_diameter_mm,
        "grid": None if plan.grid is None else plan.grid.to_json() if hasattr(plan.grid, "to_json") else {
            "origin": _point(plan.grid.origin), "u_axis": _point(plan.grid.u_axis),
            "v_axis": _point(plan.grid.v_axis), "spacing_mm": plan.grid.spacing_mm},
        "trajectories": [trajectory_to_json(t) for t in plan.trajectories],
        "warnings": list(plan.warnings),
    }
    data.update(plan.sections)
    return data
