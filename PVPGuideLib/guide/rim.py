"""Rounded rim: the plate's outer edge along its border taken off by a fillet-shaped cutter (plate frame)."""

from __future__ import annotations

import numpy as np

from ..core.mesh import TriangleMesh
from .booleans import _manifold3d, to_manifold
from .sections import signed_area

# The fillet is an arc of the rim radius leaving the outer surface at START_DEG (crossing it, not touching it:
# a tangent cutter would leave slivers where the two nearly coincide) and turning down to END_DEG, then
# running straight at that slope to the border, where the plate's side wall stands.
START_DEG = 15.0
END_DEG = 60.0
# The arc is sampled every ARC_STEP_DEG (each facet of the fillet turns by that much), the border every
# BORDER_STEP_MM at most.
ARC_STEP_DEG = 7.5
BORDER_STEP_MM = 2.0
_ABOVE_MM = 2.0  # the cutter reaches this far above the outer surface
_OUTSIDE_MM = 0.05  # ... and this far outside the border (the side wall is not a face of both)
_PAST_MM, _CLEAR_MM = 0.3, 0.25  # its inner edge: this far past the radius, this high above the surface


def rim_drop(depth_mm: np.ndarray, radius_mm: float) -> np.ndarray:
    """How far below the outer surface the rounded rim lies at depth_mm inside the border (<= 0: untouched).

    The arc's centre sits radius_mm inside the border and radius_mm - lift below the outer surface, lift
    putting the arc's crossing with the outer surface at START_DEG.
    """
    r = float(radius_mm)
    s0, s1 = np.radians(START_DEG), np.radians(END_DEG)
    lift = r * (1.0 - np.cos(s0))
    d1 = r * (1.0 - np.sin(s1))  # where the arc reaches END_DEG
    d = np.asarray(depth_mm, dtype=float)
    on_arc = r - lift - np.sqrt(np.maximum(r * r - (r - np.clip(d, d1, r)) ** 2, 0.0))
    straight = r - lift - r * np.cos(s1) + (d1 - d) * np.tan(s1)
    return np.where(d < d1, straight, np.where(d <= r, on_arc, -lift))


def edge_drop(radius_mm: float) -> float:
    """How much lower than the outer surface the rim is at the border itself (mm)."""
    return float(rim_drop(np.array(0.0), radius_mm))


def rim_cutter(fit, outline, radius_mm: float, *, keep=None):
    """manifold3d solid to subtract from the plate: it rounds the outer edge along the outline's border.

    keep : CrossSection where the rim stays as it is (the sleeves' feet standing over the border). The
    cutter is the fillet's profile swept along each contour of the outline (windows too), its rings being
    the contour offset inwards with mitred corners; its floor follows the outer surface exactly as the
    plate's slab triangulates it. Returns (cutter or None, how many contours were left sharp because a ring
    would not be a simple polygon: a corner of the outline sharper than the fillet).
    """
    from .base import intersect

    m3d = _manifold3d()
    if radius_mm <= 0 or outline.is_empty():
        return None, 0
    depths, drops = _profile(radius_mm)
    pieces, sharp = [], 0
    for contour in outline.to_polygons():
        points = _resampled(np.asarray(contour, dtype=float), BORDER_STEP_MM)
        rings = [points + d * _inward_miters(points) for d in depths]
        if not all(_is_simple(r, points) for r in rings):
            sharp += 1
            continue
        floor = [_slab_heights(fit.outer, fit.grid, r[:, 0], r[:, 1]) - drop for r, drop in zip(rings, drops)]
        roof = [_slab_heights(fit.outer, fit.grid, r[:, 0], r[:, 1]) + _ABOVE_MM for r in (rings[-1], rings[0])]
        profile = [np.column_stack([r, h]) for r, h in zip(rings, floor)]
        profile += [np.column_stack([rings[-1], roof[0]]), np.column_stack([rings[0], roof[1]])]
        pieces.append(to_manifold(_swept(profile), step="rounded rim"))
    if not pieces:
        return None, sharp
    cutter = m3d.Manifold.batch_boolean(pieces, m3d.OpType.Add)
    if keep is not None and not keep.is_empty():
        lo, hi = np.asarray(cutter.bounding_box()).reshape(2, 3)[:, 2]
        cutter = cutter - m3d.Manifold.extrude(intersect(keep, outline.offset(1.0)), hi - lo + 2.0).translate(
            (0.0, 0.0, lo - 1.0))
    return (None if cutter.is_empty() else cutter), sharp


