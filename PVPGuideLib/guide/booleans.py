"""Mesh booleans with manifold3d: validated operands, named steps, clear errors, printable results."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..core.mesh import TriangleMesh
from .errors import GuideError
from .topology import merge_identical_vertices, signed_volume, topology

# Multiples of the simplification tolerance tried in turn when slivers survive the first pass.
_CLEAN_LADDER = (1.0, 2.0, 5.0)
# Edges shorter than this are collapsed before rounding to float32 (mm).
_SHORT_EDGE_MM = 1e-3
# Never simplify by more than this (mm): about a printer's resolution.
MAX_TOLERANCE_MM = 0.05


def _manifold3d():
    try:
        import manifold3d
    except ImportError as error:  # optional engine: say what to install
        raise GuideError("booleans", "the guide plate needs the 'manifold3d' package (pip install manifold3d)") from error
    return manifold3d


def to_manifold(mesh: TriangleMesh, *, step: str, check_self_intersection: bool = False):
    """Validated manifold3d solid from a triangle mesh.

    Safe repairs only: bit-identical duplicate vertices are merged, faces with a repeated vertex dropped,
    and a closed surface oriented inside-out is flipped. Open, non-manifold, inconsistently oriented,
    zero-volume or (when asked) self-intersecting operands raise GuideError naming `step`.
    """
    m3d = _manifold3d()
    if mesh is None or mesh.is_empty:
        raise GuideError(step, "the mesh is empty")
    if not np.all(np.isfinite(mesh.vertices)):
        raise GuideError(step, "the mesh has non-finite vertex coordinates")
    vertices, faces = merge_identical_vertices(mesh.vertices, mesh.faces)
    faces = faces[(faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 2] != faces[:, 0])]
    report = topology(vertices, faces, min_area_mm2=-1.0)
    if not report.watertight:
        raise GuideError(step, f"the mesh is not a closed surface ({report.boundary_edges} open edges, "
                               f"{report.nonmanifold_edges} edges shared by more than two faces); "
                               "close or repair it before combining it")
    if report.misoriented_edges:
        raise GuideError(step, f"the mesh's faces are not consistently oriented ({report.misoriented_edges} edges)")
    volume = signed_volume(vertices, faces)
    if abs(volume) < 1e-9:
        raise GuideError(step, "the mesh encloses no volume")
    if volume < 0:
        faces = faces[:, ::-1]
    if check_self_intersection:
        from .intersections import self_intersecting_pairs

        pairs = self_intersecting_pairs(vertices, faces)
        if len(pairs):
            raise GuideError(step, f"the mesh intersects itself ({len(pairs)} pairs of faces cross)")
    solid = m3d.Manifold(m3d.Mesh64(np.array(vertices, dtype=np.float64), np.array(faces, dtype=np.uint64)))
    _require_ok(solid, step)
    return solid


def to_triangle_mesh(solid) -> TriangleMesh:
    """The manifold's triangles in double precision (same frame as the solid)."""
    mesh = solid.to_mesh64()
    return TriangleMesh(np.asarray(mesh.vert_properties)[:, :3], np.asarray(mesh.tri_verts, dtype=np.int64))


def union(parts: Sequence, *, step: str):
    """Union of manifold3d solids; empty parts are skipped, an empty result is an error."""
    m3d = _manifold3d()
    parts = [p for p in parts if p is not None and not p.is_empty()]
    if not parts:
        raise GuideError(step, "nothing to combine: every part is empty")
    result = m3d.Manifold.batch_boolean(parts, m3d.OpType.Add)
    return _checked(result, step)


def difference(solid, cutters: Sequence, *, step: str, allow_empty: bool = False):
    """solid minus every cutter (empty cutters ignored)."""
    m3d = _manifold3d()
    cutters = [c for c in cutters if c is not None and not c.is_empty()]
    if not cutters:
        return solid
    result = m3d.Manifold.batch_boolean([solid, *cutters], m3d.OpType.Subtract)
    return _checked(result, step, allow_empty=allow_empty)


