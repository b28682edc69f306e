"""The panel's skin grid kept for the plan: found on the CT or given by three points, then put into plan.json."""

from __future__ import annotations

import json
import weakref

from .planning_grid import find_grid, grid_from_markups, grid_text, show_grid

# PlanningLogic -> (CT node ID, GridLocator). The locator (its fitted skin patch) is not rebuilt from the stored
# JSON, so it lives with the logic; the parameter node keeps its plan.json `grid` for the saved scene.
_GRIDS = weakref.WeakKeyDictionary()


def _ct_id(logic):
    node = logic.node("ctVolume")
    return None if node is None else node.GetID()


def use_grid(logic, grid) -> str:
    """Keep `grid` for logic's plan (parameter skinGrid), show it as markups, return A's place on it in words."""
    _GRIDS[logic] = (_ct_id(logic), grid)
    show_grid(logic.scene, grid)
    params = logic.parameter_node()
    modifying = params.StartModify()
    params.SetParameter("skinGrid", json.dumps(grid.to_json(), sort_keys=True, allow_nan=False))
    params.SetParameter("status", f"skin grid {grid.source}")
    params.EndModify(modifying)
    return grid_label(logic)


def find_grid_on_ct(logic) -> str:
    """'Find grid on CT': the grid found on the panel's CT, kept for the plan."""
    return use_grid(logic, find_grid(logic.node("ctVolume")))


def grid_from_panel_points(logic) -> str:
    """'Use these points': the grid given by the panel's grid points and spacing, kept for the plan."""
    return use_grid(logic, grid_from_markups(logic.node("gridPoints"), logic.settings()["gridSpacingMm"]))


def current_grid(logic):
    """The grid kept for the panel's current CT, or None (none yet, or kept for another CT)."""
    kept = _GRIDS.get(logic)
    return kept[1] if kept is not None and kept[0] == _ct_id(logic) else None


def grid_label(logic) -> str:
    """A's place on the current grid in words ('row 3, column 5; ...'), or why there is none."""
    grid = current_grid(logic)
    try:
        a = None if grid is None else logic.point("A", required=False)
    except ValueError as error:  # shown in the panel whenever it updates: say what is wrong, never raise
        return str(error)
    return grid_text(grid, a)


def add_grid_to_plan_json(logic, data: dict) -> dict:
    """Put the current grid into plan.json content: `grid`, the trajectory's `grid_position`, attach_grid's warnings."""
    grid = current_grid(logic)
    if grid is None:
        if logic.parameter_node().GetParameter("skinGrid"):
            data["warnings"].append("the skin grid was found for another CT or in an earlier session and is left "
                                    "out: find the grid again")
        return data
    from ..grid import attach_grid
    from ..planning.plan import Plan

    # attach_grid locates A and words its warnings; the Plan here only carries the trajectory to it.
    located = attach_grid(Plan(None, None, 0, (logic.trajectory(),)), grid)
    position = located.trajectories[0].grid_position
    data["grid"] = grid.to_json()
    data["trajectories"][0]["grid_position"] = None if position is None else position.to_json()
    data["warnings"].extend(located.warnings)
    return data
