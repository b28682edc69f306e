"""The pedicle read at its isthmus (vertebra/isthmus.py) on a constructed vertebra of known pedicle axis and size.

The shape: a body in front of the canal, a pedicle on each side (an elliptic tube of known width, height and
convergence from the body to the laminae), each flaring behind its isthmus into a wide transverse process and a
lamina. The expected values are the construction's; the coarse case samples a 3 mm voxelisation of the same shape.
"""

from __future__ import annotations

import numpy as np
import pytest

from PVPGuideLib.vertebra.canal import Canal
from PVPGuideLib.vertebra.isthmus import read_isthmus
from PVPGuideLib.vertebra.local_grid import LocalGrid

WIDTH, HEIGHT, CONVERGENCE = 9.0, 14.0, 12.0  # mm, mm, degrees (an L3: SPEC section 9, Zindrick 1987)
CANAL_HALF_WIDTH, FRONT_Y, BACK_Y = 10.0, -20.0, -36.0
ISTHMUS_Y = -25.0
SIDE_SIGN = {"left": -1.0, "right": 1.0}


def _axis_x(side: str, y):
    """x of the pedicle axis at y: through (±(canal half width + half the width + 1), ISTHMUS_Y), converging."""
    s = SIDE_SIGN[side]
    x0 = s * (CANAL_HALF_WIDTH + 0.5 * WIDTH + 1.0)
    return x0 - s * np.tan(np.radians(CONVERGENCE)) * (np.asarray(y) - ISTHMUS_Y)


def _vertebra(x, y, z) -> np.ndarray:
    """Bone (bool) at local points: body, two pedicles, the transverse processes and laminae behind them."""
    body = (y >= FRONT_Y) & (y <= FRONT_Y + 35.0) & (np.abs(x) <= 22.0) & (np.abs(z) <= 13.0)
    bone = body
    cos = np.cos(np.radians(CONVERGENCE))
    for side, s in SIDE_SIGN.items():
        across = (x - _axis_x(side, y)) * cos  # distance across the axis in the axial plane
        tube = ((across / (0.5 * WIDTH)) ** 2 + (z / (0.5 * HEIGHT)) ** 2 <= 1.0) & (y <= FRONT_Y + 2.0) & (y >= -32.0)
        # Behind the isthmus the pedicle joins the transverse process (wide, lateral) and the lamina (medial).
        process = (y <= ISTHMUS_Y - 4.0) & (y >= -32.0) & (s * x >= CANAL_HALF_WIDTH) & (s * x <= 40.0) & (np.abs(z) <= 5.0)
        lamina = (y <= -32.0) & (y >= -38.0) & (np.abs(x) <= CANAL_HALF_WIDTH + 8.0) & (np.abs(z) <= 10.0)
        bone = bone | tube | process | lamina
    return bone


def _setup(step: float, voxel: float | None = None):
    grid = LocalGrid(np.zeros(3), np.eye(3), np.array([-45.0, -45.0, -20.0]), step,
                     (int(90 / step) + 1, int(80 / step) + 1, int(40 / step) + 1))
    if voxel is None:
        gx, gy, gz = np.meshgrid(grid.axis(0), grid.axis(1), grid.axis(2), indexing="ij")
        values = _vertebra(gx, gy, gz).astype(np.float32)
    else:
        # A CT-like voxelisation at `voxel` mm (voxel centres inside the shape), sampled onto the grid trilinearly.
        n = int(100 / voxel) + 1
        c = -50.0 + voxel * np.arange(n)
        kz, jy, ix = np.meshgrid(c, c, c, indexing="ij")
        mask = _vertebra(ix, jy, kz).astype(np.float32)  # (K, J, I): z, y, x
        ijk_to_ras = np.diag([voxel, voxel, voxel, 1.0])
        ijk_to_ras[:3, 3] = -50.0
        values = grid.sample(mask, ijk_to_ras)
    hole = np.zeros(grid.shape[:2], dtype=bool)
    gx, gy = np.meshgrid(grid.axis(0), grid.axis(1), indexing="ij")
    hole[(np.abs(gx) < CANAL_HALF_WIDTH) & (gy > BACK_Y) & (gy < FRONT_Y)] = True
    canal = Canal(np.array([0.0, 0.5 * (FRONT_Y + BACK_Y)]), FRONT_Y, BACK_Y, 2 * CANAL_HALF_WIDTH, hole,
                  np.zeros((4, 2)), 0.0)
    return grid, values, canal