def intersection(a, b, *, step: str, allow_empty: bool = False):
    m3d = _manifold3d()
    result = m3d.Manifold.batch_boolean([a, b], m3d.OpType.Intersect)
    return _checked(result, step, allow_empty=allow_empty)


def _require_ok(solid, step: str) -> None:
    status = solid.status()
    if status.name != "NoError":
        raise GuideError(step, f"the mesh engine rejected the operand ({status.name}): it must be a closed, "
                               "consistently oriented 2-manifold")


def _checked(result, step: str, *, allow_empty: bool = False):
    _require_ok(result, step)
    if result.is_empty() and not allow_empty:
        raise GuideError(step, "the boolean result is empty (the parts do not overlap where they should)")
    return result


def printable_mesh(solid, *, local_to_world: np.ndarray | None = None, tolerance_mm: float = 0.01,
                   step: str = "clean") -> TriangleMesh:
    """The solid as a triangle mesh whose float32 vertices survive an STL round trip as a closed 2-manifold.

    Booleans can leave slivers: faces of (near) zero area and vertices closer than float32 can tell
    apart. Written to STL and read back with vertex merging (what a printer's slicer does) they become
    non-manifold edges. The solid is simplified (no surface moves by more than tolerance_mm, far below
    print resolution; this also merges the many small flat-lying triangles of skin-following surfaces),
    mapped to world coordinates, rounded to float32 and merged exactly as a reader would; if the result
    is not a clean closed manifold the tolerance is raised (at most MAX_TOLERANCE_MM). The returned
    vertices are exactly float32-representable, so writing them to STL loses nothing.
    """
    matrix = np.eye(4) if local_to_world is None else np.asarray(local_to_world, dtype=float)
    m3d = _manifold3d()
    last = None
    for factor in _CLEAN_LADDER:
        tolerance = min(tolerance_mm * factor, MAX_TOLERANCE_MM)
        candidate = solid.simplify(tolerance)
        for _ in range(2):
            mesh = to_triangle_mesh(candidate)
            world = mesh.vertices @ matrix[:3, :3].T + matrix[:3, 3]
            world, faces = _collapse_short_edges(world, mesh.faces, _SHORT_EDGE_MM)
            vertices, faces = merge_identical_vertices(world.astype(np.float32), faces)
            report = topology(vertices.astype(np.float64), faces)
            if report.degenerate_faces and not report.nonmanifold_edges and not report.boundary_edges:
                faces = _without_slivers(vertices.astype(np.float64), faces)
                report = topology(vertices.astype(np.float64), faces)
            if report.manifold and report.misoriented_edges == 0:
                used = np.zeros(len(vertices), dtype=bool)
                used[faces.ravel()] = True  # collapsed edges leave vertices no face uses; a file has none
                index = np.cumsum(used) - 1
                return TriangleMesh(vertices[used].astype(np.float64), index[faces])
            last = report
            # Vertices float32 cannot tell apart: let the mesh engine merge them and collapse what degenerates.
            candidate = _merged(m3d, mesh, world.astype(np.float32), step)
            if candidate is None:
                break
    raise GuideError(step, f"the boolean result could not be made printable: {last}")


def _collapse_short_edges(vertices: np.ndarray, faces: np.ndarray, length_mm: float):
    """Merge the ends of edges shorter than length_mm (boolean crumbs far below print resolution).

    Faces left with a repeated corner vanish, and so do pairs of faces that collapse onto each other;
    tiny slivers would otherwise turn over when the coordinates are rounded to float32.
    """
    edges = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    short = np.linalg.norm(vertices[edges[:, 0]] - vertices[edges[:, 1]], axis=1) < length_mm
    if not np.any(short):
        return vertices, faces
    parent = np.arange(len(vertices))
    a, b = edges[short, 0], edges[short, 1]
    while not np.array_equal(parent[a], parent[b]):
        lo = np.minimum(parent[a], parent[b])
        np.minimum.at(parent, a, lo)
        np.minimum.at(parent, b, lo)
        parent = parent[parent]
    faces = parent[faces]
    faces = faces[(faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 2] != faces[:, 0])]
    # Two faces on the same three vertices with opposite turns enclose nothing: drop both.
    key = np.sort(faces, axis=1)
    order = np.lexsort(key.T[::-1])
    same = np.all(key[order[1:]] == key[order[:-1]], axis=1)
    drop = np.zeros(len(faces), dtype=bool)
    drop[order[1:][same]] = True
    drop[order[:-1][same]] = True
    return vertices, faces[~drop]


