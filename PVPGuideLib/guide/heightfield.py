"""The skin as a height field over the plate's (u, v) grid, and its exact outward offsets (dilations)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .topology import unique_ints

# Pairs of (primitive, grid node) evaluated per chunk: bounds memory to a few hundred MB at most.
_PAIRS_PER_CHUNK = 1_500_000
# Faces steeper than this (normal almost in the (u, v) plane) add nothing a height field can use.
_MIN_NORMAL_W = 1e-6


@dataclass(frozen=True)
class HeightGrid:
    """Regular node grid in the plate frame: node (j, i) sits at (u0 + i * spacing, v0 + j * spacing).

    Arrays over the grid have shape (nv, nu): rows run along v (superior), columns along u.
    """

    u0: float
    v0: float
    spacing: float
    nu: int
    nv: int

    @classmethod
    def covering(cls, lo, hi, spacing: float) -> HeightGrid:
        """The grid whose nodes cover the (u, v) box lo..hi, aligned to multiples of spacing (deterministic)."""
        i0, j0 = np.floor(np.asarray(lo, dtype=float) / spacing).astype(int)
        i1, j1 = np.ceil(np.asarray(hi, dtype=float) / spacing).astype(int)
        return cls(float(i0 * spacing), float(j0 * spacing), float(spacing), int(i1 - i0 + 1), int(j1 - j0 + 1))

    @property
    def u(self) -> np.ndarray:
        return self.u0 + self.spacing * np.arange(self.nu)

    @property
    def v(self) -> np.ndarray:
        return self.v0 + self.spacing * np.arange(self.nv)

    @property
    def nodes_uv(self) -> np.ndarray:
        """(nv * nu, 2) node coordinates, row-major (v slow, u fast)."""
        uu, vv = np.meshgrid(self.u, self.v)
        return np.column_stack([uu.ravel(), vv.ravel()])

    def window(self, lo, hi) -> tuple[int, int, int, int]:
        """(i0, i1, j0, j1) inclusive node index range covering the (u, v) box lo..hi, clipped to the grid."""
        i0, j0 = np.floor((np.asarray(lo, dtype=float) - [self.u0, self.v0]) / self.spacing).astype(int)
        i1, j1 = np.ceil((np.asarray(hi, dtype=float) - [self.u0, self.v0]) / self.spacing).astype(int)
        return (max(int(i0), 0), min(int(i1), self.nu - 1), max(int(j0), 0), min(int(j1), self.nv - 1))


def upper_envelope(vertices: np.ndarray, faces: np.ndarray, grid: HeightGrid, radius: float) -> np.ndarray:
    """(nv, nu) height w of the top of (skin dilated by a ball of `radius`) above each node; -inf where none.

    vertices : (n, 3) skin vertices in the plate frame; faces : (m, 3). The dilation of the body
    below a height-field skin is again a height field, so this is the exact surface at distance
    `radius` from the skin (not a vertex-normal offset, which folds over in concave places): the
    maximum over the skin's faces (shifted along their normal), edges (cylinders) and vertices (spheres).
    """
    out = np.full(grid.nv * grid.nu, -np.inf)
    for kernel, lo, hi, data in _primitives(vertices, faces, radius):
        for start in range(0, len(lo), max(1, _PAIRS_PER_CHUNK // 64)):
            stop = start + max(1, _PAIRS_PER_CHUNK // 64)
            prim, node = _node_pairs(lo[start:stop], hi[start:stop], grid)
            prim += start
            u = grid.u0 + grid.spacing * (node % grid.nu)
            v = grid.v0 + grid.spacing * (node // grid.nu)
            if kernel is _edge_kernel:
                # Most nodes of an edge's box are beyond its cylinder: evaluate only those in its band.
                near = _edge_band(data, prim, u, v, radius)
                prim, node, u, v = prim[near], node[near], u[near], v[near]
            if len(prim) == 0:
                continue
            height = kernel(data, prim, np.column_stack([u, v]), radius)
            keep = np.isfinite(height)
            np.maximum.at(out, node[keep], height[keep])
    return out.reshape(grid.nv, grid.nu)


def envelope_at(vertices: np.ndarray, faces: np.ndarray, uv, radius: float) -> np.ndarray:
    """(n,) the same envelope height at arbitrary (n, 2) points."""
    uv = np.atleast_2d(np.asarray(uv, dtype=float))
    out = np.full(len(uv), -np.inf)
    if radius == 0 and len(uv) > 16 and len(faces):
        return _surface_at(vertices, faces, uv)
    for kernel, lo, hi, data in _primitives(vertices, faces, radius):
        inside = np.all((uv[None, :, :] >= lo[:, None, :] - 1e-9) & (uv[None, :, :] <= hi[:, None, :] + 1e-9), axis=2)
        prim, point = np.nonzero(inside)
        if len(prim):
            height = kernel(data, prim, uv[point], radius)
            keep = np.isfinite(height)
            np.maximum.at(out, point[keep], height[keep])
    return out


def _surface_at(vertices, faces, uv) -> np.ndarray:
    """Top of the surface itself (radius 0) at many points: faces binned by their (u, v) boxes."""
    from .spatial import TriangleGrid

    flat = np.column_stack([vertices[:, :2], np.zeros(len(vertices))])
    grid = TriangleGrid(flat, faces, cell_mm=max(2.0 * _median_edge(flat, faces), 1e-3))
    points = np.column_stack([uv, np.zeros(len(uv))])
    point, face = grid.candidates(points - 1e-9, points + 1e-9)
    out = np.full(len(uv), -np.inf)
    if len(point):
        kernel, _, _, shifted = next(_primitives(vertices, faces[face], 0.0))
        usable = _usable_faces(vertices, faces[face])
        height = kernel(shifted, np.arange(len(shifted)), uv[point[usable]], 0.0)
        np.maximum.at(out, point[usable], height)
    return out


def _median_edge(vertices, faces) -> float:
    return float(np.median(np.linalg.norm(vertices[faces[:, 1]] - vertices[faces[:, 0]], axis=1)))


def _usable_faces(vertices, faces) -> np.ndarray:
    """Faces the envelope uses: non-degenerate and not standing on edge."""
    p = vertices[faces]
    normal = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    length = np.linalg.norm(normal, axis=1)
    return (length > 1e-12) & (np.abs(normal[:, 2]) > _MIN_NORMAL_W * np.maximum(length, 1e-300))


def _primitives(vertices, faces, radius):
    """Yield (kernel, uv box lo, uv box hi, data) for faces, and for edges and vertices when radius > 0."""
    p = vertices[faces]  # (m, 3, 3)
    normal = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    length = np.linalg.norm(normal, axis=1)
    usable = _usable_faces(vertices, faces)
    normal[usable] /= length[usable, None]
    # The upper side of the face slab is the face shifted along the normal's upward (+w) sense.
    up = normal[usable] * np.sign(normal[usable, 2])[:, None]
    shifted = p[usable] + radius * up[:, None, :]
    yield _face_kernel, shifted[:, :, :2].min(axis=1), shifted[:, :, :2].max(axis=1), shifted
    if radius <= 0:
        return
    edges = np.sort(faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    n = int(faces.max()) + 1
    key = unique_ints(edges[:, 0] * n + edges[:, 1])
    edges = np.column_stack([key // n, key % n])
    seg = vertices[edges]  # (k, 2, 3)
    data = _EdgeData(seg, radius)
    # The box of the edge's band (_edge_band) where it is tighter than the edge's box grown by the radius.
    lo = np.maximum(seg[:, :, :2].min(axis=1) - radius, data.band_lo)
    hi = np.minimum(seg[:, :, :2].max(axis=1) + radius, data.band_hi)
    yield _edge_kernel, lo, hi, data
    used = vertices[unique_ints(faces)]
    yield _vertex_kernel, used[:, :2] - radius, used[:, :2] + radius, used


def _node_pairs(lo, hi, grid: HeightGrid):
    """All (primitive, flat node index) pairs whose node lies in the primitive's (u, v) box."""
    i0 = np.maximum(np.ceil((lo[:, 0] - grid.u0) / grid.spacing - 1e-9), 0).astype(np.int64)
    i1 = np.minimum(np.floor((hi[:, 0] - grid.u0) / grid.spacing + 1e-9), grid.nu - 1).astype(np.int64)
    j0 = np.maximum(np.ceil((lo[:, 1] - grid.v0) / grid.spacing - 1e-9), 0).astype(np.int64)
    j1 = np.minimum(np.floor((hi[:, 1] - grid.v0) / grid.spacing + 1e-9), grid.nv - 1).astype(np.int64)
    ni, nj = i1 - i0 + 1, j1 - j0 + 1
    count = np.where((ni > 0) & (nj > 0), ni * nj, 0)
    total = int(count.sum())
    prim = np.repeat(np.arange(len(lo)), count)
    local = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    dj, di = np.divmod(local, ni[prim])
    return prim, (j0[prim] + dj) * grid.nu + (i0[prim] + di)


