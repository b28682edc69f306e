"""Measuring A, B and C (SPEC sections 3-4): the trajectory, its line and needle model, and the view along the needle."""

from __future__ import annotations

import json

import numpy as np

from ..core import geometry
from ..core.compat import strict_zip
from ..core.needles import needle_outer_diameter_mm
from ..io.plan_json import trajectory_to_json
from ..planning.plan import Trajectory, infer_side
from ._vtk import to_vtk_matrix
from .planning_display import needle_cylinder, needle_view_matrix
from .planning_fields import COLLINEAR_TOLERANCE_MM, FIELDS, NEEDLE_COLOR, POINT_NAMES
from .planning_points import landmarks, point
from .planning_values import encode
from .transforms import world_matrix


def trajectory(state) -> Trajectory:
    """Measure the current A (optional), B and C without changing the scene (SPEC sections 3-4)."""
    from ..planning.skin import SkinEntryStatus

    ct = state.ct_geometry()
    a, b, c = (point(state, name, required=name != "A") for name in POINT_NAMES)
    for name, p in strict_zip(POINT_NAMES, (a, b, c)):
        if p is not None:
            ct.require_inside(name, p)
    settings = state.settings()
    marks = landmarks(state)
    frame = marks.frame
    start = a if a is not None else b
    direction = geometry.needle_direction(start, c)
    geometry.needle_direction(b, c)  # B equal to C is no path
    side = infer_side(b, c, frame) if settings["side"] == "both" else settings["side"]
    warnings = []
    if infer_side(b, c, frame) != side:
        warnings.append(f"B lies on the {infer_side(b, c, frame)} of C although the puncture side is {side}: "
                        "check the side or swap the points")
    if a is None:
        warnings.append("A is not placed: use 'Find skin entry A' or place it")
    else:
        off_line = geometry.distance_point_to_line(b, a, c)
        along = np.dot(b - a, direction)
        if off_line > COLLINEAR_TOLERANCE_MM or not 0 < along < np.linalg.norm(c - a):
            warnings.append(f"B is {off_line:.1f} mm off the line A-C (or not between A and C): the angles follow "
                            "A->C; use 'Find skin entry A' to put A on the line C->B")
    superior = frame.superior if frame is not None else geometry.SCANNER_FRAME.superior
    return Trajectory(
        level=settings["level"], side=side, a=a, b=b, c=c,
        skin_status=SkinEntryStatus.FOUND if a is not None else SkinEntryStatus.NO_SKIN_CROSSING,
        angles_scanner=geometry.needle_angles(direction, side),
        angles_vertebra=None if frame is None else geometry.needle_angles(direction, side, frame),
        lengths=geometry.path_lengths(a, b, c),
        entry_offsets=geometry.entry_offsets(a, midline_point=marks.midline_point,
                                             midline_normal=marks.midline_normal,
                                             spinous_tip=marks.spinous_tip, superior_axis=superior),
        grid_position=None, landmarks=marks, warnings=tuple(warnings))


def trajectory_json(state, t: Trajectory) -> dict:
    """plan.json's trajectory for `t`, saying how A came about and which needle is used."""
    data = trajectory_to_json(t)
    found = state.settings()["skinEntryPoint"]
    # plan.json's skin_entry says how A came about; a hand-placed or moved A is not a found one
    if t.a is None:
        data["skin_entry"] = "not_placed"
    elif found is None or not np.allclose(t.a, found, atol=1e-6):
        data["skin_entry"] = "placed"
    gauge = state.settings()["needleGauge"]
    data["needle"] = {"gauge": gauge, "outer_diameter_mm": needle_outer_diameter_mm(gauge)}
    return data


