"""The MRML adapter on a real slicer-core scene: nodes <-> library types and .mrb round trips."""

import math
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from tolerances import ROUND_TRIP_MM

slicer = pytest.importorskip("slicer", reason="the MRML adapter needs slicer-core (pip install slicer-core)")

from PVPGuideLib import mrml  # noqa: E402
from PVPGuideLib.core.mesh import TriangleMesh  # noqa: E402
from PVPGuideLib.core.volume import CTVolume  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- analytic inputs


def rotation(axis, degrees) -> np.ndarray:
    """(3, 3) right-handed rotation about `axis` (Rodrigues)."""
    a = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    t = math.radians(degrees)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + math.sin(t) * k + (1 - math.cos(t)) * k @ k


def affine(linear, translation) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = linear
    m[:3, 3] = translation
    return m


SPACING = np.array([0.7, 0.9, 2.5])
OBLIQUE = affine(rotation([1, 2, 3], 25) @ np.diag(SPACING), [10.1, -33.3, 7.7])
# Stored as LPS and mirrored: i runs to the patient's left, j posterior, k inferior (det < 0)
MIRRORED = affine(np.diag([-1.0, -1.0, -1.0]) @ np.diag(SPACING), [50.0, 40.0, 30.0])
SHAPE_KJI = (5, 6, 7)


def ramp_voxels() -> np.ndarray:
    """int16 voxels whose value encodes their index: i + 10 j + 100 k."""
    k, j, i = np.indices(SHAPE_KJI)
    return (i + 10 * j + 100 * k).astype(np.int16)


def label_voxels() -> np.ndarray:
    """Label 1: a block; label 2: one voxel at the far corner; label 3 is not present."""
    labels = np.zeros(SHAPE_KJI, dtype=np.uint8)
    labels[1:3, 2:5, 3:6] = 1
    labels[4, 5, 6] = 2
    return labels


TETRA_VERTICES = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [0.0, 0.0, 1.123456789012345]])
TETRA_FACES = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])  # outward normals


def signed_volume(mesh: TriangleMesh) -> float:
    v = mesh.vertices[mesh.faces]
    return float(np.einsum("ij,ij->i", v[:, 0], np.cross(v[:, 1], v[:, 2])).sum() / 6.0)


PARAMETERS = {
    "side": 'left "quoted" | pipe: colon\nnew line, é',
    "needle_gauge": 11,
    "big_int": 2**62 + 1,
    "transverse_angle": 0.1 + 0.2,  # 0.30000000000000004: needs every digit
    "tiny": 1e-300,
    "negative_zero": -0.0,
    "third": 1 / 3,
    "entry_offsets": [1.5, -2.25, 1 / 7],
    "levels": ["L1", "L2"],
    "nested": {"b": [1, 2], "a": {"x": 0.1}},
    "enabled": True,
    "nothing": None,
}


@pytest.fixture
def handle():
    return mrml.new_scene()


# ---------------------------------------------------------------- scene


def test_new_scene_attaches_logics_and_registers_converters_once():
    first, second = mrml.new_scene(), mrml.new_scene()
    assert first.scene is not second.scene
    assert first.app_logic.GetModuleLogic("Markups") is first.markups_logic
    assert first.app_logic.GetModuleLogic("Segmentations") is first.segmentations_logic
    mrml.register_segmentation_converter_rules()  # a further call must not add duplicates
    rules = [r.GetClassName() for r in slicer.vtkSegmentationConverterFactory.GetInstance().GetConverterRules()]
    assert len(rules) == len(set(rules))
    assert "vtkBinaryLabelmapToClosedSurfaceConversionRule" in rules


def test_adapter_import_does_not_import_slicer():
    code = "import sys, PVPGuideLib.mrml; print('slicer' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# ---------------------------------------------------------------- volumes


