"""Points A, B and C as markups, the vertebra landmarks, and A found on the skin (SPEC sections 2-3)."""

from __future__ import annotations

import hashlib
import json

import numpy as np

from ..core import geometry
from ..core.geometry import VertebraFrame
from ..core.progress import Steps
from ..planning.plan import VertebraLandmarks
from .planning_fields import FIELDS, POINT_COLORS, POINT_NAMES, SKIN_COLOR
from .planning_values import encode


def set_vertebra_landmarks(state, landmarks: VertebraLandmarks | None) -> None:
    """Store the vertebra frame, midsagittal plane and spinous-process tip (RAS) in the parameter node."""
    data = "" if landmarks is None else json.dumps({
        "vertebra_frame": None if landmarks.frame is None else landmarks.frame.to_json(),
        "midsagittal_plane": None if landmarks.midline_point is None else {
            "point": [float(x) for x in landmarks.midline_point],
            "normal": [float(x) for x in landmarks.midline_normal]},
        "spinous_tip": None if landmarks.spinous_tip is None else [float(x) for x in landmarks.spinous_tip],
    }, sort_keys=True)
    state.parameter_node().SetParameter("vertebraLandmarks", data)


def landmarks(state) -> VertebraLandmarks:
    """The stored vertebra landmarks (each None when not stored)."""
    data = state.settings()["vertebraLandmarks"] or {}
    frame, plane, tip = data.get("vertebra_frame"), data.get("midsagittal_plane"), data.get("spinous_tip")
    return VertebraLandmarks(
        frame=None if frame is None else VertebraFrame.from_axes(**frame),
        midline_point=None if plane is None else np.asarray(plane["point"], float),
        midline_normal=None if plane is None else np.asarray(plane["normal"], float),
        spinous_tip=None if tip is None else np.asarray(tip, float),
    )


def ensure_point_nodes(state) -> dict:
    """{name: node} of the markups A, B and C, each created (empty, one point at most) when missing."""
    nodes = {}
    for name in POINT_NAMES:
        node = state.node("point" + name)
        if node is None:
            node = state.scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", name)
            node.CreateDefaultDisplayNodes()
            node.SetMaximumNumberOfControlPoints(1)
            node.SetControlPointLabelFormat(name)
            node.GetDisplayNode().SetSelectedColor(*POINT_COLORS[name])
            state.set_node("point" + name, node)
        nodes[name] = node
    return nodes


def check_point_name(name: str) -> None:
    """Refuse a point name other than A, B or C."""
    if name not in POINT_NAMES:
        raise ValueError(f"point name must be A, B or C, got {name!r}")


def set_point(state, name: str, ras) -> None:
    """Place or move point `name` to world RAS `ras` (mm, inside the CT); parent transforms are respected."""
    check_point_name(name)
    position = geometry.as_point(ras, f"point {name}")
    if state.node("ctVolume") is not None:
        state.ct_geometry().require_inside(name, position)
    state.require_unlocked()
    node = state.node("point" + name)
    if node is not None and node.GetNumberOfControlPoints() > 1:
        raise ValueError(f"markups node '{node.GetName()}' (point {name}) has {node.GetNumberOfControlPoints()} "
                         "control points; delete the extra points first")
    node = node or ensure_point_nodes(state)[name]
    if node.GetNumberOfControlPoints() == 0:
        node.AddControlPointWorld(position.tolist(), name)
    else:
        node.SetNthControlPointPositionWorld(0, *position)


def point(state, name: str, *, required: bool = True) -> np.ndarray | None:
    """(3,) world RAS of point `name`; None when not placed and not `required`."""
    check_point_name(name)
    node = state.node("point" + name)
    count = 0 if node is None else node.GetNumberOfControlPoints()
    if count > 1:
        raise ValueError(f"markups node '{node.GetName()}' (point {name}) has {count} control points, expected "
                         "one; delete the extra points")
    defined = count == 1 and node.GetNthControlPointPositionStatus(0) == node.PositionDefined
    if not defined:
        if required:
            raise ValueError(f"point {name} is not placed; place {name} in the Points section (or set_point)")
        return None
    position = np.zeros(3)
    node.GetNthControlPointPositionWorld(0, position)
    return position


def lock_points(state, locked: bool) -> None:
    """Lock (or unlock) A, B and C against moving; the lock is saved with the scene."""
    nodes = ensure_point_nodes(state)
    for node in nodes.values():
        node.SetLocked(bool(locked))
        for index in range(node.GetNumberOfControlPoints()):
            node.SetNthControlPointLocked(index, bool(locked))
    state.parameter_node().SetParameter("pointsLocked", encode(FIELDS["pointsLocked"], bool(locked)))


def find_skin_entry(logic, progress=None) -> np.ndarray:
    """PlanningLogic.find_skin_entry: A where C->B, continued beyond B, leaves the body; placed, then measured."""
    from ..planning.skin import SkinEntryStatus
    from ..planning.skin import find_skin_entry as find_entry

    state = logic.state
    steps = Steps(["reading the CT", "extracting the skin surface", "finding A", "measuring"], progress)
    ct = state.ct_geometry()
    b, c = point(state, "B"), point(state, "C")
    point(state, "A", required=False)  # refuses extra points before anything is computed
    ct.require_inside("B", b)
    ct.require_inside("C", c)
    geometry.needle_direction(b, c)
    state.require_unlocked()
    threshold = state.settings()["skinThresholdHu"]
    skin = state.skin(threshold, steps)
    steps.start("finding A")
    entry = find_entry(skin, b, c)
    if entry.status is not SkinEntryStatus.FOUND:
        raise ValueError(f"A cannot be found: {entry.message}")
    skin_node = state.node("skinModel")
    skin_key = hashlib.sha1(repr(state.skin_cache[0][1:]).encode()).hexdigest()  # which CT and threshold
    if skin_node is None or skin_node.GetAttribute("PVPGuide.skinKey") != skin_key:
        from .models import model_node_from_mesh

        if skin_node is not None:
            state.scene.RemoveNode(skin_node)
        skin_node = model_node_from_mesh(state.scene, skin.mesh, "Skin", color=SKIN_COLOR)
        skin_node.GetDisplayNode().SetOpacity(0.4)
        skin_node.SetAttribute("PVPGuide.skinKey", skin_key)
        state.set_node("skinModel", skin_node)
    set_point(state, "A", entry.point)
    state.parameter_node().SetParameter("skinEntryPoint", json.dumps([float(x) for x in entry.point]))
    steps.start("measuring")
    logic.measure()
    steps.done()
    return entry.point
