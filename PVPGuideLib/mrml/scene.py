"""A standalone MRML scene with the module logics that make markups and segmentations save."""

from __future__ import annotations

from dataclasses import dataclass

from ._vtk import slicer_module

# Segmentation representations must be convertible (labelmap <-> closed surface) or segment
# editing and saving fail; the Slicer application registers these at start-up, the wheel does not.
_CONVERTER_RULE_CLASSES = (
    "vtkBinaryLabelmapToClosedSurfaceConversionRule",
    "vtkClosedSurfaceToBinaryLabelmapConversionRule",
    "vtkClosedSurfaceToFractionalLabelmapConversionRule",
    "vtkFractionalLabelmapToClosedSurfaceConversionRule",
)


@dataclass(frozen=True)
class SceneHandle:
    """A vtkMRMLScene plus the logics attached to it.

    The logics observe the scene (markups and segmentation storage depend on them), so the handle
    must live as long as the scene is used.
    """

    scene: object  # vtkMRMLScene
    app_logic: object  # vtkSlicerApplicationLogic
    markups_logic: object  # vtkSlicerMarkupsLogic
    segmentations_logic: object  # vtkSlicerSegmentationsModuleLogic


def register_segmentation_converter_rules() -> None:
    """Make each segmentation converter rule registered exactly once in this process.

    Missing rules are added; duplicates are removed, because vtkSlicerSegmentationsModuleLogic
    registers all four again every time it is given a scene (once per new_scene()). Existing
    segmentations keep their own copies of the rules, so removing duplicates does not affect them.
    """
    slicer = slicer_module()
    factory = slicer.vtkSegmentationConverterFactory.GetInstance()
    seen = set()
    for rule in factory.GetConverterRules():
        if rule.GetClassName() in seen:
            factory.UnregisterConverterRule(rule)
        seen.add(rule.GetClassName())
    for class_name in _CONVERTER_RULE_CLASSES:
        if class_name not in seen:
            factory.RegisterConverterRule(getattr(slicer, class_name)())


def new_scene() -> SceneHandle:
    """An empty scene with application, markups and segmentations logics attached.

    For headless use (CLI, tests); inside Slicer use `slicer.mrmlScene`, which the application has
    already set up, and pass it to the adapter functions directly.
    """
    slicer = slicer_module()
    scene = slicer.vtkMRMLScene()
    app_logic = slicer.vtkSlicerApplicationLogic()
    app_logic.SetMRMLScene(scene)
    logics = {}
    for module_name, logic_class in (
        ("Markups", slicer.vtkSlicerMarkupsLogic),
        ("Segmentations", slicer.vtkSlicerSegmentationsModuleLogic),
    ):
        logic = logic_class()
        # application logic first: the module logics look it up when the scene is set
        logic.SetMRMLApplicationLogic(app_logic)
        logic.SetMRMLScene(scene)
        app_logic.SetModuleLogic(module_name, logic)
        logics[module_name] = logic
    register_segmentation_converter_rules()
    return SceneHandle(scene, app_logic, logics["Markups"], logics["Segmentations"])


def scene_of(scene_or_handle):
    """The vtkMRMLScene of a SceneHandle, or the argument itself when it already is a scene."""
    scene = scene_or_handle.scene if isinstance(scene_or_handle, SceneHandle) else scene_or_handle
    if not (hasattr(scene, "IsA") and scene.IsA("vtkMRMLScene")):
        raise TypeError(f"expected a vtkMRMLScene or SceneHandle, got {type(scene_or_handle).__name__}")
    return scene