@pytest.mark.parametrize("ijk_to_ras", [OBLIQUE, MIRRORED], ids=["oblique", "lps-mirrored"])
def test_volume_round_trip_keeps_geometry_and_voxels(handle, ijk_to_ras):
    ct = CTVolume(ramp_voxels(), ijk_to_ras)
    node = mrml.volume_node_from_ct(handle.scene, ct, "CT")

    ijk_to_ras_node = vtk_matrix_to_numpy(node.GetIJKToRASMatrix)
    np.testing.assert_allclose(ijk_to_ras_node, ijk_to_ras, rtol=0, atol=1e-12)
    assert node.GetImageData().GetDimensions() == (7, 6, 5)

    # the voxel whose centre is at RAS p holds i + 10 j + 100 k of that voxel
    i, j, k = 6, 2, 3
    p = ijk_to_ras[:3, :3] @ [i, j, k] + ijk_to_ras[:3, 3]
    ijk = vtk_matrix_to_numpy(node.GetRASToIJKMatrix) @ [*p, 1.0]
    np.testing.assert_allclose(ijk[:3], [i, j, k], atol=1e-9)
    assert slicer.util.arrayFromVolume(node)[k, j, i] == i + 10 * j + 100 * k

    back = mrml.ct_from_volume_node(node)
    assert back.voxels.dtype == np.int16
    np.testing.assert_array_equal(back.voxels, ct.voxels)
    np.testing.assert_allclose(back.ijk_to_ras, ijk_to_ras, rtol=0, atol=1e-12)


def test_volume_under_parent_transform_is_read_in_world_coordinates(handle):
    transform = affine(rotation([0, 0, 1], 90), [5.0, -2.0, 1.0])
    node = mrml.volume_node_from_ct(handle.scene, CTVolume(ramp_voxels(), OBLIQUE), "CT")
    mrml.set_parent_transform(node, mrml.linear_transform_node(handle.scene, transform, "Move"))
    np.testing.assert_allclose(mrml.ct_from_volume_node(node).ijk_to_ras, transform @ OBLIQUE, atol=1e-12)


def test_volume_node_errors_are_clear(handle):
    empty = handle.scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "Empty")
    with pytest.raises(ValueError, match="'Empty' has no voxel data"):
        mrml.ct_from_volume_node(empty)


# ---------------------------------------------------------------- markups


def test_fiducial_is_named_labelled_and_locked(handle):
    node = mrml.fiducial_node_from_point(handle.scene, "A", [1.25, -2.5, 3.75], locked=True)
    assert node.IsA("vtkMRMLMarkupsFiducialNode")
    assert node.GetName() == "A" and node.GetNthControlPointLabel(0) == "A"
    assert mrml.is_locked(node) and node.GetNthControlPointLocked(0)
    np.testing.assert_allclose(mrml.point_from_fiducial_node(node), [1.25, -2.5, 3.75], atol=1e-9)  # mm
    other = mrml.fiducial_node_from_point(handle.scene, "C left", [0, 0, 0], label="C")
    assert other.GetNthControlPointLabel(0) == "C" and not mrml.is_locked(other)


def test_markups_under_nested_transforms_give_world_ras(handle):
    scene = handle.scene
    inner = affine(rotation([1, 1, 0], 30), [1.0, 2.0, 3.0])
    outer = affine(np.diag([-1.0, 1.0, 1.0]), [10.0, 0.0, -5.0])  # a mirror, as in LPS/RAS mix-ups
    inner_node = mrml.linear_transform_node(scene, inner, "Inner")
    mrml.set_parent_transform(inner_node, mrml.linear_transform_node(scene, outer, "Outer"))

    point = np.array([4.0, -5.0, 6.0])
    fiducial = mrml.fiducial_node_from_point(scene, "B", point)
    line = mrml.line_node_from_points(scene, "Trajectory", point, [0.0, 0.0, 0.0])
    for node in (fiducial, line):
        mrml.set_parent_transform(node, inner_node)

    world = outer @ inner
    expected = world[:3, :3] @ point + world[:3, 3]
    np.testing.assert_allclose(mrml.world_matrix(fiducial), world, atol=1e-12)
    np.testing.assert_allclose(mrml.point_from_fiducial_node(fiducial), expected, atol=1e-12)
    np.testing.assert_allclose(mrml.points_from_line_node(line), [expected, world[:3, 3]], atol=1e-12)


