"""Test helper: lay a skin grid on a real CT's back (axis-aligned CT), as phantom_grid does on the phantom.

The back is the height field A(R, S) of the body's posterior skin (the -300 HU crossing, sub-voxel, per
column of voxels, smoothed over SMOOTH_VOXELS). A flat mat point (s, t) lies at the S reached by arc length
t along the back's profile at R0 (the centre's R), then at arc length s along that axial contour from R0:
the mat follows the back without stretching along both directions.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from PVPGuideLib.planning.skin import SKIN_THRESHOLD_HU, body_mask

STEP_MM = 0.25
SMOOTH_VOXELS = 2.0


class SkinHeightDrape:
    """Drape for PVPGuideLib.phantom.grid.burn_grid on an axis-aligned CT; flat (0, 0) at (centre R, centre S)."""

    def __init__(self, ct, centre_r: float, centre_s: float):
        direction = ct.direction
        if not np.allclose(np.abs(direction), np.eye(3), atol=1e-6):
            raise ValueError("SkinHeightDrape needs a CT whose axes are R, A, S (any signs)")
        hu = np.moveaxis(ct.voxels, (0, 1, 2), (2, 1, 0)).astype(float)  # (i, j, k)
        body = np.moveaxis(body_mask(ct), (0, 1, 2), (2, 1, 0))
        signs = np.sign(np.diag(direction))
        # Reorder so that index 0 is R, 1 is A, 2 is S, each increasing.
        for axis in range(3):
            if signs[axis] < 0:
                hu, body = np.flip(hu, axis), np.flip(body, axis)
        ras0 = ct.ijk_to_ras_points(np.where(signs > 0, 0, np.array(ct.shape_ijk) - 1)[None])[0]
        step = ct.spacing
        self.r = ras0[0] + step[0] * np.arange(hu.shape[0])
        self.s = ras0[2] + step[2] * np.arange(hu.shape[2])
        has = body.any(axis=1)
        first = np.argmax(body, axis=1)  # most posterior body voxel per (R, S)
        i, k = np.nonzero(has)
        j = first[i, k]
        inner = hu[i, j, k]
        outer = np.where(j > 0, hu[i, np.maximum(j - 1, 0), k], -1000.0)
        frac = np.clip((inner - SKIN_THRESHOLD_HU) / np.maximum(inner - outer, 1e-6), 0.0, 1.0)
        a = np.full(has.shape, np.nan)
        a[i, k] = ras0[1] + step[1] * (j - frac)
        # Columns beside the body (no skin) take the nearest skin's height: the mat would not reach there anyway.
        for kk in range(a.shape[1]):
            valid = np.isfinite(a[:, kk])
            if valid.any():
                a[:, kk] = np.interp(np.arange(a.shape[0]), np.flatnonzero(valid), a[valid, kk])
        # A mat is a sheet: it follows the back's shape, not the voxel-sized roughness of the measured skin
        # (which would add about 1 % of length on a 3 mm scan).
        self.a = ndimage.gaussian_filter(a, SMOOTH_VOXELS, mode="nearest")
        self.r0, self.s0 = float(centre_r), float(centre_s)
        self.fine_r = np.arange(self.r[0], self.r[-1], STEP_MM)
        self.fine_s = np.arange(self.s[0], self.s[-1], STEP_MM)
        profile = self._height(np.full_like(self.fine_s, self.r0), self.fine_s)
        ds = np.hypot(STEP_MM, np.diff(profile))
        t = np.concatenate([[0.0], np.cumsum(ds)])
        self.t_of_s = t - np.interp(self.s0, self.fine_s, t)

    def _height(self, r, s) -> np.ndarray:
        """Back's A at (R, S), bilinear between voxel columns (clamped to the CT)."""
        fi = np.clip((np.asarray(r) - self.r[0]) / (self.r[1] - self.r[0]), 0, len(self.r) - 1.000001)
        fk = np.clip((np.asarray(s) - self.s[0]) / (self.s[1] - self.s[0]), 0, len(self.s) - 1.000001)
        i0, k0 = fi.astype(int), fk.astype(int)
        wi, wk = fi - i0, fk - k0
        a = self.a
        return ((1 - wi) * (1 - wk) * a[i0, k0] + wi * (1 - wk) * a[i0 + 1, k0]
                + (1 - wi) * wk * a[i0, k0 + 1] + wi * wk * a[i0 + 1, k0 + 1])

    def _arc_along_r(self, s: float) -> np.ndarray:
        contour = self._height(self.fine_r, np.full_like(self.fine_r, s))
        arc = np.concatenate([[0.0], np.cumsum(np.hypot(STEP_MM, np.diff(contour)))])
        return arc - np.interp(self.r0, self.fine_r, arc)

    def skin(self, flat):
        flat = np.atleast_2d(flat)
        # Beyond the scan the mat goes on straight (its wires there are simply not burnt).
        s_values = _extended(flat[:, 1], self.t_of_s, self.fine_s)
        r_values = np.empty(len(flat))
        bins = np.rint(s_values / STEP_MM).astype(int)
        for b in np.unique(bins):
            members = bins == b
            r_values[members] = _extended(flat[members, 0], self._arc_along_r(b * STEP_MM), self.fine_r)
        a = self._height(r_values, s_values)
        e = 0.5
        da_dr = (self._height(r_values + e, s_values) - self._height(r_values - e, s_values)) / (2 * e)
        da_ds = (self._height(r_values, s_values + e) - self._height(r_values, s_values - e)) / (2 * e)
        normal = np.stack([da_dr, -np.ones_like(da_dr), da_ds], axis=1)
        normal /= np.linalg.norm(normal, axis=1, keepdims=True)
        return np.stack([r_values, a, s_values], axis=1), normal

    def to_flat(self, ras):
        ras = np.atleast_2d(ras)
        t = np.interp(ras[:, 2], self.fine_s, self.t_of_s)
        s = np.array([np.interp(p[0], self.fine_r, self._arc_along_r(round(p[2] / STEP_MM) * STEP_MM)) for p in ras])
        return np.stack([s, t], axis=1)


def _extended(x, xp, fp) -> np.ndarray:
    """np.interp, continued with slope one past either end (arc length = distance off the measured skin)."""
    out = np.interp(x, xp, fp)
    out = np.where(x < xp[0], fp[0] + (x - xp[0]), out)
    return np.where(x > xp[-1], fp[-1] + (x - xp[-1]), out)
