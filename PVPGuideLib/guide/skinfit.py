"""Fit the plate to the skin: plate frame, skin height field, inner (clearance) and outer (thickness) surfaces."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..core.mesh import TriangleMesh
from .errors import GuideError
from .frame import PlateFrame
from .heightfield import HeightGrid, envelope_at, upper_envelope

# Skin steeper than this (angle between its normal and the plate's outward axis) cannot carry the plate;
# below 60 degrees the plate's border (cut along the outward axis) never forms a knife edge.
MAX_SKIN_SLOPE_DEG = 55.0
# The plate may be this much thicker than nominal where the offset surface bridges a groove (mm),
# and the extra may change by at most this much per mm across the plate.
_MAX_EXTRA_THICKNESS_MM = 1.5
_EXTRA_SLOPE = 0.4
# The skin must cover this far beyond the plate's border: offsets near an open skin edge are not reliable.
SKIN_EDGE_MARGIN_MM = 1.0


@dataclass(frozen=True, eq=False)
class SkinFit:
    """The skin and the plate's two skin-parallel surfaces over one grid (plate-frame heights, mm).

    skin_height : (nv, nu) w of the skin, -inf where there is none; valid : (nv, nu) nodes with skin;
    steep : (nv, nu) valid nodes where the skin is too steep for the plate's border; inner / outer :
    (nv, nu) the surfaces at fit clearance and at clearance + thickness from the skin (exact on valid
    nodes, continued from the nearest valid node elsewhere).
    """

    frame: PlateFrame
    grid: HeightGrid
    skin_height: np.ndarray
    valid: np.ndarray
    steep: np.ndarray
    inner: np.ndarray
    outer: np.ndarray
    clearance_mm: float
    thickness_mm: float


def outward_normal(skin: TriangleMesh, entries: np.ndarray, targets: np.ndarray, *, radius_mm: float) -> np.ndarray:
    """Mean outward skin normal near the entry points (area weighted), pointing away from the targets.

    The sense is taken from the needle (it enters the body through the skin towards C), so a skin mesh
    oriented inside-out still gives the outward direction.
    """
    v = skin.vertices
    f = skin.faces
    centroid = v[f].mean(axis=1)
    near = np.zeros(len(f), dtype=bool)
    for a in entries:
        near |= np.linalg.norm(centroid - a, axis=1) <= radius_mm
    if not np.any(near):
        raise GuideError("skin", "no skin lies near the entry point A: A must be on the skin (the point where "
                                 "the needle path C->B leaves the body)")
    n = np.cross(v[f[near, 1]] - v[f[near, 0]], v[f[near, 2]] - v[f[near, 0]]).sum(axis=0)
    outward_hint = (entries - targets).mean(axis=0)
    if np.linalg.norm(n) < 1e-9:
        raise GuideError("skin", "the skin around A has no defined normal (degenerate triangles)")
    return n / np.linalg.norm(n) * (1.0 if np.dot(n, outward_hint) > 0 else -1.0)


def fit_skin(skin: TriangleMesh, frame: PlateFrame, *, lo_uv, hi_uv, spacing_mm: float, clearance_mm: float,
             thickness_mm: float, skin_orientation: float) -> SkinFit:
    """Height field of the skin over the (u, v) box lo..hi and the plate's inner and outer surfaces.

    skin_orientation : +1 when the skin's faces are counter-clockwise seen from outside, -1 otherwise;
    faces turned away from the plate (the far side of the body) are ignored.
    """
    grid = HeightGrid.covering(lo_uv, hi_uv, spacing_mm)
    local = frame.to_local(skin.vertices)
    faces = facing_faces(local, skin.faces, skin_orientation, grid, reach=clearance_mm + thickness_mm)
    if len(faces) == 0:
        raise GuideError("skin", "no skin faces the plate around the entry point")
    skin_height = upper_envelope(local, faces, grid, 0.0)
    inner = upper_envelope(local, faces, grid, clearance_mm)
    # The exact offset keeps the plate's thickness measured along the skin's normal, also on slopes.
    outer = upper_envelope(local, faces, grid, clearance_mm + thickness_mm)
    outer = _fill_from_nearest(outer, np.isfinite(outer))
    valid, steep = _valid_nodes(grid, skin_height, inner)
    if not np.any(valid):
        raise GuideError("skin", "the skin under the plate is missing or too steep everywhere")
    inner = _fill_from_nearest(inner, valid)
    # Over a narrow groove or next to something standing on the skin the offset surface bridges and the
    # plate would grow a thick keel with steep walls; keep its thickness within a little of the nominal.
    gv, gu = np.gradient(inner, grid.spacing)
    stretch = np.sqrt(1.0 + gu**2 + gv**2)  # vertical per normal distance on the local slope
    outer = np.minimum(outer, inner + (thickness_mm + _MAX_EXTRA_THICKNESS_MM) * stretch)
    outer = _fill_from_nearest(np.maximum(outer, inner + thickness_mm), valid)
    outer = inner + thickness_mm + _gentle(outer - inner - thickness_mm, grid.spacing)
    return SkinFit(frame, grid, skin_height, valid, steep, inner, outer, clearance_mm, thickness_mm)


def skin_height_at(skin: TriangleMesh, frame: PlateFrame, points: np.ndarray, *, skin_orientation: float) -> np.ndarray:
    """(n,) height w of the skin below each point's (u, v), -inf where the skin is missing."""
    local = frame.to_local(np.atleast_2d(points))
    faces = facing_faces(frame.to_local(skin.vertices), skin.faces, skin_orientation, None, reach=0.0,
                          near_uv=local[:, :2])
    return envelope_at(frame.to_local(skin.vertices), faces, local[:, :2], 0.0)


