"""Plate features: spinous-process ridge or groove with tip marks, marker sockets and the engraved label."""

from __future__ import annotations

import numpy as np

from ..core.compat import strict_zip
from .base import circle, conformal_solid, rectangle
from .booleans import _manifold3d
from .font import text_outline
from .skinfit import SkinFit

# Features keep this far from the plate's border and from each other (mm).
FEATURE_MARGIN_MM = 2.0
# A raised feature sinks this far into the base so the union is one solid without coincident faces.
_EMBED_MM = 0.5
# An engraving's cutter reaches this far above the outer surface.
_CUT_CLEARANCE_MM = 1.0


def midline_centerline(fit: SkinFit, plane_point, plane_normal) -> np.ndarray:
    """(k, 2) polyline in (u, v): where the midsagittal plane crosses the plate's outer surface, one point per grid row."""
    g = fit.grid
    p = fit.frame.to_local(plane_point)
    n = fit.frame.vectors_to_local(plane_normal)
    n = n / np.linalg.norm(n)
    uu, vv = np.meshgrid(g.u, g.v)
    signed = (uu - p[0]) * n[0] + (vv - p[1]) * n[1] + (fit.outer - p[2]) * n[2]
    points = []
    for j in range(g.nv):
        row = signed[j]
        cross = np.flatnonzero(np.sign(row[:-1]) != np.sign(row[1:]))
        if len(cross) == 0:
            continue
        # Of several crossings (a wavy surface), the one nearest the plane's own trace is the midline.
        i = cross[np.argmin(np.abs(g.u[cross] - p[0]))]
        t = row[i] / (row[i] - row[i + 1])
        points.append((g.u[i] + t * g.spacing, g.v[j]))
    return np.asarray(points, dtype=float).reshape(-1, 2)


def polyline_region(points: np.ndarray, width_mm: float, *, every: int = 4):
    """CrossSection of a polyline thickened to width_mm (square segments, round joints)."""
    m3d = _manifold3d()
    pts = points[::every]
    if len(points) and not np.array_equal(pts[-1], points[-1]):
        pts = np.vstack([pts, points[-1]])
    pieces = []
    for a, b in strict_zip(pts[:-1], pts[1:]):
        d = b - a
        length = float(np.hypot(*d))
        if length < 1e-9:
            continue
        pieces.append(rectangle(0.5 * (a + b), (length, width_mm), np.arctan2(d[1], d[0])))
        pieces.append(circle(b, 0.5 * width_mm))
    if not pieces:
        return m3d.CrossSection()
    pieces.append(circle(pts[0], 0.5 * width_mm))
    return m3d.CrossSection.batch_boolean(pieces, m3d.OpType.Add)


def tick_regions(centerline: np.ndarray, tips_local: np.ndarray, *, length_mm: float, width_mm: float) -> list:
    """Short bars across the midline feature at each spinous-process tip's cranio-caudal level."""
    regions = []
    if len(centerline) < 2:
        return regions
    for tip in np.atleast_2d(tips_local):
        if not (centerline[0, 1] <= tip[1] <= centerline[-1, 1]):
            continue
        u = float(np.interp(tip[1], centerline[:, 1], centerline[:, 0]))
        regions.append(rectangle((u, tip[1]), (length_mm, width_mm)))
    return regions


def union_2d(regions):
    m3d = _manifold3d()
    regions = [r for r in regions if not r.is_empty()]
    return m3d.CrossSection.batch_boolean(regions, m3d.OpType.Add) if regions else m3d.CrossSection()


def printable_region(region, inside, away_from, *, min_width_mm: float):
    """region within `inside`, clear of `away_from`, without slivers narrower than min_width_mm.

    Clipping leaves sharp wedges where a strip crosses a border at an angle; an opening (shrink, then
    grow back) by just over half the minimum width removes every part narrower than that width.
    """
    m3d = _manifold3d()
    region = m3d.CrossSection.batch_boolean([region, inside], m3d.OpType.Intersect)
    for other in away_from:
        region = region - other
    r = 0.5 * min_width_mm + 0.1
    return region.offset(-r, m3d.JoinType.Round, 2.0, 0).offset(r, m3d.JoinType.Round, 2.0, 0).simplify(1e-3)


def raised_feature(fit: SkinFit, region, *, height_mm: float, step: str):
    """A feature standing height_mm proud of the outer surface over region."""
    return conformal_solid(fit, region, fit.outer - _EMBED_MM, fit.outer + height_mm, step=step)


