"""What PlanningLogic's capabilities share: the scene, its parameter node, the nodes by role, the CT and the caches."""

from __future__ import annotations

import json

import numpy as np

from ..core.volume import CTVolume
from ._vtk import extent_offset_matrix, from_vtk_matrix
from .parameters import MODULE_NAME
from .parameters import parameter_node as module_parameter_node
from .planning_adopt import COMMAND_LINE_ROLES, adopt_command_line_plan
from .planning_fields import FIELDS, NODE_ROLES, RESULTS, SETTINGS
from .planning_values import decode, encode, set_reference
from .transforms import world_matrix

# Results stored as JSON text; settings() returns them as dicts (or None when empty).
JSON_RESULTS = ("vertebraLandmarks", "skinEntryPoint", "measurements", "needleViewMatrix", "cementSection",
                "cementInputs", "guideSection", "guideInputs", "proposalSection")


class PlanningState:
    """One scene's planning state: parameter node access, node roles, the CT, and what is cached between actions."""

    # Capability modules (planning_points, planning_measure, planning_cement, ...) read and write the scene
    # through this object only; the caches are public so that each capability's use of them is visible.

    def __init__(self, scene):
        self.scene = scene
        self.skin_cache = None  # (key, SkinSurface): the skin takes seconds, the key says when it is stale
        self.skin_index = None  # planning_live.SkinRayIndex of that skin: A follows B and C in milliseconds
        self.cement_cache = None  # (cementSection text, CementScores): the projections of the last prediction
        self.guide_cache = None  # (what it was built for, GuideResult): saving the same plate again skips building
        self._complete_parameter_node = None  # the parameter node once every setting and role was found in it

    # ---- parameter node -------------------------------------------------------------------------
    def parameter_node(self):
        """The scene's PVPGuide parameter node, created with defaults when missing."""
        params = module_parameter_node(self.scene, MODULE_NAME)
        if params is self._complete_parameter_node:  # checked before: every live move asks for it several times
            return params
        modifying = params.StartModify()
        if not params.HasParameter("needleGauge"):
            adopt_command_line_plan(params)
        for setting in SETTINGS + RESULTS:
            if not params.HasParameter(setting.name):
                params.SetParameter(setting.name, encode(setting, setting.default))
        for role in NODE_ROLES:
            if not params.HasParameter(role):  # first time: a command-line scene's node, else none
                set_reference(params, role, params.GetNodeReference(COMMAND_LINE_ROLES.get(role, role)))
        params.EndModify(modifying)
        self._complete_parameter_node = params
        return params

    def existing_parameter_node(self):
        """The parameter node, or None; looking must not add a node (failed actions leave the scene unchanged)."""
        params = self.scene.GetSingletonNode(MODULE_NAME, "vtkMRMLScriptedModuleNode")
        return self.parameter_node() if params is not None else None

    def settings(self) -> dict:
        """{name: value} of every setting and result (results that are JSON come back as dicts)."""
        params = self.parameter_node()
        values = {s.name: decode(s, params.GetParameter(s.name)) for s in SETTINGS + RESULTS}
        for name in JSON_RESULTS:
            values[name] = json.loads(values[name]) if values[name] else None
        return values

    def set_settings(self, **values) -> None:
        """Set settings by name (see SETTINGS), all validated before any is written."""
        unknown = sorted(set(values) - {s.name for s in SETTINGS})
        if unknown:
            raise ValueError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(s.name for s in SETTINGS)}")
        encoded = {name: encode(FIELDS[name], value) for name, value in values.items()}
        params = self.parameter_node()
        modifying = params.StartModify()
        for name, text in encoded.items():
            params.SetParameter(name, text)
        params.EndModify(modifying)

    # ---- nodes by role --------------------------------------------------------------------------
    def node(self, role: str):
        """The node referenced under `role` (see NODE_ROLES), or None."""
        if role not in NODE_ROLES:
            raise ValueError(f"unknown node role {role!r}; known: {', '.join(NODE_ROLES)}")
        params = self.existing_parameter_node()
        return params.GetNodeReference(role) if params is not None else None

    def set_node(self, role: str, node) -> None:
        """Reference `node` under `role` after checking its class and scene."""
        if node is not None and not node.IsA(NODE_ROLES[role]):
            raise ValueError(f"{role} must be a {NODE_ROLES[role]}, got {node.GetClassName()} '{node.GetName()}'")
        if node is not None and node.GetScene() is not self.scene:
            raise ValueError(f"node '{node.GetName()}' belongs to another scene")
        set_reference(self.parameter_node(), role, node)

    def require_unlocked(self) -> None:
        """Refuse to move points while A, B and C are locked."""
        params = self.existing_parameter_node()
        if params is not None and params.GetParameter("pointsLocked") == "True":
            raise ValueError("points A, B and C are locked; unlock them first")

    def vertebra_segment(self) -> tuple:
        """(segmentation node, segment ID) of the target vertebra; refused when not chosen or missing."""
        node = self.node("vertebraSegmentation")
        segment_id = self.settings()["vertebraSegmentId"]
        if node is None or not segment_id:
            raise ValueError("no target vertebra: choose the vertebra segmentation and the segment of the vertebra to "
                             "treat in Inputs (or call select_vertebra); the cement grows inside its body")
        if node.GetSegmentation().GetSegment(segment_id) is None:
            raise ValueError(f"segmentation '{node.GetName()}' has no segment '{segment_id}': choose the target "
                             "vertebra again in Inputs")
        return node, segment_id

    # ---- CT and skin ------------------------------------------------------------------------------
    def ct_node(self):
        """The selected CT volume node; refused when none is selected or it has no voxels."""
        node = self.node("ctVolume")
        if node is None:
            raise ValueError("no CT selected: choose the CT volume in Inputs (or call select_ct(volume_node))")
        if node.GetImageData() is None:
            raise ValueError(f"the CT '{node.GetName()}' has no voxels; load the image first")
        return node

    def ct_geometry(self) -> CTVolume:
        """The CT's grid in world RAS without copying its voxels (enough for measuring, fast for live updates)."""
        from vtkmodules.vtkCommonMath import vtkMatrix4x4

        node = self.ct_node()
        image = node.GetImageData()
        ijk_to_ras = vtkMatrix4x4()
        node.GetIJKToRASMatrix(ijk_to_ras)
        matrix = world_matrix(node) @ from_vtk_matrix(ijk_to_ras) @ extent_offset_matrix(image)
        i, j, k = image.GetDimensions()
        storage = node.GetStorageNode()
        source = storage.GetFileName() if storage is not None and storage.GetFileName() else node.GetName()
        return CTVolume(np.broadcast_to(np.zeros((), np.int16), (k, j, i)), matrix, source)

    def skin(self, threshold_hu: float, progress):
        """The CT's skin surface at `threshold_hu`, extracted once per CT and threshold (`progress`: a Steps)."""
        from ..planning.skin import skin_surface
        from .volumes import ct_from_volume_node

        node = self.ct_node()
        key = self.skin_key(threshold_hu)
        if self.skin_cache is None or self.skin_cache[0] != key:
            progress.start("reading the CT")
            ct = ct_from_volume_node(node)
            progress.start("extracting the skin surface")
            self.skin_cache = (key, skin_surface(ct, threshold_hu=threshold_hu))
        return self.skin_cache[1]

    def skin_key(self, threshold_hu: float) -> tuple:
        """Which CT (node, voxels, world grid) and threshold a skin surface belongs to."""
        node = self.ct_node()
        return node.GetID(), node.GetImageData().GetMTime(), self.ct_geometry().ijk_to_ras.tobytes(), threshold_hu
