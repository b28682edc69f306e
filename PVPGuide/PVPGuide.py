"""PVPGuide: plan percutaneous vertebroplasty in 3D Slicer (points A, B, C, measurements, cement, guide plate)."""

# No `from __future__ import annotations` and no `X | None` here: parameterNodeWrapper evaluates this file's
# annotations at run time, and Slicer 5.6/5.8 run Python 3.9 (typing.Optional instead; Testing/test_module_static.py).
import json
import os
import tempfile
import unittest
from typing import Annotated, Optional

import qt
import slicer
import vtk
from slicer import (
    vtkMRMLMarkupsFiducialNode,
    vtkMRMLMarkupsLineNode,
    vtkMRMLModelNode,
    vtkMRMLScalarVolumeNode,
    vtkMRMLSegmentationNode,
)
from slicer.i18n import tr as _
from slicer.parameterNodeWrapper import Choice, WithinRange, parameterNodeWrapper
from slicer.ScriptedLoadableModule import (
    ScriptedLoadableModule,
    ScriptedLoadableModuleLogic,
    ScriptedLoadableModuleTest,
    ScriptedLoadableModuleWidget,
)
from slicer.util import VTKObservationMixin

# Only light modules here: Slicer imports this file at every start. The planning code (scipy, the cement and
# guide packages) is imported by _panel() when the module is first opened, the test scenarios by _scenarios().
from PVPGuideLib.core.compat import strict_zip
from PVPGuideLib.mrml.planning_fields import FIELDS
from PVPGuideLib.mrml.planning_sample import PHANTOM_FILE_NAME, PHANTOM_SAMPLE_NAME, PHANTOM_URI, install_phantom_url_handler

USER_GUIDE_URL = "https://github.com/pvpguide/SlicerPVPGuide/blob/main/docs/user-guide.md"


def _panel():
    """The panel's library side (PVPGuideLib.mrml.planning_*), imported on first use."""
    import types

    from PVPGuideLib.mrml import (
        panel_grid,
        panel_section10,
        planning_cement,
        planning_display,
        planning_guide,
        planning_logic,
        planning_proposal,
        planning_session,
    )

    return types.SimpleNamespace(
        PlanningLogic=planning_logic.PlanningLogic, PlanningSession=planning_session.PlanningSession,
        measurement_rows=planning_display.measurement_rows, cement_rows=planning_cement.cement_rows,
        guide_rows=planning_guide.guide_rows, missing_guide_packages=planning_guide.missing_guide_packages,
        safety_rows=planning_proposal.safety_rows, proposal_text=planning_proposal.proposal_text,
        panel_grid=panel_grid, panel_section10=panel_section10)


#
# PVPGuide
#


class PVPGuide(ScriptedLoadableModule):
    """Module description shown in Slicer's module list and help panel."""

    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("PVPGuide")
        self.parent.categories = [_("Surgical Planning")]
        self.parent.dependencies = ["Markups", "Segmentations", "SampleData"]
        self.parent.contributors = ["PVPGuide developers"]
        self.parent.helpText = _(
            "Plan percutaneous vertebroplasty on a CT: place the target C and the bony entry B, find the skin "
            "entry A on the line C-B, and read the transverse and sagittal angles (scanner and vertebra frame), "
            "the lengths AB, BC, AC and the entry offsets as the points move; predict the cement spread and design "
            "a 3D-printable guide plate. Research planning tool, not for "
            "clinical use without validation. "
        ) + f'See the <a href="{USER_GUIDE_URL}">user guide</a>.'
        self.parent.acknowledgementText = _(
            "PVPGuide follows the planning definitions of the published PVP studies cited in its documentation "
            "(Xie et al. 2023; Gao et al. 2023, 2024; Hu et al. 2021). Built on 3D Slicer's scripted module template."
        )
        # The sample data registry is complete only once every module is loaded.
        slicer.app.connect("startupCompleted()", registerSampleData)


#
# Sample data: the bundled phantom, generated locally (no download)
#