def _face_kernel(shifted, prim, uv, radius):
    q = shifted[prim]
    d = q[:, 1, :2] - q[:, 0, :2]
    e = q[:, 2, :2] - q[:, 0, :2]
    det = d[:, 0] * e[:, 1] - d[:, 1] * e[:, 0]
    r = uv - q[:, 0, :2]
    b1 = (r[:, 0] * e[:, 1] - r[:, 1] * e[:, 0]) / det
    b2 = (d[:, 0] * r[:, 1] - d[:, 1] * r[:, 0]) / det
    eps = 1e-9  # closed triangles: a node on a shared edge is never lost between two faces
    inside = (b1 >= -eps) & (b2 >= -eps) & (b1 + b2 <= 1 + eps)
    z = q[:, 0, 2] + b1 * (q[:, 1, 2] - q[:, 0, 2]) + b2 * (q[:, 2, 2] - q[:, 0, 2])
    return np.where(inside, z, -np.inf)


class _EdgeData:
    """Per edge, computed once rather than once per node: start p0 (k, 3), unit direction e (k, 3), length
    (k,), and the band of (u, v) where the edge's cylinder can be met (_edge_band): its unit direction in
    (u, v), its extent along it (s_lo..s_hi) and across it (|q| <= q_max), and its (u, v) box."""

    def __init__(self, seg: np.ndarray, radius: float):
        self.p0 = seg[:, 0]
        e = seg[:, 1] - self.p0
        self.length = np.linalg.norm(e, axis=1)
        self.e = e / np.maximum(self.length, 1e-300)[:, None]
        flat = np.hypot(self.e[:, 0], self.e[:, 1])
        self.flat_u = self.e[:, 0] / np.maximum(flat, 1e-300)
        self.flat_v = self.e[:, 1] / np.maximum(flat, 1e-300)
        # Margins of 1e-9 keep every borderline node for the exact kernel.
        tol = 1e-9 * (1.0 + radius + self.length)
        slack = radius * np.abs(self.e[:, 2]) / np.maximum(flat, 1e-300) + tol
        self.s_lo, self.s_hi = -slack, self.length * flat + slack
        # A (nearly) vertical edge has no crossing the kernel counts: an empty band.
        self.q_max = np.where(1.0 - self.e[:, 2] ** 2 > 1e-9, radius + tol, -1.0)
        corners_u = [self.p0[:, 0] + s * self.flat_u + q * self.flat_v for s in (self.s_lo, self.s_hi)
                     for q in (-self.q_max, self.q_max)]
        corners_v = [self.p0[:, 1] + s * self.flat_v - q * self.flat_u for s in (self.s_lo, self.s_hi)
                     for q in (-self.q_max, self.q_max)]
        pad = tol + 1e-9 * (np.abs(self.p0[:, 0]) + np.abs(self.p0[:, 1]))
        self.band_lo = np.column_stack([np.min(corners_u, axis=0), np.min(corners_v, axis=0)]) - pad[:, None]
        self.band_hi = np.column_stack([np.max(corners_u, axis=0), np.max(corners_v, axis=0)]) + pad[:, None]


