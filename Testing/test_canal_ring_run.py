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


def test_depth_in_the_mask_is_within_one_step_of_the_whole_transform():
    from scipy import ndimage

    from PVPGuideLib.vertebra.masks import DEPTH_STEP_MM, depth_in_mask

    rng = np.random.default_rng(3)
    mask = np.zeros((40, 90, 70), dtype=bool)
    mask[8:30, 10:80, 10:61] = True
    mask[8:30, 10:80, 10:61] &= rng.random((22, 70, 51)) > 0.002  # a block with a few one-voxel holes
    spacing = (2.0, 0.32, 0.5)  # anisotropic, two axes finer than the depth step
    expected = ndimage.distance_transform_edt(mask, sampling=spacing)
    depth = depth_in_mask(mask, spacing)
    assert np.all(depth[~mask] == 0.0)
    # Blocks of 3 voxels along 0.32 mm and 2 along 0.5 mm (at most 1 mm): off by at most a block's diagonal
    # (the voxel's own block) and the outside block's half diagonal.
    assert np.abs(depth - expected).max() <= 1.5 * np.sqrt(2.0) * DEPTH_STEP_MM + 1e-9
    # A one-voxel gap through the block (between two touching vertebrae) is not bridged: beside it the depth stays
    # within that bound of the exact one, where bridging would give the block's half thickness.
    gap = mask.copy()
    gap[:, 45, :] = False
    exact = ndimage.distance_transform_edt(gap, sampling=spacing)
    assert np.abs(depth_in_mask(gap, spacing) - exact).max() <= 1.5 * np.sqrt(2.0) * DEPTH_STEP_MM + 1e-9
    # With voxels at the step already, nothing is skipped: the exact transform.
    coarse = (2.0, 1.0, 1.5)
    assert np.allclose(depth_in_mask(mask, coarse), ndimage.distance_transform_edt(mask, sampling=coarse))
