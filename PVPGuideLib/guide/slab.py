"""Closed solids between two height fields over a window of the plate grid (plate-frame coordinates)."""

from __future__ import annotations

import numpy as np

from ..core.mesh import TriangleMesh
from .errors import GuideError
from .heightfield import HeightGrid


def heightfield_solid(grid: HeightGrid, lower: np.ndarray, upper: np.ndarray, *, window=None,
                      step: str = "slab") -> TriangleMesh:
    """Watertight, outward-oriented solid {lower(u, v) <= w <= upper(u, v)} over grid nodes of `window`.

    lower, upper : (nv, nu) heights, or a float for a flat side; window : (i0, i1, j0, j1) inclusive,
    default the whole grid. Requires upper > lower at every node, so the solid never pinches.
    """
    i0, i1, j0, j1 = window if window is not None else (0, grid.nu - 1, 0, grid.nv - 1)
    if i1 - i0 < 1 or j1 - j0 < 1:
        raise GuideError(step, "the region is smaller than one grid cell")
    shape = (grid.nv, grid.nu)
    top = np.broadcast_to(np.asarray(upper, dtype=float), shape)[j0:j1 + 1, i0:i1 + 1]
    bottom = np.broadcast_to(np.asarray(lower, dtype=float), shape)[j0:j1 + 1, i0:i1 + 1]
    if not (np.all(np.isfinite(top)) and np.all(np.isfinite(bottom))):
        raise GuideError(step, "a height is undefined (no skin under part of the region)")
    if np.any(top - bottom <= 1e-6):
        raise GuideError(step, "the upper surface does not lie above the lower surface everywhere")
    nv, nu = top.shape
    uu, vv = np.meshgrid(grid.u[i0:i1 + 1], grid.v[j0:j1 + 1])
    vertices = np.concatenate([np.column_stack([uu.ravel(), vv.ravel(), top.ravel()]),
                               np.column_stack([uu.ravel(), vv.ravel(), bottom.ravel()])])
    n = nu * nv
    idx = np.arange(n).reshape(nv, nu)
    a, b = idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel()
    c, d = idx[1:, 1:].ravel(), idx[1:, :-1].ravel()
    # Counter-clockwise seen from +w on top, reversed on the bottom: normals point out of the solid.
    top_faces = np.concatenate([np.column_stack([a, b, c]), np.column_stack([a, c, d])])
    bottom_faces = top_faces[:, ::-1] + n
    # The rectangle's border, counter-clockwise seen from +w (outside lies to the right of travel).
    ring = np.concatenate([idx[0, :-1], idx[:-1, -1], idx[-1, :0:-1], idx[:0:-1, 0]])
    p, q = ring, np.roll(ring, -1)
    sides = np.concatenate([np.column_stack([p, q + n, q]), np.column_stack([p, p + n, q + n])])
    return TriangleMesh(vertices, np.concatenate([top_faces, bottom_faces, sides]))
