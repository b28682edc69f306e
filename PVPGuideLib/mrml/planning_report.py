"""plan.json of the current path (with the cement, guide and safety sections while current) and the report folder."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ..core.progress import Steps
from ..io.atomic_io import write_json_atomic
from ..io.plan_json import plan_to_json
from ..planning.plan import build_plan
from .planning_cement import cement_scores, cement_status
from .planning_guide import add_guide_to_plan_json, write_report_guide
from .planning_measure import trajectory, trajectory_json
from .planning_proposal import add_proposal_to_plan_json


def plan_json(logic) -> dict:
    """PlanningLogic.plan_json: schema pvpguide.plan/1 for the current trajectory."""
    state = logic.state
    t = trajectory(state)
    settings = state.settings()
    skin = state.skin_cache[1] if state.skin_cache is not None else None
    plan = build_plan(state.ct_geometry(), skin, [t], needle_gauge=settings["needleGauge"])
    data = plan_to_json(plan)
    if skin is None:
        data["skin"] = {"threshold_hu": settings["skinThresholdHu"]}
    data["trajectories"] = [trajectory_json(state, t)]
    stale = cement_status(state)
    if stale == []:
        data["trajectories"][0]["cement"] = settings["cementSection"]
    elif stale:
        data["warnings"].append("the cement prediction is out of date (" + "; ".join(stale) + ") and is left "
                                "out: predict the cement again")
    add_guide_to_plan_json(logic, data)
    add_proposal_to_plan_json(logic, data)
    from .panel_grid import add_grid_to_plan_json  # issue 17: the skin grid found or given in the panel

    add_grid_to_plan_json(logic, data)
    return data


def write_report(logic, folder: str | Path, *, pdf: bool = False, progress=None) -> dict:
    """PlanningLogic.write_report: plan.json, report.html (pdf), projections and guide STL, staged then moved."""
    from ..planning.plan_cement import cement_file_prefix
    from ..report import write_report as write_report_files
    from .volumes import ct_from_volume_node

    state = logic.state
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder} is a file, not a folder: choose a folder for the report")
    steps = Steps(["reading the CT", "drawing the cement projections", "drawing the report"], progress)
    data = plan_json(logic)
    t = trajectory(state)
    steps.start("reading the CT")
    ct = ct_from_volume_node(state.ct_node())
    mesh = skin_mesh(state)
    problems = []
    scores = None
    if "cement" in data["trajectories"][0]:
        steps.start("drawing the cement projections")
        scores, problem = cement_scores(state, ct)
        problems += [problem] if problem else []
    folder.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".pvpguide-report-", dir=folder))
    try:
        if scores is not None:
            from ..cement import write_projection_pngs

            paths = write_projection_pngs(scores, stage, prefix=cement_file_prefix(t))
            data["trajectories"][0]["cement"]["projections"] = {view: p.name for view, p in sorted(paths.items())}
        guide_meshes = write_report_guide(logic, data, stage)
        data["outputs"] = {"plan_json": "plan.json", "report": "report.html"}
        write_json_atomic(stage / "plan.json", data)
        steps.start("drawing the report")

        def report_progress(fraction, message):
            steps.progress((2 + fraction) / 3, message)

        files = write_report_files(data, stage / "report.html", ct=ct, skin_mesh=mesh, guide_meshes=guide_meshes,
                                   pdf=pdf, progress=report_progress)
        problems += list(files.problems)
        for name in sorted(path.name for path in stage.iterdir()):
            os.replace(stage / name, folder / name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    params = state.parameter_node()
    modifying = params.StartModify()
    params.SetParameter("reportFolder", str(folder.resolve()))
    params.SetParameter("status", f"report written to {folder / 'report.html'}"
                        + "".join(f"; {problem}" for problem in problems))
    params.EndModify(modifying)
    steps.done()
    return data


def skin_mesh(state):
    """The skin surface for the report's 3D view: the one found for A, else the skin model's, else None."""
    if state.skin_cache is not None and state.skin_cache[0] == state.skin_key(state.settings()["skinThresholdHu"]):
        return state.skin_cache[1].mesh
    node = state.node("skinModel")
    if node is None or node.GetPolyData() is None or node.GetPolyData().GetNumberOfPoints() == 0:
        return None
    from .models import mesh_from_model_node

    return mesh_from_model_node(node)
