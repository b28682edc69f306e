"""Headless logic behind every PVPGuide panel action: points A/B/C, skin entry, measurements, cement, report."""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..core import geometry
from ..core.compat import strict_zip
from ..core.geometry import VertebraFrame
from ..core.needles import needle_outer_diameter_mm
from ..core.progress import Steps
from ..core.volume import CTVolume
from ..io.atomic_io import write_json_atomic
from ..io.plan_json import plan_to_json, trajectory_to_json
from ..planning.plan import Trajectory, VertebraLandmarks, build_plan, infer_side
from ..planning.skin import SkinEntryStatus, find_skin_entry, skin_surface
from ._vtk import extent_offset_matrix, from_vtk_matrix, to_vtk_matrix
from .parameters import MODULE_NAME
from .parameters import parameter_node as module_parameter_node
from .planning_cement import cement_inputs, stale_reasons, update_cement_segmentation, vertebra_masks
from .planning_display import needle_cylinder, needle_view_matrix
from .planning_fields import (
    COLLINEAR_TOLERANCE_MM,
    COMMAND_LINE_BODY,
    FIELDS,
    LEVELS,
    NEEDLE_COLOR,
    NODE_ROLES,
    POINT_COLORS,
    POINT_NAMES,
    RESULTS,
    SETTINGS,
    SKIN_COLOR,
    Setting,
)
from .planning_guide import (
    add_guide_to_plan_json,
    command_line_guide,
    guide_status,
    write_report_guide,
)
from .planning_proposal import add_proposal_to_plan_json, proposal_status
from .scene import scene_of
from .transforms import world_matrix

# References written by `pvpguide plan`/`demo` (PVPGuideLib.mrml.plan_scene), adopted when such a scene is opened.
_COMMAND_LINE_ROLES = {"ctVolume": "ct", "skinModel": "skin", "pointA": "A", "pointB": "B", "pointC": "C",
                       "trajectoryLine": "trajectory", "vertebraSegmentation": "vertebrae",
                       "cementSegmentation": "cement"}
# The keys of a plan.json trajectory that `measure` writes too (the capability sections are not measurements).
_MEASUREMENT_KEYS = ("level", "side", "points", "skin_entry", "angles_deg", "lengths_mm", "entry_offsets_mm",
                     "grid_position", "vertebra_frame", "midsagittal_plane", "spinous_tip", "warnings")
_JSON_RESULTS = ("vertebraLandmarks", "skinEntryPoint", "measurements", "needleViewMatrix", "cementSection",
                 "cementInputs", "guideSection", "guideInputs", "proposalSection")


def _encode(setting: Setting, value) -> str:
    """Validate `value` for `setting` and return parameterNodeWrapper's text for it."""
    name, kind = setting.name, setting.type
    if kind is bool:
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False, got {value!r}")
        return "True" if value else "False"
    if kind is str:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be text, got {value!r}")
    elif (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating))
          or not math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    elif kind is int:
        if float(value) != int(value):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        value = int(value)
    else:
        value = float(value)
    if setting.choices and value not in setting.choices:
        raise ValueError(f"{name} must be one of {', '.join(map(str, setting.choices))}; got {value!r}")
    if setting.limits and not setting.limits[0] <= value <= setting.limits[1]:
        raise ValueError(f"{name} must lie between {setting.limits[0]:g} and {setting.limits[1]:g}; got {value!r}")
    return str(value)  # str(float) round-trips exactly


def _decode(setting: Setting, text: str):
    if setting.type is bool:
        return text == "True"
    try:
        return setting.type(text)
    except ValueError:
        return setting.default  # e.g. edited by hand in the Python console


def _set_reference(params, role: str, node) -> None:
    params.SetParameter(role, "")  # parameterNodeWrapper's marker that the node field is set
    params.SetNodeReferenceID(role, node.GetID() if node is not None else None)


def _adopt_command_line_plan(params) -> None:
    """Take settings and results from a plan.json that `pvpguide plan`/`demo` stored in the parameter node."""
    # The module plans one trajectory at a time: the first one of the plan is adopted.
    try:
        gauge = json.loads(params.GetParameter("needle_gauge") or "null")
        trajectories = json.loads(params.GetParameter("trajectories") or "[]")
    except ValueError:
        return
    first = trajectories[0] if trajectories and isinstance(trajectories[0], dict) else {}
    settings = {"needleGauge": gauge, "level": first.get("level"), "side": first.get("side")}
    vertebrae = params.GetNodeReference("vertebrae")
    if (vertebrae is not None and isinstance(first.get("level"), str)
            and vertebrae.GetSegmentation().GetSegment(first["level"]) is not None):
        settings["vertebraSegmentId"] = first["level"]
    cement = first.get("cement")
    if isinstance(cement, dict):
        settings["plannedCementVolumeMl"] = cement.get("planned_volume_ml")
    guide_settings, guide_results, guide_role = command_line_guide(params, first, gauge)
    for name, value in {**settings, **guide_settings}.items():
        try:
            params.SetParameter(name, _encode(FIELDS[name], value))
        except ValueError:
            pass  # absent or not a value the module knows: the default applies
    try:
        results = _command_line_results(first, gauge, settings.get("vertebraSegmentId"))
    except (KeyError, TypeError, ValueError):
        return  # a plan.json the module cannot read: the panel starts from the points
    for name, value in {**results, **guide_results}.items():
        params.SetParameter(name, json.dumps(value, sort_keys=True, allow_nan=False))
    if guide_role:
        _set_reference(params, "guideModel", params.GetNodeReference(guide_role))