@pytest.mark.parametrize("side", ["left", "right"])
def test_isthmus_reading_finds_the_constructed_axis_and_width(side):
    step, voxel, width_tol, angle_tol = 0.5, None, 0.6, 3.0
    grid, values, canal = _setup(step, voxel)
    reading = read_isthmus(grid, values, canal, side, centre_z=0.0)
    assert reading is not None
    # The flare behind the isthmus (transverse process) must not be read as pedicle: without the axis search
    # the row across the anterior axis reads WIDTH / cos(CONVERGENCE) and the process 20 mm or more.
    assert reading.width == pytest.approx(WIDTH, abs=width_tol)
    assert reading.convergence_deg == pytest.approx(CONVERGENCE, abs=angle_tol)
    assert reading.height == pytest.approx(HEIGHT, abs=2.0 * (voxel or step))
    # The centre lies on the constructed axis, between the body and the process.
    assert reading.centre[0] == pytest.approx(float(_axis_x(side, reading.centre[1])), abs=width_tol)
    assert FRONT_Y - 0.6 * (FRONT_Y - BACK_Y) <= reading.centre[1] <= FRONT_Y
    # Medial border towards the canal, lateral border away from it.
    s = SIDE_SIGN[side]
    assert s * reading.medial[0] < s * reading.centre[0] < s * reading.lateral[0]
    assert s * reading.medial[0] > CANAL_HALF_WIDTH - width_tol


@pytest.mark.parametrize("side", ["left", "right"])
def test_on_a_3mm_scan_the_isthmus_row_is_read_without_the_process(side):
    # 3 mm voxels: the axis is taken parallel to the anterior axis, so the width is the row's, WIDTH / cos(12°)
    # = 9.2 mm, give or take half a voxel at each border; the process behind reads 20 mm and more.
    grid, values, canal = _setup(1.0, 3.0)
    reading = read_isthmus(grid, values, canal, side, centre_z=0.0, parallel=True)
    assert reading is not None and reading.convergence_deg == 0.0 and not reading.axis_read
    assert reading.width == pytest.approx(WIDTH / np.cos(np.radians(CONVERGENCE)), abs=1.5)
    assert reading.centre[0] == pytest.approx(float(_axis_x(side, reading.centre[1])), abs=1.5)
    assert reading.height == pytest.approx(HEIGHT, abs=3.0)


def test_no_pedicle_gives_no_reading():
    grid, values, canal = _setup(1.0)
    gx = grid.axis(0)
    values[gx < -CANAL_HALF_WIDTH + 0.5] = 0.0  # nothing left of the canal
    assert read_isthmus(grid, values, canal, "left", centre_z=0.0) is None


def test_disagreeing_border_lines_are_replaced_by_a_consistent_isthmus_pair():
    """SPEC 5 (left against right): border lines 20 degrees apart are read again at the isthmus; the constructed
    pedicles (both 12 degrees) agree there, so that pair is used and the notes say so."""
    from PVPGuideLib.vertebra.analysis import _second_reading
    from PVPGuideLib.vertebra.pedicles import Pedicle

    grid, values, canal = _setup(0.5)
    posterior = values * (grid.axis(1) < FRONT_Y)[None, :, None]
    wrong = {"left": Pedicle("left", 0.0, 14.0, np.tan(np.radians(20.0)), 0.0, -11.0, -20.0, -25.0, 50, 50),
             "right": Pedicle("right", 0.0, 14.0, 0.0, 0.0, 11.0, 20.0, -25.0, 50, 50)}
    pedicles, notes = _second_reading(grid, posterior, values, canal, wrong, {}, 0.0, "L3")
    assert notes and "read again at their isthmus" in notes[0]
    for p in pedicles.values():
        assert p.method == "isthmus"
        assert p.convergence_deg == pytest.approx(CONVERGENCE, abs=3.0)
        assert p.width == pytest.approx(WIDTH, abs=0.6)
    # A consistent pair is kept as it was read.
    same, none = _second_reading(grid, posterior, values, canal, {**wrong, "left": Pedicle(
        "left", 0.0, 14.0, 0.0, 0.0, -11.0, -20.0, -25.0, 50, 50)}, {}, 0.0, "L3")
    assert none == [] and all(p.method == "border lines" for p in same.values())
