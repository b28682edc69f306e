"""Simulated C-arm views for each planned trajectory: PNG pictures beside plan.json and the `c_arm` section."""

from __future__ import annotations

from pathlib import Path

from ..errors import PVPGuideError
from ..report.png import png_bytes
from .checkpoint import classic_checkpoint
from .picture import drr_rgb
from .project import VIEWS, project


def c_arm_file_name(level: str, side: str, view: str) -> str:
    return f"{level or 'level'}_{side}_c_arm_{view}.png"


def add_c_arm_views(plan, analyses, out_dir):
    """The plan with true AP and lateral DRRs of the planning CT in each analysed vertebra's frame, with the planned
    needle, the classic checkpoint and the predicted cement; written as PNGs, named in t.sections['c_arm'] (DRRs
    kept in t.artifacts['drr'] for the scene)."""
    by_level = {a.level: a for a in analyses}
    out = Path(out_dir)
    trajectories = []
    for t in plan.trajectories:
        analysis = by_level.get(t.level) or (analyses[0] if len(analyses) == 1 else None)
        if analysis is None:
            trajectories.append(t)
            continue
        section = {"pictures": {}, "views": {}}
        try:
            checkpoint = classic_checkpoint(analysis, t.b, t.c, t.side)
            section["checkpoint"] = checkpoint.to_json()
        except PVPGuideError as error:
            checkpoint = None
            section["checkpoint"] = {"verdict": "unknown", "reason": str(error)}
        cement = t.artifacts.get("cement_mask")
        drrs = {}
        for view in VIEWS:
            drr = project(plan.ct, analysis.frame, view)
            cement_drr = None if cement is None else project(plan.ct, analysis.frame, view,
                                                             values=cement.astype("float32"), attenuation=False)
            name = c_arm_file_name(t.level, t.side, view)
            out.mkdir(parents=True, exist_ok=True)
            (out / name).write_bytes(png_bytes(drr_rgb(drr, a=t.a, b=t.b, c=t.c, checkpoint=checkpoint,
                                                       cement=cement_drr)))
            section["pictures"][view] = name
            section["views"][view] = {"origin": [float(x) for x in drr.origin], "u_axis": [float(x) for x in drr.u_axis],
                                      "v_axis": [float(x) for x in drr.v_axis], "pixel_mm": drr.pixel_mm}
            drrs[view] = drr
        trajectories.append(t.with_sections(c_arm=section).with_artifacts(drr=drrs))
    return plan.with_trajectories(trajectories)
