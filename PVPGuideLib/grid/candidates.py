"""Grid wire voxels: dense voxels outside the body, within a few millimetres of its skin."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..core.volume import CTVolume
from .errors import GridError

# Wires or beads of a CT grid (metal, barium) are far denser than skin (about 0-100 HU) and fat.
WIRE_MIN_HU = 300.0
# Air / soft tissue boundary, as for the skin surface (skin.SKIN_THRESHOLD_HU).
BODY_MIN_HU = -300.0
# A wire on the skin lies within this gap (mm) of it, beyond the voxel it is drawn in.
MAX_SKIN_GAP_MM = 3.0


@dataclass(frozen=True, eq=False)
class WireVoxels:
    """Dense voxels outside the body: on the skin (the grid's candidates) and farther away (e.g. the table).

    on_skin, off_skin : (n, 3) RAS voxel centres. off_skin_gap_mm : their distance to the body.
    outward : mean direction from the body's centre to the on-skin voxels. touches_border : per on-skin voxel,
    True when it lies in the first or last voxel layer of the CT (the grid is cut by the field of view there).
    """

    on_skin: np.ndarray
    off_skin: np.ndarray
    off_skin_gap_mm: np.ndarray
    outward: np.ndarray
    touches_border: np.ndarray
    voxel_mm: float


def _body(voxels: np.ndarray) -> np.ndarray:
    """(K, J, I) bool: the largest soft-tissue region (dense voxels excluded), holes filled slice by slice."""
    soft = (voxels > BODY_MIN_HU) & (voxels < WIRE_MIN_HU)
    labels, count = ndimage.label(soft)
    if count == 0:
        raise GridError(f"no body in the CT (no voxel between {BODY_MIN_HU:g} and {WIRE_MIN_HU:g} HU): "
                        "is this a CT in Hounsfield units?")
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    body = labels == int(np.argmax(sizes))
    # Bone and gas are holes in the soft tissue of each slice; wires on the skin are not (they lie outside it).
    for k in range(body.shape[0]):
        body[k] = ndimage.binary_fill_holes(body[k])
    return body


def wire_voxels(ct: CTVolume) -> WireVoxels:
    """Find the dense voxels outside the body and sort them by their distance to the skin."""
    voxels = ct.voxels
    dense = voxels >= WIRE_MIN_HU
    body = _body(voxels)
    outside = dense & ~body
    spacing_kji = ct.spacing[::-1]
    voxel_mm = float(ct.spacing.max())
    found = np.argwhere(outside)
    if len(found) == 0:
        empty = np.zeros((0, 3))
        return WireVoxels(empty, empty, np.zeros(0), np.zeros(3), np.zeros(0, bool), voxel_mm)
    margin = np.ceil((MAX_SKIN_GAP_MM + 2 * voxel_mm) / spacing_kji).astype(int) + 1
    lo = np.maximum(found.min(axis=0) - margin, 0)
    hi = np.minimum(found.max(axis=0) + margin + 1, voxels.shape)
    crop = tuple(slice(a, b) for a, b in zip(lo, hi))
    gap = ndimage.distance_transform_edt(~body[crop], sampling=spacing_kji)[tuple((found - lo).T)]
    # A voxel next to the skin is one voxel spacing from a body voxel's centre: allow that on top of the gap.
    near = gap <= MAX_SKIN_GAP_MM + voxel_mm
    ijk = found[:, ::-1].astype(float)
    ras = ct.ijk_to_ras_points(ijk)
    body_centre = ct.ijk_to_ras_points(np.argwhere(body[::4, ::4, ::4])[:, ::-1] * 4.0).mean(axis=0)
    on = ras[near]
    outward = (on - body_centre).mean(axis=0) if len(on) else np.zeros(3)
    shape = np.array(ct.shape_ijk)
    border = np.any((ijk[near] == 0) | (ijk[near] == shape - 1), axis=1)
    return WireVoxels(on, ras[~near], gap[~near], outward, border, voxel_mm)
