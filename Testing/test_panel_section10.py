"""The panel's SPEC section 10 views on a real MRML scene: fracture table rows, the needle check through the
panel's nodes (placed needle replaced, not piled up), the C-arm images turned into the Red and Yellow views."""

import json

import numpy as np
import pytest

pytest.importorskip("slicer", reason="the panel needs slicer-core (pip install slicer-core)")

from operative_phantom import burn_needle  # noqa: E402

from PVPGuideLib.core.volume import CTVolume  # noqa: E402
from PVPGuideLib.mrml.errors import MRMLAdapterError  # noqa: E402
from PVPGuideLib.mrml.panel_section10 import (  # noqa: E402
    check_needle,
    fracture_rows,
    fracture_section,
    needle_check_rows,
    show_c_arm_views,
)
from PVPGuideLib.mrml.parameters import set_node_reference, set_parameters  # noqa: E402
from PVPGuideLib.mrml.planning_logic import PlanningLogic  # noqa: E402
from PVPGuideLib.mrml.volumes import volume_node_from_ct  # noqa: E402
from PVPGuideLib.testing import scenarios  # noqa: E402

SECTION = {"L1": {"heights_mm": {"AVH": 18.04, "MVH": 20.0, "PVH": 25.0},
                  "normal_heights_mm": {"AVH": 25.0, "MVH": 25.0, "PVH": 26.0},
                  "height_loss_percent": {"AVH": 27.84, "MVH": 20.0, "PVH": 3.846},
                  "genant_grade": 1, "genant_grade_name": "mild", "genant_type": "wedge",
                  "wedge_angle_deg": 12.25, "cobb_angle_deg": None}}


def test_fracture_rows_from_the_plans_section(scene):
    logic = PlanningLogic(scene)
    assert fracture_section(logic) is None and fracture_rows(None) == []
    set_parameters(logic.parameter_node(), {"fracture": SECTION})  # as `pvpguide plan`'s scene stores it
    rows = dict(fracture_rows(fracture_section(logic)))
    assert rows["Level"] == "L1"
    assert (rows["AVH"], rows["AVH normal"], rows["AVH loss"]) == ("18.0 mm", "25.0 mm", "27.8 %")
    assert rows["PVH loss"] == "3.8 %" and rows["Genant grade"] == "1 (mild)" and rows["Genant type"] == "wedge"
    assert rows["Wedge angle"] == "12.2 deg" and rows["Cobb angle"] == "-"  # unknown without both neighbours


def _view(scene, name):
    for class_name in ("vtkMRMLSliceNode", "vtkMRMLSliceCompositeNode"):
        node = scene.CreateNodeByClass(class_name)
        node.UnRegister(None)
        node.SetLayoutName(name)
        scene.AddNode(node)


def _image(scene, name, u, v):
    """A single-slice image on the plane spanned by unit vectors u, v (0.5 mm pixels), as section10_nodes adds one."""
    matrix = np.eye(4)
    matrix[:3, 0], matrix[:3, 1], matrix[:3, 2] = 0.5 * u, 0.5 * v, np.cross(u, v)
    matrix[:3, 3] = [10.0, -20.0, 30.0]
    return volume_node_from_ct(scene, CTVolume(np.zeros((1, 8, 8), np.int16), matrix, "DRR"), name)


def test_c_arm_images_fill_the_red_and_yellow_views_on_their_planes(scene):
    s = scene.scene
    with pytest.raises(MRMLAdapterError, match="no simulated C-arm images"):
        show_c_arm_views(s)
    c, t = np.cos(np.radians(20)), np.sin(np.radians(20))
    ap = _image(s, "C-arm AP L1 left", np.array([c, t, 0.0]), np.array([0.0, 0.0, 1.0]))  # tilted 20 deg about S
    lateral = _image(s, "C-arm lateral L1 left", np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0]))
    with pytest.raises(MRMLAdapterError, match="no Red slice view"):
        show_c_arm_views(s)
    _view(s, "Red")
    _view(s, "Yellow")
    assert show_c_arm_views(s) == ["C-arm AP L1 left", "C-arm lateral L1 left"]
    for view, node, normal in (("Red", ap, np.array([t, -c, 0.0])), ("Yellow", lateral, np.array([1.0, 0.0, 0.0]))):
        composite = next(s.GetNthNodeByClass(n, "vtkMRMLSliceCompositeNode")
                         for n in range(s.GetNumberOfNodesByClass("vtkMRMLSliceCompositeNode"))
                         if s.GetNthNodeByClass(n, "vtkMRMLSliceCompositeNode").GetLayoutName() == view)
        assert composite.GetBackgroundVolumeID() == node.GetID()
        slice_node = next(s.GetNthNodeByClass(n, "vtkMRMLSliceNode")
                          for n in range(s.GetNumberOfNodesByClass("vtkMRMLSliceNode"))
                          if s.GetNthNodeByClass(n, "vtkMRMLSliceNode").GetLayoutName() == view)
        to_ras = slice_node.GetSliceToRAS()
        slice_normal = np.array([to_ras.GetElement(i, 2) for i in range(3)])
        assert abs(slice_normal @ normal) == pytest.approx(1.0, abs=1e-6)  # the view looks along the image's ray


def test_needle_check_through_the_panel_nodes(scene, phantom):
    logic, b, c = scenarios._new_planned_scene(scene, phantom, "right")
    with pytest.raises(MRMLAdapterError, match="intra-operative CT"):
        check_needle(logic)
    d = (c - b) / np.linalg.norm(c - b)
    intraop = volume_node_from_ct(scene.scene, burn_needle(phantom.ct, c - 1.5 * d, d), "Intra-op CT")
    set_node_reference(logic.parameter_node(), "intraopVolume", intraop)
    data = check_needle(logic)
    assert data["tip_to_C_mm"] == pytest.approx(1.5, abs=0.5)  # the needle was burnt 1.5 mm short of C
    assert data["angle_to_plan_deg"] < 1.0
    check_needle(logic)  # again: one placed needle, the last one
    for name in ("Placed tip", "Placed needle"):
        assert scene.scene.GetNodesByName(name).GetNumberOfItems() == 1
    assert json.loads(logic.parameter_node().GetParameter("needleCheck")) == data
    rows = dict(needle_check_rows(data))
    assert rows["Tip to C"] == f"{data['tip_to_C_mm']:.1f} mm" and rows["Verdict"] == data["verdict"]
    assert needle_check_rows(None) == []