def _command_line_results(first: dict, gauge, segment_id: str | None) -> dict:
    """{result name: JSON value} of the module's results held in a command-line plan's first trajectory."""
    results = {}
    if all(key in first for key in _MEASUREMENT_KEYS):
        results["measurements"] = {key: first[key] for key in _MEASUREMENT_KEYS}
        results["measurements"]["needle"] = {"gauge": gauge, "outer_diameter_mm": needle_outer_diameter_mm(gauge)}
    landmarks = {key: first.get(key) for key in ("vertebra_frame", "midsagittal_plane", "spinous_tip")}
    if any(value is not None for value in landmarks.values()):
        results["vertebraLandmarks"] = landmarks
    if first.get("skin_entry") == "found":
        results["skinEntryPoint"] = [float(x) for x in first["points"]["A"]]
    cement = first.get("cement")
    if isinstance(cement, dict):
        # the projection pictures stay in the command line's output folder; they are not in the scene
        results["cementSection"] = {key: value for key, value in cement.items() if key != "projections"}
        results["cementInputs"] = {"B": first["points"]["B"], "C": first["points"]["C"], "side": first["side"],
                                   "volume_ml": float(cement["planned_volume_ml"]), "vertebra_segment": segment_id,
                                   "body_segment": "", "body": COMMAND_LINE_BODY}
    return results


def _json_or_none(text: str):
    return json.loads(text) if text else None