def _without_slivers(vertices: np.ndarray, faces: np.ndarray, *, min_area_mm2: float = 1e-10) -> np.ndarray:
    """Remove faces of no area whose third vertex lies on their longest edge (a boolean sliver).

    The face across that edge is split at the third vertex, so the surface and its topology stay exactly
    as they were, without the zero-area face that a slicer would drop (opening a hole).
    """
    faces = faces.copy()
    for _ in range(len(faces)):
        p = vertices[faces]
        area = 0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1)
        slivers = np.flatnonzero(area <= min_area_mm2)
        if len(slivers) == 0:
            break
        k = slivers[0]
        f = faces[k]
        if len(set(f.tolist())) < 3:
            break  # two corners in one vertex: not this kind of sliver
        lengths = [np.linalg.norm(vertices[f[(i + 1) % 3]] - vertices[f[i]]) for i in range(3)]
        i = int(np.argmax(lengths))
        a, b, c = f[i], f[(i + 1) % 3], f[(i + 2) % 3]
        across = np.flatnonzero(((faces[:, 0] == b) & (faces[:, 1] == a)) | ((faces[:, 1] == b) & (faces[:, 2] == a))
                                | ((faces[:, 2] == b) & (faces[:, 0] == a)))
        if len(across) != 1:
            break
        n = faces[across[0]]
        j = int(np.flatnonzero(n == b)[0])
        d = n[(j + 2) % 3]  # the face is (b, a, d) up to rotation
        faces[across[0]] = (b, c, d)
        faces[k] = (c, a, d)
    return faces


def _merged(m3d, mesh: TriangleMesh, rounded: np.ndarray, step: str):
    """The mesh with vertices that coincide once rounded merged by the engine (None if it refuses)."""
    order = np.lexsort(rounded.T[::-1])
    same = np.all(rounded[order[1:]] == rounded[order[:-1]], axis=1)
    if not np.any(same):
        return None
    first = np.maximum.accumulate(np.where(np.r_[True, ~same], np.arange(len(order)), 0))
    target = order[first]
    moved = order != target
    # Fresh writable copies: the binding refuses read-only arrays.
    solid = m3d.Manifold(m3d.Mesh64(np.array(mesh.vertices, dtype=np.float64),
                                    np.array(mesh.faces, dtype=np.uint64),
                                    merge_from_vert=np.array(order[moved], dtype=np.uint64),
                                    merge_to_vert=np.array(target[moved], dtype=np.uint64)))
    if solid.status().name != "NoError" or solid.is_empty():
        return None
    return solid


def mesh_union(meshes: Sequence[TriangleMesh], *, step: str = "union") -> TriangleMesh:
    """Union of closed triangle meshes (validated), as a printable mesh."""
    solids = [to_manifold(m, step=f"{step}: operand {n + 1}") for n, m in enumerate(meshes)]
    return printable_mesh(union(solids, step=step), step=step)


def mesh_difference(mesh: TriangleMesh, cutters: Sequence[TriangleMesh], *, step: str = "difference") -> TriangleMesh:
    """mesh minus the cutters (all validated), as a printable mesh."""
    solid = to_manifold(mesh, step=f"{step}: operand 1")
    cut = [to_manifold(m, step=f"{step}: cutter {n + 1}") for n, m in enumerate(cutters)]
    return printable_mesh(difference(solid, cut, step=step), step=step)