def registerSampleData():
    """Add the PVPGuide phantom to the Sample Data module."""
    import SampleData

    # SampleData.downloadSample("PVPGuidePhantom") from Python fetches the URI with urllib: the pvpguide://
    # handler generates the phantom CT on this computer. The Sample Data panel uses the custom loader instead,
    # which also adds the vertebra segmentation and landmarks.
    install_phantom_url_handler()
    SampleData.SampleDataLogic.registerCustomSampleDataSource(
        category="PVPGuide",
        sampleName=PHANTOM_SAMPLE_NAME,
        thumbnailFileName=os.path.join(os.path.dirname(__file__), "Resources", "Icons", "PVPGuide.png"),
        uris=PHANTOM_URI,
        fileNames=PHANTOM_FILE_NAME,
        nodeNames=_("PVPGuide phantom CT"),
        customDownloader=loadPhantomSample,
    )


def loadPhantomSample(source=None):
    """Generate the phantom (T12-L2, seeded) and select it in PVPGuide; called by the Sample Data module."""
    with slicer.util.tryWithErrorDisplay(_("Failed to generate the PVPGuide phantom."), waitCursor=True):
        nodes = PVPGuideLogic().loadPhantom()
        slicer.util.setSliceViewerLayers(background=nodes["ct"], fit=True)
        slicer.util.selectModule("PVPGuide")
        return nodes


#
# PVPGuideParameterNode
#


def _choice(name):
    return Choice(list(FIELDS[name].choices))


def _range(name):
    return WithinRange(*FIELDS[name].limits)


@parameterNodeWrapper
class PVPGuideParameterNode:
    """Every setting, node and result of the panel; names, defaults and formats are PlanningLogic's."""

    # Inputs
    ctVolume: vtkMRMLScalarVolumeNode
    vertebraSegmentation: vtkMRMLSegmentationNode
    vertebraSegmentId: str = FIELDS["vertebraSegmentId"].default
    level: Annotated[str, _choice("level")] = FIELDS["level"].default
    side: Annotated[str, _choice("side")] = FIELDS["side"].default
    needleGauge: Annotated[int, _choice("needleGauge")] = FIELDS["needleGauge"].default
    # Points and measurements
    skinThresholdHu: Annotated[float, _range("skinThresholdHu")] = FIELDS["skinThresholdHu"].default
    pointALocked: bool = FIELDS["pointALocked"].default
    needleViewEnabled: bool = FIELDS["needleViewEnabled"].default
    needleViewSlice: Annotated[str, _choice("needleViewSlice")] = FIELDS["needleViewSlice"].default
    needleViewAt: Annotated[str, _choice("needleViewAt")] = FIELDS["needleViewAt"].default
    # Cement and guide plate
    plannedCementVolumeMl: Annotated[float, _range("plannedCementVolumeMl")] = FIELDS["plannedCementVolumeMl"].default
    guideBaseThicknessMm: Annotated[float, _range("guideBaseThicknessMm")] = FIELDS["guideBaseThicknessMm"].default
    guideFitClearanceMm: Annotated[float, _range("guideFitClearanceMm")] = FIELDS["guideFitClearanceMm"].default
    guideRunwaySlot: bool = FIELDS["guideRunwaySlot"].default
    guideSpinousLine: bool = FIELDS["guideSpinousLine"].default
    guideLabel: bool = FIELDS["guideLabel"].default
    guideCoordinateSystem: Annotated[str, _choice("guideCoordinateSystem")] = FIELDS["guideCoordinateSystem"].default
    # Skin grid and intra-operative check
    gridSpacingMm: Annotated[float, _range("gridSpacingMm")] = FIELDS["gridSpacingMm"].default
    gridPoints: vtkMRMLMarkupsFiducialNode
    intraopVolume: vtkMRMLScalarVolumeNode
    # Points and output nodes
    pointA: vtkMRMLMarkupsFiducialNode
    pointB: vtkMRMLMarkupsFiducialNode
    pointC: vtkMRMLMarkupsFiducialNode
    trajectoryLine: vtkMRMLMarkupsLineNode
    needleModel: vtkMRMLModelNode
    skinModel: vtkMRMLModelNode
    cementSegmentation: vtkMRMLSegmentationNode
    guideModel: vtkMRMLModelNode
    # Results written by the logic (JSON text where structured)
    pointsLocked: bool = FIELDS["pointsLocked"].default
    vertebraLandmarks: str = ""
    skinEntryPoint: str = ""
    measurements: str = ""
    needleViewMatrix: str = ""
    cementSection: str = ""
    cementInputs: str = ""
    reportFolder: str = ""
    guideSection: str = ""
    guideInputs: str = ""
    guideFolder: str = ""
    proposalSection: str = ""
    skinGrid: str = ""
    needleCheck: str = ""
    status: str = ""


