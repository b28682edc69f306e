"""Self-intersection test of a triangle mesh: pairs of faces that cross each other."""

from __future__ import annotations

import numpy as np

from .spatial import TriangleGrid, overlapping, segment_triangle

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
    planes = _Planes(v, f)
    a, b = _candidate_pairs(v, f, cell_mm, planes)
    fa, fb = f[a], f[b]
    # in_a[i]: corner i of a is a corner of b (a face's corners are distinct: the count is the shared vertices).
    in_a = [(fa[:, i] == fb[:, 0]) | (fa[:, i] == fb[:, 1]) | (fa[:, i] == fb[:, 2]) for i in range(3)]
    in_b = [(fb[:, j] == fa[:, 0]) | (fb[:, j] == fa[:, 1]) | (fb[:, j] == fa[:, 2]) for j in range(3)]
    n_shared = in_a[0].astype(np.int8) + in_a[1] + in_a[2]
    bad = np.zeros(len(a), dtype=bool)

    # A face lying wholly on one side of the other's plane cannot cross it: most pairs end here.
    none = np.flatnonzero(n_shared == 0)
    none = none[planes.straddled(a[none], fb[none]) & planes.straddled(b[none], fa[none])]
    if len(none):
        bad[none] = _cross_any_edge(v, fa[none], fb[none]) | _cross_any_edge(v, fb[none], fa[none])

    one = np.flatnonzero(n_shared == 1)
    if len(one):
        # The edge opposite the shared corner can cross the other face only if its ends straddle that plane.
        opp_a = _opposite_edge(fa[one], (in_a[1][one] + 2 * in_a[2][one]).astype(np.int64))
        opp_b = _opposite_edge(fb[one], (in_b[1][one] + 2 * in_b[2][one]).astype(np.int64))
        test_a = np.flatnonzero(planes.straddled(b[one], opp_a))
        test_b = np.flatnonzero(planes.straddled(a[one], opp_b))
        hit = np.zeros(len(one), dtype=bool)
        hit[test_a] = _segment_crosses(v, opp_a[test_a], fb[one[test_a]])
        hit[test_b] |= _segment_crosses(v, opp_b[test_b], fa[one[test_b]])
        bad[one] = hit

    two = np.flatnonzero(n_shared == 2)
    if len(two):
        bad[two] = _folded(v, fa[two], fb[two])
    out = np.column_stack([a[bad], b[bad]])
    return out[np.lexsort((out[:, 1], out[:, 0]))]


class _Planes:
    """Each face's plane (unit normal, offset), to tell on which side of it given points lie.

    Points within a tolerance of a plane count as on it, so the pair goes on to the exact crossing tests:
    the tolerance (1e-9 of the mesh's size) only decides which pairs are tested, far below their _EPS.
    """

    def __init__(self, v: np.ndarray, f: np.ndarray):
        self.centre = v.mean(axis=0)  # offsets from the mesh's centre keep n . x - offset accurate
        self.v = v - self.centre
        n = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
        length = np.linalg.norm(n, axis=1)
        # A face without area has no plane: every point is on it and its pairs go to the exact tests.
        self.normal = np.where(length[:, None] > 0, n / np.where(length > 0, length, 1.0)[:, None], 0.0)
        self.offset = np.einsum("ij,ij->i", self.normal, self.v[f[:, 0]])
        self.tolerance = 1e-9 * max(float(np.ptp(v, axis=0).max()), 1e-300)

    def straddled(self, face: np.ndarray, corners: np.ndarray) -> np.ndarray:
        """(k,) bool: the points corners[k] (indices, (k, m)) are not all strictly on one side of face[k]'s plane."""
        d = np.einsum("ikj,ij->ik", self.v[corners], self.normal[face]) - self.offset[face][:, None]
        above = np.all(d > self.tolerance, axis=1)
        below = np.all(d < -self.tolerance, axis=1)
        return ~(above | below)

    def reaches_box(self, face: np.ndarray, centre: np.ndarray, half: np.ndarray) -> np.ndarray:
        """(k,) bool: the box centre[k] +- half[k] (per axis) is not strictly on one side of face[k]'s plane."""
        n = self.normal[face]
        d = np.einsum("ij,ij->i", centre - self.centre, n) - self.offset[face]
        return np.abs(d) <= np.einsum("ij,ij->i", half, np.abs(n)) + self.tolerance


