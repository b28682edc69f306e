"""A regular grid aligned with a vertebra's own axes, on which masks of the CT grid are sampled for analysis.

The user's CT is never resampled for output; this grid is a private working copy of a mask, so that
"axial", "along the anterior axis" and "above" mean the vertebra's directions whatever the scanner's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage


@dataclass(frozen=True, eq=False)
class LocalGrid:
    """Samples at local coordinates lower + step * (i, j, k) along (right, anterior, superior) from `origin`.

    origin : (3,) RAS; rotation : (3, 3) rows right, anterior, superior (RAS unit vectors);
    lower : (3,) local coordinates (mm) of sample (0, 0, 0); step : mm; shape : (nx, ny, nz).
    Arrays on the grid are indexed [x, y, z].
    """

    origin: np.ndarray
    rotation: np.ndarray
    lower: np.ndarray
    step: float
    shape: tuple[int, int, int]

    @classmethod
    def covering(cls, origin, rotation, points_ras, *, step: float, margin_mm: float) -> LocalGrid:
        """The grid of the given axes holding all points plus a margin."""
        rotation = np.asarray(rotation, dtype=float)
        local = (np.asarray(points_ras, dtype=float) - origin) @ rotation.T
        lower = np.floor((local.min(axis=0) - margin_mm) / step) * step
        upper = local.max(axis=0) + margin_mm
        shape = tuple(int(n) for n in np.floor((upper - lower) / step).astype(int) + 1)
        return cls(np.asarray(origin, dtype=float), rotation, lower, float(step), shape)

    def axis(self, n: int) -> np.ndarray:
        """(shape[n],) local coordinates (mm) of the samples along axis n (0 right, 1 anterior, 2 superior)."""
        return self.lower[n] + self.step * np.arange(self.shape[n])

    def to_ras(self, local) -> np.ndarray:
        return np.atleast_2d(np.asarray(local, dtype=float)) @ self.rotation + self.origin

    def to_local(self, ras) -> np.ndarray:
        return (np.atleast_2d(np.asarray(ras, dtype=float)) - self.origin) @ self.rotation.T

    def vector_to_ras(self, local_vector) -> np.ndarray:
        return np.asarray(local_vector, dtype=float) @ self.rotation

    def index_of(self, local) -> np.ndarray:
        """Continuous grid indices of local coordinates."""
        return (np.atleast_2d(np.asarray(local, dtype=float)) - self.lower) / self.step

    def sample(self, array: np.ndarray, ijk_to_ras: np.ndarray) -> np.ndarray:
        """Trilinear samples (float32) of a (K, J, I) array whose voxel geometry is ijk_to_ras; 0 outside it."""
        ras_to_ijk = np.linalg.inv(ijk_to_ras)
        # ijk = A @ (lower + step * index) + b: one affine map from grid indices to array indices (array axes are
        # k, j, i), so no (3, n) table of coordinates is built (315 MB for a 0.4 mm grid around an L5).
        a = ras_to_ijk[:3, :3] @ self.rotation.T
        b = ras_to_ijk[:3, :3] @ self.origin + ras_to_ijk[:3, 3] + a @ self.lower
        return ndimage.affine_transform(np.asarray(array, dtype=np.float32), (self.step * a)[::-1], offset=b[::-1],
                                        output_shape=self.shape, output=np.float32, order=1, cval=0.0,
                                        prefilter=False)


def sample_points(array: np.ndarray, ijk_to_ras: np.ndarray, points_ras) -> np.ndarray:
    """(n,) trilinear samples of a (K, J, I) array at RAS points; 0 outside it."""
    ijk = np.atleast_2d(np.asarray(points_ras, dtype=float)) @ np.linalg.inv(ijk_to_ras)[:3, :3].T
    ijk += np.linalg.inv(ijk_to_ras)[:3, 3]
    return ndimage.map_coordinates(np.asarray(array, dtype=np.float32), ijk[:, ::-1].T, order=1, cval=0.0,
                                   prefilter=False)
