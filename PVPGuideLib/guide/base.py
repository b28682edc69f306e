"""The skin-conforming base: the patch outline on the skin, solids that follow the skin, the skin keep-out."""

from __future__ import annotations

import numpy as np

from ..core.compat import strict_zip
from .booleans import _manifold3d, intersection, to_manifold
from .errors import GuideError
from .skinfit import SKIN_EDGE_MARGIN_MM, SkinFit
from .slab import heightfield_solid

# Outline features narrower than twice this are removed (an opening): no thin tongues of plate.
_OUTLINE_OPENING_MM = 2.0
_CIRCLE_SEGMENTS = 64
# The border keeps this far from steep skin (mm), but never cuts nearer an entry point than this.
_BORDER_BAND_MM = 3.0
_ENTRY_KEEP_MM = 8.0


def circle(centre, radius_mm: float):
    m3d = _manifold3d()
    return m3d.CrossSection.circle(float(radius_mm), _CIRCLE_SEGMENTS).translate(tuple(np.asarray(centre, float)[:2]))


def rectangle(centre, size, angle_rad: float = 0.0):
    """Rectangle of size (along, across) centred on centre, its long side rotated by angle_rad from +u."""
    m3d = _manifold3d()
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    half = 0.5 * np.asarray(size, dtype=float)
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * half
    corners = corners @ np.array([[c, s], [-s, c]]) + np.asarray(centre, dtype=float)[:2]
    return m3d.CrossSection([corners])


def desired_outline(discs):
    """Convex hull of discs [(centre_uv, radius_mm), ...]: the patch the plate should cover."""
    m3d = _manifold3d()
    return m3d.CrossSection.batch_hull([circle(c, r) for c, r in discs])


def valid_region(fit: SkinFit):
    """CrossSection of the grid cells whose four nodes carry skin, shrunk by the skin-edge margin."""
    return cells_region(fit, fit.valid, every=True).offset(
        -(SKIN_EDGE_MARGIN_MM + fit.clearance_mm + fit.thickness_mm), _manifold3d().JoinType.Miter, 2.0,
        0).simplify(1e-3)


def cells_region(fit: SkinFit, mask: np.ndarray, *, every: bool):
    """CrossSection of the grid cells whose four nodes (every=True) or any node (every=False) are in mask."""
    m3d = _manifold3d()
    v = mask
    if every:
        cells = v[:-1, :-1] & v[:-1, 1:] & v[1:, :-1] & v[1:, 1:]
    else:
        cells = v[:-1, :-1] | v[:-1, 1:] | v[1:, :-1] | v[1:, 1:]
    g = fit.grid
    contours = []
    for j in range(cells.shape[0]):
        row = np.concatenate([[False], cells[j], [False]])
        starts = np.flatnonzero(~row[:-1] & row[1:])
        stops = np.flatnonzero(row[:-1] & ~row[1:])
        y0, y1 = g.v0 + j * g.spacing, g.v0 + (j + 1) * g.spacing
        for a, b in strict_zip(starts, stops):
            x0, x1 = g.u0 + a * g.spacing, g.u0 + b * g.spacing
            contours.append(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]))
    if not contours:
        return m3d.CrossSection()
    return m3d.CrossSection(contours, m3d.FillRule.Positive)


def patch_outline(desired, fit: SkinFit, *, must_contain_uv, step: str = "base outline"):
    """The plate's outline: the desired patch where the skin can carry it, without thin necks.

    Keeps the connected pieces that hold the entry points; an entry point outside them is an error.
    """
    m3d = _manifold3d()
    region = m3d.CrossSection.batch_boolean([desired, valid_region(fit)], m3d.OpType.Intersect)
    return _clean_pieces(_clear_of_steep(region, fit, must_contain_uv), must_contain_uv, step)


def _clear_of_steep(region, fit: SkinFit, entries_uv):
    """The region with windows (and a trimmed border) around spots of steep skin.

    Steep skin inside a plate is something standing on the back or a fold: wrapped by the plate it
    would become a thin-walled spike, and a border cut along the plate's axis on steep skin leaves a
    knife edge. The plate keeps _BORDER_BAND_MM clear of them instead, except around the entry points,
    where the sleeves stand.
    """
    if not np.any(fit.steep):
        return region
    return region - (cells_region(fit, fit.steep, every=False).offset(_BORDER_BAND_MM) - entry_discs(entries_uv))


def entry_discs(entries_uv):
    """Discs around the entry points where the plate is never windowed (the sleeves stand there)."""
    m3d = _manifold3d()
    return m3d.CrossSection.batch_boolean([circle(p, _ENTRY_KEEP_MM) for p in np.atleast_2d(entries_uv)],
                                          m3d.OpType.Add)


def intersect_solid(a, b):
    m3d = _manifold3d()
    return m3d.Manifold.batch_boolean([a, b], m3d.OpType.Intersect)