def facing_faces(local, faces, orientation, grid, *, reach, near_uv=None):
    """Faces turned towards +w (or side-on) whose (u, v) box reaches the grid or the given points."""
    p = local[faces]
    normal = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]) * orientation
    length = np.linalg.norm(normal, axis=1)
    facing = normal[:, 2] >= -0.05 * length
    lo, hi = p[:, :, :2].min(axis=1) - reach, p[:, :, :2].max(axis=1) + reach
    if grid is not None:
        g_lo = np.array([grid.u0, grid.v0])
        g_hi = g_lo + grid.spacing * np.array([grid.nu - 1, grid.nv - 1])
        near = np.all(hi >= g_lo, axis=1) & np.all(lo <= g_hi, axis=1)
    else:
        near = np.zeros(len(faces), dtype=bool)
        for q in near_uv:
            near |= np.all(hi >= q - 1e-6, axis=1) & np.all(lo <= q + 1e-6, axis=1)
    return faces[facing & near]


def _valid_nodes(grid: HeightGrid, skin_height: np.ndarray, inner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(valid, steep): nodes with skin below them (and their neighbours), and those of them where the
    skin is steeper than MAX_SKIN_SLOPE_DEG. The plate bridges steep spots; its border avoids them."""
    present = np.isfinite(skin_height) & np.isfinite(inner)
    valid = present & ndimage.binary_erosion(present, border_value=0)
    gv, gu = np.gradient(np.where(present, inner, 0.0), grid.spacing)
    steep = valid & (np.hypot(gu, gv) > np.tan(np.radians(MAX_SKIN_SLOPE_DEG)))
    return valid, steep


def tapered_to_border(fit: SkinFit, inside: np.ndarray) -> SkinFit:
    """The fit with the extra thickness (over grooves) run down to nothing at the plate's border.

    inside : (nv, nu) bool, grid nodes inside the plate's outline. A thicker rim would stand as a
    thin lip where the border cuts the outer surface.
    """
    from dataclasses import replace

    distance = ndimage.distance_transform_edt(inside) * fit.grid.spacing
    nominal = fit.inner + fit.thickness_mm
    extra = np.minimum(fit.outer - nominal, _EXTRA_SLOPE * np.maximum(distance - fit.grid.spacing, 0.0))
    return replace(fit, outer=nominal + np.maximum(extra, 0.0))


def _gentle(extra: np.ndarray, spacing: float) -> np.ndarray:
    """Extra thickness (>= 0) lowered until it changes by at most _EXTRA_SLOPE per mm: a step in the
    outer surface would leave a thin lip wherever the plate's border cuts it."""
    reach = int(np.ceil(np.max(extra) / (_EXTRA_SLOPE * spacing))) if np.max(extra) > 0 else 0
    reach = min(reach, 12)
    if reach == 0:
        return np.maximum(extra, 0.0)
    offsets = np.arange(-reach, reach + 1) * spacing
    cone = -_EXTRA_SLOPE * np.hypot(*np.meshgrid(offsets, offsets))
    return np.maximum(ndimage.grey_erosion(np.maximum(extra, 0.0), structure=cone, mode="nearest"), 0.0)


def _fill_from_nearest(field: np.ndarray, known: np.ndarray) -> np.ndarray:
    if np.all(known):
        return field
    index = ndimage.distance_transform_edt(~known, return_distances=False, return_indices=True)
    return field[tuple(index)]