def _edge_band(data: _EdgeData, prim, u, v, radius) -> np.ndarray:
    """(n,) bool: node (u, v) can meet edge prim's cylinder (foot on the edge), a superset of where it does.

    In (u, v), with s along the edge's projection from p0 and q across it: the vertical line meets the
    infinite cylinder only if |q| <= radius, and a crossing X with its foot F = p0 + t e, 0 <= t <= length,
    has s = t |e_uv| + (X - F)_uv . e_uv / |e_uv|, where (X - F) . e = 0 bounds the last term by
    radius |e_w| / |e_uv|.
    """
    du, dv = u - data.p0[prim, 0], v - data.p0[prim, 1]
    fu, fv = data.flat_u[prim], data.flat_v[prim]
    s = du * fu + dv * fv
    q = du * fv - dv * fu
    return (np.abs(q) <= data.q_max[prim]) & (s >= data.s_lo[prim]) & (s <= data.s_hi[prim])


def _edge_kernel(data: _EdgeData, prim, uv, radius):
    p0 = data.p0[prim]
    e = data.e[prim]
    length = data.length[prim]
    # Vertical line X(z) = (u, v, z); solve |(X - p0) x e|^2 = r^2 for its upper crossing of the cylinder.
    d0 = np.column_stack([uv[:, 0] - p0[:, 0], uv[:, 1] - p0[:, 1], -p0[:, 2]])
    de = np.einsum("ij,ij->i", d0, e)
    a = 1.0 - e[:, 2] ** 2
    b = 2.0 * (d0[:, 2] - de * e[:, 2])
    c = np.einsum("ij,ij->i", d0, d0) - de**2 - radius**2
    disc = b * b - 4 * a * c
    ok = (a > 1e-9) & (disc >= 0) & (length > 1e-12)  # vertical edges: their end spheres reach higher
    z = np.full(len(prim), -np.inf)
    z[ok] = (-b[ok] + np.sqrt(disc[ok])) / (2 * a[ok])
    t = np.where(ok, de + np.where(ok, z, 0.0) * e[:, 2], -1.0)
    return np.where(ok & (t >= 0) & (t <= length), z, -np.inf)


def _vertex_kernel(points, prim, uv, radius):
    p = points[prim]
    d2 = (uv[:, 0] - p[:, 0]) ** 2 + (uv[:, 1] - p[:, 1]) ** 2
    return np.where(d2 <= radius * radius, p[:, 2] + np.sqrt(np.maximum(radius * radius - d2, 0.0)), -np.inf)