def intersect(a, b):
    m3d = _manifold3d()
    return m3d.CrossSection.batch_boolean([a, b], m3d.OpType.Intersect)


def _clean_pieces(region, must_contain_uv, step: str):
    m3d = _manifold3d()
    region = region.offset(-_OUTLINE_OPENING_MM, m3d.JoinType.Round, 2.0, 0).offset(
        _OUTLINE_OPENING_MM, m3d.JoinType.Round, 2.0, 0).simplify(1e-3)
    pieces = region.decompose()
    keep = []
    for point in np.atleast_2d(must_contain_uv):
        probe = circle(point, 0.05)
        holders = [p for p in pieces if (probe - p).area() < 1e-9]
        if not holders:
            raise GuideError(step, "the skin around the entry point A cannot carry the plate (skin missing, "
                                   "turned away or steeper than the limit there, or A lies at the edge of the "
                                   "scanned skin)")
        keep.extend(h for h in holders if not any(h is k for k in keep))
    return m3d.CrossSection.batch_boolean(keep, m3d.OpType.Add)


def prism_ready(region, grid, *, nudge_mm: float = 1e-3):
    """The region's outline cleaned for extrusion against a height-field slab.

    2D offsets can leave near-duplicate points and zero-width spikes; extruded, a spike is a
    zero-thickness fin. Both are removed. And a prism edge passing exactly through an edge of the slab
    is a degenerate intersection that can leave a zero-thickness fold, so vertices within nudge_mm/10
    of a grid line or cell diagonal are moved nudge_mm across it (far below print resolution).
    """
    m3d = _manifold3d()
    contours = []
    for contour in region.to_polygons():
        p = _without_spikes(np.asarray(contour, dtype=float))
        if len(p) < 3:
            continue
        eps = 0.1 * nudge_mm / grid.spacing
        for axis, coord in ((0, lambda q: q[:, 0] - grid.u0), (1, lambda q: q[:, 1] - grid.v0),
                            (0, lambda q: (q[:, 0] - grid.u0) - (q[:, 1] - grid.v0))):
            c = coord(p) / grid.spacing
            close = np.abs(c - np.round(c)) < eps
            p[close, axis] += nudge_mm
        p = _without_spikes(p)  # a nudge can land a point on its neighbour
        if len(p) >= 3:
            contours.append(p)
    return m3d.CrossSection(contours, m3d.FillRule.Positive) if contours else m3d.CrossSection()


def _without_spikes(p: np.ndarray, *, min_edge_mm: float = 1e-3) -> np.ndarray:
    """Drop near-duplicate points and points where the outline turns straight back on itself."""
    while len(p) >= 3:
        prev, nxt = np.roll(p, 1, axis=0), np.roll(p, -1, axis=0)
        a, b = p - prev, nxt - p
        la, lb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
        duplicate = la < min_edge_mm
        with np.errstate(invalid="ignore", divide="ignore"):
            reverse = np.einsum("ij,ij->i", a, b) / (la * lb) < -0.9999
        bad = duplicate | reverse
        if not np.any(bad):
            break
        p = p[~(bad & (np.cumsum(bad) == 1))]  # one at a time: removing a point changes its neighbours
    return p


def conformal_solid(fit: SkinFit, region, lower: np.ndarray, upper: np.ndarray, *, step: str):
    """{lower <= w <= upper} over the CrossSection `region` of the (u, v) plane (plate frame)."""
    m3d = _manifold3d()
    if region.is_empty():
        return None
    region = prism_ready(region, fit.grid)
    u_lo, v_lo, u_hi, v_hi = region.bounds()
    g = fit.grid
    window = g.window([u_lo - g.spacing, v_lo - g.spacing], [u_hi + g.spacing, v_hi + g.spacing])
    i0, i1, j0, j1 = window
    if (u_lo < g.u0 or v_lo < g.v0 or u_hi > g.u0 + g.spacing * (g.nu - 1) or v_hi > g.v0 + g.spacing * (g.nv - 1)):
        raise GuideError(step, "the feature reaches beyond the skin grid; enlarge the patch")
    mesh = heightfield_solid(g, lower, upper, window=window, step=step)
    slab = to_manifold(mesh, step=step)
    z_lo = float(np.min(np.broadcast_to(lower, (g.nv, g.nu))[j0:j1 + 1, i0:i1 + 1])) - 1.0
    z_hi = float(np.max(np.broadcast_to(upper, (g.nv, g.nu))[j0:j1 + 1, i0:i1 + 1])) + 1.0
    prism = m3d.Manifold.extrude(region, z_hi - z_lo).translate((0.0, 0.0, z_lo))
    return intersection(slab, prism, step=step, allow_empty=True)


def keepout_solid(fit: SkinFit, region, *, depth_mm: float):
    """Everything from depth_mm below the sampled inner surface up to it, over region."""
    return conformal_solid(fit, region, fit.inner - depth_mm, fit.inner, step="skin keep-out")
