"""Edge and vertex topology of a triangle mesh: open, non-manifold and mis-oriented edges, pinched vertices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Topology:
    """Counts that decide whether a mesh is a closed, consistently oriented 2-manifold."""

    faces: int
    boundary_edges: int  # used by one face: a hole
    nonmanifold_edges: int  # used by three or more faces
    misoriented_edges: int  # two faces walk the edge the same way: inconsistent normals
    nonmanifold_vertices: int  # faces around the vertex form more than one fan (a pinch)
    degenerate_faces: int  # a vertex repeated, or zero area

    @property
    def watertight(self) -> bool:
        return self.faces > 0 and self.boundary_edges == 0 and self.nonmanifold_edges == 0

    @property
    def manifold(self) -> bool:
        return self.watertight and self.nonmanifold_vertices == 0 and self.degenerate_faces == 0

    @property
    def consistently_oriented(self) -> bool:
        return self.watertight and self.misoriented_edges == 0


def topology(vertices: np.ndarray, faces: np.ndarray, *, min_area_mm2: float = 1e-10) -> Topology:
    """Topology of the mesh exactly as indexed (merge duplicate vertices first to judge a file's mesh)."""
    faces = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    if len(faces) == 0:
        return Topology(0, 0, 0, 0, 0, 0)
    repeated = (faces[:, 0] == faces[:, 1]) | (faces[:, 1] == faces[:, 2]) | (faces[:, 2] == faces[:, 0])
    v = np.asarray(vertices, dtype=float)
    area = 0.5 * np.linalg.norm(np.cross(v[faces[:, 1]] - v[faces[:, 0]], v[faces[:, 2]] - v[faces[:, 0]]), axis=1)
    degenerate = int(np.count_nonzero(repeated | (area <= min_area_mm2)))

    n = int(faces.max()) + 1
    directed = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    undirected = np.sort(directed, axis=1)
    _, count_u = unique_ints(undirected[:, 0] * n + undirected[:, 1], return_counts=True)
    boundary = int(np.count_nonzero(count_u == 1))
    nonmanifold = int(np.count_nonzero(count_u > 2))
    # On a consistently oriented closed surface each directed edge occurs exactly once.
    _, count_d = unique_ints(directed[:, 0] * n + directed[:, 1], return_counts=True)
    misoriented = int(np.count_nonzero(count_d > 1))
    return Topology(len(faces), boundary, nonmanifold, misoriented, _pinched_vertices(faces), degenerate)


def _pinched_vertices(faces: np.ndarray) -> int:
    """Vertices whose incident faces, linked across shared edges, form more than one fan."""
    nf = len(faces)
    corner_vertex = faces.ravel()
    # Each face corner links to the next corner around the same vertex through the edge they share:
    # (vertex, other end) keyed on the undirected edge; two corners sharing a vertex and an edge are linked.
    n = int(faces.max()) + 1
    nxt = faces[:, [1, 2, 0]].ravel()
    prv = faces[:, [2, 0, 1]].ravel()
    keys = np.concatenate([corner_vertex * n + nxt, corner_vertex * n + prv])
    corners = np.concatenate([np.arange(3 * nf), np.arange(3 * nf)])
    order = np.argsort(keys, kind="stable")
    keys, corners = keys[order], corners[order]
    same = keys[1:] == keys[:-1]
    a, b = corners[:-1][same], corners[1:][same]
    # Union-find over corners (vectorised pointer jumping): each fan becomes one component.
    parent = np.arange(3 * nf)
    while not np.array_equal(parent[a], parent[b]):
        lo = np.minimum(parent[a], parent[b])
        np.minimum.at(parent, a, lo)
        np.minimum.at(parent, b, lo)
        parent = parent[parent]
    fans = unique_ints(corner_vertex * (3 * nf) + parent)
    per_vertex = np.bincount(fans // (3 * nf))
    return int(np.count_nonzero(per_vertex > 1))


def unique_ints(values: np.ndarray, *, return_counts: bool = False):
    """Sorted unique values of a 1D integer array (a sort is far faster than np.unique's hashing here)."""
    x = np.sort(np.asarray(values).ravel(), kind="stable")
    first = np.r_[True, x[1:] != x[:-1]] if len(x) else np.zeros(0, dtype=bool)
    unique = x[first]
    if not return_counts:
        return unique
    return unique, np.diff(np.r_[np.flatnonzero(first), len(x)])


def signed_volume(vertices: np.ndarray, faces: np.ndarray) -> float:
    """Volume enclosed (mm^3); positive when the faces are counter-clockwise seen from outside."""
    v = np.asarray(vertices, dtype=float)
    f = np.asarray(faces, dtype=np.int64)
    if len(f) == 0:
        return 0.0
    centre = v.mean(axis=0)  # shifting the origin keeps the sum accurate far from (0, 0, 0)
    a, b, c = v[f[:, 0]] - centre, v[f[:, 1]] - centre, v[f[:, 2]] - centre
    return float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0)


def merge_identical_vertices(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge vertices with bit-identical coordinates, as a printer's slicer does on reading an STL.

    Returns (vertices sorted lexicographically, faces re-indexed): deterministic for equal input.
    """
    v = np.asarray(vertices)
    order = np.lexsort((v[:, 2], v[:, 1], v[:, 0]))
    ordered = v[order]
    new = np.r_[True, np.any(ordered[1:] != ordered[:-1], axis=1)] if len(v) else np.zeros(0, dtype=bool)
    inverse = np.empty(len(v), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse[np.asarray(faces, dtype=np.int64)]
