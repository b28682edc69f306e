"""The spinal canal: the hole the vertebral ring leaves when the vertebra is seen along its superior axis."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from .errors import VertebraError
from .local_grid import LocalGrid
from .surfaces import LEVEL, first_rise

# A lumbar or thoracic canal is 150-350 mm^2 in cross-section; smaller holes are segmentation defects.
MIN_CANAL_AREA_MM2 = 40.0
# A ring broken by a segmentation gap (or spina bifida) is closed by these radii in turn until a hole appears.
CLOSING_RADII_MM = (0.0, 1.0, 2.0, 3.0, 4.0, 6.0)


@dataclass(frozen=True, eq=False)
class Canal:
    """The canal in a local grid's (x, y) plane, extruded along its superior axis.

    centre : (2,) local x, y of the hole's centroid; front_y / back_y : its anterior boundary (the body's
    posterior wall) and posterior boundary along the line x = centre x; width : its extent along x through
    the centre; hole : (nx, ny) bool; boundary : (m, 2) local x, y of the hole's outline at sub-sample
    precision; closing_mm : how far the projected ring had to be closed to find the hole (0 = closed ring).
    """

    centre: np.ndarray
    front_y: float
    back_y: float
    width: float
    hole: np.ndarray
    boundary: np.ndarray
    closing_mm: float

    @property
    def depth(self) -> float:
        return self.front_y - self.back_y

    def distance_at(self, grid: LocalGrid, local_points) -> np.ndarray:
        """(n,) signed distance (mm, negative inside) of local points' (x, y) to the canal (bilinear)."""
        local_points = np.atleast_2d(np.asarray(local_points, dtype=float))
        distance, _ = cKDTree(self.boundary).query(local_points[:, :2])
        index = np.rint(grid.index_of(local_points)[:, :2]).astype(int)
        index = np.clip(index, 0, np.asarray(self.hole.shape) - 1)
        inside = self.hole[index[:, 0], index[:, 1]]
        return np.where(inside, -distance, distance)


def find_canal(grid: LocalGrid, vertebra: np.ndarray, *, body_centre_y: float, ring_slices_only: bool = False) -> Canal:
    """The canal in the projection of a sampled vertebra (nx, ny, nz) along the grid's superior axis.

    The projection's hole is where no slice has bone: the canal at its narrowest, bounded by the posterior
    wall, the medial pedicle walls and the laminae. The largest hole behind the body's centre is taken.
    ring_slices_only: project only the slices in which the ring around the canal is closed, for a mask whose
    bone strays into the canal at other heights (a disc rim, the next level's articular processes).
    """
    x, y = grid.axis(0), grid.axis(1)
    if ring_slices_only:
        vertebra = vertebra[:, :, _ring_slices(vertebra >= LEVEL, y, grid.step, body_centre_y)]
    solid = (vertebra >= LEVEL).any(axis=2)
    hole, closing = None, 0.0
    for radius in CLOSING_RADII_MM:
        closed = _closed(solid, radius / grid.step)
        holes, count = ndimage.label(ndimage.binary_fill_holes(closed) & ~closed)
        if count:
            area = np.bincount(holes.ravel())[1:] * grid.step**2
            centre_y = ndimage.mean(np.broadcast_to(y[None, :], holes.shape), holes, index=np.arange(1, count + 1))
            candidates = [(a, n + 1) for n, a in enumerate(area) if a >= MIN_CANAL_AREA_MM2 and centre_y[n] < body_centre_y]
            if candidates:
                hole, closing = holes == max(candidates)[1], radius
                break
    if hole is None:
        raise VertebraError("no spinal canal found: seen along its axis the vertebra encloses no hole behind its body "
                            "(is the whole ring of pedicles and laminae in the segmentation and the field of view?)")
    xx, yy = np.meshgrid(x, y, indexing="ij")
    centre = np.array([xx[hole].mean(), yy[hole].mean()])
    front_y, back_y = _front_and_back(grid, vertebra, hole, centre)
    width = float(hole[:, int(np.argmin(np.abs(y - centre[1])))].sum() * grid.step)
    boundary = _outline(vertebra.max(axis=2), hole, x, y)
    return Canal(centre, front_y, back_y, width, hole, boundary, closing)