#
# PVPGuideWidget
#


class PVPGuideWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    """The panel: Inputs -> Points -> Measurements -> Cement -> Guide -> Export/Save."""

    def __init__(self, parent=None) -> None:
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)  # needed for parameter node observation
        self.logic = None
        self.session = None  # PlanningSession: the point observers, on between enter() and exit()
        self._parameterNode = None
        self._parameterNodeGuiTag = None

    def setup(self) -> None:
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/PVPGuide.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = PVPGuideLogic()
        self.session = _panel().PlanningSession(self.logic.planning)

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)

        self.ui.vertebraSegmentSelector.connect("currentSegmentChanged(QString)", self.onSegmentChanged)
        self.ui.proposePointsButton.connect("clicked(bool)", self.onProposePoints)
        self.ui.findSkinEntryButton.connect("clicked(bool)", self.onFindSkinEntry)
        self.ui.lockPointsButton.connect("clicked(bool)", self.onLockPoints)
        self.ui.addPointsButton.connect("clicked(bool)", self.onAddPoints)
        self.ui.measureButton.connect("clicked(bool)", self.onMeasure)
        # Runs before the parameter node binding writes needleViewEnabled: the logic stores the state itself.
        self.ui.needleViewButton.connect("toggled(bool)", self.onNeedleViewToggled)
        self.ui.predictCementButton.connect("clicked(bool)", self.onPredictCement)
        self.ui.designGuideButton.connect("clicked(bool)", self.onDesignGuide)
        self.ui.saveGuideButton.connect("clicked(bool)", self.onSaveGuide)
        self.ui.exportPlanButton.connect("clicked(bool)", self.onExportPlan)
        self.ui.writeReportButton.connect("clicked(bool)", self.onWriteReport)
        self.ui.saveSceneButton.connect("clicked(bool)", self.onSaveScene)
        self.ui.loadPhantomButton.connect("clicked(bool)", self.onLoadPhantom)
        self.ui.findGridButton.connect("clicked(bool)", self.onFindGrid)
        self.ui.useGridPointsButton.connect("clicked(bool)", self.onUseGridPoints)
        self.ui.checkNeedleButton.connect("clicked(bool)", self.onCheckNeedle)
        self.ui.showCArmButton.connect("clicked(bool)", self.onShowCArm)
        self.ui.measurementsTable.setHorizontalHeaderLabels([_("Quantity"), _("Value")])
        self.ui.cementTable.setHorizontalHeaderLabels([_("Score"), _("Value")])
        self.ui.guideTable.setHorizontalHeaderLabels([_("Property"), _("Value")])
        self.ui.safetyTable.setHorizontalHeaderLabels([_("Safety check"), _("Distance"), _("Verdict")])
        self.ui.fractureTable.setHorizontalHeaderLabels([_("Measure"), _("Value")])
        self.ui.needleCheckTable.setHorizontalHeaderLabels([_("Needle check"), _("Value")])

        self.initializeParameterNode()

    def cleanup(self) -> None:
        """Called when the application closes and the module widget is destroyed."""
        self.session.exit()
        self.removeObservers()

    def enter(self) -> None:
        self.initializeParameterNode()
        self.session.enter()  # A, B, C moves update the measurements (and A) only while the module is shown

    def exit(self) -> None:
        self.session.exit()
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self._parameterNodeGuiTag = None
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self.updateGUIFromParameterNode)

    def onSceneStartClose(self, caller, event) -> None:
        self.session.exit()
        self.setParameterNode(None)

    def onSceneEndClose(self, caller, event) -> None:
        if self.parent.isEntered:
            self.initializeParameterNode()
            self.session.enter()

    def initializeParameterNode(self) -> None:
        self.setParameterNode(self.logic.getParameterNode())
        if not self._parameterNode.ctVolume:
            firstVolumeNode = slicer.mrmlScene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
            if firstVolumeNode and not firstVolumeNode.IsA("vtkMRMLLabelMapVolumeNode"):
                self._parameterNode.ctVolume = firstVolumeNode
        # No A/B/C nodes here: they are added when the user starts placing points (an untouched scene stays unmodified).

    def setParameterNode(self, inputParameterNode) -> None:
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self.updateGUIFromParameterNode)
        self._parameterNode = inputParameterNode
        if self._parameterNode:
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)
            self.addObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self.updateGUIFromParameterNode)
        self.updateGUIFromParameterNode()

    def updateGUIFromParameterNode(self, caller=None, event=None) -> None:
        """Widgets the parameter node wrapper cannot bind: place widgets, segment, lock, table, buttons."""
        pn = self._parameterNode
        placeWidgets = (self.ui.pointAPlaceWidget, self.ui.pointBPlaceWidget, self.ui.pointCPlaceWidget)
        pointNodes = (pn.pointA, pn.pointB, pn.pointC) if pn else (None, None, None)
        for widget, node in strict_zip(placeWidgets, pointNodes):
            widget.setCurrentNode(node)
        self.ui.addPointsButton.visible = bool(pn) and not all(pointNodes)
        if not pn:
            return
        selector = self.ui.vertebraSegmentSelector
        wasBlocked = selector.blockSignals(True)
        selector.setCurrentNode(pn.vertebraSegmentation)
        selector.setCurrentSegmentID(pn.vertebraSegmentId)
        selector.blockSignals(wasBlocked)
        wasBlocked = self.ui.lockPointsButton.blockSignals(True)
        self.ui.lockPointsButton.checked = pn.pointsLocked
        self.ui.lockPointsButton.blockSignals(wasBlocked)
        for widget, node in strict_zip(placeWidgets, pointNodes):
            widget.enabled = node is not None and not pn.pointsLocked
        hasCt = pn.ctVolume is not None
        self.ui.findSkinEntryButton.enabled = hasCt and not pn.pointsLocked
        self.ui.measureButton.enabled = hasCt
        hasVertebra = pn.vertebraSegmentation is not None and bool(pn.vertebraSegmentId)
        self.ui.proposePointsButton.enabled = hasCt and hasVertebra and not pn.pointsLocked
        self.ui.predictCementButton.enabled = hasCt and hasVertebra
        self.ui.designGuideButton.enabled = hasCt and bool(pn.measurements)  # the logic says when A is missing
        self.ui.saveGuideButton.enabled = hasCt and bool(pn.guideSection)
        self.ui.exportPlanButton.enabled = bool(pn.measurements)
        self.ui.writeReportButton.enabled = bool(pn.measurements)
        panel = _panel()
        measurements = json.loads(pn.measurements) if pn.measurements else None
        self._showRows(self.ui.measurementsTable, panel.measurement_rows(measurements))
        cement = json.loads(pn.cementSection) if pn.cementSection else None
        self._showRows(self.ui.cementTable, panel.cement_rows(cement, self.logic.cementStatus() if cement else None))
        guide = json.loads(pn.guideSection) if pn.guideSection else None
        self._showRows(self.ui.guideTable, panel.guide_rows(guide, self.logic.guideStatus() if guide else None))
        proposal = json.loads(pn.proposalSection) if pn.proposalSection else None
        self._showRows(self.ui.safetyTable, panel.safety_rows(proposal))
        self.ui.proposalLabel.text = panel.proposal_text(proposal, self.logic.proposalStatus() if proposal else None)
        self.ui.statusLabel.text = _(pn.status) if pn.status else ""
        self.ui.findGridButton.enabled = hasCt
        self.ui.useGridPointsButton.enabled = pn.gridPoints is not None
        self.ui.gridPositionLabel.text = panel.panel_grid.grid_label(self.logic.planning)  # numbers: not translated
        section10 = panel.panel_section10
        self._showRows(self.ui.fractureTable, section10.fracture_rows(section10.fracture_section(self.logic.planning)))
        check = json.loads(pn.needleCheck) if pn.needleCheck else None
        self._showRows(self.ui.needleCheckTable, section10.needle_check_rows(check))
        self.ui.checkNeedleButton.enabled = hasCt and hasVertebra and pn.intraopVolume is not None

    @staticmethod
    def _showRows(table, rows) -> None:
        table.setRowCount(len(rows))
        for row, cells in enumerate(rows):
            for column, text in enumerate(cells):
                # Row names (first column) and verdicts (third) are fixed library texts: looked up in the translations;
                # values (second column) are numbers with units.
                table.setItem(row, column, qt.QTableWidgetItem(text if column == 1 else _(text)))
        table.resizeColumnsToContents()

    def onAddPoints(self) -> None:
        """The user starts planning: add the markups A, B, C and start placing C."""
        with slicer.util.tryWithErrorDisplay(_("Failed to add the points A, B and C."), waitCursor=True):
            self.logic.planning.ensure_point_nodes()
            self.ui.pointCPlaceWidget.setPlaceModeEnabled(True)

    def onSegmentChanged(self, segmentId) -> None:
        if self._parameterNode:
            self._parameterNode.vertebraSegmentId = segmentId or ""

    def onMeasure(self) -> None:
        with slicer.util.tryWithErrorDisplay(_("Failed to measure the trajectory."), waitCursor=True):
            self.logic.measure()

    def _runWithProgress(self, labelText, errorText, action):
        """Run action(progress) with a progress dialog; errors are shown in a dialog, not raised."""
        progressDialog = slicer.util.createProgressDialog(labelText=labelText, maximum=100)

        def progress(fraction, message):
            progressDialog.labelText = message
            progressDialog.value = int(100 * fraction)
            slicer.app.processEvents()

        try:
            with slicer.util.tryWithErrorDisplay(errorText, waitCursor=True):
                return action(progress)
        finally:
            progressDialog.close()

    def onProposePoints(self) -> None:
        self.ui.measurementsCollapsibleButton.collapsed = False
        self._runWithProgress(_("Proposing B and C..."), _("Failed to propose B and C."),
                              lambda progress: self.logic.proposePoints(progress=progress))

    def onFindSkinEntry(self) -> None:
        self._runWithProgress(_("Finding skin entry A..."), _("Failed to find skin entry A."), self.logic.findSkinEntry)

    def onPredictCement(self) -> None:
        self.ui.cementCollapsibleButton.collapsed = False
        self._runWithProgress(_("Predicting the cement spread..."), _("Failed to predict the cement spread."),
                              lambda progress: self.logic.predictCement(progress=progress))

    def onDesignGuide(self) -> None:
        if not self._guidePackagesInstalled():
            return
        self.ui.guideCollapsibleButton.collapsed = False
        self._runWithProgress(_("Designing the guide plate..."), _("Failed to design the guide plate."),
                              lambda progress: self.logic.designGuide(progress=progress))

    def onSaveGuide(self) -> None:
        pn = self._parameterNode
        folder = qt.QFileDialog.getExistingDirectory(None, _("Save the guide plate STL into folder"),
                                                     (pn.guideFolder or pn.reportFolder) if pn else "")
        if not folder or not self._guidePackagesInstalled():
            return
        self._runWithProgress(_("Saving the guide plate..."), _("Failed to save the guide plate."),
                              lambda progress: self.logic.designGuide(folder, progress=progress))

    def _guidePackagesInstalled(self) -> bool:
        """Slicer's Python lacks the guide's mesh engine: offer to install it (once, with the user's consent)."""
        missing = self.logic.guideMissingPackages()
        if not missing:
            return True
        packages = " ".join(missing)
        if not slicer.util.confirmOkCancelDisplay(
                _("The guide plate needs the Python package(s) {packages}, which 3D Slicer does not include. "
                  "Install them now into Slicer's Python (internet access needed, once)?").format(packages=packages),
                windowTitle=_("Install guide plate packages")):
            return False
        with slicer.util.tryWithErrorDisplay(_("Failed to install {packages}.").format(packages=packages),
                                             waitCursor=True):
            slicer.util.pip_install(packages)
        return not self.logic.guideMissingPackages()

    def onLockPoints(self, locked) -> None:
        with slicer.util.tryWithErrorDisplay(_("Failed to lock the points."), waitCursor=True):
            self.logic.lockPoints(locked)

    def onNeedleViewToggled(self, enabled) -> None:
        try:
            with slicer.util.tryWithErrorDisplay(_("Failed to set the down-the-needle view."), waitCursor=True):
                self.logic.setNeedleView(enabled)
        finally:
            if enabled and not (self._parameterNode and self._parameterNode.needleViewEnabled):
                # refused: uncheck after the binding has handled this click (it would store True again)
                qt.QTimer.singleShot(0, lambda: setattr(self.ui.needleViewButton, "checked", False))

    def onExportPlan(self) -> None:
        path = qt.QFileDialog.getSaveFileName(None, _("Export plan.json"), "plan.json", "JSON (*.json)")
        if path:
            with slicer.util.tryWithErrorDisplay(_("Failed to export plan.json."), waitCursor=True):
                self.logic.exportPlanJson(path)

    def onWriteReport(self) -> None:
        folder = qt.QFileDialog.getExistingDirectory(None, _("Write the report into folder"),
                                                     self._parameterNode.reportFolder if self._parameterNode else "")
        if not folder:
            return
        written = self._runWithProgress(_("Writing the report..."), _("Failed to write the report."),
                                        lambda progress: self.logic.writeReport(folder, progress=progress))
        if written is not None:
            qt.QDesktopServices.openUrl(qt.QUrl.fromLocalFile(os.path.join(folder, "report.html")))

    def onSaveScene(self) -> None:
        path = qt.QFileDialog.getSaveFileName(None, _("Save plan scene"), "plan.mrb", _("Slicer scene bundle (*.mrb)"))
        if path:
            with slicer.util.tryWithErrorDisplay(_("Failed to save the scene."), waitCursor=True):
                self.logic.saveScene(path)

    def onLoadPhantom(self) -> None:
        loadPhantomSample()

    def onFindGrid(self) -> None:
        self.ui.gridCollapsibleButton.collapsed = False
        self._runWithProgress(_("Finding the skin grid..."), _("Failed to find the skin grid."),
                              lambda progress: self.logic.findGrid())

    def onUseGridPoints(self) -> None:
        with slicer.util.tryWithErrorDisplay(_("Failed to take the grid from the points."), waitCursor=True):
            self.logic.gridFromPoints()

    def onCheckNeedle(self) -> None:
        self.ui.fractureCollapsibleButton.collapsed = False
        self._runWithProgress(_("Checking the needle..."), _("Failed to check the needle."),
                              lambda progress: self.logic.checkNeedle())

    def onShowCArm(self) -> None:
        with slicer.util.tryWithErrorDisplay(_("Failed to show the C-arm images."), waitCursor=True):
            self.logic.showCArmViews()
            slicer.util.resetSliceViews()