def measure(state) -> dict:
    """Measure A, B, C; update the trajectory line, the needle model and the stored results; return them."""
    t = trajectory(state)
    data = trajectory_json(state, t)
    start = t.a if t.a is not None else t.b
    warnings = list(t.warnings)
    view = None
    if state.settings()["needleViewEnabled"]:  # the view follows the points; computed before anything changes
        try:
            view = view_matrix(state, t.a, t.b, t.c)
        except ValueError as error:
            warnings.append(f"needle view not updated: {error}")
    line = state.node("trajectoryLine")
    if line is None:
        line = state.scene.AddNewNodeByClass("vtkMRMLMarkupsLineNode", "Trajectory")
        line.CreateDefaultDisplayNodes()
        line.AddControlPointWorld(start.tolist(), "")
        line.AddControlPointWorld(t.c.tolist(), "")
        line.SetLocked(True)  # derived from A, B, C: moving it would not move them
        state.set_node("trajectoryLine", line)
    else:
        line.SetNthControlPointPositionWorld(0, *start)
        line.SetNthControlPointPositionWorld(1, *t.c)
    update_needle_model(state, start, t.c, data["needle"]["outer_diameter_mm"])
    params = state.parameter_node()
    modifying = params.StartModify()
    params.SetParameter("measurements", json.dumps(data, sort_keys=True, allow_nan=False))
    params.SetParameter("status", "; ".join(warnings) or "measured")
    params.EndModify(modifying)
    if view is not None:
        apply_needle_view(state, view)
    return data


def update_needle_model(state, start, tip, diameter_mm: float) -> None:
    """The model node 'Needle': a cylinder of the needle's outer diameter from `start` to `tip` (world RAS)."""
    from vtkmodules.util import numpy_support

    node = state.node("needleModel")
    if node is None:
        node = state.scene.AddNewNodeByClass("vtkMRMLModelNode", "Needle")
        node.CreateDefaultDisplayNodes()
        node.GetDisplayNode().SetColor(*NEEDLE_COLOR)
        state.set_node("needleModel", node)
    poly_data = needle_cylinder(start, tip, diameter_mm)
    to_node = np.linalg.inv(world_matrix(node))  # the node may sit under a transform; the cylinder is in world
    points = numpy_support.vtk_to_numpy(poly_data.GetPoints().GetData())
    points[:] = points @ to_node[:3, :3].T + to_node[:3, 3]
    node.SetAndObservePolyData(poly_data)


def update_needle_view(state, slice_node=None) -> np.ndarray:
    """Reslice a view perpendicular to A->C through A, B or C (needleViewAt); return its slice-to-RAS."""
    # The view is `slice_node` or the one named by needleViewSlice; a headless scene without that view
    # only stores the matrix (needleViewMatrix).
    a, b, c = (point(state, name, required=name != "A") for name in POINT_NAMES)
    matrix = view_matrix(state, a, b, c)
    apply_needle_view(state, matrix, slice_node)
    return matrix


def view_matrix(state, a, b, c) -> np.ndarray:
    """Slice-to-RAS of the view along A->C centred on the point named by needleViewAt."""
    centre = {"A": a, "B": b, "C": c}[state.settings()["needleViewAt"]]
    if centre is None:
        raise ValueError("A is not placed, so the needle view cannot be centred on it; choose B or C")
    return needle_view_matrix(a if a is not None else b, c, centre)


def apply_needle_view(state, matrix: np.ndarray, slice_node=None) -> None:
    """Set the needle view's slice to `matrix` (when the view exists) and store the matrix."""
    if slice_node is None:
        slice_node = state.scene.GetSingletonNode(state.settings()["needleViewSlice"], "vtkMRMLSliceNode")
    if slice_node is not None:
        slice_node.GetSliceToRAS().DeepCopy(to_vtk_matrix(matrix))
        slice_node.UpdateMatrices()
    state.parameter_node().SetParameter("needleViewMatrix", json.dumps(matrix.tolist()))


def reset_needle_view(state, slice_node=None) -> None:
    """Return the needle view's slice to its default orientation."""
    if slice_node is None:
        slice_node = state.scene.GetSingletonNode(state.settings()["needleViewSlice"], "vtkMRMLSliceNode")
    if slice_node is not None:
        slice_node.SetOrientationToDefault()


def set_needle_view(state, enabled: bool, slice_node=None):
    """PlanningLogic.set_needle_view: turn the view along the needle on (resliced now) or off (default view)."""
    params = state.parameter_node()
    modifying = params.StartModify()
    try:
        params.SetParameter("needleViewEnabled", encode(FIELDS["needleViewEnabled"], bool(enabled)))
        if not enabled:
            reset_needle_view(state, slice_node)
            return None
        try:
            return update_needle_view(state, slice_node)
        except ValueError:
            params.SetParameter("needleViewEnabled", "False")
            raise
    finally:
        params.EndModify(modifying)
