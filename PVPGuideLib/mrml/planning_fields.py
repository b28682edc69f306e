"""The PVPGuide parameter node's fields (settings, results, node roles): light, so the module imports it at start-up."""

# Slicer imports PVPGuide/PVPGuide.py at every start, and its parameterNodeWrapper class needs these fields
# then; the planning code (scipy, the cement and guide packages) is imported only when the panel is opened.
# The three constants below are copies of the library's (skin, cement, guide STL): Testing/test_module_python39.py
# checks they are equal.

from __future__ import annotations

from dataclasses import dataclass

from ..core.colours import POINT_COLOURS, unit_rgb
from ..core.geometry import SIDES
from ..core.levels import PLANNED_LEVELS
from ..core.needles import DEFAULT_NEEDLE_GAUGE, NEEDLE_OUTER_DIAMETER_MM

SKIN_THRESHOLD_HU = -300.0  # PVPGuideLib.planning.skin.SKIN_THRESHOLD_HU
DEFAULT_PLANNED_VOLUME_ML = 4.5  # PVPGuideLib.cement.plan_section.DEFAULT_PLANNED_VOLUME_ML
COORDINATE_SYSTEMS = ("LPS", "RAS")  # PVPGuideLib.guide.stl.COORDINATE_SYSTEMS: of the STL files written

POINT_NAMES = ("A", "B", "C")
SIDE_CHOICES = SIDES + ("both",)  # the module's side setting: one side, or both (the recommended one is placed)
LEVELS = PLANNED_LEVELS
NEEDLE_GAUGES = tuple(sorted(NEEDLE_OUTER_DIAMETER_MM, reverse=True))
SLICE_VIEWS = ("Green", "Yellow", "Red")
# A hand-placed A further than this from the line C->B makes the path bend at B: say so, since the
# angles then follow A->C (SPEC section 4) while the bone path follows B->C.
COLLINEAR_TOLERANCE_MM = 0.5
POINT_COLORS = {name: unit_rgb(colour) for name, colour in POINT_COLOURS.items()}  # the report's, on MRML's 0-1 scale
SKIN_COLOR = (0.94, 0.78, 0.66)
NEEDLE_COLOR = (0.75, 0.75, 0.8)
COMMAND_LINE_BODY = "the command line's vertebral body"


@dataclass(frozen=True)
class Setting:
    """One parameter-node value, stored exactly as Slicer's parameterNodeWrapper stores its type."""

    name: str
    type: type
    default: object
    choices: tuple = ()
    limits: tuple[float, float] | None = None


# What the panel's widgets set. PVPGuide.py declares the same fields (defaults, choices and limits taken
# from here), so the module's parameterNodeWrapper and this headless logic read and write one format.
SETTINGS = (
    Setting("vertebraSegmentId", str, ""),
    Setting("level", str, "L1", LEVELS),
    Setting("side", str, "left", SIDE_CHOICES),
    Setting("needleGauge", int, DEFAULT_NEEDLE_GAUGE, NEEDLE_GAUGES),
    Setting("skinThresholdHu", float, SKIN_THRESHOLD_HU, limits=(-900.0, 0.0)),
    Setting("pointALocked", bool, False),  # keeps a hand-placed A when B or C moves (else A follows them)
    Setting("needleViewEnabled", bool, False),
    Setting("needleViewSlice", str, "Green", SLICE_VIEWS),
    Setting("needleViewAt", str, "C", POINT_NAMES),
    Setting("plannedCementVolumeMl", float, DEFAULT_PLANNED_VOLUME_ML, limits=(0.5, 12.0)),
    Setting("guideBaseThicknessMm", float, 3.0, limits=(1.5, 10.0)),
    Setting("guideFitClearanceMm", float, 0.2, limits=(0.0, 2.0)),
    Setting("guideRunwaySlot", bool, True),
    Setting("guideSpinousLine", bool, True),
    Setting("guideLabel", bool, True),
    Setting("guideCoordinateSystem", str, "LPS", COORDINATE_SYSTEMS),  # of the STL files written
    # Skin grid given by three points (issue 17): wire spacing, within PVPGuideLib.grid's SPACING_RANGE_MM.
    Setting("gridSpacingMm", float, 10.0, limits=(4.0, 50.0)),
)
# What the logic writes: state and results (JSON text where structured).
RESULTS = (
    Setting("pointsLocked", bool, False),
    Setting("vertebraLandmarks", str, ""),
    Setting("skinEntryPoint", str, ""),
    Setting("measurements", str, ""),
    Setting("needleViewMatrix", str, ""),
    Setting("cementSection", str, ""),  # plan.json's per-trajectory `cement` section of the last prediction
    Setting("cementInputs", str, ""),  # what it was predicted for (B, C, side, volume, segment)
    Setting("reportFolder", str, ""),  # where the last report was written
    Setting("guideSection", str, ""),  # plan.json's per-trajectory `guide` section of the last plate
    Setting("guideInputs", str, ""),  # what it was designed for (A, C, side, level, gauge, skin, landmarks, options)
    Setting("guideFolder", str, ""),  # where its STL was written ("" when not written)
    Setting("proposalSection", str, ""),  # the last "Propose B and C": safety checks, recommended side, what for
    Setting("skinGrid", str, ""),  # plan.json's `grid` of the grid found or given in the panel (mrml/panel_grid.py)
    Setting("needleCheck", str, ""),  # the last intra-operative needle check (mrml/panel_section10.py)
    Setting("status", str, ""),
)
# Node references (role = field name, as parameterNodeWrapper stores a node) and their MRML classes.
NODE_ROLES = {
    "ctVolume": "vtkMRMLScalarVolumeNode",
    "vertebraSegmentation": "vtkMRMLSegmentationNode",
    "pointA": "vtkMRMLMarkupsFiducialNode",
    "pointB": "vtkMRMLMarkupsFiducialNode",
    "pointC": "vtkMRMLMarkupsFiducialNode",
    "trajectoryLine": "vtkMRMLMarkupsLineNode",
    "needleModel": "vtkMRMLModelNode",
    "skinModel": "vtkMRMLModelNode",
    "cementSegmentation": "vtkMRMLSegmentationNode",
    "guideModel": "vtkMRMLModelNode",
    "gridPoints": "vtkMRMLMarkupsFiducialNode",  # three points giving the skin grid by hand
    "intraopVolume": "vtkMRMLScalarVolumeNode",  # the intra-operative CT of the needle check
}
# Inputs of optional steps (skin grid by hand, intra-operative check): a finished plan need not have them.
OPTIONAL_ROLES = ("gridPoints", "intraopVolume")
FIELDS = {s.name: s for s in SETTINGS + RESULTS}
PARAMETER_NAMES = tuple(FIELDS) + tuple(NODE_ROLES)
