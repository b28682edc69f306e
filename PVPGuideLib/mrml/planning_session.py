"""The panel's observers, on while the module is shown: A/B/C moves update live, a new segmentation resets the segment."""

from __future__ import annotations

from .planning_live import follow_b_and_c

POINT_EVENTS = ("PointModifiedEvent", "PointPositionDefinedEvent", "PointRemovedEvent")
_UNSEEN = object()


class PlanningSession:
    """What the PVPGuide panel observes between enter() and exit(), on real MRML and without Qt.

    logic : the scene's PlanningLogic. on_error(message) is called when a live update is refused (a point
    outside the CT, B equal to C, ...); the stored measurements are then dropped rather than left stale.
    """

    def __init__(self, logic, on_error=None):
        self.logic = logic
        self.on_error = on_error
        self._observations = []  # (observed object, VTK observer tag)
        self._points = {}  # {node: point name} observed now
        self._segmentation_id = _UNSEEN  # the segmentation the segment ID belongs to
        self._updating = False  # moving A from a B/C move fires A's own event: not a move of A's own

    @property
    def entered(self) -> bool:
        return bool(self._observations)

    def observed_point_names(self) -> list:
        """Names of the points whose moves are observed now (sorted)."""
        return sorted(self._points.values())

    def enter(self) -> None:
        """Observe the parameter node (node changes) and A, B and C (moves); creates no node."""
        if self.entered:
            return
        params = self.logic.parameter_node()  # the module's settings node (not data the user is asked to save)
        if self.logic.node("ctVolume") is None:  # save the user a click, as Slicer's module template does
            first = self.logic.scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
            if first is not None and not first.IsA("vtkMRMLLabelMapVolumeNode") and first.GetImageData() is not None:
                self.logic.select_ct(first)
        self._observe(params, "ModifiedEvent", self._on_parameters_modified)
        self._sync()

    def exit(self) -> None:
        """Stop observing anything: leaving the module leaves the scene alone."""
        for obj, tag in self._observations:
            obj.RemoveObserver(tag)
        self._observations = []
        self._points = {}

    def _observe(self, obj, event: str, callback) -> None:
        from vtkmodules.vtkCommonCore import vtkCommand

        event_id = getattr(vtkCommand, event) if hasattr(vtkCommand, event) else getattr(obj, event)
        self._observations.append((obj, obj.AddObserver(event_id, callback)))

    def _on_parameters_modified(self, caller=None, event=None) -> None:
        self._sync()

    def _sync(self) -> None:
        """Follow the parameter node: observe the current A, B, C nodes; a new segmentation resets the segment."""
        wanted = {}
        for name in ("A", "B", "C"):
            node = self.logic.node("point" + name)
            if node is not None:
                wanted[node] = name
        if wanted != self._points:
            params_observation = self._observations[:1]
            for obj, tag in self._observations[1:]:
                obj.RemoveObserver(tag)
            self._observations = params_observation
            self._points = wanted
            for node, name in wanted.items():
                for event in POINT_EVENTS:
                    self._observe(node, event, self._point_callback(name))
        segmentation = self.logic.node("vertebraSegmentation")
        segmentation_id = None if segmentation is None else segmentation.GetID()
        if self._segmentation_id is not _UNSEEN and segmentation_id != self._segmentation_id:
            # the stored segment ID named a segment of the previous segmentation
            self.logic.parameter_node().SetParameter("vertebraSegmentId", "")
        self._segmentation_id = segmentation_id

    def _point_callback(self, name: str):
        return lambda caller, event: self.point_moved(name)

    def point_moved(self, name: str) -> None:
        """A, B or C was placed, moved or deleted: re-find A (when B or C moved) and re-measure."""
        if self._updating or self.logic.node("ctVolume") is None:
            return
        self._updating = True
        try:
            follow_b_and_c(self.logic, name)
        except ValueError as error:
            params = self.logic.parameter_node()
            modifying = params.StartModify()
            params.SetParameter("measurements", "")
            params.SetParameter("status", str(error))
            params.EndModify(modifying)
            if self.on_error is not None:
                self.on_error(str(error))
        finally:
            self._updating = False
