"""Transverse processes (their mid-height sets B's height) and the spinous-process tip, in a local grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.geometry import SIDE_SIGN
from .canal import Canal
from .local_grid import LocalGrid
from .pedicles import Pedicle
from .surfaces import LEVEL, column_surfaces

# The transverse process is the bone lateral to the pedicle's lateral border by more than this (mm): far
# enough out to leave the articular processes and the pedicle's own wall aside.
TP_LATERAL_GAP_MM = 4.0
# ... within this window around the pedicle (mm, along anterior and superior).
TP_WINDOW_BEHIND_MM = 10.0
TP_WINDOW_HEIGHT_MM = 25.0
MIN_TP_VOLUME_MM3 = 20.0
# The spinous process: bone behind the canal by more than half the canal's depth, this close to the midline.
SPINOUS_HALF_WIDTH_MM = 15.0
MIN_SPINOUS_SAMPLES = 30


@dataclass(frozen=True)
class TransverseProcess:
    """mid_z : local height of the process's middle (median of its columns' mid-heights) at mid_y, its
    centroid's y; centroid, tip : local points or None. found : False when no process was seen (then mid_z
    is the pedicle's centre height)."""

    side: str
    mid_z: float
    mid_y: float
    centroid: np.ndarray | None
    tip: np.ndarray | None
    found: bool


def find_transverse_process(grid: LocalGrid, posterior: np.ndarray, canal: Canal, pedicle: Pedicle) -> TransverseProcess:
    """The bone lateral to the pedicle's lateral border; its height centroid is the process's mid-height."""
    s = SIDE_SIGN[pedicle.side]
    x, y, z = grid.axis(0), grid.axis(1), grid.axis(2)
    xx, yy = np.meshgrid(x, y, indexing="ij")
    lateral = s * (xx - pedicle.border_x("lateral", yy)) >= TP_LATERAL_GAP_MM
    rows = (yy >= canal.back_y - TP_WINDOW_BEHIND_MM) & (yy <= canal.front_y)
    heights = np.abs(z - pedicle.centre_z) <= TP_WINDOW_HEIGHT_MM
    region = (lateral & rows)[:, :, None] & heights[None, None, :]
    weights = np.where(region & (posterior >= LEVEL), posterior, 0.0)
    total = float(weights.sum())
    if total * grid.step**3 < MIN_TP_VOLUME_MM3:
        return TransverseProcess(pedicle.side, pedicle.centre_z, pedicle.isthmus_y, None, None, False)
    centroid = np.array([(weights.sum(axis=(1, 2)) * x).sum(), (weights.sum(axis=(0, 2)) * y).sum(),
                         (weights.sum(axis=(0, 1)) * z).sum()]) / total
    # Column by column mid-heights (sub-voxel), their median: robust to a stray piece above or below.
    top, bottom = column_surfaces(np.where(region, posterior, 0.0), z)
    columns = np.isfinite(top)
    mid_z = float(np.median(0.5 * (top + bottom)[columns])) if columns.any() else float(centroid[2])
    ix = np.flatnonzero(weights.sum(axis=(1, 2)) > 0)
    tip_x = ix.max() if s > 0 else ix.min()
    plane = weights[tip_x]
    tip = np.array([x[tip_x], (plane.sum(axis=1) * y).sum() / plane.sum(), (plane.sum(axis=0) * z).sum() / plane.sum()])
    return TransverseProcess(pedicle.side, mid_z, float(centroid[1]), centroid, tip, True)


def find_spinous_tip(grid: LocalGrid, posterior: np.ndarray, canal: Canal) -> np.ndarray:
    """Local point: the posterior end of the spinous process's long axis.

    The process's samples (behind the canal by more than half its depth, near the midline) give a principal
    axis; the tip is where the samples end along it. With too few samples, the most posterior bone.
    """
    x, y, z = grid.axis(0), grid.axis(1), grid.axis(2)
    bone = posterior >= LEVEL
    xx, yy = np.meshgrid(x, y, indexing="ij")
    behind = (yy < canal.back_y - 0.5 * canal.depth) & (np.abs(xx - canal.centre[0]) <= SPINOUS_HALF_WIDTH_MM)
    ix, iy, iz = np.nonzero(bone & behind[:, :, None])
    if ix.size < MIN_SPINOUS_SAMPLES:
        ix, iy, iz = np.nonzero(bone)
        last = int(np.argmin(iy))
        return np.array([x[ix[last]], y[iy[last]], z[iz[last]]])
    points = np.stack([x[ix], y[iy], z[iz]], axis=1)
    centre = points.mean(axis=0)
    _, vectors = np.linalg.eigh((points - centre).T @ (points - centre))
    axis = vectors[:, -1] if vectors[1, -1] <= 0 else -vectors[:, -1]  # pointing backwards
    reach = float(((points - centre) @ axis).max())
    return centre + reach * axis
