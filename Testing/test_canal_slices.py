"""The canal slice by slice (vertebra/canal_slices.py) on a constructed vertebra: closed slices give their holes with
the lateral recesses; open slices assume the widest canal seen, but never where that slice has bone."""

from __future__ import annotations

import numpy as np
import pytest

from PVPGuideLib.vertebra.canal import Canal
from PVPGuideLib.vertebra.canal_slices import canal_slices
from PVPGuideLib.vertebra.local_grid import LocalGrid

STEP = 0.5


def _case():
    """Body in front (y >= -10); pedicles 8-16 mm either side of the midline above z = 0 but only 12-16 mm below
    (so the canal below has lateral recesses out to 12 mm); laminae (y -30..-25) only below z = 0, so the ring
    is closed below and open above."""
    grid = LocalGrid(np.zeros(3), np.eye(3), np.array([-30.0, -40.0, -10.0]), STEP, (121, 81, 41))
    x, y, z = np.meshgrid(grid.axis(0), grid.axis(1), grid.axis(2), indexing="ij")
    body = y >= -10.0
    inner = np.where(z > 0.0, 8.0, 12.0)
    pedicles = (np.abs(x) >= inner) & (np.abs(x) <= 16.0) & (y >= -25.0) & (y < -10.0)
    laminae = (y >= -30.0) & (y < -25.0) & (np.abs(x) <= 16.0) & (z < 0.0)
    vertebra = (body | pedicles | laminae).astype(np.float32)
    gx, gy = np.meshgrid(grid.axis(0), grid.axis(1), indexing="ij")
    narrowest = (np.abs(gx) < 8.0) & (gy >= -25.0) & (gy < -10.0)
    canal = Canal(np.array([0.0, -17.5]), -10.0, -25.0, 16.0, narrowest, np.zeros((4, 2)), 0.0)
    return grid, vertebra, canal


def test_closed_slices_hold_the_lateral_recess():
    grid, vertebra, canal = _case()
    slices = canal_slices(grid, vertebra, canal)
    assert slices.closed_slices > 0 and slices.open_slices > 0
    # Below z = 0 the hole reaches x = 12 (recess): a point at x = 10 is inside the canal.
    assert slices.distance_at([[10.0, -18.0, -5.0]])[0] < 0.0
    assert slices.envelope_width == pytest.approx(24.0, abs=2 * STEP)


def test_an_open_slice_has_no_canal_where_it_has_bone():
    grid, vertebra, canal = _case()
    slices = canal_slices(grid, vertebra, canal)
    # Above z = 0 (open ring) x = 10 is inside the pedicle: not canal. The nearest canal is that slice's free
    # space at x = 8 (2 mm), nearer than the recess below z = 0 (5 mm down).
    assert slices.distance_at([[10.0, -18.0, 5.0]])[0] == pytest.approx(2.0, abs=STEP)
    # The free space of an open slice inside the widest canal seen is still canal.
    assert slices.distance_at([[6.0, -18.0, 5.0]])[0] < 0.0


def test_an_open_slice_keeps_the_canal_in_bone_it_is_not_sure_of():
    # With bone surfaces uncertain by 1.5 mm (a 3 mm scan), the pedicle's first 1.5 mm (x 8-9.5) may still be
    # canal; x = 10.5 lies deeper and is not, and is nearer to the uncertain band (x = 9.5) than to the recess.
    grid, vertebra, canal = _case()
    slices = canal_slices(grid, vertebra, canal, bone_uncertainty_mm=1.5)
    assert slices.distance_at([[9.0, -18.0, 5.0]])[0] < 0.0
    assert slices.distance_at([[10.5, -18.0, 5.0]])[0] == pytest.approx(1.0, abs=STEP)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_depth_inside_the_canal_equals_a_transform_over_the_whole_field(seed):
    """The inside distance is computed over the canal's bounding box only: on random blobs (touching the field's
    border or not) it equals the distance transform of the whole field."""
    from scipy import ndimage

    from PVPGuideLib.vertebra.canal_slices import _depth_inside

    rng = np.random.default_rng(seed)
    field = np.zeros((40, 36, 20), dtype=bool)
    for _ in range(4):
        centre = rng.uniform((0, 5, 0), (30, 30, 20))
        radius = rng.uniform(3.0, 8.0)
        i, j, k = np.indices(field.shape)
        field |= (i - centre[0]) ** 2 + (j - centre[1]) ** 2 + ((k - centre[2]) * 2.0) ** 2 < radius ** 2
    step = 0.4
    whole = ndimage.distance_transform_edt(field, sampling=step) - 0.5 * step
    assert np.allclose(_depth_inside(field, step)[field], whole[field], atol=1e-5)
