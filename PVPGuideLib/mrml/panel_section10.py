"""The panel's SPEC section 10 views: the plan's fracture table, the intra-operative needle check, the C-arm images."""

from __future__ import annotations

import json

from .errors import MRMLAdapterError
from .section10_nodes import HEIGHT_NAMES

PLACED_NODE_NAMES = ("Placed tip", "Placed needle")
# Which slice view shows which simulated C-arm image (names as section10_nodes gives them).
C_ARM_VIEWS = (("C-arm AP", "Red"), ("C-arm lateral", "Yellow"))


def _mm(value, unit: str = "mm") -> str:
    return "-" if value is None else f"{value:.1f} {unit}"


def fracture_section(logic):
    """plan.json's `fracture` section ({level: measures}) stored in the parameter node by a command-line plan, or None."""
    text = logic.parameter_node().GetParameter("fracture")
    return json.loads(text) if text else None


def fracture_rows(fracture) -> list:
    """(quantity, value) rows of every level's heights (measured, normal, loss), Genant grade and type, angles."""
    rows = []
    for level, section in sorted((fracture or {}).items()):
        rows.append(("Level", level))
        heights = section.get("heights_mm") or {}
        normal = section.get("normal_heights_mm") or {}
        loss = section.get("height_loss_percent") or {}
        for name in HEIGHT_NAMES:
            rows.append((name, _mm(heights.get(name))))
            rows.append((f"{name} normal", _mm(normal.get(name))))
            rows.append((f"{name} loss", _mm(loss.get(name), "%")))
        grade = section.get("genant_grade")
        rows.append(("Genant grade", "-" if grade is None else f"{grade} ({section.get('genant_grade_name')})"))
        rows.append(("Genant type", section.get("genant_type") or "-"))
        rows.append(("Wedge angle", _mm(section.get("wedge_angle_deg"), "deg")))
        rows.append(("Cobb angle", _mm(section.get("cobb_angle_deg"), "deg")))
    return rows


def check_needle(logic) -> dict:
    """Check the needle on the panel's intra-operative CT against the planned B->C; add the placed needle nodes.

    Returns NeedleCheck.to_json() (also stored as needleCheck): tip to C, angle to plan, warnings."""
    from .needle_check_nodes import add_placed_needle_nodes, check_needle_on_nodes
    from .segmentations import labelmap_from_segment
    from .volumes import ct_from_volume_node

    ct_node, intraop_node = logic.node("ctVolume"), logic.node("intraopVolume")
    if ct_node is None or intraop_node is None:
        raise MRMLAdapterError("select the planning CT in Inputs and the intra-operative CT to check the needle on")
    if intraop_node is ct_node:
        raise MRMLAdapterError("the intra-operative CT is the planning CT: select the CT taken with the needle in")
    segmentation, segment_id = logic.node("vertebraSegmentation"), logic.settings()["vertebraSegmentId"]
    if segmentation is None or not segment_id:
        raise MRMLAdapterError("choose the target vertebra segment in Inputs: the needle check registers on it")
    t = logic.trajectory()
    mask = labelmap_from_segment(segmentation, segment_id, ct_from_volume_node(ct_node)).astype(bool)
    check = check_needle_on_nodes(ct_node, intraop_node, mask, b=t.b, c=t.c, side=t.side,
                                  frame=t.landmarks.frame, needle_gauge=logic.settings()["needleGauge"])
    scene = logic.scene
    for name in PLACED_NODE_NAMES:  # one placed needle at a time: the last check's
        found = scene.GetNodesByName(name)
        for node in [found.GetItemAsObject(i) for i in range(found.GetNumberOfItems())]:
            scene.RemoveNode(node)
    add_placed_needle_nodes(scene, check)
    data = check.to_json()
    params = logic.parameter_node()
    modifying = params.StartModify()
    params.SetParameter("needleCheck", json.dumps(data, sort_keys=True, allow_nan=False))
    params.SetParameter("status", f"needle checked: {data['verdict']}")
    params.EndModify(modifying)
    return data


def needle_check_rows(data) -> list:
    """(quantity, value) rows of a needle check: tip to C, angle to plan, verdict; then each warning."""
    if not data:
        return []
    rows = [("Tip to C", _mm(data["tip_to_C_mm"])), ("Angle to plan", _mm(data["angle_to_plan_deg"], "deg")),
            ("Verdict", data["verdict"])]
    return rows + [("Warning", warning) for warning in data["warnings"]]


def show_c_arm_views(scene) -> list:
    """Show the simulated C-arm AP image in the Red slice view and the lateral in the Yellow one, each view turned
    to its image's plane; returns the names shown. Needs the views' slice and slice composite nodes (Slicer's)."""
    shown = []
    for prefix, view in C_ARM_VIEWS:
        volumes = [scene.GetNthNodeByClass(n, "vtkMRMLScalarVolumeNode")
                   for n in range(scene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode"))]
        matches = sorted((v for v in volumes if v.GetName().startswith(prefix + " ")), key=lambda v: v.GetName())
        if not matches:
            continue
        slice_node = _view_node(scene, "vtkMRMLSliceNode", view)
        composite = _view_node(scene, "vtkMRMLSliceCompositeNode", view)
        composite.SetBackgroundVolumeID(matches[0].GetID())
        slice_node.RotateToVolumePlane(matches[0])
        shown.append(matches[0].GetName())
    if not shown:
        raise MRMLAdapterError("this scene has no simulated C-arm images: open a plan scene written by `pvpguide plan` "
                               "with a vertebra label map")
    return shown


def _view_node(scene, class_name: str, view: str):
    for n in range(scene.GetNumberOfNodesByClass(class_name)):
        node = scene.GetNthNodeByClass(n, class_name)
        if node.GetLayoutName() == view:
            return node
    raise MRMLAdapterError(f"no {view} slice view: switch to a layout with the {view} and Yellow views")
