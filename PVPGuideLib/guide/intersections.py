"""Self-intersection test of a triangle mesh: pairs of faces that cross each other."""

from __future__ import annotations

import numpy as np

from .spatial import TriangleGrid, segment_triangle
from .topology import unique_ints

# Crossings closer than this (relative, in barycentric and segment parameters) to a triangle's border
# are touching, not crossing: float noise on shared geometry must not count.
_EPS = 1e-7


def self_intersecting_pairs(vertices: np.ndarray, faces: np.ndarray, *, cell_mm: float | None = None) -> np.ndarray:
    """(k, 2) face index pairs that intersect other than along their shared vertices or edge.

    Non-adjacent faces: any edge of one crossing the other. Faces sharing one vertex: the edge opposite
    the shared vertex crossing the other face. Faces sharing an edge: folded flat onto each other.
    Coplanar overlaps of non-adjacent faces are not detected (booleans do not produce them).
    """
    v = np.asarray(vertices, dtype=float)
    f = np.asarray(faces, dtype=np.int64)
    if len(f) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    if cell_mm is None:
        edge = np.linalg.norm(v[f[:, 1]] - v[f[:, 0]], axis=1)
        cell_mm = max(3.0 * float(np.median(edge)), 1e-3)
    grid = TriangleGrid(v, f, cell_mm=cell_mm)
    a, b = _pairs_sharing_cells(grid)
    overlap = np.all((grid.lo[a] <= grid.hi[b]) & (grid.hi[a] >= grid.lo[b]), axis=1)
    a, b = a[overlap], b[overlap]
    fa, fb = f[a], f[b]
    shared = (fa[:, :, None] == fb[:, None, :])  # (k, 3, 3)
    n_shared = shared.any(axis=2).sum(axis=1)
    bad = np.zeros(len(a), dtype=bool)

    none = n_shared == 0
    if np.any(none):
        bad[none] = _cross_any_edge(v, fa[none], fb[none]) | _cross_any_edge(v, fb[none], fa[none])

    one = np.flatnonzero(n_shared == 1)
    if len(one):
        in_a = shared[one].any(axis=2)  # which corner of a is shared
        in_b = shared[one].any(axis=1)
        opp_a = _opposite_edge(fa[one], in_a)
        opp_b = _opposite_edge(fb[one], in_b)
        bad[one] = _segment_crosses(v, opp_a, fb[one]) | _segment_crosses(v, opp_b, fa[one])

    two = np.flatnonzero(n_shared == 2)
    if len(two):
        bad[two] = _folded(v, fa[two], fb[two], shared[two])
    return np.column_stack([a[bad], b[bad]])


def _pairs_sharing_cells(grid: TriangleGrid):
    """All unique (a < b) face pairs binned into a common cell."""
    keys, tris = grid.keys, grid.tris
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    group_start = np.repeat(starts, sizes)
    group_size = np.repeat(sizes, sizes)
    pos = np.arange(len(keys)) - group_start
    later = group_size - pos - 1  # partners after this element in its cell
    first = np.repeat(np.arange(len(keys)), later)
    offset = np.arange(int(later.sum())) - np.repeat(np.cumsum(later) - later, later) + 1
    second = first + offset
    a, b = tris[first], tris[second]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key = unique_ints(lo * len(grid.faces) + hi)
    a, b = key // len(grid.faces), key % len(grid.faces)
    keep = a != b
    return a[keep], b[keep]


def _cross_any_edge(v, fa, fb) -> np.ndarray:
    hit = np.zeros(len(fa), dtype=bool)
    for i, j in ((0, 1), (1, 2), (2, 0)):
        hit |= _segment_crosses(v, fa[:, [i, j]], fb)
    return hit


def _segment_crosses(v, seg, tri) -> np.ndarray:
    hit, _, _, _ = segment_triangle(v[seg[:, 0]], v[seg[:, 1]], v[tri[:, 0]], v[tri[:, 1]], v[tri[:, 2]], eps=_EPS)
    return hit


def _opposite_edge(face, shared_corner) -> np.ndarray:
    """The edge of each face that does not contain its shared corner."""
    corner = np.argmax(shared_corner, axis=1)
    return np.column_stack([face[np.arange(len(face)), (corner + 1) % 3], face[np.arange(len(face)), (corner + 2) % 3]])


def _folded(v, fa, fb, shared) -> np.ndarray:
    """Faces sharing an edge that lie folded onto each other (opposite normals, same side of the edge)."""
    na = np.cross(v[fa[:, 1]] - v[fa[:, 0]], v[fa[:, 2]] - v[fa[:, 0]])
    nb = np.cross(v[fb[:, 1]] - v[fb[:, 0]], v[fb[:, 2]] - v[fb[:, 0]])
    na /= np.maximum(np.linalg.norm(na, axis=1), 1e-300)[:, None]
    nb /= np.maximum(np.linalg.norm(nb, axis=1), 1e-300)[:, None]
    return np.einsum("ij,ij->i", na, nb) < -1 + 1e-9