def _candidate_pairs(v, f, cell_mm: float, planes: _Planes):
    """Face pairs (a < b) whose bounding boxes overlap, once each; pairs of a large face and a face whose box
    lies strictly on one side of its plane are left out (they cannot cross: the first test below).

    Faces at most a cell across are paired within the cells of the grid (its other faces left out); each
    larger face (long sleeve walls, merged flat regions: a few per cent of the faces, but their boxes meet
    most of the pairs) looks up its partners among all faces, only in the cells its plane passes through.
    """
    grid = TriangleGrid(v, f, cell_mm=cell_mm)
    is_big = np.any(grid.hi - grid.lo > cell_mm, axis=1)
    big = np.flatnonzero(is_big)
    small_entries = np.flatnonzero(~is_big[grid.tris])
    a, b = _overlapping_pairs(grid, grid.keys[small_entries], grid.tris[small_entries])
    box, keys = grid.cells_of_boxes(grid.lo[big], grid.hi[big])
    crossed = planes.reaches_box(big[box], grid.cell_centres(keys), np.full((len(box), 3), 0.5 * grid.cell))
    box, tri = grid.candidates_in_cells(grid.lo[big], grid.hi[big], box[crossed], keys[crossed])
    box = big[box]
    reach = np.flatnonzero(planes.reaches_box(box, 0.5 * (grid.lo[tri] + grid.hi[tri]), 0.5 * (grid.hi[tri] - grid.lo[tri])))
    box, tri = box[reach], tri[reach]
    # A pair of two large faces is found from both: keep it once.
    once = np.flatnonzero((box != tri) & ~(is_big[tri] & (tri < box)))
    box, tri = box[once], tri[once]
    return np.concatenate([a, np.minimum(box, tri)]), np.concatenate([b, np.maximum(box, tri)])


def _overlapping_pairs(grid: TriangleGrid, keys: np.ndarray, tris: np.ndarray):
    """Every (a < b) pair among the faces `tris` (grid entries sorted by cell `keys`) whose boxes overlap, once.

    Pairs are formed within each cell; a pair is kept only in the cell holding the lower corner of the two
    boxes' overlap (a cell both boxes reach), so no pair needs de-duplicating.
    """
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    group_start = np.repeat(starts, sizes)
    group_size = np.repeat(sizes, sizes)
    pos = np.arange(len(keys)) - group_start
    later = group_size - pos - 1  # partners after this element in its cell
    first = np.repeat(np.arange(len(keys)), later)
    offset = np.arange(int(later.sum())) - np.repeat(np.cumsum(later) - later, later) + 1
    second = first + offset
    # Boxes by entry: the members of a cell sit together, so the gathers below stay in the cache.
    lo, hi = grid._lo_axes[:, tris], grid._hi_axes[:, tris]
    kept = overlapping(lo, hi, first, lo, hi, second)
    a, b, cell = tris[first[kept]], tris[second[kept]], keys[first[kept]]
    corner = np.maximum(grid.lo[a], grid.lo[b])
    c0, _ = grid._cells(corner, corner)
    once = np.flatnonzero(c0[:, 0] + grid.shape[0] * (c0[:, 1] + grid.shape[1] * c0[:, 2]) == cell)
    a, b = a[once], b[once]
    return np.minimum(a, b), np.maximum(a, b)


def _cross_any_edge(v, fa, fb) -> np.ndarray:
    hit = np.zeros(len(fa), dtype=bool)
    for i, j in ((0, 1), (1, 2), (2, 0)):
        hit |= _segment_crosses(v, fa[:, [i, j]], fb)
    return hit


def _segment_crosses(v, seg, tri) -> np.ndarray:
    hit, _, _, _ = segment_triangle(v[seg[:, 0]], v[seg[:, 1]], v[tri[:, 0]], v[tri[:, 1]], v[tri[:, 2]], eps=_EPS)
    return hit


def _opposite_edge(face, corner) -> np.ndarray:
    """The edge of each face that does not contain its corner `corner` (0, 1 or 2), in the face's order."""
    rows = np.arange(len(face))
    return np.column_stack([face[rows, (corner + 1) % 3], face[rows, (corner + 2) % 3]])


def _folded(v, fa, fb) -> np.ndarray:
    """Faces sharing an edge that lie folded onto each other (opposite normals, same side of the edge)."""
    na = np.cross(v[fa[:, 1]] - v[fa[:, 0]], v[fa[:, 2]] - v[fa[:, 0]])
    nb = np.cross(v[fb[:, 1]] - v[fb[:, 0]], v[fb[:, 2]] - v[fb[:, 0]])
    na /= np.maximum(np.linalg.norm(na, axis=1), 1e-300)[:, None]
    nb /= np.maximum(np.linalg.norm(nb, axis=1), 1e-300)[:, None]
    return np.einsum("ij,ij->i", na, nb) < -1 + 1e-9
