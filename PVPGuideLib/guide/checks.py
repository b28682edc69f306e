"""Measured properties of a guide mesh: printability, wall thickness, bore axis, needle passage, skin fit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.mesh import TriangleMesh
from .heightfield import envelope_at
from .intersections import self_intersecting_pairs
from .sections import section_loops, signed_area
from .spatial import TriangleGrid, first_hits, nearest_distances
from .topology import merge_identical_vertices, signed_volume, topology

# Only faces whose normals are within this angle of opposite bound a wall: where faces meet at an angle
# (the plate's rim, the bore leaving the skin side obliquely) the ray crosses an edge, not a wall.
WALL_OPPOSING_ANGLE_DEG = 30.0
# Walls thicker than this are not measured further (mm): the floor is 1.5 mm and the base 3 mm.
WALL_SEARCH_MM = 5.0
_FIRST_SEARCH_MM = 2.5  # above the 1.5 mm floor and the thinnest walls of a plate (features, bridged rims)


@dataclass(frozen=True)
class MeshReport:
    watertight: bool
    manifold: bool
    outward_normals: bool
    volume_mm3: float
    self_intersecting_pairs: int
    triangles: int

    @property
    def printable(self) -> bool:
        return (self.watertight and self.manifold and self.outward_normals and self.volume_mm3 > 0
                and self.self_intersecting_pairs == 0)


def mesh_report(mesh: TriangleMesh, *, merge: bool = True) -> MeshReport:
    """Topology, orientation, volume and self-intersection of a mesh (merged as an STL reader would)."""
    vertices, faces = (merge_identical_vertices(mesh.vertices, mesh.faces) if merge
                       else (mesh.vertices, mesh.faces))
    topo = topology(vertices, faces)
    volume = signed_volume(vertices, faces)
    pairs = self_intersecting_pairs(vertices, faces) if topo.watertight else np.zeros((1, 2))
    return MeshReport(topo.watertight, topo.manifold, topo.consistently_oriented and volume > 0, volume,
                      len(pairs), len(faces))


@dataclass(frozen=True)
class WallReport:
    """min_mm : thinnest wall found (WALL_SEARCH_MM when none is thinner); at : (3,) where it was measured;
    samples : faces a ray was cast from; measured : rays that met a wall within the distance searched last."""

    min_mm: float
    at: np.ndarray
    samples: int
    measured: int


def wall_thickness(mesh: TriangleMesh, *, search_mm: float = WALL_SEARCH_MM,
                   opposing_angle_deg: float = WALL_OPPOSING_ANGLE_DEG, grid: TriangleGrid | None = None) -> WallReport:
    """Thinnest wall: from every face centre, a ray along the inward normal to the first face it meets.

    The distance counts as a wall when that face is turned against the start face (normals within
    opposing_angle_deg of opposite); rays leaving through a face at an angle cross an edge instead.
    grid : the mesh's TriangleGrid when the caller has one (the other checks of the same mesh share it).
    """
    v, f = mesh.vertices, mesh.faces
    normal = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    area2 = np.linalg.norm(normal, axis=1)
    sample = area2 > 2e-6  # slivers have no reliable normal
    normal[sample] /= area2[sample, None]
    centre = v[f].mean(axis=1)
    grid = TriangleGrid(v, f, cell_mm=2.0) if grid is None else grid
    idx = np.flatnonzero(sample)
    origins = centre[idx] - 1e-4 * normal[idx]
    # The thinnest wall is all that is reported: search a short way first, and only when no ray meets a wall
    # there search the whole distance (a ray's first face within the short search is its first face).
    for reach in sorted({min(_FIRST_SEARCH_MM, search_mm), search_mm}):
        # A ray from inside the material first leaves it through a face turned along the ray: test only those.
        t, hit = first_hits(grid, origins, -normal[idx], reach,
                            accept=lambda ray, tri: np.einsum("ij,ij->i", normal[idx[ray]], normal[tri]) < 0)
        found = hit >= 0
        opposing = np.zeros(len(idx), dtype=bool)
        opposing[found] = np.einsum("ij,ij->i", normal[idx[found]], normal[hit[found]]) <= -np.cos(
            np.radians(opposing_angle_deg))
        measured = found & opposing
        if np.any(measured):
            break
    if not np.any(measured):
        return WallReport(float(search_mm), centre[0], len(idx), 0)
    k = np.flatnonzero(measured)[np.argmin(t[measured])]
    return WallReport(float(t[k] + 1e-4), origins[k], len(idx), int(np.count_nonzero(measured)))


@dataclass(frozen=True)
class AxisReport:
    """Bore axis measured from cross-sections: offset from the planned line (mm) and angle to it (degrees)."""

    offset_mm: float
    angle_deg: float
    sections: int


def bore_axis(mesh: TriangleMesh, entry, target, *, from_mm: float, to_mm: float, count: int = 9) -> AxisReport:
    """Fit the bore's axis from the centroids of the bore's outline in planes across the planned axis.

    Planes sit from_mm..to_mm from A along the axis, outwards. In each, the smallest closed section loop
    around the planned axis is the bore; a line is fitted through its area centroids.
    """
    entry, target = np.asarray(entry, dtype=float), np.asarray(target, dtype=float)
    d = (target - entry) / np.linalg.norm(target - entry)
    e1 = np.cross(d, [1.0, 0.0, 0.0] if abs(d[0]) < 0.9 else [0.0, 1.0, 0.0])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(d, e1)
    centroids = []
    for ell in np.linspace(from_mm, to_mm, count):
        origin = entry - ell * d
        best, best_area = None, np.inf
        for loop in section_loops(mesh.vertices, mesh.faces, origin, d):
            flat = np.column_stack([(loop - origin) @ e1, (loop - origin) @ e2])
            area = abs(signed_area(flat))
            if _winding(flat) and area < best_area:
                best, best_area = flat, area
        if best is not None:
            c = _polygon_centroid(best)
            centroids.append(origin + c[0] * e1 + c[1] * e2)
    if len(centroids) < 2:
        return AxisReport(float("inf"), float("inf"), len(centroids))
    pts = np.asarray(centroids)
    mean = pts.mean(axis=0)
    fitted = np.linalg.svd(pts - mean)[2][0]
    angle = float(np.degrees(np.arccos(min(1.0, abs(float(np.dot(fitted, d)))))))
    offsets = [np.linalg.norm(np.cross(p - entry, d)) for p in pts]
    return AxisReport(float(max(offsets)), angle, len(pts))


def _winding(poly: np.ndarray) -> bool:
    """Whether the polygon encloses the origin (crossing count)."""
    a, b = poly, np.roll(poly, -1, axis=0)
    crosses = (a[:, 1] > 0) != (b[:, 1] > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_at = a[:, 0] + (0 - a[:, 1]) * (b[:, 0] - a[:, 0]) / (b[:, 1] - a[:, 1])
    return bool(np.count_nonzero(crosses & (x_at > 0)) % 2)


def _polygon_centroid(poly: np.ndarray) -> np.ndarray:
    x, y = poly[:, 0], poly[:, 1]
    xn, yn = np.roll(x, -1), np.roll(y, -1)
    cross = x * yn - xn * y
    area = cross.sum() / 2
    return np.array([((x + xn) * cross).sum(), ((y + yn) * cross).sum()]) / (6 * area)


def needle_solid(entry, direction, diameter_mm: float, *, inside_mm: float = 60.0, outside_mm: float = 120.0,
                 segments: int = 64):
    """The needle as a manifold3d prism that contains the true cylinder (vertices outside the circle)."""
    from .sleeve import cylinder

    entry, direction = np.asarray(entry, dtype=float), np.asarray(direction, dtype=float)
    direction = direction / np.linalg.norm(direction)
    phase = np.cross(direction, [0.0, 0.0, 1.0] if abs(direction[2]) < 0.9 else [1.0, 0.0, 0.0])
    return cylinder(entry - outside_mm * direction, entry + inside_mm * direction, 0.5 * diameter_mm,
                    segments=segments, phase_axis=phase)


def needle_overlap_mm3(guide, entry, direction, diameter_mm: float) -> float:
    """Volume (mm^3) the needle cylinder along entry + t * direction shares with the guide (0: passes freely).

    guide : a manifold3d solid or a TriangleMesh.
    """
    from .booleans import intersection, to_manifold

    solid = guide if not isinstance(guide, TriangleMesh) else to_manifold(guide, step="needle check")
    common = intersection(solid, needle_solid(entry, direction, diameter_mm), step="needle check", allow_empty=True)
    return 0.0 if common.is_empty() else float(common.volume())


def contact_distances(guide: TriangleMesh, skin: TriangleMesh, *, skin_points: np.ndarray, outward: np.ndarray,
                      reach_mm: float = 5.0, grid: TriangleGrid | None = None,
                      skin_grid: TriangleGrid | None = None) -> np.ndarray:
    """(n,) distance to the skin of the guide's first surface met going outward from each skin point.

    inf where the ray meets no guide within reach_mm (a hole, or outside the plate). grid, skin_grid : the
    guide's and the skin's TriangleGrid when the caller has them.
    """
    outward = np.asarray(outward, dtype=float)
    grid = TriangleGrid(guide.vertices, guide.faces, cell_mm=2.0) if grid is None else grid
    directions = np.broadcast_to(outward / np.linalg.norm(outward), skin_points.shape)
    t, hit = first_hits(grid, skin_points, np.ascontiguousarray(directions), reach_mm)
    out = np.full(len(skin_points), np.inf)
    ok = hit >= 0
    if np.any(ok):
        on_guide = skin_points[ok] + t[ok, None] * directions[ok]
        skin_grid = TriangleGrid(skin.vertices, skin.faces, cell_mm=4.0) if skin_grid is None else skin_grid
        out[ok] = nearest_distances(skin_grid, on_guide, search_mm=reach_mm)
    return out


def skin_deviation_mm(guide: TriangleMesh, skin: TriangleMesh, skin_points: np.ndarray, frame, clearance_mm: float,
                      *, reach_mm: float = 3.0, grid: TriangleGrid | None = None) -> float:
    """Largest |signed distance of the guide's skin side to the CT's skin - clearance| (mm), measured.

    From each sample under the plate (skin_points: on the skin the plate was fitted to), the guide's
    first surface above along w is found; its distance to `skin` (the CT's own iso-surface, not the
    smoothed one) is negative where that skin stands above it (the plate would press into the skin).
    inf without samples or when no guide surface lies within reach_mm above a sample. grid : the guide's
    TriangleGrid when the caller has one.
    """
    if len(skin_points) == 0:
        return float("inf")
    w = np.asarray(frame.w, dtype=float)
    grid = TriangleGrid(guide.vertices, guide.faces, cell_mm=2.0) if grid is None else grid
    start = skin_points - 1.0 * w  # from below: the CT's skin may stand a little above the fitted one
    t, hit = first_hits(grid, start, np.ascontiguousarray(np.broadcast_to(w, start.shape)), reach_mm + 1.0)
    if np.any(hit < 0):
        return float("inf")
    on_guide = start + t[:, None] * w
    skin_grid = TriangleGrid(skin.vertices, skin.faces, cell_mm=4.0)
    distance = nearest_distances(skin_grid, on_guide, search_mm=reach_mm + 2.0)
    # Which side of the CT's skin: above its top surface at the same (u, v), or pressed into it.
    local = frame.to_local(skin.vertices)
    top = envelope_at(local, skin.faces, frame.to_local(on_guide)[:, :2], 0.0)
    signed = np.where(frame.to_local(on_guide)[:, 2] >= top, distance, -distance)
    return float(np.max(np.abs(signed - clearance_mm)))
