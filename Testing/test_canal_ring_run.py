"""The canal seen slice by slice: the longest run of slices whose canal-sized holes overlap (issue 11, L5)."""

import numpy as np

from PVPGuideLib.vertebra.canal import _ring_slices


def test_the_canal_is_the_longest_run_of_overlapping_holes():
    # 1 mm samples; y < 0 lies behind the body. Slices 5-14: a ring around a 20 x 20 mm canal (400 mm2); slices
    # 20-22: a 10 x 10 mm hole elsewhere (a gap between lamina and articular process), not overlapping the canal;
    # every other slice is solid there (bone straying into the canal's projection).
    y = np.arange(-40.0, 10.0)
    solid = np.ones((60, y.size, 30), dtype=bool)
    solid[:2], solid[-2:], solid[:, :2], solid[:, -2:] = False, False, False, False
    solid[20:40, 10:30, 5:15] = False
    solid[45:55, 2:12, 20:23] = False
    run = _ring_slices(solid, y, 1.0, 0.0)
    assert np.flatnonzero(run).tolist() == list(range(5, 15))


def test_no_hole_in_any_slice_keeps_every_slice():
    y = np.arange(-20.0, 5.0)
    solid = np.ones((30, y.size, 8), dtype=bool)
    assert _ring_slices(solid, y, 1.0, 0.0).all()
