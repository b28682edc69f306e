"""The spinal canal slice by slice (SPEC section 5): the hole the bony ring encloses in every slice perpendicular to
the superior axis, lateral recesses included, as a signed distance field for the needle's clearance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .canal import Canal, _closed
from .local_grid import LocalGrid
from .surfaces import LEVEL


@dataclass(frozen=True, eq=False)
class CanalSlices:
    """The canal on a local grid: signed distance (mm, negative inside) to the union of the per-slice holes.

    In a slice where the ring is closed the canal is the enclosed hole that contains the narrowest section
    (canal.hole), with its lateral recesses. Where the ring is open (above or below the pedicles, where the
    canal opens into the foramina) no hole bounds it: the canal there is taken as the envelope of every closed
    slice's hole, the widest the canal was seen (an open slice cannot be measured, so the larger canal is
    assumed). Beyond the grid's top and bottom the end slices continue (the canal runs on).
    """

    grid: LocalGrid
    signed: np.ndarray  # (nx, ny, nz) float32
    closed_slices: int
    open_slices: int
    envelope_width: float  # widest extent of the canal along x over all slices, mm

    def distance_at(self, local_points) -> np.ndarray:
        """(n,) signed distance (mm) of local points to the canal; a lower bound outside the grid's x, y extent."""
        index = self.grid.index_of(local_points)
        upper = np.asarray(self.signed.shape, dtype=float) - 1.0
        clamped = np.clip(index, 0.0, upper)
        value = ndimage.map_coordinates(self.signed, clamped.T, order=1, prefilter=False)
        # Outside in x or y: the canal lies inside the grid, so the distance is at least the distance to the grid
        # and at least the clamped point's minus the way back to it (triangle inequality).
        beyond = np.linalg.norm((index - clamped)[:, :2], axis=1) * self.grid.step
        return np.where(beyond > 0.0, np.maximum(beyond, value - beyond), value)


def canal_slices(grid: LocalGrid, vertebra: np.ndarray, canal: Canal) -> CanalSlices:
    """The per-slice canal of a sampled vertebra (nx, ny, nz) around the canal found in its projection."""
    solid = vertebra >= LEVEL
    seed = canal.hole
    radius = canal.closing_mm / grid.step
    holes = np.zeros(solid.shape, dtype=bool)
    closed = np.zeros(solid.shape[2], dtype=bool)
    for k in range(solid.shape[2]):
        ring = _closed(solid[:, :, k], radius)
        free = ndimage.binary_fill_holes(ring) & ~ring
        labels, count = ndimage.label(free)
        if not count:
            continue
        keep = np.unique(labels[seed & free])
        keep = keep[keep > 0]
        if keep.size:
            holes[:, :, k] = np.isin(labels, keep)
            closed[k] = True
    envelope = holes.any(axis=2) | seed
    holes[:, :, ~closed] = envelope[:, :, None]
    holes |= seed[:, :, None]  # the narrowest section is free of bone at every height
    step = grid.step
    # Voxel centres: the boundary lies half a sample from the nearest centre on either side.
    outside = ndimage.distance_transform_edt(~holes, sampling=step) - 0.5 * step
    inside = ndimage.distance_transform_edt(holes, sampling=step) - 0.5 * step
    signed = np.where(holes, -inside, outside).astype(np.float32)
    columns = np.flatnonzero(envelope.any(axis=1))
    width = float((columns[-1] - columns[0] + 1) * step) if columns.size else 0.0
    return CanalSlices(grid, signed, int(closed.sum()), int((~closed).sum()), width)
