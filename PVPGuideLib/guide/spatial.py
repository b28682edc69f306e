"""Vectorised spatial queries on a triangle mesh: a uniform cell grid, ray first hits, nearest distances."""

from __future__ import annotations

import numpy as np

from ..core.compat import strict_zip
from .topology import unique_ints


class TriangleGrid:
    """Triangles binned into cubic cells by their bounding boxes, for candidate lookups by box.

    vertices : (n, 3); faces : (m, 3); cell_mm : cell edge length (about twice the typical edge).
    """

    def __init__(self, vertices: np.ndarray, faces: np.ndarray, *, cell_mm: float):
        self.vertices = np.asarray(vertices, dtype=float)
        self.faces = np.asarray(faces, dtype=np.int64)
        self.cell = float(cell_mm)
        tri = self.vertices[self.faces]
        self.lo = tri.min(axis=1)
        self.hi = tri.max(axis=1)
        # One contiguous row per axis: the box tests gather from these millions of times.
        self._lo_axes = np.ascontiguousarray(self.lo.T)
        self._hi_axes = np.ascontiguousarray(self.hi.T)
        self.origin = self.lo.min(axis=0) - self.cell
        top = self.hi.max(axis=0) + self.cell
        self.shape = np.ceil((top - self.origin) / self.cell).astype(np.int64) + 1
        tri_index, keys = self.cells_of_boxes(self.lo, self.hi)
        order = np.lexsort((tri_index, keys))
        self.keys = keys[order]
        self.tris = tri_index[order]
        first = np.r_[True, self.keys[1:] != self.keys[:-1]] if len(self.keys) else np.zeros(0, dtype=bool)
        self.starts = np.flatnonzero(first)
        self.unique_keys = self.keys[self.starts]
        self.stops = np.append(self.starts[1:], len(self.keys))

    def _cells(self, lo, hi):
        c0 = np.clip(np.floor((lo - self.origin) / self.cell).astype(np.int64), 0, self.shape - 1)
        c1 = np.clip(np.floor((hi - self.origin) / self.cell).astype(np.int64), 0, self.shape - 1)
        return c0, c1

    def cells_of_boxes(self, lo, hi):
        """(box index, cell key) for every cell each box overlaps."""
        c0, c1 = self._cells(lo, hi)
        n = c1 - c0 + 1
        count = n[:, 0] * n[:, 1] * n[:, 2]
        box = np.repeat(np.arange(len(lo)), count)
        local = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        nb = n[box]
        ix = local % nb[:, 0]
        iy = (local // nb[:, 0]) % nb[:, 1]
        iz = local // (nb[:, 0] * nb[:, 1])
        cx, cy, cz = c0[box, 0] + ix, c0[box, 1] + iy, c0[box, 2] + iz
        return box, cx + self.shape[0] * (cy + self.shape[1] * cz)

    def candidates(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unique (box index, triangle index) pairs whose cells overlap, then whose boxes overlap."""
        box, keys = self.cells_of_boxes(np.atleast_2d(lo), np.atleast_2d(hi))
        return self.candidates_in_cells(lo, hi, box, keys)

    def cell_centres(self, keys: np.ndarray) -> np.ndarray:
        """(n, 3) centres of the cells with these keys."""
        ijk = np.column_stack([keys % self.shape[0], (keys // self.shape[0]) % self.shape[1],
                               keys // (self.shape[0] * self.shape[1])])
        return self.origin + (ijk + 0.5) * self.cell

    def candidates_in_cells(self, lo, hi, box, keys) -> tuple[np.ndarray, np.ndarray]:
        """As candidates(), looking only in the given (box index, cell key) entries (a subset of cells_of_boxes')."""
        slot = np.searchsorted(self.unique_keys, keys)
        slot = np.minimum(slot, len(self.unique_keys) - 1)
        found = self.unique_keys[slot] == keys
        box, slot = box[found], slot[found]
        count = self.stops[slot] - self.starts[slot]
        pair_box = np.repeat(box, count)
        offset = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        pair_tri = self.tris[np.repeat(self.starts[slot], count) + offset]
        kept = overlapping(self._lo_axes, self._hi_axes, pair_tri, np.atleast_2d(lo).T, np.atleast_2d(hi).T,
                           pair_box)
        pair_box, pair_tri = pair_box[kept], pair_tri[kept]
        # A pair met in several cells is kept once (sorted: the same order whatever the cells).
        key = unique_ints(pair_box * len(self.faces) + pair_tri)
        return key // len(self.faces), key % len(self.faces)


def overlapping(lo_a, hi_a, a, lo_b, hi_b, b) -> np.ndarray:
    """Positions k of the index pairs (a[k], b[k]) whose boxes overlap; lo_*, hi_* : (3, n), one row per axis.

    One axis at a time, each test leaving fewer pairs to the next.
    """
    kept = np.arange(len(a))
    for axis in range(3):
        keep = np.take(lo_a[axis], a) <= np.take(hi_b[axis], b)
        keep &= np.take(hi_a[axis], a) >= np.take(lo_b[axis], b)
        keep = np.flatnonzero(keep)
        a, b, kept = a[keep], b[keep], kept[keep]
    return kept


def segment_triangle(p0, p1, a, b, c, *, eps: float = 0.0):
    """Vectorised Moller-Trumbore: (hit bool, t along p0->p1, barycentric u, v) for matching rows.

    With eps > 0 only crossings strictly inside the triangle and the segment (by eps) count.
    """
    d = p1 - p0
    e1, e2 = b - a, c - a
    h = np.cross(d, e2)
    det = np.einsum("ij,ij->i", e1, h)
    # Relative test: a segment (nearly) in the triangle's plane has no single crossing point.
    scale = np.linalg.norm(d, axis=1) * np.linalg.norm(e1, axis=1) * np.linalg.norm(e2, axis=1)
    ok = np.abs(det) > 1e-9 * scale
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    s = p0 - a
    u = np.einsum("ij,ij->i", s, h) * inv
    q = np.cross(s, e1)
    v = np.einsum("ij,ij->i", d, q) * inv
    t = np.einsum("ij,ij->i", e2, q) * inv
    hit = ok & (u >= eps) & (v >= eps) & (u + v <= 1 - eps) & (t >= eps) & (t <= 1 - eps)
    return hit, t, u, v


def first_hits(grid: TriangleGrid, origins: np.ndarray, directions: np.ndarray, max_distance: float, *,
               accept=None):
    """(t, face) of the first crossing of each ray within max_distance; t = inf and face = -1 for none.

    accept(ray_index, face_index) -> bool array, optional: only faces it accepts are tested.
    """
    origins = np.atleast_2d(origins)
    directions = np.atleast_2d(directions)
    n = len(origins)
    best_t = np.full(n, np.inf)
    best_face = np.full(n, -1, dtype=np.int64)
    pieces = max(1, int(np.ceil(max_distance / grid.cell)))
    step = max_distance / pieces
    ray_idx, tri_idx = [], []
    for k in range(pieces):
        a = origins + directions * (k * step)
        b = origins + directions * ((k + 1) * step)
        r, t = grid.candidates(np.minimum(a, b), np.maximum(a, b))
        ray_idx.append(r)
        tri_idx.append(t)
    key = unique_ints(np.concatenate(ray_idx) * len(grid.faces) + np.concatenate(tri_idx))
    ray, tri = key // len(grid.faces), key % len(grid.faces)
    if accept is not None:
        keep = accept(ray, tri)
        ray, tri = ray[keep], tri[keep]
    f = grid.faces[tri]
    v = grid.vertices
    end = origins[ray] + directions[ray] * max_distance
    hit, t, _, _ = segment_triangle(origins[ray], end, v[f[:, 0]], v[f[:, 1]], v[f[:, 2]])
    ray, tri, t = ray[hit], tri[hit], t[hit] * max_distance
    order = np.lexsort((tri, t, ray))  # per ray: smallest t first, ties by face index (deterministic)
    ray, tri, t = ray[order], tri[order], t[order]
    first = np.ones(len(ray), dtype=bool)
    first[1:] = ray[1:] != ray[:-1]
    best_t[ray[first]] = t[first]
    best_face[ray[first]] = tri[first]
    return best_t, best_face


def nearest_distances(grid: TriangleGrid, points: np.ndarray, *, search_mm: float) -> np.ndarray:
    """(n,) distance from each point to the mesh, inf when no triangle lies within search_mm.

    Searched within half a cell first: a point with a triangle that near has its nearest among those found
    (the candidates grow with the square of the distance searched); the others are searched to search_mm.
    """
    points = np.atleast_2d(points)
    out = np.full(len(points), np.inf)
    todo = np.arange(len(points))
    for reach in sorted({min(0.5 * grid.cell, search_mm), search_mm}):
        out[todo] = _nearest_within(grid, points[todo], reach)
        todo = todo[~np.isfinite(out[todo])]
        if len(todo) == 0:
            break
    return out


def _nearest_within(grid: TriangleGrid, points: np.ndarray, search_mm: float) -> np.ndarray:
    box, tri = grid.candidates(points - search_mm, points + search_mm)
    out = np.full(len(points), np.inf)
    if len(box):
        f = grid.faces[tri]
        v = grid.vertices
        nearest = closest_points_on_triangles(points[box], v[f[:, 0]], v[f[:, 1]], v[f[:, 2]])
        dist = np.linalg.norm(nearest - points[box], axis=1)
        ok = np.isfinite(dist)  # a zero-area triangle has no closest point; its neighbours have
        np.minimum.at(out, box[ok], dist[ok])
    out[out > search_mm] = np.inf
    return out


def closest_points_on_triangles(p, a, b, c) -> np.ndarray:
    """(n, 3) closest point of triangle (a, b, c) to p, row by row (vertex, edge or face region)."""
    ab, ac = b - a, c - a

    def dot(x, y):
        return np.einsum("ij,ij->i", x, y)

    ap, bp, cp = p - a, p - b, p - c
    d1, d2 = dot(ab, ap), dot(ac, ap)
    d3, d4 = dot(ab, bp), dot(ac, bp)
    d5, d6 = dot(ab, cp), dot(ac, cp)
    va, vb, vc = d3 * d6 - d5 * d4, d5 * d2 - d1 * d6, d1 * d4 - d3 * d2
    with np.errstate(divide="ignore", invalid="ignore"):
        on_ab = a + (d1 / (d1 - d3))[:, None] * ab
        on_ac = a + (d2 / (d2 - d6))[:, None] * ac
        on_bc = b + ((d4 - d3) / ((d4 - d3) + (d5 - d6)))[:, None] * (c - b)
        total = va + vb + vc
        inside = a + (vb / total)[:, None] * ab + (vc / total)[:, None] * ac
    regions = [
        (d1 <= 0) & (d2 <= 0),
        (d3 >= 0) & (d4 <= d3),
        (vc <= 0) & (d1 >= 0) & (d3 <= 0),
        (d6 >= 0) & (d5 <= d6),
        (vb <= 0) & (d2 >= 0) & (d6 <= 0),
        (va <= 0) & (d4 - d3 >= 0) & (d5 - d6 >= 0),
    ]
    out = inside
    # Apply in reverse priority so the first matching region wins.
    for region, point in reversed(list(strict_zip(regions, [a, b, on_ab, c, on_ac, on_bc]))):
        out = np.where(region[:, None], point, out)
    return out