def _ring_slices(solid: np.ndarray, y: np.ndarray, step: float, body_centre_y: float) -> np.ndarray:
    """(nz,) bool: the longest run of consecutive slices each holding a hole of a canal's size behind the body,
    the holes of neighbouring slices overlapping (one canal seen slice by slice; a hole of another place, a gap
    between lamina and articular process, does not extend the run); all slices when no slice has one."""
    behind = y < body_centre_y
    holes_per_slice = []
    for k in range(solid.shape[2]):
        holes, count = ndimage.label(ndimage.binary_fill_holes(solid[:, :, k]) & ~solid[:, :, k])
        found = np.zeros(solid.shape[:2], dtype=bool)
        if count:
            area = np.bincount(holes[:, behind].ravel(), minlength=count + 1)[1:] * step**2
            for n in np.flatnonzero(area >= MIN_CANAL_AREA_MM2):
                found |= holes == n + 1
        holes_per_slice.append(found)
    best, run = (0, 0), None
    for k, found in enumerate(holes_per_slice):
        joined = found.any() and run is not None and (found & holes_per_slice[k - 1]).any()
        run = (run if joined else k) if found.any() else None
        if run is not None and k + 1 - run > best[1] - best[0]:
            best = (run, k + 1)
    closed = np.zeros(solid.shape[2], dtype=bool)
    closed[best[0]:best[1]] = True
    return closed if closed.any() else np.ones_like(closed)


def _outline(projection: np.ndarray, hole: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(m, 2) points where the projection crosses LEVEL between a hole sample and its non-hole neighbour."""
    points = []
    for axis in (0, 1):
        first = [slice(None)] * 2
        second = [slice(None)] * 2
        first[axis], second[axis] = slice(None, -1), slice(1, None)
        h0, h1 = hole[tuple(first)], hole[tuple(second)]
        v0, v1 = projection[tuple(first)], projection[tuple(second)]
        i, j = np.nonzero(h0 != h1)
        inner_v = np.where(h0[i, j], v0[i, j], v1[i, j])
        outer_v = np.where(h0[i, j], v1[i, j], v0[i, j])
        with np.errstate(invalid="ignore", divide="ignore"):
            fraction = np.where(outer_v > inner_v, (LEVEL - inner_v) / (outer_v - inner_v), 0.5)
        fraction = np.clip(fraction, 0.0, 1.0)
        # Position measured from the hole sample towards its neighbour.
        sign = np.where(h0[i, j], 1.0, -1.0)
        start = np.stack([x[i], y[j]], axis=1) + np.where(h0[i, j], 0.0, 1.0)[:, None] * np.eye(2)[axis] * (x[1] - x[0])
        points.append(start + (sign * fraction)[:, None] * np.eye(2)[axis] * (x[1] - x[0]))
    return np.concatenate(points)


def _closed(solid: np.ndarray, radius_samples: float) -> np.ndarray:
    if radius_samples <= 0:
        return solid
    r = int(np.ceil(radius_samples))
    u, v = np.mgrid[-r:r + 1, -r:r + 1]
    disk = u**2 + v**2 <= radius_samples**2
    padded = np.pad(solid, r + 1)
    return ndimage.binary_closing(padded, structure=disk)[r + 1:-r - 1, r + 1:-r - 1]


def _front_and_back(grid: LocalGrid, vertebra: np.ndarray, hole: np.ndarray, centre: np.ndarray) -> tuple[float, float]:
    """Sub-sample anterior and posterior canal boundaries along x = centre x (in the projection's max)."""
    x, y = grid.axis(0), grid.axis(1)
    projection = vertebra.max(axis=2)
    near = np.abs(x - centre[0]) <= max(1.0, grid.step)
    profile = projection[near].mean(axis=0)
    start = int(np.argmin(np.abs(y - centre[1])))
    front = first_rise(profile[None, start:], y[start:])[0]
    back = first_rise(profile[None, start::-1], y[start::-1])[0]
    ys = np.broadcast_to(y[None, :], hole.shape)[hole]
    # A ring closed only by the closing step has no bone on the open side: use the hole's extent there.
    if not np.isfinite(front):
        front = float(ys.max() + 0.5 * grid.step)
    if not np.isfinite(back):
        back = float(ys.min() - 0.5 * grid.step)
    return float(front), float(back)
