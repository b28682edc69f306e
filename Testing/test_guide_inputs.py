"""Guide plate input checks: every bad input is a ValueError naming the step, before any file is written."""

import numpy as np
import pytest
from guide_synthetic import bumpy_back_height, bumpy_back_skin, entry_on_height_surface, planned_path

from PVPGuideLib.core.mesh import TriangleMesh
from PVPGuideLib.core.needles import needle_outer_diameter_mm
from PVPGuideLib.guide import GuideError, GuideOptions, GuideTrajectory, build_guide
from PVPGuideLib.guide.booleans import mesh_difference, mesh_union, to_manifold

MIDLINE = dict(midline_point=[0.0, -100.0, 0.0], midline_normal=[1.0, 0.0, 0.0])


@pytest.fixture(scope="module")
def skin():
    return bumpy_back_skin()


@pytest.fixture(scope="module")
def path():
    c, d = planned_path("left", transverse_deg=30.0, target=[8.0, -20.0, 0.0])
    return entry_on_height_surface(c, d, bumpy_back_height), c


def _box(lo, hi):
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    faces = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                      [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]])
    return TriangleMesh(corners, faces)


def test_empty_skin_is_refused(path):
    a, c = path
    with pytest.raises(GuideError, match="step 'input'.*skin surface is empty"):
        build_guide(TriangleMesh(np.zeros((0, 3)), np.zeros((0, 3))), [GuideTrajectory(a, c, "left")],
                    frame_superior=[0, 0, 1])


def test_entry_point_off_the_skin_is_refused(skin, path):
    a, c = path
    lifted = a + np.array([0.0, -6.0, 0.0])  # 6 mm behind the back, in the air
    with pytest.raises(GuideError, match="step 'entry'.*not on the skin") as info:
        build_guide(skin, [GuideTrajectory(lifted, c, "left")], frame_superior=[0, 0, 1], **MIDLINE)
    assert isinstance(info.value, ValueError)


def test_degenerate_path_is_refused(skin, path):
    a, _ = path
    with pytest.raises(GuideError, match="step 'input'.*degenerate"):
        build_guide(skin, [GuideTrajectory(a, a + 0.2, "left")], frame_superior=[0, 0, 1])


def test_unknown_gauge_side_and_bad_pairs_are_refused(skin, path):
    a, c = path
    with pytest.raises(ValueError, match="unknown needle gauge"):
        GuideTrajectory(a, c, "left", needle_gauge=12)
    with pytest.raises(GuideError, match="side must be"):
        GuideTrajectory(a, c, "middle")
    with pytest.raises(GuideError, match="one left and one right"):
        build_guide(skin, [GuideTrajectory(a, c, "left"), GuideTrajectory(a, c, "left")], frame_superior=[0, 0, 1])
    with pytest.raises(GuideError, match="superior axis"):
        build_guide(skin, [GuideTrajectory(a, c, "left")], frame_superior=[0, -1, 0])


@pytest.mark.parametrize("options, message", [
    (dict(base_thickness_mm=0.0), "base_thickness_mm must be a positive"),
    (dict(sleeve_wall_mm=1.0), "at least 2 mm"),
    (dict(label_depth_mm=2.0), "leaves 1.00 mm of base"),
    (dict(midline_feature="bump"), "ridge"),
    (dict(fit_clearance_mm=-0.1), "zero or more"),
])
def test_bad_options_are_refused(options, message):
    with pytest.raises(GuideError, match=message):
        GuideOptions(**options)


def test_boolean_operands_are_validated_and_named():
    box = _box([0, 0, 0], [10, 10, 10])
    open_box = TriangleMesh(box.vertices, box.faces[:-1])
    with pytest.raises(GuideError, match="step 'union: operand 2'.*not a closed surface"):
        mesh_union([box, open_box])
    doubled = TriangleMesh(box.vertices, np.vstack([box.faces, box.faces[:2]]))
    with pytest.raises(GuideError, match="more than two faces"):
        to_manifold(doubled, step="cut bores")
    with pytest.raises(GuideError, match="step 'difference'.*empty"):
        mesh_difference(box, [_box([-1, -1, -1], [11, 11, 11])])
    with pytest.raises(GuideError, match="intersects itself"):
        crossing = TriangleMesh(np.vstack([box.vertices, _box([5.3, 4.7, 5.9], [15, 15, 15]).vertices]),
                                np.vstack([box.faces, box.faces + 8]))
        to_manifold(crossing, step="operand", check_self_intersection=True)


def test_inside_out_operand_is_repaired_and_union_is_exact():
    box = _box([0, 0, 0], [10, 10, 10])
    flipped = TriangleMesh(box.vertices, box.faces[:, ::-1].copy())
    result = mesh_union([flipped, _box([5, 0, 0], [15, 10, 10])])
    assert to_manifold(result, step="check").volume() == pytest.approx(1500.0)
    assert to_manifold(mesh_difference(box, [_box([5, -1, -1], [11, 11, 11])]), step="x").volume() == pytest.approx(500.0)


def test_needle_table():
    assert [needle_outer_diameter_mm(g) for g in (13, 11, 10, 8)] == [2.41, 3.05, 3.40, 4.19]
