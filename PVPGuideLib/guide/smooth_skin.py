"""The skin under the plate smoothed as a height field: the CT's voxel facets and steps gone, within a bound."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..core.mesh import TriangleMesh
from .frame import PlateFrame
from .heightfield import HeightGrid, upper_envelope
from .skinfit import facing_faces

# The plate bridges skin steeper than this (degrees to its plane): a drop at a fold or the edge of a
# muscle, which a 3 mm plate cannot follow without a thin-walled kink (the border limit is 55 degrees).
BRIDGE_SLOPE_DEG = 50.0
# Where the bridged surface stands this far above the smoothed skin (mm), the plate does not touch it.
_LIFT_MM = 0.05


@dataclass(frozen=True, eq=False)
class SmoothedSkin:
    """mesh : the surface the plate is fitted to (world mm); grid, lift : (nv, nu) how far it stands above
    the smoothed skin at each node (> 0 where it bridges a steep drop; nan without skin)."""

    mesh: TriangleMesh
    grid: HeightGrid
    lift: np.ndarray

    def bridged_at(self, uv: np.ndarray) -> np.ndarray:
        """(n,) bool: the plate bridges (does not touch) the skin at these (u, v) points."""
        g = self.grid
        i = np.clip(np.floor((uv[:, 0] - g.u0) / g.spacing).astype(int), 0, g.nu - 2)
        j = np.clip(np.floor((uv[:, 1] - g.v0) / g.spacing).astype(int), 0, g.nv - 2)
        lifted = np.nan_to_num(self.lift, nan=0.0) > _LIFT_MM
        # A point is bridged when any corner of its grid cell is.
        return lifted[j, i] | lifted[j, i + 1] | lifted[j + 1, i] | lifted[j + 1, i + 1]

    def bridged_area_mm2(self) -> float:
        return float(np.count_nonzero(np.nan_to_num(self.lift, nan=0.0) > _LIFT_MM)) * self.grid.spacing ** 2


def smoothed_skin(skin: TriangleMesh, frame: PlateFrame, *, lo_uv, hi_uv, orientation: float, spacing_mm: float,
                  sigma_mm: float, max_shift_mm: float) -> SmoothedSkin:
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
    smooth = _within_bound(smooth, np.where(np.isfinite(height), height, np.nan), max_shift_mm)
    bridged = _slope_limited(smooth, grid.spacing, np.tan(np.radians(BRIDGE_SLOPE_DEG)))
    return SmoothedSkin(_triangulated(grid, bridged, frame), grid, bridged - smooth)


def _slope_limited(height: np.ndarray, spacing: float, max_slope: float) -> np.ndarray:
    """The lowest surface above `height` that nowhere drops faster than max_slope: a cone of that slope
    stands on every node (grey dilation), filling steep drops like a talus; gentle skin is unchanged."""
    known = np.isfinite(height)
    if not np.any(known):
        return height
    depth = float(np.nanmax(height) - np.nanmin(height))
    reach = int(min(np.ceil(depth / (max_slope * spacing)), 20))
    if reach == 0:
        return height
    offsets = np.arange(-reach, reach + 1) * spacing
    cone = -max_slope * np.hypot(*np.meshgrid(offsets, offsets))
    lifted = ndimage.grey_dilation(np.where(known, height, -1e9), structure=cone, mode="constant", cval=-1e9)
    return np.where(known, np.maximum(lifted, height), np.nan)


def _within_bound(height: np.ndarray, fine: np.ndarray, bound: float, *, rounds: int = 12) -> np.ndarray:
    """Nodes nudged until the triangulated surface lies within `bound` of the fine samples of the CT's
    skin at every fine node (node, edge midpoint, cell centre on the a-c diagonal), where it can.

    A smooth surface cannot follow a pit or a step of the iso-surface narrower than a node spacing;
    moving the nodes around it part-way keeps the plate within the bound at the cost of a local dent.
    """
    h = height.copy()
    nv, nu = h.shape
    for _ in range(rounds):
        interp = np.full(fine.shape, np.nan)
        interp[::2, ::2] = h
        interp[::2, 1::2] = 0.5 * (h[:, :-1] + h[:, 1:])
        interp[1::2, ::2] = 0.5 * (h[:-1, :] + h[1:, :])
        interp[1::2, 1::2] = 0.5 * (h[:-1, :-1] + h[1:, 1:])
        error = interp - fine
        excess = np.where(np.isfinite(error), error - np.clip(error, -bound, bound), 0.0)
        if np.max(np.abs(excess)) < 1e-4:
            break
        push = np.zeros_like(h)
        count = np.zeros_like(h)
        # Each fine node's excess is taken off every coarse node it is interpolated from.
        for target, (rows, cols) in (((slice(0, nv), slice(0, nu)), (slice(None, None, 2), slice(None, None, 2))),
                                     ((slice(0, nv), slice(0, nu - 1)), (slice(None, None, 2), slice(1, None, 2))),
                                     ((slice(0, nv), slice(1, nu)), (slice(None, None, 2), slice(1, None, 2))),
                                     ((slice(0, nv - 1), slice(0, nu)), (slice(1, None, 2), slice(None, None, 2))),
                                     ((slice(1, nv), slice(0, nu)), (slice(1, None, 2), slice(None, None, 2))),
                                     ((slice(0, nv - 1), slice(0, nu - 1)), (slice(1, None, 2), slice(1, None, 2))),
                                     ((slice(1, nv), slice(1, nu)), (slice(1, None, 2), slice(1, None, 2)))):
            e = excess[rows, cols]
            push[target] += e
            count[target] += e != 0
        h = h - np.where(count > 0, push / np.maximum(count, 1), 0.0)
    return h


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
