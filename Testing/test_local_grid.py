"""LocalGrid.sample: trilinear samples of a voxel array on a turned, anisotropic grid, against the interpolation
written out by hand at the grid's points."""

import numpy as np
from scipy.spatial.transform import Rotation

from PVPGuideLib.vertebra.local_grid import LocalGrid


def _trilinear(array, ijk):
    """Trilinear interpolation of a (K, J, I) array at (n, 3) continuous (i, j, k) indices; 0 beyond the outermost
    voxel centres (no interpolation towards the outside)."""
    out = np.zeros(len(ijk))
    base = np.floor(ijk).astype(int)
    frac = ijk - base
    for corner in np.ndindex(2, 2, 2):
        i, j, k = (base + corner).T
        weight = np.prod(np.where(np.array(corner) == 1, frac, 1.0 - frac), axis=1)
        inside = (i >= 0) & (j >= 0) & (k >= 0) & (i < array.shape[2]) & (j < array.shape[1]) & (k < array.shape[0])
        out[inside] += weight[inside] * array[k[inside], j[inside], i[inside]]
    beyond = ((ijk < 0.0) | (ijk > np.array(array.shape[::-1]) - 1.0)).any(axis=1)
    return np.where(beyond, 0.0, out)


def test_samples_on_a_turned_grid_equal_trilinear_interpolation():
    rng = np.random.default_rng(3)
    array = rng.uniform(0.0, 1.0, (14, 17, 19)).astype(np.float32)  # (K, J, I)
    ijk_to_ras = np.eye(4)
    ijk_to_ras[:3, :3] = Rotation.from_euler("xyz", [10, -20, 35], degrees=True).as_matrix() @ np.diag([0.7, 0.9, 2.0])
    ijk_to_ras[:3, 3] = (-4.0, 6.0, 1.5)
    rotation = Rotation.from_euler("zyx", [25, 5, -15], degrees=True).as_matrix().T  # rows: the grid's axes
    corners = np.array([[i, j, k, 1.0] for i in (0, 18) for j in (0, 16) for k in (0, 13)]) @ ijk_to_ras.T
    grid = LocalGrid.covering(corners[:, :3].mean(axis=0), rotation, corners[:, :3], step=0.6, margin_mm=1.0)
    sampled = grid.sample(array, ijk_to_ras)
    assert sampled.shape == grid.shape and sampled.dtype == np.float32
    index = np.stack(np.meshgrid(*[np.arange(n) for n in grid.shape], indexing="ij"), axis=-1).reshape(-1, 3)
    ras = grid.to_ras(grid.lower + grid.step * index)
    ijk = (ras - ijk_to_ras[:3, 3]) @ np.linalg.inv(ijk_to_ras[:3, :3]).T
    expected = _trilinear(array, ijk)
    assert np.abs(sampled.reshape(-1) - expected).max() < 1e-5
    assert (expected > 0).mean() > 0.1 and (expected == 0).any()  # the grid holds the array and its outside