#
# PVPGuideLogic
#


class PVPGuideLogic(ScriptedLoadableModuleLogic):
    """Slicer-side logic: the typed parameter node, and every action delegated to PlanningLogic (no GUI here)."""

    # From the Python console: slicer.util.getModuleLogic("PVPGuide").planning is the headless PlanningLogic.

    def __init__(self) -> None:
        ScriptedLoadableModuleLogic.__init__(self)
        self.planning = _panel().PlanningLogic(slicer.mrmlScene)

    def getParameterNode(self):
        return PVPGuideParameterNode(self.planning.parameter_node())

    def setPoint(self, name: str, ras) -> None:
        self.planning.set_point(name, ras)

    def proposePoints(self, side: Optional[str] = None, progress=None) -> dict:
        return self.planning.propose_points(side=side, progress=progress)

    def proposalStatus(self):
        return self.planning.proposal_status()

    def findSkinEntry(self, progress=None):
        return self.planning.find_skin_entry(progress)

    def measure(self) -> dict:
        return self.planning.measure()

    def lockPoints(self, locked: bool) -> None:
        self.planning.lock_points(locked)

    def updateNeedleView(self):
        return self.planning.update_needle_view()

    def setNeedleView(self, enabled: bool):
        return self.planning.set_needle_view(enabled)

    def resetNeedleView(self) -> None:
        self.planning.reset_needle_view()

    def predictCement(self, volumeMl: Optional[float] = None, progress=None) -> dict:
        return self.planning.predict_cement(volumeMl, progress=progress)

    def cementStatus(self):
        return self.planning.cement_status()

    def designGuide(self, folder: Optional[str] = None, progress=None) -> dict:
        return self.planning.design_guide(folder, progress=progress)

    def guideStatus(self):
        return self.planning.guide_status()

    @staticmethod
    def guideMissingPackages() -> list:
        return _panel().missing_guide_packages()

    def writeReport(self, folder: str, progress=None) -> dict:
        return self.planning.write_report(folder, progress=progress)

    def exportPlanJson(self, path: str) -> dict:
        return self.planning.export_plan_json(path)

    def saveScene(self, path: str):
        return self.planning.save_scene(path)

    def findGrid(self) -> str:
        return _panel().panel_grid.find_grid_on_ct(self.planning)

    def gridFromPoints(self) -> str:
        return _panel().panel_grid.grid_from_panel_points(self.planning)

    def checkNeedle(self) -> dict:
        return _panel().panel_section10.check_needle(self.planning)

    @staticmethod
    def showCArmViews() -> list:
        return _panel().panel_section10.show_c_arm_views(slicer.mrmlScene)

    def loadPhantom(self, seed: int = 0) -> dict:
        from PVPGuideLib.phantom.build import generate_phantom

        return self.planning.load_phantom(generate_phantom(seed=seed))