def engraving(fit: SkinFit, region, *, depth_mm: float, step: str):
    """A cutter that removes depth_mm below the outer surface over region."""
    return conformal_solid(fit, region, fit.outer - depth_mm, fit.outer + _CUT_CLEARANCE_MM, step=step)


def socket_cutters(fit: SkinFit, markers_local: np.ndarray, *, radius_mm: float) -> list:
    """Through-holes (along the plate's outward axis) that seat and show each skin marker."""
    m3d = _manifold3d()
    cutters = []
    z_lo = float(np.min(fit.inner)) - 10.0
    z_hi = float(np.max(fit.outer)) + 10.0
    for marker in np.atleast_2d(markers_local):
        disc = circle(marker[:2], radius_mm)
        cutters.append(m3d.Manifold.extrude(disc, z_hi - z_lo).translate((0.0, 0.0, z_lo)))
    return cutters


def footprint(solid):
    """CrossSection: the solid's shadow on the (u, v) plane (convex hull of its vertices)."""
    m3d = _manifold3d()
    points = np.asarray(solid.to_mesh().vert_properties)[:, :2].astype(float)
    return m3d.CrossSection.hull_points(points)


def place_label(text: str, free_region, *, preferred_uv, height_mm: float, stroke_mm: float, gap_mm: float,
                search_step_mm: float = 1.0):
    """The engraved text positioned inside free_region nearest preferred_uv, or None when it does not fit.

    Tries the text running along u (left to right seen from outside, superior up) and then along v.
    Deterministic: candidates are ordered by distance to preferred_uv, ties by orientation then position.
    """
    m3d = _manifold3d()
    outline, (width, box_height) = text_outline(text, height_mm=height_mm, stroke_mm=stroke_mm, gap_mm=gap_mm)
    if outline.is_empty() or free_region.is_empty():
        return None
    # A box fits only if its centre lies at least half its height inside the region: prefilter on that.
    core = free_region.offset(-0.5 * box_height, m3d.JoinType.Round, 2.0, 0)
    if core.is_empty():
        return None
    u_lo, v_lo, u_hi, v_hi = core.bounds()
    cu, cv = np.meshgrid(np.arange(u_lo, u_hi + 1e-9, search_step_mm), np.arange(v_lo, v_hi + 1e-9, search_step_mm))
    centres = np.column_stack([cu.ravel(), cv.ravel()])
    centres = centres[points_inside(core, centres)]
    order = np.argsort(np.round(np.linalg.norm(centres - np.asarray(preferred_uv)[:2], axis=1), 6), kind="stable")
    shifted = outline.translate((-0.5 * width, -0.5 * box_height))
    for angle in (0.0, 0.5 * np.pi):
        for k in order:
            if (rectangle(centres[k], (width, box_height), angle) - free_region).area() < 1e-9:
                c, s = np.cos(angle), np.sin(angle)
                return shifted.transform(np.array([[c, -s, centres[k][0]], [s, c, centres[k][1]]]))
    return None


def points_inside(region, points: np.ndarray) -> np.ndarray:
    """(n,) bool: points inside the CrossSection (even-odd rule over its contours).

    Points outside the region's bounding box are rejected first; the rest are tested against all
    edges at once, in chunks.
    """
    points = np.atleast_2d(np.asarray(points, dtype=float))
    inside = np.zeros(len(points), dtype=bool)
    contours = [np.asarray(c, dtype=float) for c in region.to_polygons()]
    if not contours or len(points) == 0:
        return inside
    a = np.concatenate(contours)
    b = np.concatenate([np.roll(c, -1, axis=0) for c in contours])
    lo, hi = a.min(axis=0), a.max(axis=0)
    candidates = np.flatnonzero(np.all((points >= lo) & (points <= hi), axis=1))
    dy = b[:, 1] - a[:, 1]
    slope = np.divide(b[:, 0] - a[:, 0], dy, out=np.zeros_like(dy), where=dy != 0)
    chunk = max(1, 2_000_000 // max(len(a), 1))
    for start in range(0, len(candidates), chunk):
        idx = candidates[start:start + chunk]
        x, y = points[idx, 0:1], points[idx, 1:2]
        crosses = (a[None, :, 1] > y) != (b[None, :, 1] > y)
        x_at = a[None, :, 0] + (y - a[None, :, 1]) * slope[None, :]
        inside[idx] = (np.count_nonzero(crosses & (x < x_at), axis=1) % 2) == 1
    return inside
