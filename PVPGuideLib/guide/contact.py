"""The plate's skin side: the skin patch itself moved out by the fit clearance, as a solid cut from the base."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.mesh import TriangleMesh
from .booleans import _manifold3d
from .features import points_inside
from .frame import PlateFrame
from .heightfield import envelope_at
from .topology import merge_identical_vertices, topology

# Faces must face the plate at least this much (cosine to w) for the patch to be a height field.
_MIN_FACING = 0.05


# Faces smaller than this (mm^2) are slivers of the iso-surface: their normal says nothing.
_SLIVER_MM2 = 0.05
# A vertex moves at most this many clearances (a mitre at a sharp crease would stand off further).
_MAX_MITRE = 1.25
# A vertex this far (mm) below the skin's top surface lies under something.
_HIDDEN_MM = 0.05


@dataclass(frozen=True, eq=False)
class ContactSurface:
    """solid : closed, below the offset skin patch (open shafts where the patch has holes);
    covered : CrossSection of the (u, v) plane where the patch carries the plate."""

    solid: TriangleMesh
    covered: object


def clearance_keepout(skin: TriangleMesh, frame: PlateFrame, region, *, clearance_mm: float, orientation: float,
                      depth_mm: float, entry_uv) -> tuple[ContactSurface | None, str]:
    """Closed solid below the skin patch over `region`, its top moved out by clearance_mm; or (None, why).

    The top is the skin's own triangles with each vertex moved to where the planes of its faces,
    each shifted by the clearance, meet (least squares): flat parts land exactly at the clearance and
    creases stay sharp, which a sampled offset cannot do at any practical grid. Faces that turn away
    from the plate or lie under another part of the skin (an object on the back, a fold) are left out;
    the plate gets a window there (the caller cuts it).
    """
    m3d = _manifold3d()
    local = frame.to_local(skin.vertices)
    inside = points_inside(region, local[:, :2])
    all_faces = skin.faces[inside[skin.faces].any(axis=1)]
    faces = skin.faces[inside[skin.faces].all(axis=1)]
    if len(faces) == 0:
        return None, "no skin faces inside the patch"
    # The iso-surface can hold several vertices at one position: one vertex each, so they move together.
    local, faces = merge_identical_vertices(local, faces)
    faces = faces[(faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 2] != faces[:, 0])]
    # Only the top surface carries the plate: drop faces turned away and faces with a vertex under the skin.
    top_height = envelope_at(frame.to_local(skin.vertices), all_faces, local[:, :2], 0.0)
    hidden = local[:, 2] < top_height - _HIDDEN_MM
    area = 0.5 * np.linalg.norm(np.cross(local[faces[:, 1]] - local[faces[:, 0]],
                                         local[faces[:, 2]] - local[faces[:, 0]]), axis=1)
    turned = (_facing(local, faces, orientation) <= _MIN_FACING) & (area > _SLIVER_MM2)
    faces = _component_under(local, faces[~turned & ~hidden[faces].any(axis=1)], entry_uv)
    if len(faces) == 0:
        return None, "the skin under the entry point does not face the plate"
    if orientation < 0:
        faces = faces[:, ::-1].copy()
    used = np.unique(faces.ravel())
    index = np.full(len(local), -1, dtype=np.int64)
    index[used] = np.arange(len(used))
    points, faces = local[used], index[faces]
    normal = _normals(points, faces)
    top = points + _kept_facing(points, faces, _mitred_offset(points, faces, normal, clearance_mm))
    solid = _extrude_down(top, faces, float(top[:, 2].min()) - depth_mm)
    topo = topology(solid.vertices, solid.faces)
    if not (topo.manifold and topo.consistently_oriented):
        return None, "the skin patch's border pinches"
    covered = m3d.CrossSection([tri for tri in top[faces][:, :, :2]], m3d.FillRule.Positive)
    return ContactSurface(solid, covered), ""


def _kept_facing(points, faces, move, *, rounds: int = 10) -> np.ndarray:
    """The moves, made equal on any tiny face they would turn over (a rigid shift keeps its facing)."""
    move = move.copy()
    for _ in range(rounds):
        bad = _facing(points + move, faces, 1.0) <= 0.5 * _MIN_FACING
        if not np.any(bad):
            break
        total = np.zeros_like(move)
        count = np.zeros(len(move))
        shared = np.repeat(move[faces[bad]].mean(axis=1), 3, axis=0)
        np.add.at(total, faces[bad].ravel(), shared)
        np.add.at(count, faces[bad].ravel(), 1.0)
        hit = count > 0
        move[hit] = total[hit] / count[hit, None]
    return move


def _facing(vertices, faces, orientation) -> np.ndarray:
    """Cosine between each face's outward normal and w; faces of no area (no normal) count as facing."""
    n = np.cross(vertices[faces[:, 1]] - vertices[faces[:, 0]], vertices[faces[:, 2]] - vertices[faces[:, 0]])
    length = np.linalg.norm(n, axis=1)
    return np.where(length > 1e-9, orientation * n[:, 2] / np.maximum(length, 1e-300), 1.0)