def _profile(radius_mm: float):
    """(depths inside the border, drops below the outer surface) where the cutter's floor is sampled: outside
    the border, where the straight part meets the arc, along the arc every ARC_STEP_DEG down to (not on)
    START_DEG, and last _PAST_MM past the radius and _CLEAR_MM above the outer surface, so the floor's
    last facet crosses the outer surface steeply enough that chords along the border cannot graze it."""
    r = float(radius_mm)
    angles = np.radians(np.arange(END_DEG, START_DEG, -ARC_STEP_DEG))
    depths = np.concatenate([[-_OUTSIDE_MM], r * (1.0 - np.sin(angles))])
    return np.append(depths, r + _PAST_MM), np.append(rim_drop(depths, r), -_CLEAR_MM)


def _resampled(contour: np.ndarray, step_mm: float) -> np.ndarray:
    """The closed polyline with extra points so that no edge is longer than step_mm."""
    nxt = np.roll(contour, -1, axis=0)
    counts = np.maximum(np.ceil(np.linalg.norm(nxt - contour, axis=1) / step_mm).astype(int), 1)
    edge = np.repeat(np.arange(len(contour)), counts)
    t = (np.arange(len(edge)) - np.repeat(np.cumsum(counts) - counts, counts)) / counts[edge]
    return contour[edge] + t[:, None] * (nxt - contour)[edge]


def _inward_miters(points: np.ndarray) -> np.ndarray:
    """(n, 2) per vertex: moving by d times it offsets both adjacent edges d into the region (on their left)."""
    nxt, prev = np.roll(points, -1, axis=0), np.roll(points, 1, axis=0)
    def left(e):
        e = e / np.linalg.norm(e, axis=1)[:, None]
        return np.column_stack([-e[:, 1], e[:, 0]])
    n_in, n_out = left(points - prev), left(nxt - points)
    bisector = n_in + n_out
    return bisector / np.maximum(np.einsum("ij,ij->i", bisector, n_out), 1e-3)[:, None]


def _is_simple(ring: np.ndarray, contour: np.ndarray) -> bool:
    """Whether the offset ring is a simple polygon turning the same way as its contour: it does not cross
    itself (its area is the same under both fill rules) nor turn inside out (a part narrower than twice
    the offset)."""
    m3d = _manifold3d()
    area = signed_area(ring)
    same_turn = area * signed_area(contour) > 0
    return same_turn and abs(m3d.CrossSection([ring], m3d.FillRule.NonZero).area() - abs(area)) < 1e-6 * max(abs(area), 1.0)


def _swept(profile) -> TriangleMesh:
    """Closed tube through rings profile[0..P-1] (each (n, 3), same n, in order around the profile)."""
    p, n = len(profile), len(profile[0])
    vertices = np.concatenate(profile)
    i = np.arange(n)
    faces = []
    for k in range(p):
        a, b = k * n + i, k * n + (i + 1) % n
        c, d = ((k + 1) % p) * n + (i + 1) % n, ((k + 1) % p) * n + i
        faces += [np.column_stack([a, b, c]), np.column_stack([a, c, d])]
    return TriangleMesh(vertices, np.concatenate(faces))


def _slab_heights(height: np.ndarray, g, uu: np.ndarray, vv: np.ndarray) -> np.ndarray:
    """Heights at (uu, vv) on the slab's own triangles: each grid cell split along its (i, j)-(i+1, j+1) diagonal."""
    x = np.clip((uu - g.u0) / g.spacing, 0.0, g.nu - 1 - 1e-9)
    y = np.clip((vv - g.v0) / g.spacing, 0.0, g.nv - 1 - 1e-9)
    i, j = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = x - i, y - j
    ha, hb = height[j, i], height[j, i + 1]
    hc, hd = height[j + 1, i + 1], height[j + 1, i]
    return np.where(fx >= fy, ha + fx * (hb - ha) + fy * (hc - hb), ha + fy * (hd - ha) + fx * (hc - hd))