def test_line_node_round_trip(handle):
    line = mrml.line_node_from_points(handle.scene, "Trajectory", [0, 0.1, 0], [1, 2, 3.000000001])
    assert line.IsA("vtkMRMLMarkupsLineNode") and line.GetNumberOfControlPoints() == 2
    np.testing.assert_allclose(mrml.points_from_line_node(line), [[0, 0.1, 0], [1, 2, 3.000000001]], atol=1e-12)  # mm


def test_markups_without_the_expected_points_raise_clear_errors(handle):
    scene = handle.scene
    empty = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "A")
    with pytest.raises(ValueError, match="'A' has no control points"):
        mrml.point_from_fiducial_node(empty)

    two = mrml.fiducial_node_from_point(scene, "B", [0, 0, 0])
    two.AddControlPoint([1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="'B' has 2 control points, expected 1"):
        mrml.point_from_fiducial_node(two)
    np.testing.assert_allclose(mrml.point_from_fiducial_node(two, 1, expected_points=None), [1, 1, 1], atol=1e-9)

    unplaced = mrml.fiducial_node_from_point(scene, "C", [0, 0, 0])
    unplaced.UnsetNthControlPointPosition(0)
    with pytest.raises(ValueError, match="'C' of 'C' is not placed"):
        mrml.point_from_fiducial_node(unplaced)

    with pytest.raises(ValueError, match="'Trajectory' has 1 control point, expected 2"):
        mrml.points_from_line_node(mrml.fiducial_node_from_point(scene, "Trajectory", [0, 0, 0]))
    with pytest.raises(ValueError, match="finite RAS point"):
        mrml.fiducial_node_from_point(scene, "A", [0, float("nan"), 0])


# ---------------------------------------------------------------- models


def test_model_round_trip_is_exact(handle):
    mesh = TriangleMesh(TETRA_VERTICES, TETRA_FACES)
    node = mrml.model_node_from_mesh(handle.scene, mesh, "Skin", color=(1.0, 0.5, 0.0))
    assert node.GetDisplayNode().GetColor() == (1.0, 0.5, 0.0)
    back = mrml.mesh_from_model_node(node)
    np.testing.assert_array_equal(back.vertices, TETRA_VERTICES)
    np.testing.assert_array_equal(back.faces, TETRA_FACES)
    assert signed_volume(back) == pytest.approx(10 * 10 * 1.123456789012345 / 6)


def test_model_polygons_are_triangulated_and_mirrors_keep_normals_outward(handle):
    from vtkmodules.vtkFiltersSources import vtkCubeSource

    cube = vtkCubeSource()  # 6 quads, 2 x 3 x 4 mm
    cube.SetXLength(2)
    cube.SetYLength(3)
    cube.SetZLength(4)
    cube.Update()
    node = handle.scene.AddNewNodeByClass("vtkMRMLModelNode", "Box")
    node.SetAndObservePolyData(cube.GetOutput())
    mirror = affine(np.diag([-1.0, 1.0, 1.0]), [0.0, 0.0, 0.0])
    mrml.set_parent_transform(node, mrml.linear_transform_node(handle.scene, mirror, "Mirror"))

    mesh = mrml.mesh_from_model_node(node)
    assert mesh.faces.shape == (12, 3)
    assert signed_volume(mesh) == pytest.approx(2 * 3 * 4)


# ---------------------------------------------------------------- segmentations


def make_segmentation(scene, ijk_to_ras, reference_volume_node=None):
    return mrml.segmentation_node_from_labelmap(
        scene,
        CTVolume(label_voxels(), ijk_to_ras),
        "Vertebra",
        segment_names={2: "cement", 1: "L1", 3: "empty"},
        colors={1: (0.9, 0.8, 0.5)},
        reference_volume_node=reference_volume_node,
    )


@pytest.mark.parametrize("ijk_to_ras", [OBLIQUE, MIRRORED], ids=["oblique", "lps-mirrored"])
def test_segmentation_round_trip_on_the_same_grid(handle, ijk_to_ras):
    node = make_segmentation(handle.scene, ijk_to_ras)
    assert mrml.segment_ids(node) == ["L1", "cement", "empty"]  # by label value, not dict order
    assert mrml.segment_names_by_id(node) == {"L1": "L1", "cement": "cement", "empty": "empty"}
    assert node.GetSegmentation().GetSegment("L1").GetColor() == (0.9, 0.8, 0.5)
    ct = CTVolume(np.zeros(SHAPE_KJI, np.int16), ijk_to_ras)
    labels = label_voxels()
    for segment_id, label in (("L1", 1), ("cement", 2), ("empty", 3)):
        mask = mrml.labelmap_from_segment(node, segment_id, ct)
        assert mask.dtype == np.uint8
        np.testing.assert_array_equal(mask, labels == label)


def test_segment_read_on_other_grids_matches_analytic_masks(handle):
    node = make_segmentation(handle.scene, OBLIQUE)
    labels = label_voxels() == 1
    # a crop: the same voxel centres, starting 1 voxel further along i and 2 along k
    crop = OBLIQUE.copy()
    crop[:3, 3] = OBLIQUE[:3, :3] @ [1, 0, 2] + OBLIQUE[:3, 3]
    cropped = mrml.labelmap_from_segment(node, "L1", CTVolume(np.zeros((3, 6, 6)), crop))
    np.testing.assert_array_equal(cropped, labels[2:5, :, 1:7])
    # the same grid with i reversed (a mirrored CT of the same patient)
    flipped = OBLIQUE.copy()
    flipped[:3, 0] = -OBLIQUE[:3, 0]
    flipped[:3, 3] = OBLIQUE[:3, :3] @ [SHAPE_KJI[2] - 1, 0, 0] + OBLIQUE[:3, 3]
    mirrored = mrml.labelmap_from_segment(node, "L1", CTVolume(np.zeros(SHAPE_KJI), flipped))
    np.testing.assert_array_equal(mirrored, labels[:, :, ::-1])


def test_segment_under_parent_transform_moves_in_world(handle):
    node = make_segmentation(handle.scene, OBLIQUE)
    shift = affine(np.eye(3), OBLIQUE[:3, 0])  # exactly one voxel along +i
    mrml.set_parent_transform(node, mrml.linear_transform_node(handle.scene, shift, "Shift"))
    mask = mrml.labelmap_from_segment(node, "L1", CTVolume(np.zeros(SHAPE_KJI), OBLIQUE))
    expected = np.zeros(SHAPE_KJI, bool)
    expected[:, :, 1:] = (label_voxels() == 1)[:, :, :-1]
    np.testing.assert_array_equal(mask, expected)


@pytest.mark.parametrize("transformed", [False, True], ids=["plain", "under-a-transform"])
def test_set_segment_from_mask_replaces_one_segment_in_world_coordinates(handle, transformed):
    node = make_segmentation(handle.scene, OBLIQUE)
    if transformed:
        moved = affine(rotation([0, 0, 1], 30), [5.0, -3.0, 8.0])
        mrml.set_parent_transform(node, mrml.linear_transform_node(handle.scene, moved, "Moved"))
    node_id = node.GetID()
    grid = CTVolume(np.zeros(SHAPE_KJI, np.int16), OBLIQUE)
    new_cement = np.zeros(SHAPE_KJI, np.uint8)
    new_cement[1:3, 2:4, 3:6] = 1
    mrml.set_segment_from_mask(node, "cement", grid.with_voxels(new_cement), color=(0.1, 0.2, 0.3))
    assert node.GetID() == node_id and mrml.segment_ids(node) == ["L1", "empty", "cement"]
    np.testing.assert_array_equal(mrml.labelmap_from_segment(node, "cement", grid), new_cement)
    assert node.GetSegmentation().GetSegment("cement").GetColor() == (0.1, 0.2, 0.3)
    if not transformed:  # the other segments are untouched
        np.testing.assert_array_equal(mrml.labelmap_from_segment(node, "L1", grid), label_voxels() == 1)
    mrml.set_segment_from_mask(node, "cement", grid.with_voxels(np.zeros(SHAPE_KJI, np.uint8)), color=(1, 1, 1))
    assert not mrml.labelmap_from_segment(node, "cement", grid).any()


def test_segmentation_errors_are_clear(handle):
    node = make_segmentation(handle.scene, OBLIQUE)
    with pytest.raises(ValueError, match="no segment with ID 'L2'"):
        mrml.labelmap_from_segment(node, "L2", CTVolume(np.zeros(SHAPE_KJI), OBLIQUE))
    with pytest.raises(ValueError, match="unique"):
        mrml.segmentation_node_from_labelmap(handle.scene, CTVolume(label_voxels(), OBLIQUE), "S", segment_names={1: "x", 2: "x"})


# ---------------------------------------------------------------- parameter node


def test_parameter_node_is_the_module_singleton(handle):
    node = mrml.parameter_node(handle.scene)
    assert node.IsA("vtkMRMLScriptedModuleNode")
    assert node.GetName() == "PVPGuide" and node.GetAttribute("ModuleName") == "PVPGuide"
    assert mrml.parameter_node(handle.scene).GetID() == node.GetID()
    assert handle.scene.GetNumberOfNodesByClass("vtkMRMLScriptedModuleNode") == 1


def assert_same_values(actual: dict, expected: dict):
    """Equal, of the same types, and floats bit for bit (incl. the sign of zero)."""
    assert actual == expected
    for key, value in expected.items():
        assert type(actual[key]) is type(value), key
        if isinstance(value, float):
            assert actual[key].hex() == value.hex(), key


def test_parameters_round_trip_exactly(handle):
    node = mrml.parameter_node(handle.scene)
    mrml.set_parameters(node, PARAMETERS)
    assert_same_values(mrml.get_parameters(node), PARAMETERS)
    # deterministic text: JSON with sorted keys, floats by repr
    assert node.GetParameter("nested") == '{"a":{"x":0.1},"b":[1,2]}'
    assert node.GetParameter("transverse_angle") == "0.30000000000000004"
    # numpy values and tuples come back as plain Python
    mrml.set_parameters(node, {"c": np.array([1.5, 2.0]), "n": np.float64(0.1), "t": (1, 2)})
    assert mrml.get_parameters(node)["c"] == [1.5, 2.0] and mrml.get_parameters(node)["t"] == [1, 2]
    assert type(mrml.get_parameters(node)["n"]) is float
    node.SetParameter("typed_by_hand", "not json")
    assert mrml.get_parameters(node)["typed_by_hand"] == "not json"


def test_bad_parameters_are_refused(handle):
    node = mrml.parameter_node(handle.scene)
    for values, message in (
        ({"x": float("nan")}, "not a finite number"),
        ({"x": [1.0, float("inf")]}, "not a finite number"),
        ({"": 1}, "non-empty strings"),
        ({"x": object()}, "has type object"),
    ):
        with pytest.raises(ValueError, match=message):
            mrml.set_parameters(node, values)


def test_node_references_by_role(handle):
    node = mrml.parameter_node(handle.scene)
    ct_node = mrml.volume_node_from_ct(handle.scene, CTVolume(ramp_voxels(), OBLIQUE), "CT")
    mrml.set_node_reference(node, "ct", ct_node)
    assert mrml.get_node_reference(node, "ct") is ct_node
    assert mrml.node_reference_roles(node) == ["ct"]
    mrml.set_node_reference(node, "ct", None)
    assert mrml.get_node_reference(node, "ct") is None and mrml.node_reference_roles(node) == []


# ---------------------------------------------------------------- scene bundles


def build_plan_scene():
    """A scene with every kind of node PVPGuide stores, under analytic values."""
    handle = mrml.new_scene()
    scene = handle.scene
    ct_node = mrml.volume_node_from_ct(scene, CTVolume(ramp_voxels(), OBLIQUE), "CT")
    mirrored_node = mrml.volume_node_from_ct(scene, CTVolume(ramp_voxels(), MIRRORED), "CT mirrored")
    segmentation = make_segmentation(scene, OBLIQUE, reference_volume_node=ct_node)
    a = mrml.fiducial_node_from_point(scene, "A", [1.1, 2.2, 3.3], locked=True)
    mrml.fiducial_node_from_point(scene, "B", [-0.1, 1 / 3, 2e-7])
    mrml.line_node_from_points(scene, "Trajectory", [0.0, 0.1, 0.0], [1.0, 2.0, 3.000000001])
    skin = mrml.model_node_from_mesh(scene, TriangleMesh(TETRA_VERTICES, TETRA_FACES), "Skin", color=(1, 0.5, 0))
    params = mrml.parameter_node(scene)
    mrml.set_parameters(params, PARAMETERS)
    for role, node in (("ct", ct_node), ("ct_mirrored", mirrored_node), ("A", a), ("skin", skin), ("vertebra", segmentation)):
        mrml.set_node_reference(params, role, node)
    return handle


@pytest.fixture(scope="module")
def saved_plan(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundle")
    handle = build_plan_scene()
    path = mrml.save_scene_bundle(handle, folder / "plan.mrb")
    return handle, path


@pytest.fixture(scope="module")
def reloaded(saved_plan):
    return mrml.load_scene_bundle(saved_plan[1]).scene


def node_named(scene, name):
    node = scene.GetFirstNodeByName(name)
    assert node is not None, f"no node named {name!r} in the reloaded scene"
    return node


def test_bundle_has_slicer_layout_and_opens_with_slicer_unzip(saved_plan, tmp_path):
    _, path = saved_plan
    assert path.is_absolute() and path.name == "plan.mrb"
    names = zipfile.ZipFile(path).namelist()
    assert "plan/plan.mrml" in names
    assert {"plan/Data/CT.nrrd", "plan/Data/A.mrk.json", "plan/Data/Skin.vtk", "plan/Data/Vertebra.seg.nrrd"} <= set(names)
    # Slicer reads bundles with vtkArchive (libarchive); it must accept ours
    assert slicer.vtkArchive.UnZip(str(path), str(tmp_path))
    assert (tmp_path / "plan" / "plan.mrml").is_file()


def test_bundle_restores_volumes_exactly(reloaded):
    for name, ijk_to_ras in (("CT", OBLIQUE), ("CT mirrored", MIRRORED)):
        ct = mrml.ct_from_volume_node(node_named(reloaded, name))
        np.testing.assert_array_equal(ct.voxels, ramp_voxels())
        assert ct.voxels.dtype == np.int16
        np.testing.assert_allclose(ct.ijk_to_ras, ijk_to_ras, rtol=0, atol=1e-12)


def test_bundle_restores_markups_to_a_nanometre(reloaded):
    # Slicer's markups JSON does not round-trip every double exactly (last-bit differences, ~1e-14 mm).
    a, b = node_named(reloaded, "A"), node_named(reloaded, "B")
    np.testing.assert_allclose(mrml.point_from_fiducial_node(a), [1.1, 2.2, 3.3], rtol=0, atol=ROUND_TRIP_MM)
    np.testing.assert_allclose(mrml.point_from_fiducial_node(b), [-0.1, 1 / 3, 2e-7], rtol=0, atol=ROUND_TRIP_MM)
    assert mrml.is_locked(a) and not mrml.is_locked(b)
    assert a.GetNthControlPointLabel(0) == "A" and b.GetNthControlPointLabel(0) == "B"
    line = node_named(reloaded, "Trajectory")
    assert line.IsA("vtkMRMLMarkupsLineNode")
    np.testing.assert_allclose(mrml.points_from_line_node(line), [[0.0, 0.1, 0.0], [1.0, 2.0, 3.000000001]],
                               rtol=0, atol=ROUND_TRIP_MM)


def test_bundle_restores_model_and_segments(reloaded):
    skin = node_named(reloaded, "Skin")
    mesh = mrml.mesh_from_model_node(skin)
    np.testing.assert_array_equal(mesh.vertices, TETRA_VERTICES)
    np.testing.assert_array_equal(mesh.faces, TETRA_FACES)
    assert skin.GetDisplayNode().GetColor() == (1.0, 0.5, 0.0)

    segmentation = node_named(reloaded, "Vertebra")
    assert mrml.segment_names_by_id(segmentation) == {"L1": "L1", "cement": "cement", "empty": "empty"}
    ct = mrml.ct_from_volume_node(node_named(reloaded, "CT"))
    for segment_id, label in (("L1", 1), ("cement", 2), ("empty", 3)):
        np.testing.assert_array_equal(mrml.labelmap_from_segment(segmentation, segment_id, ct), label_voxels() == label)


def test_bundle_restores_parameters_and_references(reloaded):
    params = mrml.parameter_node(reloaded)
    assert reloaded.GetNumberOfNodesByClass("vtkMRMLScriptedModuleNode") == 1
    assert_same_values(mrml.get_parameters(params), PARAMETERS)
    names = {role: mrml.get_node_reference(params, role).GetName() for role in mrml.node_reference_roles(params)}
    assert names == {"A": "A", "ct": "CT", "ct_mirrored": "CT mirrored", "skin": "Skin", "vertebra": "Vertebra"}


def test_saving_is_deterministic_and_a_reloaded_scene_saves_again(saved_plan, reloaded, tmp_path):
    handle, path = saved_plan
    again = mrml.save_scene_bundle(handle, tmp_path / "plan.mrb")
    assert again.read_bytes() == path.read_bytes()
    resaved = mrml.load_scene_bundle(mrml.save_scene_bundle(reloaded, tmp_path / "copy" / "plan.mrb"))
    assert_same_values(mrml.get_parameters(mrml.parameter_node(resaved.scene)), PARAMETERS)


def bundle_members(path: Path) -> dict:
    """{member: bytes}; subject-hierarchy item IDs in the .mrml masked (see below)."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    for name in members:
        if name.endswith(".mrml"):
            members[name] = re.sub(rb'(<SubjectHierarchyItem id=")\d+', rb"\1#", members[name])
    return members


def test_saving_is_deterministic_across_processes(saved_plan, tmp_path):
    # Random segment IDs or colours (Slicer's defaults) would make two saves of one plan differ.
    # Subject-hierarchy item IDs come from a process-wide counter in MRML that nothing can reset,
    # so they depend on how many scenes the process made before; Slicer renumbers them on load.
    _, path = saved_plan
    code = (
        "import sys; sys.path.insert(0, 'Testing');"
        "from test_mrml_adapter import build_plan_scene; from PVPGuideLib import mrml;"
        "mrml.save_scene_bundle(build_plan_scene(), sys.argv[1])"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "plan.mrb")], cwd=ROOT, check=True)
    assert bundle_members(tmp_path / "plan.mrb") == bundle_members(path)


def folder_snapshot(folder: Path) -> dict:
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns) if p.is_file() else None
        for p in folder.rglob("*")
    }


def test_saving_touches_no_other_file(saved_plan, tmp_path):
    handle, _ = saved_plan
    (tmp_path / "notes.txt").write_text("keep me")
    (tmp_path / "Data").mkdir()  # a folder named like the bundle's inner one
    (tmp_path / "Data" / "CT.nrrd").write_bytes(b"user data")
    (tmp_path / "plan.mrml").write_text("<MRML/>")
    (tmp_path / "plan.mrb").write_bytes(b"an older plan")
    before = folder_snapshot(tmp_path)

    mrml.save_scene_bundle(handle, tmp_path / "plan.mrb")

    after = folder_snapshot(tmp_path)
    assert after.keys() == before.keys(), "no file may be added or left behind"
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"plan.mrb"}
    assert zipfile.is_zipfile(tmp_path / "plan.mrb")


def test_failed_saves_leave_the_folder_unchanged(saved_plan, tmp_path):
    handle, _ = saved_plan
    (tmp_path / "notes.txt").write_text("keep me")
    before = folder_snapshot(tmp_path)
    with pytest.raises(ValueError, match=r"plan\.txt'.*must end in \.mrb"):
        mrml.save_scene_bundle(handle, tmp_path / "plan.txt")
    with pytest.raises(ValueError, match="notes.txt' is a file, not a folder"):
        mrml.save_scene_bundle(handle, tmp_path / "notes.txt" / "plan.mrb")
    assert folder_snapshot(tmp_path) == before


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write to read-only folders")
def test_saving_into_a_read_only_folder_is_a_clear_error(saved_plan, tmp_path):
    handle, _ = saved_plan
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(ValueError, match="is not writable"):
            mrml.save_scene_bundle(handle, locked / "plan.mrb")
    finally:
        locked.chmod(0o755)


def test_bad_bundles_raise_clear_errors(saved_plan, tmp_path):
    _, good = saved_plan
    data = good.read_bytes()
    text = tmp_path / "text.mrb"
    text.write_text("not a bundle")
    truncated = tmp_path / "truncated.mrb"
    truncated.write_bytes(data[: len(data) // 2])
    flipped = bytearray(data)
    flipped[data.index(b"plan/Data/CT.nrrd") + 60] ^= 0xFF  # inside CT.nrrd's compressed data
    corrupt = tmp_path / "corrupt.mrb"
    corrupt.write_bytes(bytes(flipped))
    no_scene = tmp_path / "no_scene.mrb"
    with zipfile.ZipFile(no_scene, "w") as archive:
        archive.writestr("plan/readme.txt", "hello")
    bad_data = tmp_path / "bad_data.mrb"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(bad_data, "w") as archive:
        for name in source.namelist():
            archive.writestr(name, source.read(name)[:100] if name.endswith("CT.nrrd") else source.read(name))

    cases = (
        (tmp_path / "missing.mrb", "no such file"),
        (text, "not a valid zip archive"),
        (truncated, "not a valid zip archive"),
        (corrupt, "damaged"),
        (no_scene, "no .mrml scene file"),
        (bad_data, "Failed to read node CT"),
    )
    for path, reason in cases:
        with pytest.raises(ValueError, match=reason) as error:
            mrml.load_scene_bundle(path)
        assert str(path) in str(error.value)
        assert isinstance(error.value, mrml.SceneBundleError)


def test_bundle_io_keeps_vtk_noise_off_the_terminal(saved_plan, tmp_path, capfd):
    handle, path = saved_plan
    mrml.save_scene_bundle(handle, tmp_path / "quiet.mrb")
    mrml.load_scene_bundle(path)
    with pytest.raises(ValueError):
        mrml.load_scene_bundle(tmp_path / "missing.mrb")
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


# ---------------------------------------------------------------- helpers


def vtk_matrix_to_numpy(getter) -> np.ndarray:
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    matrix = vtkMatrix4x4()
    getter(matrix)
    return np.array([[matrix.GetElement(r, c) for c in range(4)] for r in range(4)])
