"""The skin under a grid as a smooth height field over a plane, and its flattening to on-skin millimetres.

A grid mat lies on the skin without stretching, so distances along the skin are the grid's own. The
patch is a height h(p, q) = f(p) + g(q) over its plane (f a cubic spline with knots every KNOT_STEP_MM,
local enough to follow a back's curve without a polynomial's swings; g a quadratic), with p along the
direction the skin curves most (across the back) and q across it; (p, q) map to on-skin coordinates
(P, Q) by arc length along each axis. For a skin curved about one axis (a cylinder, the usual back)
this is exact; for a doubly curved skin the error grows with the product of the two slopes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import BSpline

from .errors import GridError

# Arc-length tables are sampled this finely (mm); linear interpolation between samples is exact to ~1e-4 mm.
TABLE_STEP_MM = 0.25
# The tables reach this far beyond the fitted points, and extrapolate linearly past that.
TABLE_MARGIN_MM = 150.0
# Knots of the across-the-back spline: a back's curve changes over a few centimetres.
KNOT_STEP_MM = 20.0


@dataclass(frozen=True, eq=False)
class SkinPatch:
    """centre, p_axis, q_axis, normal (outward) in RAS; f, g: height profiles (scipy BSpline) along p and q."""

    centre: np.ndarray
    p_axis: np.ndarray
    q_axis: np.ndarray
    normal: np.ndarray
    f: BSpline
    g: BSpline
    p_range: tuple
    q_range: tuple

    def __post_init__(self):
        object.__setattr__(self, "_p_table", _arc_table(self.f, self.p_range))
        object.__setattr__(self, "_q_table", _arc_table(self.g, self.q_range))

    @classmethod
    def flat(cls, origin, u_axis, v_axis) -> SkinPatch:
        """A plane through origin spanned by u (p) and v (q): on-skin coordinates are plane coordinates."""
        return cls(np.asarray(origin, float), np.asarray(u_axis, float), np.asarray(v_axis, float),
                   np.cross(u_axis, v_axis), _zero(), _zero(), (-1.0, 1.0), (-1.0, 1.0))

    def local(self, ras) -> np.ndarray:
        rel = np.atleast_2d(np.asarray(ras, float)) - self.centre
        return np.stack([rel @ self.p_axis, rel @ self.q_axis, rel @ self.normal], axis=1)

    def flatten(self, ras) -> tuple[np.ndarray, np.ndarray]:
        """(n, 2) on-skin coordinates (P, Q) mm, and (n,) height above the fitted skin (mm, outward)."""
        p, q, h = self.local(ras).T
        flat = np.stack([_apply(self._p_table, p), _apply(self._q_table, q)], axis=1)
        return flat, h - self.f(p) - self.g(q)

    def unflatten(self, flat) -> np.ndarray:
        """(n, 2) on-skin coordinates -> (n, 3) RAS points on the fitted skin."""
        flat = np.atleast_2d(np.asarray(flat, float))
        p = _apply(self._p_table[::-1], flat[:, 0])
        q = _apply(self._q_table[::-1], flat[:, 1])
        h = self.f(p) + self.g(q)
        return self.centre + np.outer(p, self.p_axis) + np.outer(q, self.q_axis) + np.outer(h, self.normal)

    def tangent(self, flat_point, flat_direction) -> np.ndarray:
        """The RAS unit vector along the skin at flat_point that the on-skin direction flat_direction maps to."""
        d = np.asarray(flat_direction, float) * 0.05
        a, b = self.unflatten(np.stack([np.asarray(flat_point) - d, np.asarray(flat_point) + d]))
        v = b - a
        return v / np.linalg.norm(v)

    def to_json(self) -> dict:
        return {"centre": self.centre.tolist(), "p_axis": self.p_axis.tolist(), "q_axis": self.q_axis.tolist(),
                "normal": self.normal.tolist(),
                "f": {"knots": self.f.t.tolist(), "coefficients": self.f.c.tolist(), "degree": int(self.f.k)},
                "g": {"knots": self.g.t.tolist(), "coefficients": self.g.c.tolist(), "degree": int(self.g.k)}}


def _zero() -> BSpline:
    return BSpline(np.array([-1.0, -1.0, 1.0, 1.0]), np.zeros(2), 1)


def _arc_table(profile: BSpline, extent) -> tuple[np.ndarray, np.ndarray]:
    """(x, arc length from 0 to x) of the curve y = profile(x), for x over extent plus a margin; 0 at x = 0."""
    lo = min(extent[0], 0.0) - TABLE_MARGIN_MM
    hi = max(extent[1], 0.0) + TABLE_MARGIN_MM
    x = np.arange(np.floor(lo / TABLE_STEP_MM), np.ceil(hi / TABLE_STEP_MM) + 1) * TABLE_STEP_MM
    slope = profile.derivative()(x)
    speed = np.sqrt(1.0 + slope**2)
    s = np.concatenate([[0.0], np.cumsum(0.5 * (speed[1:] + speed[:-1]) * np.diff(x))])
    s -= np.interp(0.0, x, s)
    return x, s


def _apply(table, values) -> np.ndarray:
    """Interpolate through a monotonic table; beyond it, continue along the end slopes."""
    x, y = table
    out = np.interp(values, x, y)
    lo, hi = values < x[0], values > x[-1]
    out[lo] = y[0] + (values[lo] - x[0]) * (y[1] - y[0]) / (x[1] - x[0])
    out[hi] = y[-1] + (values[hi] - x[-1]) * (y[-1] - y[-2]) / (x[-1] - x[-2])
    return out


def fit_patch(points, outward) -> SkinPatch:
    """Fit the skin patch to (n, 3) RAS points lying on it; `outward` is a rough direction away from the body."""
    pts = np.asarray(points, float)
    if len(pts) < 20:
        raise GridError(f"only {len(pts)} grid points: too few to fit the skin under the grid")
    centre = pts.mean(axis=0)
    rel = pts - centre
    _, vectors = np.linalg.eigh(rel.T @ rel)
    normal = vectors[:, 0] * (1.0 if vectors[:, 0] @ outward >= 0 else -1.0)
    e1 = np.cross(normal, vectors[:, 2])
    e1 = np.cross(e1, normal)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(normal, e1)
    x, y, h = rel @ e1, rel @ e2, rel @ normal
    quadratic = np.linalg.lstsq(np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=1), h, rcond=None)[0]
    hessian = np.array([[2 * quadratic[3], quadratic[4]], [quadratic[4], 2 * quadratic[5]]])
    values, axes = np.linalg.eigh(hessian)
    most = axes[:, int(np.argmax(np.abs(values)))]
    p_axis = most[0] * e1 + most[1] * e2
    right = np.array([1.0, 0.0, 0.0])
    if p_axis @ right < 0 or (abs(p_axis @ right) < 1e-9 and p_axis @ np.array([0, 0, 1.0]) < 0):
        p_axis = -p_axis
    q_axis = np.cross(normal, p_axis)
    p, q = rel @ p_axis, rel @ q_axis
    f_knots = _knots(p, 3, max(1, int(np.ceil(np.ptp(p) / KNOT_STEP_MM))))
    g_knots = _knots(q, 2, 1)
    a = BSpline.design_matrix(np.clip(p, f_knots[3], f_knots[-4]), f_knots, 3).toarray()
    b = BSpline.design_matrix(np.clip(q, g_knots[2], g_knots[-3]), g_knots, 2).toarray()
    # g is fixed to 0 at q = 0 so the two profiles do not trade a constant.
    at_zero = BSpline.design_matrix(np.clip([0.0], g_knots[2], g_knots[-3]), g_knots, 2).toarray()[0]
    design = np.concatenate([a, b - at_zero], axis=1)
    coeffs = np.linalg.lstsq(design, h, rcond=None)[0]
    n = a.shape[1]
    f = BSpline(f_knots, coeffs[:n], 3, extrapolate=True)
    # B-splines sum to one, so shifting every coefficient by g's value at 0 gives the fitted g(q) - g(0).
    g = BSpline(g_knots, coeffs[n:] - float(coeffs[n:] @ at_zero), 2, extrapolate=True)
    return SkinPatch(centre, p_axis, q_axis, normal, f, g, (float(p.min()), float(p.max())),
                     (float(q.min()), float(q.max())))


def _knots(x: np.ndarray, degree: int, pieces: int) -> np.ndarray:
    """Clamped knots splitting x's range into equal pieces."""
    inner = np.linspace(x.min(), x.max(), pieces + 1)
    return np.concatenate([[inner[0]] * degree, inner, [inner[-1]] * degree])
