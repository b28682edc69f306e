"""Headless logic behind every PVPGuide panel action: one facade over the planning capabilities of one scene."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..io.atomic_io import write_json_atomic
from ..planning.plan import Trajectory, VertebraLandmarks
from . import planning_cement, planning_measure, planning_points, planning_report
from .planning_fields import (  # noqa: F401  (re-exported: the module, tests and scenarios read them here)
    FIELDS,
    LEVELS,
    NODE_ROLES,
    POINT_NAMES,
    RESULTS,
    SETTINGS,
)
from .planning_guide import guide_status
from .planning_proposal import proposal_status
from .planning_state import PlanningState
from .scene import scene_of


class PlanningLogic:
    """Every PVPGuide panel action on one MRML scene, usable headless (Slicer Python console, scripts, tests)."""

    # Actions read their inputs from the PVPGuide parameter node (select_ct, set_settings, set_point, ...),
    # validate everything before touching the scene and raise ValueError saying what to do, so a refused
    # action leaves the scene exactly as it was. Each capability lives in its own module (planning_points,
    # planning_measure, planning_cement, planning_proposal, planning_guide, planning_report, planning_phantom);
    # what they share (scene, parameter node, node roles, CT, caches) is `state`, a PlanningState.

    def __init__(self, scene_or_handle):
        self.state = PlanningState(scene_of(scene_or_handle))

    @property
    def scene(self):
        """The MRML scene planned on."""
        return self.state.scene

    # ---- parameter node -------------------------------------------------------------------------
    def parameter_node(self):
        """The scene's PVPGuide parameter node, created with defaults when missing."""
        return self.state.parameter_node()

    def settings(self) -> dict:
        """{name: value} of every setting and result (results that are JSON come back as dicts)."""
        return self.state.settings()

    def set_settings(self, **values) -> None:
        """Set settings by name (see SETTINGS), all validated before any is written."""
        self.state.set_settings(**values)

    def node(self, role: str):
        """The node referenced under `role` (see NODE_ROLES), or None."""
        return self.state.node(role)

    # ---- inputs ---------------------------------------------------------------------------------
    def select_ct(self, volume_node) -> None:
        """Plan on this CT (vtkMRMLScalarVolumeNode with voxels; any direction matrix, parent transforms allowed)."""
        if volume_node is None or not volume_node.IsA("vtkMRMLScalarVolumeNode") or volume_node.IsA(
                "vtkMRMLLabelMapVolumeNode"):
            raise ValueError("the CT must be a scalar volume node (not a label map)")
        if volume_node.GetImageData() is None:
            raise ValueError(f"volume '{volume_node.GetName()}' has no voxels; load the image first")
        self.state.set_node("ctVolume", volume_node)

    def select_vertebra(self, segmentation_node, segment_id: str = "") -> None:
        """The segmentation holding the vertebra to treat, and the segment ID of that vertebra."""
        if segmentation_node is not None and segment_id:
            segmentation = segmentation_node.GetSegmentation()
            if segmentation.GetSegment(segment_id) is None:
                raise ValueError(f"segmentation '{segmentation_node.GetName()}' has no segment '{segment_id}'")
        self.state.set_node("vertebraSegmentation", segmentation_node)
        self.set_settings(vertebraSegmentId=segment_id)

    def set_vertebra_landmarks(self, landmarks: VertebraLandmarks | None) -> None:
        """Vertebra frame, midsagittal plane and spinous-process tip (RAS) for vertebra-frame angles and offsets."""
        planning_points.set_vertebra_landmarks(self.state, landmarks)

    def landmarks(self) -> VertebraLandmarks:
        """The stored vertebra landmarks (each None when not stored)."""
        return planning_points.landmarks(self.state)

    # ---- points (planning_points) ---------------------------------------------------------------
    def ensure_point_nodes(self) -> dict:
        """{name: node} of the markups A, B and C, each created (empty, one point at most) when missing."""
        return planning_points.ensure_point_nodes(self.state)

    def use_point_node(self, name: str, node) -> None:
        """Use an existing fiducial node (one control point) as point A, B or C."""
        planning_points.check_point_name(name)
        self.state.set_node("point" + name, node)

    def set_point(self, name: str, ras) -> None:
        """Place or move point `name` to world RAS `ras` (mm, inside the CT); parent transforms are respected."""
        planning_points.set_point(self.state, name, ras)

    def point(self, name: str, *, required: bool = True) -> np.ndarray | None:
        """(3,) world RAS of point `name`; None when not placed and not `required`."""
        return planning_points.point(self.state, name, required=required)

    def lock_points(self, locked: bool) -> None:
        """Lock (or unlock) A, B and C against moving; the lock is saved with the scene."""
        planning_points.lock_points(self.state, locked)

    def find_skin_entry(self, progress=None) -> np.ndarray:
        """Find A where C->B, continued beyond B, leaves the body through the skin; place A there and measure."""
        return planning_points.find_skin_entry(self, progress)

    # ---- measurement and needle view (planning_measure, planning_live) ----------------------------
    def trajectory(self) -> Trajectory:
        """Measure the current A (optional), B and C without changing the scene (SPEC sections 3-4)."""
        return planning_measure.trajectory(self.state)

    def measure(self) -> dict:
        """Measure A, B, C; update the trajectory line, the needle model and the stored results; return them."""
        return planning_measure.measure(self.state)

    def update_needle_view(self, slice_node=None) -> np.ndarray:
        """Reslice a view perpendicular to A->C through A, B or C (needleViewAt); return its slice-to-RAS."""
        return planning_measure.update_needle_view(self.state, slice_node)

    def reset_needle_view(self, slice_node=None) -> None:
        """Return the needle view's slice to its default orientation."""
        planning_measure.reset_needle_view(self.state, slice_node)

    def set_needle_view(self, enabled: bool, slice_node=None):
        """Turn the view along the needle on (resliced now, then following the points) or off (default view).

        needleViewEnabled is stored in the same parameter-node modification as the view's matrix, so an
        observer never sees the new matrix with the old state (the panel's button would uncheck itself).
        A view that cannot be made (A missing while the view is centred on A) is refused and stays off.
        """
        return planning_measure.set_needle_view(self.state, enabled, slice_node)

    def follow_b_and_c(self, moved: str) -> dict:
        """Live update after `moved` (A, B or C) changed: A re-found on C->B to the skin unless locked; measure."""
        from .planning_live import follow_b_and_c

        return follow_b_and_c(self, moved)

    # ---- cement (planning_cement) -----------------------------------------------------------------
    def predict_cement(self, volume_ml: float | None = None, *, body_segment_id: str = "", progress=None) -> dict:
        """Predict the cement spread from C (SPEC section 6), show it as segment 'cement', return the scores.

        volume_ml : planned volume (ml, default plannedCementVolumeMl; a given value is stored as that setting).
        body_segment_id : a segment of the vertebra segmentation holding the vertebral body; without it the
        target vertebra's segment is split into body and posterior elements (PVPGuideLib.cement.split_body).
        Returns plan.json's `cement` section (also stored as cementSection): BCV, VV, PSBCV/VV % and its
        13.68 % flag, distribution score, endplate contact, nine zones, pattern, and the conventional path.
        """
        return planning_cement.predict_cement(self.state, volume_ml, body_segment_id=body_segment_id,
                                              progress=progress)

    def cement_status(self) -> list[str] | None:
        """None without a prediction; [] while it matches B, C, side, volume and vertebra; else why it does not."""
        return planning_cement.cement_status(self.state)

    # ---- proposal (planning_proposal) -------------------------------------------------------------
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

    # ---- guide plate (planning_guide) ---------------------------------------------------------------
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

    # ---- outputs (planning_report) ------------------------------------------------------------------
    def plan_json(self) -> dict:
        """plan.json content (schema pvpguide.plan/1) for the current trajectory, with cement and guide when current."""
        return planning_report.plan_json(self)

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
        return planning_report.write_report(self, folder, pdf=pdf, progress=progress)

    def save_scene(self, mrb_path) -> Path:
        """Save the whole scene (CT, points, outputs, parameter node) as a .mrb bundle, atomically."""
        from .bundle import save_scene_bundle

        return save_scene_bundle(self.scene, mrb_path)

    def output_nodes(self) -> dict:
        """{role: node} of every referenced node."""
        return {role: self.node(role) for role in NODE_ROLES if self.node(role) is not None}

    # ---- sample data (planning_phantom) -------------------------------------------------------------
    def load_phantom(self, phantom, *, name: str = "PVPGuide phantom") -> dict:
        """Add the bundled phantom (CT, vertebra segmentation, landmarks of its target level) and select it."""
        from .planning_phantom import load_phantom

        return load_phantom(self, phantom, name=name)