def _normals(vertices, faces) -> np.ndarray:
    n = np.cross(vertices[faces[:, 1]] - vertices[faces[:, 0]], vertices[faces[:, 2]] - vertices[faces[:, 0]])
    return n / np.maximum(np.linalg.norm(n, axis=1), 1e-300)[:, None]


def _component_under(local, faces, uv) -> np.ndarray:
    """The edge-connected piece of the patch holding the face under uv (else the largest piece)."""
    n_faces = len(faces)
    edges = np.sort(faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    key = edges[:, 0] * (int(faces.max()) + 1) + edges[:, 1]
    owner = np.repeat(np.arange(n_faces), 3)
    order = np.argsort(key, kind="stable")
    key, owner = key[order], owner[order]
    same = key[1:] == key[:-1]
    a, b = owner[:-1][same], owner[1:][same]
    parent = np.arange(n_faces)
    while len(a) and not np.array_equal(parent[a], parent[b]):
        lo = np.minimum(parent[a], parent[b])
        np.minimum.at(parent, a, lo)
        np.minimum.at(parent, b, lo)
        parent = parent[parent]
    p = local[faces]
    d = p[:, 1, :2] - p[:, 0, :2]
    e = p[:, 2, :2] - p[:, 0, :2]
    r = np.asarray(uv, dtype=float) - p[:, 0, :2]
    det = d[:, 0] * e[:, 1] - d[:, 1] * e[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        b1 = (r[:, 0] * e[:, 1] - r[:, 1] * e[:, 0]) / det
        b2 = (d[:, 0] * r[:, 1] - d[:, 1] * r[:, 0]) / det
    under = np.flatnonzero((b1 >= -1e-9) & (b2 >= -1e-9) & (b1 + b2 <= 1 + 1e-9))
    if len(under):
        root = parent[under[0]]
    else:
        root = np.bincount(parent).argmax()
    return faces[parent == root]


def _mitred_offset(points, faces_local, normal, clearance) -> np.ndarray:
    """(n, 3) per-vertex move that puts each incident face's plane at the clearance (least squares)."""
    n = len(points)
    area = 0.5 * np.linalg.norm(np.cross(points[faces_local[:, 1]] - points[faces_local[:, 0]],
                                         points[faces_local[:, 2]] - points[faces_local[:, 0]]), axis=1)
    weight = np.maximum(area, 1e-12)
    outer = np.einsum("i,ij,ik->ijk", weight, normal, normal)
    matrix = np.zeros((n, 3, 3))
    rhs = np.zeros((n, 3))
    mean = np.zeros((n, 3))
    for k in range(3):
        np.add.at(matrix, faces_local[:, k], outer)
        np.add.at(rhs, faces_local[:, k], weight[:, None] * clearance * normal)
        np.add.at(mean, faces_local[:, k], weight[:, None] * normal)
    mean /= np.maximum(np.linalg.norm(mean, axis=1), 1e-300)[:, None]
    # A little pull towards the mean-normal offset settles directions the faces leave free (flat parts).
    total = np.trace(matrix, axis1=1, axis2=2)[:, None, None]
    lam = 1e-3 * total
    matrix = matrix + lam * np.eye(3)
    rhs = rhs + lam[:, :, 0] * clearance * mean
    move = np.linalg.solve(matrix, rhs[:, :, None])[:, :, 0]
    # At a sharp convex crease the mitre stands off the crease by clearance / cos(half angle); a true
    # offset is round there. Shortening the move splits that error between the vertex and its faces.
    length = np.linalg.norm(move, axis=1)
    limit = _MAX_MITRE * clearance
    return move * np.minimum(1.0, limit / np.maximum(length, 1e-300))[:, None]


def _extrude_down(top: np.ndarray, faces: np.ndarray, bottom_w: float) -> TriangleMesh:
    """Closed solid: the patch on top, the same triangles flat at bottom_w, vertical walls at its border."""
    n = len(top)
    bottom = top.copy()
    bottom[:, 2] = bottom_w
    directed = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    key = directed[:, 0] * n + directed[:, 1]
    reverse = directed[:, 1] * n + directed[:, 0]
    border = directed[~np.isin(key, reverse)]
    p, q = border[:, 0], border[:, 1]
    walls = np.concatenate([np.column_stack([p, q + n, q]), np.column_stack([p, p + n, q + n])])
    return TriangleMesh(np.vstack([top, bottom]), np.concatenate([faces, faces[:, ::-1] + n, walls]))
