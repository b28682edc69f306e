"""Voxel centres in the vertebra frame and masks ray-sampled on frame-aligned grids."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..core.geometry import VertebraFrame


def voxel_centres_ras(ijk_to_ras: np.ndarray, kji: np.ndarray) -> np.ndarray:
    """(n, 3) (k, j, i) voxel indices -> (n, 3) RAS mm of their centres."""
    ijk = np.asarray(kji, dtype=float)[:, ::-1]
    return ijk @ ijk_to_ras[:3, :3].T + ijk_to_ras[:3, 3]


@dataclass(frozen=True, eq=False)
class FrameGrid:
    """Regular grid in the vertebra frame: sample (ir, ia, is) sits at lower + step * (ir, ia, is) (r, a, s mm)."""

    axes: VertebraFrame
    lower: np.ndarray
    step: float
    shape: tuple[int, int, int]

    @classmethod
    def covering(cls, axes: VertebraFrame, points_frame: np.ndarray, *, step: float, margin: float) -> FrameGrid:
        """Smallest grid of this step covering the points plus a margin. Samples sit at half steps of the
        frame (..., -step/2, step/2, ...): the same points always give the same grid, and box faces at
        whole steps (the aligned test cases) fall between samples instead of on them."""
        lo = (np.floor((points_frame.min(axis=0) - margin) / step) + 0.5) * step
        hi = (np.ceil((points_frame.max(axis=0) + margin) / step) + 0.5) * step
        shape = tuple(int(n) for n in np.round((hi - lo) / step).astype(int) + 1)
        return cls(axes, lo, float(step), shape)

    def coordinates(self, axis: int) -> np.ndarray:
        """Frame coordinate (mm) of the samples along one grid axis (0 r, 1 a, 2 s)."""
        return self.lower[axis] + self.step * np.arange(self.shape[axis])

    def sample(self, mask: np.ndarray, ijk_to_ras: np.ndarray) -> np.ndarray:
        """(nr, na, ns) bool: the mask's value at the voxel nearest to each sample (outside the CT: False).

        This is ray casting by nearest-neighbour lookup; it reads the CT grid, it never resamples it.
        """
        ras_to_ijk = np.linalg.inv(ijk_to_ras)
        # frame (r, a, s) -> continuous ijk is affine: fold both transforms into one 3x3 + offset
        linear = ras_to_ijk[:3, :3] @ self.axes.rotation.T
        offset = ras_to_ijk[:3, :3] @ self.axes.origin + ras_to_ijk[:3, 3]
        r, a = self.coordinates(0), self.coordinates(1)
        rr, aa = np.meshgrid(r, a, indexing="ij")
        plane = np.stack([rr.ravel(), aa.ravel(), np.zeros(rr.size)], axis=1) @ linear.T + offset
        k_size, j_size, i_size = mask.shape
        out = np.zeros(self.shape, dtype=bool)
        for index, s in enumerate(self.coordinates(2)):
            ijk = np.floor(plane + s * linear[:, 2] + 0.5).astype(np.int64)
            i, j, k = ijk[:, 0], ijk[:, 1], ijk[:, 2]
            inside = (i >= 0) & (i < i_size) & (j >= 0) & (j < j_size) & (k >= 0) & (k < k_size)
            values = np.zeros(len(ijk), dtype=bool)
            values[inside] = mask[k[inside], j[inside], i[inside]]
            out[:, :, index] = values.reshape(rr.shape)
        return out


def column_surfaces(grid: FrameGrid, sampled: np.ndarray, footprint: np.ndarray):
    """(nr, na) superior and inferior surface heights (frame s, mm) of each column of the sampled body;
    columns outside the footprint take their nearest footprint column's values."""
    s = grid.coordinates(2)
    n_s = sampled.shape[2]
    top = s[n_s - 1 - np.argmax(sampled[:, :, ::-1], axis=2)] + 0.5 * grid.step
    bottom = s[np.argmax(sampled, axis=2)] - 0.5 * grid.step
    nearest = ndimage.distance_transform_edt(~footprint, return_distances=False, return_indices=True)
    return top[nearest[0], nearest[1]], bottom[nearest[0], nearest[1]]
