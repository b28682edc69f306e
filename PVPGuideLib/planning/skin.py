"""Skin: the patient's body surface from a CT, and skin entry A found by extending C->B to it."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..core.geometry import as_point, unit
from ..core.iso_surface import iso_surface
from ..core.mesh import TriangleMesh
from ..core.volume import CTVolume
from ..errors import PVPGuideError

# Air is about -1000 HU and fat about -100 HU; -300 HU sits between them and tolerates partial volume
# at the skin, so the iso-surface lies on the air/skin boundary.
SKIN_THRESHOLD_HU = -300.0
# Everything outside the field of view counts as air for the surface, so it closes at the CT's border.
AIR_HU = -1000.0


class SkinError(PVPGuideError):
    """No usable body surface in the CT."""


@dataclass(frozen=True, eq=False)
class SkinSurface:
    """The body surface (closed at the CT's border) and the body mask it came from.

    mesh : outward-oriented triangles in RAS mm; body_mask : (K, J, I) bool on the CT grid.
    """

    mesh: TriangleMesh
    body_mask: np.ndarray
    ct: CTVolume
    threshold_hu: float


def body_mask(ct: CTVolume, *, threshold_hu: float = SKIN_THRESHOLD_HU) -> np.ndarray:
    """(K, J, I) bool: the largest connected region above the threshold, its internal gas filled."""
    above = ct.voxels > threshold_hu
    labels, count = ndimage.label(above)
    if count == 0:
        raise SkinError(f"no body found: no voxel is above {threshold_hu:g} HU; is this a CT in Hounsfield units?")
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    largest = labels == int(np.argmax(sizes))  # argmax takes the first of equal sizes: deterministic
    # Lungs and bowel gas open to the border of the field of view escape a 3D fill; a per-slice fill catches them.
    filled = ndimage.binary_fill_holes(largest)
    for k in range(filled.shape[0]):
        filled[k] = ndimage.binary_fill_holes(filled[k])
    return filled


def skin_surface(ct: CTVolume, *, threshold_hu: float = SKIN_THRESHOLD_HU) -> SkinSurface:
    """Iso-surface of the CT at the skin threshold, restricted to the body (other objects, e.g. the table, removed).

    The surface is extracted from the HU values themselves, so it lies at sub-voxel precision on the
    air/skin boundary rather than on a voxel staircase.
    """
    mask = body_mask(ct, threshold_hu=threshold_hu)
    field = ct.voxels.astype(np.float32)
    field[~mask & (field > threshold_hu)] = AIR_HU  # other objects: not skin
    field[mask & (field <= threshold_hu)] = threshold_hu + 100.0  # internal gas: no inner surfaces
    mesh = iso_surface(field, ct.ijk_to_ras, threshold_hu, outside_value=AIR_HU)
    if mesh is None:
        raise SkinError("the skin surface is empty: the CT holds no air/skin boundary")
    if _signed_volume(mesh) < 0:
        mesh = TriangleMesh(mesh.vertices, mesh.faces[:, ::-1].copy())
    return SkinSurface(mesh, mask, ct, float(threshold_hu))


def _signed_volume(mesh: TriangleMesh) -> float:
    v0, v1, v2 = (mesh.vertices[mesh.faces[:, n]] for n in range(3))
    return float(np.einsum("ij,ij->i", v0, np.cross(v1, v2)).sum() / 6.0)


class SkinEntryStatus(enum.Enum):
    FOUND = "found"
    SKIN_NOT_IN_FIELD_OF_VIEW = "skin_not_in_field_of_view"
    NO_SKIN_CROSSING = "no_skin_crossing"


@dataclass(frozen=True, eq=False)
class SkinEntry:
    """Result of extending C->B to the skin; point is None unless status is FOUND."""

    status: SkinEntryStatus
    point: np.ndarray | None
    message: str


def find_skin_entry(skin: SkinSurface, b, c) -> SkinEntry:
    """A: where the line from C through B, continued beyond B, leaves the body through the skin.

    The first crossing of the body surface beyond B is taken. A crossing at the border of the field of
    view is not skin: the result then says the skin is not in the field of view.
    """
    b, c = as_point(b, "B"), as_point(c, "C")
    outward = unit(b - c, "the path C->B (B equals C)")
    ct = skin.ct
    if not _inside_body(skin, b):
        return SkinEntry(SkinEntryStatus.NO_SKIN_CROSSING, None,
                         "B lies outside the body surface, so the path C->B meets no skin behind B; "
                         "check B (it should be on bone) and the skin threshold")
    lo, hi = ct.bounds_ras()
    reach = 2.0 * float(np.linalg.norm(hi - lo)) + float(np.max(ct.spacing)) * 4
    hits = _ray_hits(skin.mesh, b, b + reach * outward)
    if len(hits) == 0:
        return SkinEntry(SkinEntryStatus.NO_SKIN_CROSSING, None,
                         "the path C->B, continued beyond B, never crosses the body surface")
    point = hits[0]
    ijk = ct.ras_to_ijk_points(point)[0]
    size = np.asarray(ct.shape_ijk, dtype=float)
    # The surface was closed with air just outside the field of view: a hit there is the CT's border.
    if np.any(ijk < 0.0) or np.any(ijk > size - 1.0):
        return SkinEntry(SkinEntryStatus.SKIN_NOT_IN_FIELD_OF_VIEW, None,
                         "the skin behind B is not in the CT's field of view: the path reaches the border of "
                         "the scan while still inside the body; A cannot be found (B and C are kept)")
    return SkinEntry(SkinEntryStatus.FOUND, point, "A found on the skin")


def _inside_body(skin: SkinSurface, point: np.ndarray) -> bool:
    ijk = np.rint(skin.ct.ras_to_ijk_points(point)[0]).astype(int)
    i, j, k = ijk
    kk, jj, ii = skin.body_mask.shape
    if not (0 <= i < ii and 0 <= j < jj and 0 <= k < kk):
        return False
    return bool(skin.body_mask[k, j, i])


def _ray_hits(mesh: TriangleMesh, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """(n, 3) intersections of the segment start->end with the mesh, nearest first (vectorised Moller-Trumbore)."""
    direction = end - start
    v0 = mesh.vertices[mesh.faces[:, 0]]
    e1 = mesh.vertices[mesh.faces[:, 1]] - v0
    e2 = mesh.vertices[mesh.faces[:, 2]] - v0
    p = np.cross(direction, e2)
    det = np.einsum("ij,ij->i", e1, p)
    ok = np.abs(det) > 1e-12
    inv = np.zeros_like(det)
    inv[ok] = 1.0 / det[ok]
    s = start - v0
    u = np.einsum("ij,ij->i", s, p) * inv
    q = np.cross(s, e1)
    v = (q @ direction) * inv
    t = np.einsum("ij,ij->i", e2, q) * inv
    # Closed edges (>= 0, <= 1) so a ray through a shared edge or vertex is never lost between triangles.
    eps = 1e-9
    hit = ok & (u >= -eps) & (v >= -eps) & (u + v <= 1 + eps) & (t > eps) & (t <= 1)
    ts = np.unique(np.round(t[hit], 12))  # a hit on a shared edge is reported once
    return start + ts[:, None] * direction
