"""SPEC section 4 geometry against hand-computed values, and frame invariance under rigid motion."""

import numpy as np
import pytest

from PVPGuideLib.core import geometry
from PVPGuideLib.core.geometry import (
    GeometryError,
    SkinGrid,
    VertebraFrame,
    direction_from_angles,
    entry_offsets,
    locate_on_grid,
    needle_angles,
    path_lengths,
)

S30, C30 = np.sin(np.radians(30)), np.cos(np.radians(30))


@pytest.mark.parametrize(
    ("direction", "side", "transverse", "sagittal"),
    [
        ((S30, C30, 0), "left", 30.0, 0.0),  # left entry converging to the midline (towards +R)
        ((-S30, C30, 0), "right", 30.0, 0.0),  # right entry converging (towards -R)
        ((-S30, C30, 0), "left", -30.0, 0.0),  # left entry diverging
        ((S30, C30, 0), "right", -30.0, 0.0),  # right entry diverging
        ((0, C30, S30), "left", 0.0, 30.0),  # tip points cranially
        ((0, C30, -S30), "right", 0.0, -30.0),  # tip points caudally
        ((1, 2, 0.5), "left", np.degrees(np.arctan2(1, 2)), np.degrees(np.arctan2(0.5, 2))),
        ((-1, 2, -0.5), "right", np.degrees(np.arctan2(1, 2)), -np.degrees(np.arctan2(0.5, 2))),
        ((1, 2, -0.5), "right", -np.degrees(np.arctan2(1, 2)), -np.degrees(np.arctan2(0.5, 2))),
        ((-1, 2, 0.5), "left", -np.degrees(np.arctan2(1, 2)), np.degrees(np.arctan2(0.5, 2))),
    ],
)
def test_hand_computed_angles(direction, side, transverse, sagittal):
    angles = needle_angles(np.array(direction, dtype=float), side)
    assert angles.transverse_deg == pytest.approx(transverse, abs=1e-9)
    assert angles.sagittal_deg == pytest.approx(sagittal, abs=1e-9)


def test_angles_from_points_match_direction():
    a, c = np.array([-40.0, -80.0, 5.0]), np.array([10.0, 20.0, 25.0])
    d = geometry.needle_direction(a, c)
    # d = (50, 100, 20)/|.|: transverse atan(50/100), sagittal atan(20/100)
    angles = needle_angles(d, "left")
    assert angles.transverse_deg == pytest.approx(np.degrees(np.arctan(0.5)))
    assert angles.sagittal_deg == pytest.approx(np.degrees(np.arctan(0.2)))


def _random_rotation(rng):
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def test_vertebra_frame_angles_invariant_under_rigid_motion():
    rng = np.random.default_rng(7)
    # An upright vertebra: body centre at the origin, canal 25 mm behind, endplates horizontal.
    body, canal, superior = np.zeros(3), np.array([0.0, -25.0, 0.0]), np.array([0.0, 0.0, 1.0])
    a, c = np.array([-45.0, -90.0, -6.0]), np.array([5.0, 8.0, 1.0])
    reference = needle_angles(c - a, "left")
    for _ in range(20):
        rot, shift = _random_rotation(rng), rng.uniform(-200, 200, size=3)
        def move(p, rot=rot, shift=shift):
            return rot @ p + shift

        frame = VertebraFrame.from_landmarks(superior_axis=rot @ superior, canal_centre=move(canal),
                                             body_centre=move(body))
        moved = needle_angles(move(c) - move(a), "left", frame)
        assert moved.transverse_deg == pytest.approx(reference.transverse_deg, abs=1e-9)
        assert moved.sagittal_deg == pytest.approx(reference.sagittal_deg, abs=1e-9)


def test_frame_from_landmarks_orthogonalises_anterior_axis():
    tilt = np.radians(20)
    superior = np.array([0.0, np.sin(tilt), np.cos(tilt)])  # endplate normal tilted forwards
    frame = VertebraFrame.from_landmarks(superior_axis=superior, canal_centre=[0, -20, 0], body_centre=[0, 0, 0])
    assert np.allclose(frame.rotation @ frame.rotation.T, np.eye(3))
    assert np.linalg.det(frame.rotation) == pytest.approx(1.0)
    assert np.allclose(frame.anterior, [0.0, np.cos(tilt), -np.sin(tilt)])
    assert np.allclose(frame.right, [1.0, 0.0, 0.0])


def test_frame_rejects_left_handed_axes():
    with pytest.raises(GeometryError, match="right-handed"):
        VertebraFrame.from_axes(origin=[0, 0, 0], right=[-1, 0, 0], anterior=[0, 1, 0], superior=[0, 0, 1])


@pytest.mark.parametrize("side", ["left", "right"])
def test_direction_from_angles_inverts_needle_angles(side):
    frame = VertebraFrame.from_axes(origin=[1, 2, 3], right=[0, 0, 1], anterior=[1, 0, 0], superior=[0, 1, 0])
    d = direction_from_angles(22.5, -7.0, side, frame)
    angles = needle_angles(d, side, frame)
    assert (angles.transverse_deg, angles.sagittal_deg) == pytest.approx((22.5, -7.0))


def test_lengths_3_4_5():
    lengths = path_lengths([0, 0, 0], [3, 4, 0], [6, 8, 0])
    assert (lengths.ab_mm, lengths.bc_mm, lengths.ac_mm) == pytest.approx((5.0, 5.0, 10.0))
    no_a = path_lengths(None, [3, 4, 0], [6, 8, 0])
    assert no_a.ab_mm is None and no_a.ac_mm is None and no_a.bc_mm == pytest.approx(5.0)


def test_entry_offsets():
    offsets = entry_offsets([-30.0, -60.0, 12.0], midline_point=[0, 0, 0], midline_normal=[2, 0, 0],
                            spinous_tip=[0, -50, 5])
    assert offsets.from_midline_mm == pytest.approx(30.0)
    assert offsets.from_spinous_tip_mm == pytest.approx(7.0)  # cranial of the tip
    caudal = entry_offsets([5.0, 0, -3.0], spinous_tip=[0, 0, 1.0], superior_axis=[0, 0, 1])
    assert caudal.from_spinous_tip_mm == pytest.approx(-4.0) and caudal.from_midline_mm is None


def test_grid_locator():
    grid = SkinGrid(np.zeros(3), np.array([1.0, 0, 0]), np.array([0, 0, 1.0]), 10.0)
    pos = locate_on_grid([23.0, -5.0, -18.0], grid)
    assert (pos.column, pos.row) == (2, -2)
    assert (pos.residual_u_mm, pos.residual_v_mm) == pytest.approx((3.0, 2.0))
    assert pos.off_plane_mm == pytest.approx(5.0)  # normal u x v = (0, -1, 0)


def test_degenerate_inputs_are_clear_errors():
    with pytest.raises(GeometryError, match="degenerate"):
        geometry.needle_direction([1, 2, 3], [1, 2, 3.5])
    with pytest.raises(GeometryError, match="side"):
        needle_angles([0, 1, 0], "both")
    with pytest.raises(GeometryError, match="three finite numbers"):
        geometry.as_point([1, 2], "B")
    with pytest.raises(GeometryError, match="perpendicular"):
        SkinGrid(np.zeros(3), np.array([1.0, 0, 0]), np.array([1.0, 1.0, 0]), 10.0)
