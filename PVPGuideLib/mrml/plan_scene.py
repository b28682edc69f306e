"""A plan as a Slicer scene: CT, skin model, markups A/B/C, trajectory line, parameter node; saved as .mrb."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.compat import strict_zip
from ..planning.plan import Plan
from .markups import fiducial_node_from_point, line_node_from_points
from .models import model_node_from_mesh
from .parameters import parameter_node, set_node_reference, set_parameters
from .scene import new_scene
from .section10_nodes import add_section10_nodes
from .segmentations import segmentation_node_from_labelmap
from .volumes import volume_node_from_ct

SKIN_COLOR = (0.94, 0.78, 0.66)
CEMENT_COLOR = (0.35, 0.75, 0.95)
GUIDE_COLOR = (0.55, 0.85, 0.55)
TRAJECTORY_POINT_NAMES = ("A", "B", "C")


def trajectory_suffix(plan: Plan, index: int) -> str:
    """'' for a single-trajectory plan (nodes named A, B, C), else ' L1 left' etc."""
    if len(plan.trajectories) == 1:
        return ""
    t = plan.trajectories[index]
    return f" {t.level or index + 1} {t.side}"


def reference_role(name: str, suffix: str) -> str:
    return (name + suffix).strip().replace(" ", "_")


def plan_scene(plan: Plan, plan_json: dict, *, ct_name: str = "CT"):
    """A new scene holding the plan; every plan.json entry is a parameter of the PVPGuide parameter node."""
    handle = new_scene()
    scene = handle.scene
    params = parameter_node(scene)
    ct_node = volume_node_from_ct(scene, plan.ct, ct_name)
    set_node_reference(params, "ct", ct_node)
    vertebrae = plan.artifacts.get("vertebra_labels")
    if vertebrae is not None:  # (label volume on the CT grid, {label value: segment name})
        labels, names = vertebrae
        node = segmentation_node_from_labelmap(scene, labels, "Vertebrae", segment_names=names,
                                               reference_volume_node=ct_node)
        set_node_reference(params, "vertebrae", node)
    if plan.skin is not None:
        set_node_reference(params, "skin", model_node_from_mesh(scene, plan.skin.mesh, "Skin", color=SKIN_COLOR))
    for index, t in enumerate(plan.trajectories):
        suffix = trajectory_suffix(plan, index)
        for name, point in strict_zip(TRAJECTORY_POINT_NAMES, (t.a, t.b, t.c)):
            if point is None:
                continue
            node = fiducial_node_from_point(scene, name + suffix, point, label=name)
            set_node_reference(params, reference_role(name, suffix), node)
        start = t.a if t.a is not None else t.b
        line = line_node_from_points(scene, "Trajectory" + suffix, start, t.c)
        set_node_reference(params, reference_role("trajectory", suffix), line)
        cement = t.artifacts.get("cement_mask")
        if cement is not None:
            node = segmentation_node_from_labelmap(scene, plan.ct.with_voxels(cement.astype(np.uint8)),
                                                   ("Cement" + suffix).strip(), segment_names={1: "cement"},
                                                   colors={1: CEMENT_COLOR}, reference_volume_node=ct_node)
            set_node_reference(params, reference_role("cement", suffix), node)
    _add_guide_models(scene, params, plan)
    add_section10_nodes(scene, params, plan, plan_json)
    if plan.grid is not None and hasattr(plan.grid, "crossing"):  # a PVPGuideLib.grid locator
        from .grid_markups import add_grid_markups

        add_grid_markups(scene, plan.grid)
    set_parameters(params, plan_json)
    return handle


def _add_guide_models(scene, params, plan: Plan) -> None:
    """One model node per guide plate (a bilateral plate is shared by its two trajectories)."""
    added = {}
    for t in plan.trajectories:
        mesh = plan.artifacts.get("guide_meshes", {}).get((t.level, t.side))
        section = t.sections.get("guide") or {}
        if mesh is None or not section.get("stl"):
            continue
        name = Path(section["stl"]).stem
        if name not in added:
            added[name] = model_node_from_mesh(scene, mesh, name, color=GUIDE_COLOR)
            set_node_reference(params, name, added[name])


def save_plan_scene(plan: Plan, plan_json: dict, mrb_path, *, ct_name: str | None = None) -> Path:
    """Write the plan's scene as a Slicer data bundle (.mrb), atomically."""
    from .bundle import save_scene_bundle

    name = ct_name or (Path(plan.ct.source).name.split(".")[0] if plan.ct.source else "CT")
    handle = plan_scene(plan, plan_json, ct_name=name)
    save_scene_bundle(handle, mrb_path)
    return Path(mrb_path)