#
# PVPGuideTest
#


def _scenarios():
    """PVPGuideLib.testing.scenarios, imported on first use: only the self-test needs it."""
    from PVPGuideLib.testing import scenarios

    return scenarios


class PVPGuideTest(ScriptedLoadableModuleTest):
    """The same scenarios as the pytest suite (PVPGuideLib.testing.scenarios), on slicer.mrmlScene and the phantom."""

    # The scenarios (and the phantom and scipy they pull in) are imported only when the self-test runs:
    # `import PVPGuide` at every Slicer start stays light.

    _phantom = None

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        for test in (self.test_PlacePointsGivesMeasurements, self.test_FindSkinEntry, self.test_ProposeBAndC,
                     self.test_PredictCement, self.test_DesignGuide, self.test_WriteReport, self.test_SaveAndReopen,
                     self.test_BadInputIsRefused):
            self.setUp()
            try:
                test()
            except unittest.SkipTest as reason:
                self.delayDisplay(f"Skipped: {reason}")

    def phantom(self):
        if PVPGuideTest._phantom is None:
            PVPGuideTest._phantom = _scenarios().scenario_phantom()
        return PVPGuideTest._phantom

    def test_PlacePointsGivesMeasurements(self):
        self.delayDisplay("Place B and C: measurements")
        scenarios = _scenarios()
        scenarios.place_points_and_measure(slicer.mrmlScene, self.phantom(), side="left")

    def test_FindSkinEntry(self):
        self.delayDisplay("Find skin entry A")
        scenarios = _scenarios()
        scenarios.find_skin_entry(slicer.mrmlScene, self.phantom(), side="left")

    def test_ProposeBAndC(self):
        self.delayDisplay("Propose B and C from the vertebra segment: SPEC points, A, safety checks")
        scenarios = _scenarios()
        scenarios.propose_points(slicer.mrmlScene, self.phantom(), side="left")

    def test_PredictCement(self):
        self.delayDisplay("Predict the cement spread: volume, segment 'cement', scores against the conventional path")
        scenarios = _scenarios()
        scenarios.predict_cement(slicer.mrmlScene, self.phantom(), side="left")

    def test_DesignGuide(self):
        self.delayDisplay("Design the guide plate: watertight, bore on A->C, STL in LPS")
        scenarios = _scenarios()
        if _panel().missing_guide_packages():
            self.skipTest(f"the guide plate needs {', '.join(_panel().missing_guide_packages())}: "
                          "slicer.util.pip_install('manifold3d') once, then run the test again")
        with tempfile.TemporaryDirectory() as folder:
            scenarios.design_guide(slicer.mrmlScene, self.phantom(), folder, side="left")

    def test_WriteReport(self):
        self.delayDisplay("Write the report: plan.json, report.html with the angles, cement projections")
        scenarios = _scenarios()
        with tempfile.TemporaryDirectory() as folder:
            scenarios.write_report(slicer.mrmlScene, self.phantom(), folder, side="left")

    def test_SaveAndReopen(self):
        self.delayDisplay("Save the plan as .mrb and reopen it")
        scenarios = _scenarios()
        with tempfile.TemporaryDirectory() as folder:
            # without manifold3d (see test_DesignGuide) the scene is saved without a guide plate
            scenarios.save_and_reopen(slicer.mrmlScene, self.phantom(), folder, self._reopen, side="right",
                                      guide=not _panel().missing_guide_packages())

    def test_BadInputIsRefused(self):
        self.delayDisplay("Bad input is refused and leaves the scene unchanged")
        scenarios = _scenarios()
        scenarios.bad_input(slicer.mrmlScene, self.phantom())

    @staticmethod
    def _reopen(path):
        slicer.mrmlScene.Clear()
        slicer.util.loadScene(str(path))
        return slicer.mrmlScene
