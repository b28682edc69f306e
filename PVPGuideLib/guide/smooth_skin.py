"""The skin under the plate smoothed as a height field: the CT's voxel facets and steps gone, within a bound."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..mesh import TriangleMesh
from .frame import PlateFrame
from .heightfield import HeightGrid, upper_envelope
from .skinfit import facing_faces


def smoothed_skin(skin: TriangleMesh, frame: PlateFrame, *, lo_uv, hi_uv, orientation: float, spacing_mm: float,
                  sigma_mm: float, max_shift_mm: float) -> TriangleMesh:
    """The skin's top surface seen from the plate, Gaussian-smoothed over sigma_mm.

    The skin is sampled as a height field along the plate's outward axis w over the (u, v) box
    lo..hi on nodes spacing_mm apart (the plate's own grid: its sampled surfaces are then exact
    offsets of this one), smoothed (a 3 mm CT's iso-surface has facets and slice steps at a 3 mm period, which a
    1.5 mm Gaussian takes down to under 1 %), and no node moves more than max_shift_mm along w from
    the sampled iso-surface: the plate stays within that of the CT's skin. The mesh is the smoothed
    height field triangulated, world coordinates, faces counter-clockwise seen from outside (+w);
    cells without skin under all their nodes are left out.
    """
    grid = HeightGrid.covering(lo_uv, hi_uv, spacing_mm)
    # The CT's skin is sampled twice as finely: between the plate's nodes a facet crease of the
    # iso-surface can stand above (or dip below) what the nodes see, and the bound must hold there too.
    fine = HeightGrid.covering((grid.u0, grid.v0), (grid.u[-1], grid.v[-1]), 0.5 * spacing_mm)
    local = frame.to_local(skin.vertices)
    faces = facing_faces(local, skin.faces, orientation, fine, reach=0.0)
    height = upper_envelope(local, faces, fine, 0.0) if len(faces) else np.full((fine.nv, fine.nu), -np.inf)
    known = np.isfinite(height)
    sigma = sigma_mm / fine.spacing
    weight = ndimage.gaussian_filter(known.astype(float), sigma, mode="constant")
    total = ndimage.gaussian_filter(np.where(known, height, 0.0), sigma, mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        smooth = total / weight
    # Highest and lowest skin within half a node spacing of each node, relative to the smoothed surface's
    # tangent plane there: no point of the cell may move more than max_shift_mm (on slopes too).
    top, bottom = _extremes_about_tangent(np.where(known, height, np.nan), smooth, fine.spacing)
    pick = (slice(0, 2 * grid.nv - 1, 2), slice(0, 2 * grid.nu - 1, 2))  # the plate's nodes among the fine ones
    smooth, top, bottom, known = smooth[pick], top[pick], bottom[pick], known[pick]
    lo, hi = top - max_shift_mm, bottom + max_shift_mm
    with np.errstate(invalid="ignore"):
        smooth = np.where(lo <= hi, np.clip(smooth, lo, hi), 0.5 * (lo + hi))
    smooth = np.where(known & np.isfinite(smooth), smooth, np.nan)
    return _triangulated(grid, smooth, frame)


def _extremes_about_tangent(height: np.ndarray, smooth: np.ndarray, spacing: float):
    """(top, bottom): over each node's 3 x 3 neighbourhood, the largest and smallest height minus the rise of
    the smooth surface's tangent plane from the node to that neighbour (nan heights ignored)."""
    gv, gu = np.gradient(smooth, spacing)
    padded = np.pad(height, 1, mode="constant", constant_values=np.nan)
    top = np.full(height.shape, -np.inf)
    bottom = np.full(height.shape, np.inf)
    nv, nu = height.shape
    for dj in (-1, 0, 1):
        for di in (-1, 0, 1):
            neighbour = padded[1 + dj:1 + dj + nv, 1 + di:1 + di + nu] - spacing * (di * gu + dj * gv)
            ok = np.isfinite(neighbour)
            top = np.where(ok, np.maximum(top, np.where(ok, neighbour, -np.inf)), top)
            bottom = np.where(ok, np.minimum(bottom, np.where(ok, neighbour, np.inf)), bottom)
    return top, bottom


def _triangulated(grid: HeightGrid, height: np.ndarray, frame: PlateFrame) -> TriangleMesh:
    """Two triangles per grid cell whose four nodes have a height; counter-clockwise seen from +w."""
    uu, vv = np.meshgrid(grid.u, grid.v)
    known = np.isfinite(height)
    index = np.full(height.shape, -1, dtype=np.int64)
    index[known] = np.arange(int(np.count_nonzero(known)))
    points = np.column_stack([uu[known], vv[known], height[known]])
    a, b = index[:-1, :-1], index[:-1, 1:]
    c, d = index[1:, 1:], index[1:, :-1]
    cell = (a >= 0) & (b >= 0) & (c >= 0) & (d >= 0)
    a, b, c, d = a[cell], b[cell], c[cell], d[cell]
    # u right, v up seen from +w: (a, b, c) runs counter-clockwise.
    faces = np.concatenate([np.column_stack([a, b, c]), np.column_stack([a, c, d])])
    return TriangleMesh(frame.to_world(points), faces)
