"""The spinal canal slice by slice (SPEC section 5): the hole the bony ring encloses in every slice perpendicular to
the superior axis, lateral recesses included, as a signed distance field for the needle's clearance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..core.compat import strict_zip
from .canal import Canal, _closed
from .local_grid import LocalGrid
from .surfaces import LEVEL

FIELD_MARGIN_MM = 12.0


@dataclass(frozen=True, eq=False)
class CanalSlices:
    """The canal on a local grid: signed distance (mm, negative inside) to the union of the per-slice holes.

    In a slice where the ring is closed the canal is the enclosed hole that contains the narrowest section
    (canal.hole), with its lateral recesses. Where the ring is open (above or below the pedicles, where the
    canal opens into the foramina) no hole bounds it: the canal there is taken as the envelope of every closed
    slice's hole, the widest the canal was seen (an open slice cannot be measured, so the larger canal is
    assumed), less that slice's own bone. Beyond the grid's top and bottom the end slices continue (the canal runs on).
    """

    grid: LocalGrid
    signed: np.ndarray  # (mx, my, nz) float32 over the grid's columns from `offset` (the canal plus a margin)
    closed_slices: int
    open_slices: int
    envelope_width: float  # widest extent of the canal along x over all slices, mm
    offset: tuple = (0, 0)

    def distance_at(self, local_points) -> np.ndarray:
        """(n,) signed distance (mm) of local points to the canal; a lower bound outside the field's x, y extent
        (at least FIELD_MARGIN_MM from the canal there)."""
        index = self.grid.index_of(local_points) - np.array([self.offset[0], self.offset[1], 0.0])
        upper = np.asarray(self.signed.shape, dtype=float) - 1.0
        clamped = np.clip(index, 0.0, upper)
        value = ndimage.map_coordinates(self.signed, clamped.T, order=1, prefilter=False)
        # Outside in x or y: the canal lies inside the grid, so the distance is at least the distance to the grid
        # and at least the clamped point's minus the way back to it (triangle inequality).
        beyond = np.linalg.norm((index - clamped)[:, :2], axis=1) * self.grid.step
        return np.where(beyond > 0.0, np.maximum(beyond, value - beyond), value)


def canal_slices(grid: LocalGrid, vertebra: np.ndarray, canal: Canal, *, bone_uncertainty_mm: float = 0.0) -> CanalSlices:
    """The per-slice canal of a sampled vertebra (nx, ny, nz) around the canal found in its projection.

    bone_uncertainty_mm: how far a bone surface may lie inside the segmented bone (the analysis uses the scan's
    coarsest voxel): in an open slice only bone deeper than this is known not to be canal.
    """
    solid = vertebra >= LEVEL
    seed = canal.hole
    radius = canal.closing_mm / grid.step
    ring = solid if radius <= 0 else np.stack([_closed(solid[:, :, k], radius) for k in range(solid.shape[2])], axis=2)
    # Every slice at once: the free space's pieces within each slice (a structure without neighbours along z);
    # a piece touching the slice's border is outside the ring, one holding the narrowest section is the canal.
    in_slice = np.zeros((3, 3, 3), dtype=bool)
    in_slice[:, :, 1] = ndimage.generate_binary_structure(2, 1)
    free = ~ring
    labels, _ = ndimage.label(free, structure=in_slice)
    outside = np.unique(np.concatenate([labels[0].ravel(), labels[-1].ravel(), labels[:, 0].ravel(),
                                        labels[:, -1].ravel()]))
    keep = np.setdiff1d(np.unique(labels[seed[:, :, None] & free]), outside)
    holes = np.isin(labels, keep[keep > 0])
    closed = holes.any(axis=(0, 1))
    envelope = holes.any(axis=2) | seed
    # An open slice's canal is unmeasured, so the widest canal seen is assumed there; but a canal is a hole, never
    # bone: where the slice surely has bone (its pedicles, at the needle's height) there is no canal.
    holes[:, :, ~closed] = envelope[:, :, None] & ~_sure_bone(solid, envelope, grid.step, bone_uncertainty_mm)[:, :, ~closed]
    holes |= seed[:, :, None]  # the narrowest section is free of bone at every height
    step = grid.step
    # The distance matters near the canal only: it is computed over the canal's columns plus FIELD_MARGIN_MM
    # (a needle farther away passes whatever the exact figure), which keeps a 0.4 mm grid fast.
    ix, iy = np.nonzero(envelope)
    margin = int(np.ceil(FIELD_MARGIN_MM / step))
    x0, y0 = max(int(ix.min()) - margin, 0), max(int(iy.min()) - margin, 0)
    x1, y1 = min(int(ix.max()) + margin + 1, holes.shape[0]), min(int(iy.max()) + margin + 1, holes.shape[1])
    field = holes[x0:x1, y0:y1]
    # Voxel centres: the boundary lies half a sample from the nearest centre on either side.
    signed = (ndimage.distance_transform_edt(~field, sampling=step) - 0.5 * step).astype(np.float32)
    signed[field] = -_depth_inside(field, step)[field]
    columns = np.flatnonzero(envelope.any(axis=1))
    width = float((columns[-1] - columns[0] + 1) * step) if columns.size else 0.0
    return CanalSlices(grid, signed, int(closed.sum()), int((~closed).sum()), width, (x0, y0))


def _depth_inside(field: np.ndarray, step: float) -> np.ndarray:
    """Distance (mm) of each canal sample to the nearest non-canal one, less half a sample; computed over the canal's
    bounding box and one sample around it, which is exact: that layer is all non-canal, and any non-canal sample
    beyond it is farther from a canal sample than the layer's sample nearest to it (its coordinates clamped)."""
    depth = np.zeros(field.shape, dtype=np.float32)
    index = np.argwhere(field)
    if index.size == 0:
        return depth
    lo = np.maximum(index.min(axis=0) - 1, 0)
    hi = np.minimum(index.max(axis=0) + 2, field.shape)
    box = tuple(slice(a, b) for a, b in strict_zip(lo, hi))
    depth[box] = ndimage.distance_transform_edt(field[box], sampling=step) - 0.5 * step
    return depth


def _sure_bone(solid: np.ndarray, envelope: np.ndarray, step: float, uncertainty_mm: float) -> np.ndarray:
    """Bone more than uncertainty_mm inside the segmented bone, over the envelope's columns (False elsewhere)."""
    sure = np.zeros_like(solid)
    ix, iy = np.nonzero(envelope)
    if ix.size == 0:
        return sure
    pad = int(np.ceil(uncertainty_mm / step)) + 1
    x0, y0 = max(int(ix.min()) - pad, 0), max(int(iy.min()) - pad, 0)
    x1, y1 = min(int(ix.max()) + pad + 1, solid.shape[0]), min(int(iy.max()) + pad + 1, solid.shape[1])
    part = solid[x0:x1, y0:y1]
    # Distance of each bone sample to the nearest non-bone sample: beyond the uncertainty it is surely bone.
    depth = ndimage.distance_transform_edt(part, sampling=step) - 0.5 * step
    sure[x0:x1, y0:y1] = part & (depth > uncertainty_mm)
    return sure