class PlanningLogic:
    """Every PVPGuide panel action on one MRML scene, usable headless (Slicer Python console, scripts, tests)."""

    # Actions read their inputs from the PVPGuide parameter node (select_ct, set_settings, set_point, ...),
    # validate everything before touching the scene and raise ValueError saying what to do, so a refused
    # action leaves the scene exactly as it was.

    def __init__(self, scene_or_handle):
        self.scene = scene_of(scene_or_handle)
        self._skin_cache = None  # (key, SkinSurface): the skin takes seconds, the key says when it is stale
        self._complete_parameter_node = None  # the parameter node once every setting and role was found in it
        self._skin_index = None  # planning_live.SkinRayIndex of that skin: A follows B and C in milliseconds
        self._cement_cache = None  # (cementSection text, CementScores): the projections of the last prediction
        self._guide_cache = None  # (what it was built for, GuideResult): saving the same plate again skips building

    # ---- parameter node -------------------------------------------------------------------------
    def parameter_node(self):
        """The scene's PVPGuide parameter node, created with defaults when missing."""
        params = module_parameter_node(self.scene, MODULE_NAME)
        if params is self._complete_parameter_node:  # checked before: every live move asks for it several times
            return params
        modifying = params.StartModify()
        if not params.HasParameter("needleGauge"):
            _adopt_command_line_plan(params)
        for setting in SETTINGS + RESULTS:
            if not params.HasParameter(setting.name):
                params.SetParameter(setting.name, _encode(setting, setting.default))
        for role in NODE_ROLES:
            if not params.HasParameter(role):  # first time: a command-line scene's node, else none
                _set_reference(params, role, params.GetNodeReference(_COMMAND_LINE_ROLES.get(role, role)))
        params.EndModify(modifying)
        self._complete_parameter_node = params
        return params

    def _existing_parameter_node(self):
        """The parameter node, or None; looking must not add a node (failed actions leave the scene unchanged)."""
        params = self.scene.GetSingletonNode(MODULE_NAME, "vtkMRMLScriptedModuleNode")
        return self.parameter_node() if params is not None else None

    def settings(self) -> dict:
        """{name: value} of every setting and result (results that are JSON come back as dicts)."""
        params = self.parameter_node()
        values = {s.name: _decode(s, params.GetParameter(s.name)) for s in SETTINGS + RESULTS}
        for name in _JSON_RESULTS:
            values[name] = _json_or_none(values[name])
        return values

    def set_settings(self, **values) -> None:
        """Set settings by name (see SETTINGS), all validated before any is written."""
        unknown = sorted(set(values) - {s.name for s in SETTINGS})
        if unknown:
            raise ValueError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(s.name for s in SETTINGS)}")
        encoded = {name: _encode(FIELDS[name], value) for name, value in values.items()}
        params = self.parameter_node()
        modifying = params.StartModify()
        for name, text in encoded.items():
            params.SetParameter(name, text)
        params.EndModify(modifying)

    def node(self, role: str):
        """The node referenced under `role` (see NODE_ROLES), or None."""
        if role not in NODE_ROLES:
            raise ValueError(f"unknown node role {role!r}; known: {', '.join(NODE_ROLES)}")
        params = self._existing_parameter_node()
        return params.GetNodeReference(role) if params is not None else None

    def _set_node(self, role: str, node) -> None:
        if node is not None and not node.IsA(NODE_ROLES[role]):
            raise ValueError(f"{role} must be a {NODE_ROLES[role]}, got {node.GetClassName()} '{node.GetName()}'")
        if node is not None and node.GetScene() is not self.scene:
            raise ValueError(f"node '{node.GetName()}' belongs to another scene")
        _set_reference(self.parameter_node(), role, node)

    # ---- inputs ---------------------------------------------------------------------------------
    def select_ct(self, volume_node) -> None:
        """Plan on this CT (vtkMRMLScalarVolumeNode with voxels; any direction matrix, parent transforms allowed)."""
        if volume_node is None or not volume_node.IsA("vtkMRMLScalarVolumeNode") or volume_node.IsA(
                "vtkMRMLLabelMapVolumeNode"):
            raise ValueError("the CT must be a scalar volume node (not a label map)")
        if volume_node.GetImageData() is None:
            raise ValueError(f"volume '{volume_node.GetName()}' has no voxels; load the image first")
        self._set_node("ctVolume", volume_node)

    def select_vertebra(self, segmentation_node, segment_id: str = "") -> None:
        """The segmentation holding the vertebra to treat, and the segment ID of that vertebra."""
        if segmentation_node is not None and segment_id:
            segmentation = segmentation_node.GetSegmentation()
            if segmentation.GetSegment(segment_id) is None:
                raise ValueError(f"segmentation '{segmentation_node.GetName()}' has no segment '{segment_id}'")
        self._set_node("vertebraSegmentation", segmentation_node)
        self.set_settings(vertebraSegmentId=segment_id)

    def set_vertebra_landmarks(self, landmarks: VertebraLandmarks | None) -> None:
        """Vertebra frame, midsagittal plane and spinous-process tip (RAS) for vertebra-frame angles and offsets."""
        data = "" if landmarks is None else json.dumps({
            "vertebra_frame": None if landmarks.frame is None else landmarks.frame.to_json(),
            "midsagittal_plane": None if landmarks.midline_point is None else {
                "point": [float(x) for x in landmarks.midline_point],
                "normal": [float(x) for x in landmarks.midline_normal]},
            "spinous_tip": None if landmarks.spinous_tip is None else [float(x) for x in landmarks.spinous_tip],
        }, sort_keys=True)
        self.parameter_node().SetParameter("vertebraLandmarks", data)

    def landmarks(self) -> VertebraLandmarks:
        data = self.settings()["vertebraLandmarks"] or {}
        frame, plane, tip = data.get("vertebra_frame"), data.get("midsagittal_plane"), data.get("spinous_tip")
        return VertebraLandmarks(
            frame=None if frame is None else VertebraFrame.from_axes(**frame),
            midline_point=None if plane is None else np.asarray(plane["point"], float),
            midline_normal=None if plane is None else np.asarray(plane["normal"], float),
            spinous_tip=None if tip is None else np.asarray(tip, float),
        )

    # ---- points ---------------------------------------------------------------------------------
    def ensure_point_nodes(self) -> dict:
        """{name: node} of the markups A, B and C, each created (empty, one point at most) when missing."""
        nodes = {}
        for name in POINT_NAMES:
            node = self.node("point" + name)
            if node is None:
                node = self.scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", name)
                node.CreateDefaultDisplayNodes()
                node.SetMaximumNumberOfControlPoints(1)
                node.SetControlPointLabelFormat(name)
                node.GetDisplayNode().SetSelectedColor(*POINT_COLORS[name])
                self._set_node("point" + name, node)
            nodes[name] = node
        return nodes

    def use_point_node(self, name: str, node) -> None:
        """Use an existing fiducial node (one control point) as point A, B or C."""
        self._check_point_name(name)
        self._set_node("point" + name, node)

    @staticmethod
    def _check_point_name(name: str) -> None:
        if name not in POINT_NAMES:
            raise ValueError(f"point name must be A, B or C, got {name!r}")

    def _require_unlocked(self) -> None:
        params = self._existing_parameter_node()
        if params is not None and params.GetParameter("pointsLocked") == "True":
            raise ValueError("points A, B and C are locked; unlock them first")

    def set_point(self, name: str, ras) -> None:
        """Place or move point `name` to world RAS `ras` (mm, inside the CT); parent transforms are respected."""
        self._check_point_name(name)
        position = geometry.as_point(ras, f"point {name}")
        if self.node("ctVolume") is not None:
            self._ct_geometry().require_inside(name, position)
        self._require_unlocked()
        node = self.node("point" + name)
        if node is not None and node.GetNumberOfControlPoints() > 1:
            raise ValueError(f"markups node '{node.GetName()}' (point {name}) has {node.GetNumberOfControlPoints()} "
                             "control points; delete the extra points first")
        node = node or self.ensure_point_nodes()[name]
        if node.GetNumberOfControlPoints() == 0:
            node.AddControlPointWorld(position.tolist(), name)
        else:
            node.SetNthControlPointPositionWorld(0, *position)

    def point(self, name: str, *, required: bool = True) -> np.ndarray | None:
        """(3,) world RAS of point `name`; None when not placed and not `required`."""
        self._check_point_name(name)
        node = self.node("point" + name)
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

    def lock_points(self, locked: bool) -> None:
        """Lock (or unlock) A, B and C against moving; the lock is saved with the scene."""
        nodes = self.ensure_point_nodes()
        for node in nodes.values():
            node.SetLocked(bool(locked))
            for index in range(node.GetNumberOfControlPoints()):
                node.SetNthControlPointLocked(index, bool(locked))
        self.parameter_node().SetParameter("pointsLocked", _encode(FIELDS["pointsLocked"], bool(locked)))

    # ---- CT ---------------------------------------------------------------------------------------
    def _ct_node(self):
        node = self.node("ctVolume")
        if node is None:
            raise ValueError("no CT selected: choose the CT volume in Inputs (or call select_ct(volume_node))")
        if node.GetImageData() is None:
            raise ValueError(f"the CT '{node.GetName()}' has no voxels; load the image first")
        return node

    def _ct_geometry(self) -> CTVolume:
        """The CT's grid in world RAS without copying its voxels (enough for measuring, fast for live updates)."""
        from vtkmodules.vtkCommonMath import vtkMatrix4x4

        node = self._ct_node()
        image = node.GetImageData()
        ijk_to_ras = vtkMatrix4x4()
        node.GetIJKToRASMatrix(ijk_to_ras)
        matrix = world_matrix(node) @ from_vtk_matrix(ijk_to_ras) @ extent_offset_matrix(image)
        i, j, k = image.GetDimensions()
        storage = node.GetStorageNode()
        source = storage.GetFileName() if storage is not None and storage.GetFileName() else node.GetName()
        return CTVolume(np.broadcast_to(np.zeros((), np.int16), (k, j, i)), matrix, source)

    def _skin(self, threshold_hu: float, progress):
        from .volumes import ct_from_volume_node

        node = self._ct_node()
        key = self._skin_key(threshold_hu)
        if self._skin_cache is None or self._skin_cache[0] != key:
            progress.start("reading the CT")
            ct = ct_from_volume_node(node)
            progress.start("extracting the skin surface")
            self._skin_cache = (key, skin_surface(ct, threshold_hu=threshold_hu))
        return self._skin_cache[1]

    def _skin_key(self, threshold_hu: float) -> tuple:
        """Which CT (node, voxels, world grid) and threshold a skin surface belongs to."""
        node = self._ct_node()
        return node.GetID(), node.GetImageData().GetMTime(), self._ct_geometry().ijk_to_ras.tobytes(), threshold_hu

    # ---- actions ----------------------------------------------------------------------------------
    def find_skin_entry(self, progress=None) -> np.ndarray:
        """Find A where C->B, continued beyond B, leaves the body through the skin; place A there and measure."""
        steps = Steps(["reading the CT", "extracting the skin surface", "finding A", "measuring"], progress)
        ct = self._ct_geometry()
        b, c = self.point("B"), self.point("C")
        self.point("A", required=False)  # refuses extra points before anything is computed
        ct.require_inside("B", b)
        ct.require_inside("C", c)
        geometry.needle_direction(b, c)
        self._require_unlocked()
        threshold = self.settings()["skinThresholdHu"]
        skin = self._skin(threshold, steps)
        steps.start("finding A")
        entry = find_skin_entry(skin, b, c)
        if entry.status is not SkinEntryStatus.FOUND:
            raise ValueError(f"A cannot be found: {entry.message}")
        skin_node = self.node("skinModel")
        skin_key = hashlib.sha1(repr(self._skin_cache[0][1:]).encode()).hexdigest()  # which CT and threshold
        if skin_node is None or skin_node.GetAttribute("PVPGuide.skinKey") != skin_key:
            from .models import model_node_from_mesh

            if skin_node is not None:
                self.scene.RemoveNode(skin_node)
            skin_node = model_node_from_mesh(self.scene, skin.mesh, "Skin", color=SKIN_COLOR)
            skin_node.GetDisplayNode().SetOpacity(0.4)
            skin_node.SetAttribute("PVPGuide.skinKey", skin_key)
            self._set_node("skinModel", skin_node)
        self.set_point("A", entry.point)
        self.parameter_node().SetParameter("skinEntryPoint", json.dumps([float(x) for x in entry.point]))
        steps.start("measuring")
        self.measure()
        steps.done()
        return entry.point

    def trajectory(self) -> Trajectory:
        """Measure the current A (optional), B and C without changing the scene (SPEC sections 3-4)."""
        ct = self._ct_geometry()
        a, b, c = (self.point(name, required=name != "A") for name in POINT_NAMES)
        for name, p in strict_zip(POINT_NAMES, (a, b, c)):
            if p is not None:
                ct.require_inside(name, p)
        settings = self.settings()
        landmarks = self.landmarks()
        frame = landmarks.frame
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
            entry_offsets=geometry.entry_offsets(a, midline_point=landmarks.midline_point,
                                                 midline_normal=landmarks.midline_normal,
                                                 spinous_tip=landmarks.spinous_tip, superior_axis=superior),
            grid_position=None, landmarks=landmarks, warnings=tuple(warnings))

    def _trajectory_json(self, t: Trajectory) -> dict:
        data = trajectory_to_json(t)
        found = self.settings()["skinEntryPoint"]
        # plan.json's skin_entry says how A came about; a hand-placed or moved A is not a found one
        if t.a is None:
            data["skin_entry"] = "not_placed"
        elif found is None or not np.allclose(t.a, found, atol=1e-6):
            data["skin_entry"] = "placed"
        gauge = self.settings()["needleGauge"]
        data["needle"] = {"gauge": gauge, "outer_diameter_mm": needle_outer_diameter_mm(gauge)}
        return data

    def measure(self) -> dict:
        """Measure A, B, C; update the trajectory line, the needle model and the stored results; return them."""
        t = self.trajectory()
        data = self._trajectory_json(t)
        start = t.a if t.a is not None else t.b
        warnings = list(t.warnings)
        view = None
        if self.settings()["needleViewEnabled"]:  # the view follows the points; computed before anything changes
            try:
                view = self._needle_view_matrix(t.a, t.b, t.c)
            except ValueError as error:
                warnings.append(f"needle view not updated: {error}")
        line = self.node("trajectoryLine")
        if line is None:
            line = self.scene.AddNewNodeByClass("vtkMRMLMarkupsLineNode", "Trajectory")
            line.CreateDefaultDisplayNodes()
            line.AddControlPointWorld(start.tolist(), "")
            line.AddControlPointWorld(t.c.tolist(), "")
            line.SetLocked(True)  # derived from A, B, C: moving it would not move them
            self._set_node("trajectoryLine", line)
        else:
            line.SetNthControlPointPositionWorld(0, *start)
            line.SetNthControlPointPositionWorld(1, *t.c)
        self._update_needle_model(start, t.c, data["needle"]["outer_diameter_mm"])
        params = self.parameter_node()
        modifying = params.StartModify()
        params.SetParameter("measurements", json.dumps(data, sort_keys=True, allow_nan=False))
        params.SetParameter("status", "; ".join(warnings) or "measured")
        params.EndModify(modifying)
        if view is not None:
            self._apply_needle_view(view)
        return data

    def _update_needle_model(self, start, tip, diameter_mm: float) -> None:
        from vtkmodules.util import numpy_support

        node = self.node("needleModel")
        if node is None:
            node = self.scene.AddNewNodeByClass("vtkMRMLModelNode", "Needle")
            node.CreateDefaultDisplayNodes()
            node.GetDisplayNode().SetColor(*NEEDLE_COLOR)
            self._set_node("needleModel", node)
        poly_data = needle_cylinder(start, tip, diameter_mm)
        to_node = np.linalg.inv(world_matrix(node))  # the node may sit under a transform; the cylinder is in world
        points = numpy_support.vtk_to_numpy(poly_data.GetPoints().GetData())
        points[:] = points @ to_node[:3, :3].T + to_node[:3, 3]
        node.SetAndObservePolyData(poly_data)

    def update_needle_view(self, slice_node=None) -> np.ndarray:
        """Reslice a view perpendicular to A->C through A, B or C (needleViewAt); return its slice-to-RAS."""
        # The view is `slice_node` or the one named by needleViewSlice; a headless scene without that view
        # only stores the matrix (needleViewMatrix).
        a, b, c = (self.point(name, required=name != "A") for name in POINT_NAMES)
        matrix = self._needle_view_matrix(a, b, c)
        self._apply_needle_view(matrix, slice_node)
        return matrix

    def _needle_view_matrix(self, a, b, c) -> np.ndarray:
        centre = {"A": a, "B": b, "C": c}[self.settings()["needleViewAt"]]
        if centre is None:
            raise ValueError("A is not placed, so the needle view cannot be centred on it; choose B or C")
        return needle_view_matrix(a if a is not None else b, c, centre)

    def _apply_needle_view(self, matrix: np.ndarray, slice_node=None) -> None:
        if slice_node is None:
            slice_node = self.scene.GetSingletonNode(self.settings()["needleViewSlice"], "vtkMRMLSliceNode")
        if slice_node is not None:
            slice_node.GetSliceToRAS().DeepCopy(to_vtk_matrix(matrix))
            slice_node.UpdateMatrices()
        self.parameter_node().SetParameter("needleViewMatrix", json.dumps(matrix.tolist()))

    def reset_needle_view(self, slice_node=None) -> None:
        """Return the needle view's slice to its default orientation."""
        if slice_node is None:
            slice_node = self.scene.GetSingletonNode(self.settings()["needleViewSlice"], "vtkMRMLSliceNode")
        if slice_node is not None:
            slice_node.SetOrientationToDefault()

    def set_needle_view(self, enabled: bool, slice_node=None):
        """Turn the view along the needle on (resliced now, then following the points) or off (default view).

        needleViewEnabled is stored in the same parameter-node modification as the view's matrix, so an
        observer never sees the new matrix with the old state (the panel's button would uncheck itself).
        A view that cannot be made (A missing while the view is centred on A) is refused and stays off.
        """
        params = self.parameter_node()
        modifying = params.StartModify()
        try:
            params.SetParameter("needleViewEnabled", _encode(FIELDS["needleViewEnabled"], bool(enabled)))
            if not enabled:
                self.reset_needle_view(slice_node)
                return None
            try:
                return self.update_needle_view(slice_node)
            except ValueError:
                params.SetParameter("needleViewEnabled", "False")
                raise
        finally:
            params.EndModify(modifying)

    def follow_b_and_c(self, moved: str) -> dict:
        """Live update after `moved` (A, B or C) changed: A re-found on C->B to the skin unless locked; measure."""
        from .planning_live import follow_b_and_c

        return follow_b_and_c(self, moved)

    # ---- cement ------------------------------------------------------------------------------------
    def _vertebra_segment(self) -> tuple:
        node = self.node("vertebraSegmentation")
        segment_id = self.settings()["vertebraSegmentId"]
        if node is None or not segment_id:
            raise ValueError("no target vertebra: choose the vertebra segmentation and the segment of the vertebra to "
                             "treat in Inputs (or call select_vertebra); the cement grows inside its body")
        if node.GetSegmentation().GetSegment(segment_id) is None:
            raise ValueError(f"segmentation '{node.GetName()}' has no segment '{segment_id}': choose the target "
                             "vertebra again in Inputs")
        return node, segment_id

    def predict_cement(self, volume_ml: float | None = None, *, body_segment_id: str = "", progress=None) -> dict:
        """Predict the cement spread from C (SPEC section 6), show it as segment 'cement', return the scores.

        volume_ml : planned volume (ml, default plannedCementVolumeMl; a given value is stored as that setting).
        body_segment_id : a segment of the vertebra segmentation holding the vertebral body; without it the
        target vertebra's segment is split into body and posterior elements (PVPGuideLib.cement.split_body).
        Returns plan.json's `cement` section (also stored as cementSection): BCV, VV, PSBCV/VV % and its
        13.68 % flag, distribution score, endplate contact, nine zones, pattern, and the conventional path.
        """
        from ..cement import CementError
        from ..planning.plan_cement import add_cement_prediction
        from .volumes import ct_from_volume_node

        steps = Steps(["reading the CT and the vertebra", "predicting the cement", "adding the cement segment"],
                      progress)
        ct_node = self._ct_node()  # first: without a CT there is nothing to look at (not even a parameter node)
        volume_text = _encode(FIELDS["plannedCementVolumeMl"],
                              self.settings()["plannedCementVolumeMl"] if volume_ml is None else volume_ml)
        t = self.trajectory()
        segmentation, segment_id = self._vertebra_segment()
        if body_segment_id and segmentation.GetSegmentation().GetSegment(body_segment_id) is None:
            raise ValueError(f"segmentation '{segmentation.GetName()}' has no body segment '{body_segment_id}'")
        steps.start("reading the CT and the vertebra")
        ct = ct_from_volume_node(ct_node)
        try:
            body, posterior, body_source = vertebra_masks(segmentation, segment_id, ct, body_segment_id=body_segment_id)
            steps.start("predicting the cement")
            add_cement_prediction(t, ct, body, volume_ml=float(volume_text), posterior_mask=posterior)
        except CementError as error:
            raise ValueError(f"the cement cannot be predicted: {error}") from error
        section = json.loads(json.dumps(t.sections["cement"], sort_keys=True, allow_nan=False))
        steps.start("adding the cement segment")
        node = update_cement_segmentation(self.scene, self.node("cementSegmentation"), ct, t.artifacts["cement_mask"],
                                          ct_node)
        self._set_node("cementSegmentation", node)
        section_text = json.dumps(section, sort_keys=True, allow_nan=False)
        inputs = cement_inputs(t, float(volume_text), segment_id, body_segment_id, body_source)
        params = self.parameter_node()
        modifying = params.StartModify()
        params.SetParameter("plannedCementVolumeMl", volume_text)
        params.SetParameter("cementSection", section_text)
        params.SetParameter("cementInputs", json.dumps(inputs, sort_keys=True))
        params.SetParameter("status", "cement predicted")
        params.EndModify(modifying)
        self._cement_cache = (section_text, t.artifacts["cement_scores"])
        steps.done()
        return section

    def cement_status(self) -> list[str] | None:
        """None without a prediction; [] while it matches B, C, side, volume and vertebra; else why it does not."""
        if self._existing_parameter_node() is None:
            return None
        settings = self.settings()
        if not settings["cementSection"]:
            return None
        try:
            b, c = self.point("B", required=False), self.point("C", required=False)
        except ValueError as error:
            return [str(error)]
        side = settings["side"]
        if side == "both" and b is not None and c is not None:
            side = infer_side(b, c, self.landmarks().frame)
        return stale_reasons(settings["cementInputs"], b, c, side, settings["plannedCementVolumeMl"],
                             settings["vertebraSegmentId"])

    def _cement_scores(self, ct: CTVolume):
        """(CementScores of the stored prediction or None, problem): recomputed when not in memory (reopened scene)."""
        from ..cement import CementError
        from ..planning.plan_cement import add_cement_prediction

        text = self.parameter_node().GetParameter("cementSection")
        if self._cement_cache is not None and self._cement_cache[0] == text:
            return self._cement_cache[1], None
        inputs = self.settings()["cementInputs"] or {}
        redo = "predict the cement again to draw the AP and lateral projections"
        if inputs.get("body") == COMMAND_LINE_BODY:
            return None, f"the command line drew this plan's cement projections in its output folder; {redo}"
        try:
            t = self.trajectory()
            segmentation, _ = self._vertebra_segment()
            body, posterior, _ = vertebra_masks(segmentation, inputs["vertebra_segment"], ct,
                                                body_segment_id=inputs["body_segment"])
            add_cement_prediction(t, ct, body, volume_ml=inputs["volume_ml"], posterior_mask=posterior)
        except (CementError, KeyError, ValueError) as error:
            return None, f"the cement prediction could not be repeated ({error}); {redo}"
        if json.dumps(t.sections["cement"], sort_keys=True, allow_nan=False) != text:
            return None, f"the CT, vertebra or landmarks changed since the cement prediction; {redo}"
        self._cement_cache = (text, t.artifacts["cement_scores"])
        return self._cement_cache[1], None

    # ---- proposal (PVPGuideLib.mrml.planning_proposal) ---------------------------------------------
    def propose_points(self, *, side: str | None = None, progress=None) -> dict:
        """Propose B and C from the target vertebra segment (SPEC section 3), find A, check safety (SPEC section 5).

        side : 'left', 'right' or 'both' (stored as the side setting; default: the setting). With 'both' the
        recommended side's B and C are placed (the panel holds one path). Stores the landmarks and proposalSection
        (safety checks, recommended side and reasons); returns that section. B and C stay unlocked.
        """
        from .planning_proposal import propose_points

        return propose_points(self, side=side, progress=progress)

    def proposal_status(self) -> list[str] | None:
        """None without a proposal; [] while A, B, C, side, gauge and vertebra are as proposed; else why not."""
        return proposal_status(self)

    # ---- guide plate (PVPGuideLib.mrml.planning_guide) ---------------------------------------------
    def design_guide(self, folder=None, *, progress=None) -> dict:
        """Build the guide plate for A->C (SPEC section 7), show it as model 'guide_<level>_<side>', return its section.

        folder : also write guide_<level>_<side>.stl there, atomically (guideCoordinateSystem: LPS or RAS).
        Needs A on the skin (Find skin entry A) and the package manifold3d. The options are the panel's guide
        settings. Returns plan.json's `guide` section (also stored as guideSection): watertight, volume, minimum
        wall, fit deviation, each sleeve's bore axis and sagittal range. Errors name the step that failed.
        """
        from .planning_guide import design_guide

        return design_guide(self, folder, progress=progress)

    def guide_status(self) -> list[str] | None:
        """None without a plate; [] while it matches A, C, side, level, gauge, skin and options; else why it does not."""
        return guide_status(self)

    # ---- outputs ----------------------------------------------------------------------------------
    def plan_json(self) -> dict:
        """plan.json content (schema pvpguide.plan/1) for the current trajectory, with cement and guide when current."""
        t = self.trajectory()
        settings = self.settings()
        skin = self._skin_cache[1] if self._skin_cache is not None else None
        plan = build_plan(self._ct_geometry(), skin, [t], needle_gauge=settings["needleGauge"])
        data = plan_to_json(plan)
        if skin is None:
            data["skin"] = {"threshold_hu": settings["skinThresholdHu"]}
        data["trajectories"] = [self._trajectory_json(t)]
        stale = self.cement_status()
        if stale == []:
            data["trajectories"][0]["cement"] = settings["cementSection"]
        elif stale:
            data["warnings"].append("the cement prediction is out of date (" + "; ".join(stale) + ") and is left "
                                    "out: predict the cement again")
        add_guide_to_plan_json(self, data)
        add_proposal_to_plan_json(self, data)
        from .panel_grid import add_grid_to_plan_json  # issue 17: the skin grid found or given in the panel

        add_grid_to_plan_json(self, data)
        return data

    def export_plan_json(self, path) -> dict:
        """Write plan.json (atomically) and return its content."""
        data = self.plan_json()
        write_json_atomic(Path(path), data)
        return data

    def write_report(self, folder: str | Path, *, pdf: bool = False, progress=None) -> dict:
        """Write plan.json, report.html (pdf: also report.pdf), the cement projections and guide STL into `folder`.

        Everything is drawn in a hidden folder inside `folder` and then moved into place file by file
        (each move atomic), so a failure leaves no partial report. Returns the plan.json content.
        """
        from ..planning.plan_cement import cement_file_prefix
        from ..report import write_report
        from .volumes import ct_from_volume_node

        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"{folder} is a file, not a folder: choose a folder for the report")
        steps = Steps(["reading the CT", "drawing the cement projections", "drawing the report"], progress)
        data = self.plan_json()
        trajectory = self.trajectory()
        steps.start("reading the CT")
        ct = ct_from_volume_node(self._ct_node())
        skin_mesh = self._skin_mesh()
        problems = []
        scores = None
        if "cement" in data["trajectories"][0]:
            steps.start("drawing the cement projections")
            scores, problem = self._cement_scores(ct)
            problems += [problem] if problem else []
        folder.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".pvpguide-report-", dir=folder))
        try:
            if scores is not None:
                from ..cement import write_projection_pngs

                paths = write_projection_pngs(scores, stage, prefix=cement_file_prefix(trajectory))
                data["trajectories"][0]["cement"]["projections"] = {view: p.name for view, p in sorted(paths.items())}
            guide_meshes = write_report_guide(self, data, stage)
            data["outputs"] = {"plan_json": "plan.json", "report": "report.html"}
            write_json_atomic(stage / "plan.json", data)
            steps.start("drawing the report")

            def report_progress(fraction, message):
                steps.progress((2 + fraction) / 3, message)

            files = write_report(data, stage / "report.html", ct=ct, skin_mesh=skin_mesh, guide_meshes=guide_meshes,
                                 pdf=pdf, progress=report_progress)
            problems += list(files.problems)
            for name in sorted(path.name for path in stage.iterdir()):
                os.replace(stage / name, folder / name)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        params = self.parameter_node()
        modifying = params.StartModify()
        params.SetParameter("reportFolder", str(folder.resolve()))
        params.SetParameter("status", f"report written to {folder / 'report.html'}"
                            + "".join(f"; {problem}" for problem in problems))
        params.EndModify(modifying)
        steps.done()
        return data

    def _skin_mesh(self):
        """The skin surface for the report's 3D view: the one found for A, else the skin model's, else None."""
        if self._skin_cache is not None and self._skin_cache[0] == self._skin_key(self.settings()["skinThresholdHu"]):
            return self._skin_cache[1].mesh
        node = self.node("skinModel")
        if node is None or node.GetPolyData() is None or node.GetPolyData().GetNumberOfPoints() == 0:
            return None
        from .models import mesh_from_model_node

        return mesh_from_model_node(node)

    def save_scene(self, mrb_path) -> Path:
        """Save the whole scene (CT, points, outputs, parameter node) as a .mrb bundle, atomically."""
        from .bundle import save_scene_bundle

        return save_scene_bundle(self.scene, mrb_path)

    def output_nodes(self) -> dict:
        """{role: node} of every referenced node."""
        return {role: self.node(role) for role in NODE_ROLES if self.node(role) is not None}

    # ---- sample data ------------------------------------------------------------------------------
    def load_phantom(self, phantom, *, name: str = "PVPGuide phantom") -> dict:
        """Add the bundled phantom (CT, vertebra segmentation, landmarks of its target level) and select it."""
        from .segmentations import segmentation_node_from_labelmap
        from .volumes import volume_node_from_ct

        level = phantom.truth["target_level"]
        truth = phantom.truth["levels"][level]
        ct_node = volume_node_from_ct(self.scene, phantom.ct, f"{name} CT")
        self.select_ct(ct_node)
        segment_names = _phantom_segment_names(phantom)
        segmentation = None
        if segment_names:
            segmentation = segmentation_node_from_labelmap(self.scene, phantom.labels, f"{name} segmentation",
                                                           segment_names=segment_names, reference_volume_node=ct_node)
            self.select_vertebra(segmentation, level if level in segment_names.values() else "")
        frame = truth["frame"]
        plane = truth["midsagittal_plane"]
        self.set_vertebra_landmarks(VertebraLandmarks(
            frame=VertebraFrame.from_axes(**{k: frame[k] for k in ("origin", "right", "anterior", "superior")}),
            midline_point=np.asarray(plane["point"], float), midline_normal=np.asarray(plane["normal"], float),
            spinous_tip=np.asarray(truth["spinous_tip"], float)))
        if level in LEVELS:
            self.set_settings(level=level)
        self.ensure_point_nodes()
        return {"ct": ct_node, "segmentation": segmentation}


def _phantom_segment_names(phantom) -> dict:
    """{label: vertebra name} of the phantom's label map (TotalSegmentator ids, e.g. 31: 'L1')."""
    if getattr(phantom, "labels", None) is None:
        return {}
    return {int(label): str(name) for name, label in phantom.truth.get("label_ids", {}).items() if int(label) != 0}
