"""Self-intersection test of a triangle mesh: pairs of faces that cross each other."""

from __future__ import annotations

import numpy as np

from .spatial import TriangleGrid, segment_triangle

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
        cell_mm = max(4.0 * float(np.median(edge)), 1e-3)
    a, b = _candidate_pairs(v, f, cell_mm)
    fa, fb = f[a], f[b]
    shared = (fa[:, :, None] == fb[:, None, :])  # (k, 3, 3)
    n_shared = shared.any(axis=2).sum(axis=1)
    bad = np.zeros(len(a), dtype=bool)
    # A face lying wholly on one side of the other's plane cannot cross it: most pairs end here.
    normals = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    b_to_a = _plane_sides(v, normals, a, fa, fb)  # b's corners against a's plane
    a_to_b = _plane_sides(v, normals, b, fb, fa)

    none = np.flatnonzero((n_shared == 0) & ~_one_side(b_to_a) & ~_one_side(a_to_b))
    if len(none):
        bad[none] = _cross_any_edge(v, fa[none], fb[none]) | _cross_any_edge(v, fb[none], fa[none])

    one = np.flatnonzero(n_shared == 1)
    if len(one):
        in_a = shared[one].any(axis=2)  # which corner of a is shared
        in_b = shared[one].any(axis=1)
        opp_a = _opposite_edge(fa[one], in_a)
        opp_b = _opposite_edge(fb[one], in_b)
        # The edge opposite the shared corner can cross the other face only if its ends straddle that plane.
        test_a = ~_one_side(a_to_b[one][~in_a].reshape(-1, 2))
        test_b = ~_one_side(b_to_a[one][~in_b].reshape(-1, 2))
        hit = np.zeros(len(one), dtype=bool)
        hit[test_a] = _segment_crosses(v, opp_a[test_a], fb[one][test_a])
        hit[test_b] |= _segment_crosses(v, opp_b[test_b], fa[one][test_b])
        bad[one] = hit

    two = np.flatnonzero(n_shared == 2)
    if len(two):
        bad[two] = _folded(v, fa[two], fb[two], shared[two])
    out = np.column_stack([a[bad], b[bad]])
    return out[np.lexsort((out[:, 1], out[:, 0]))]


def _candidate_pairs(v, f, cell_mm: float):
    """Every (a < b) face pair whose bounding boxes overlap, once each.

    Faces at most a cell across are paired within the cells of a grid holding only them; each larger face
    (long sleeve walls, merged flat regions: a few per cent) looks up its partners among all faces, so it
    is not paired again with everything in every cell it spans.
    """
    grid = TriangleGrid(v, f, cell_mm=cell_mm)
    big = np.flatnonzero(np.any(grid.hi - grid.lo > cell_mm, axis=1))
    small = np.setdiff1d(np.arange(len(f)), big)
    a, b = _overlapping_pairs(TriangleGrid(v, f[small], cell_mm=cell_mm))
    a, b = small[a], small[b]
    box, tri = grid.candidates(grid.lo[big], grid.hi[big])
    box = big[box]
    # A pair of two large faces is found from both: keep it once.
    once = (box != tri) & ~(np.isin(tri, big) & (tri < box))
    box, tri = box[once], tri[once]
    return np.concatenate([a, np.minimum(box, tri)]), np.concatenate([b, np.maximum(box, tri)])


def _overlapping_pairs(grid: TriangleGrid):
    """Every (a < b) face pair whose bounding boxes overlap, once each.

    Pairs are formed within each cell; a pair is kept only in the cell holding the lower corner of the two
    boxes' overlap (a cell both boxes reach), so no pair needs de-duplicating.
    """
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
    a, b, cell = tris[first], tris[second], keys[first]
    for axis in range(3):  # one axis at a time: each test leaves fewer pairs to the next
        lo, hi = grid.lo[:, axis], grid.hi[:, axis]
        overlap = (lo[a] <= hi[b]) & (hi[a] >= lo[b])
        a, b, cell = a[overlap], b[overlap], cell[overlap]
    corner = np.maximum(grid.lo[a], grid.lo[b])
    c0, _ = grid._cells(corner, corner)
    once = c0[:, 0] + grid.shape[0] * (c0[:, 1] + grid.shape[1] * c0[:, 2]) == cell
    a, b = a[once], b[once]
    return np.minimum(a, b), np.maximum(a, b)


def _plane_sides(v, normals, ia, fa, fb) -> np.ndarray:
    """(k, 3) sign (-1, 0, 1) of each corner of fb against the plane of fa (face ia, its normal given);
    0 within float noise of it."""
    n = normals[ia]
    rel = v[fb] - v[fa[:, 0]][:, None, :]
    d = np.einsum("ikj,ij->ik", rel, n)
    # Within 1e-9 of the products' magnitude counts as on the plane (left to the exact tests).
    scale = np.linalg.norm(n, axis=1) * np.abs(rel).max(axis=(1, 2))
    return np.where(np.abs(d) <= 1e-9 * scale[:, None], 0, np.sign(d)).astype(np.int8)


def _one_side(sides: np.ndarray) -> np.ndarray:
    """Rows whose corners all lie strictly on one side (all +1 or all -1)."""
    return np.all(sides > 0, axis=1) | np.all(sides < 0, axis=1)


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
