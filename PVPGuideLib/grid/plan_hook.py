"""Put a grid locator on a plan: the plan's grid and every trajectory's A located on it."""

from __future__ import annotations

from dataclasses import replace

from .model import GridLocator


def attach_grid(plan, grid: GridLocator):
    """The plan with `grid` and each trajectory's grid position (None where A was not found); warns when A lies
    outside the grid's wires."""
    trajectories, warnings = [], list(plan.warnings)
    warnings.extend(f"skin grid: {w}" for w in grid.warnings)
    for t in plan.trajectories:
        position = None if t.a is None else grid.locate(t.a)
        if position is not None and position.inside_grid is False:
            warnings.append(f"{t.level or 'level ?'} {t.side}: A lies outside the skin grid; its nearest crossing "
                            f"(row {position.row}, column {position.column}) is extrapolated beyond the wires")
        trajectories.append(replace(t, grid_position=position))
    return replace(plan, grid=grid, trajectories=tuple(trajectories), warnings=tuple(warnings))
