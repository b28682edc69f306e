"""Joint least-squares fit of both wire families (one angle, two offsets, one spacing) to the wire points."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares


@dataclass(frozen=True)
class LatticeFit:
    """normals (2, 2): unit normal of each family; origins (2,); spacing; residuals (mm) of the points used."""

    normals: np.ndarray
    origins: np.ndarray
    spacing: float
    rms_mm: float
    max_mm: float
    points_used: int
    outliers: int


def _normals(angle: float) -> np.ndarray:
    n = np.array([np.cos(angle), np.sin(angle)])
    return np.stack([n, np.array([-n[1], n[0]])])


def fit_lattice(flat: np.ndarray, angle_deg: float, origins, spacing: float, seen, tolerance_mm: float) -> LatticeFit:
    """Refine a two-family lattice. seen: per family the lattice indices of the wires present.

    Points within tolerance of one family's seen wire and not of the other's (crossings are shared) are that
    family's; the rest are outliers. Two passes: assignment, fit, reassignment, fit.
    """
    params = np.array([np.radians(angle_deg), origins[0], origins[1], spacing], float)
    seen = [np.asarray(sorted(s)) for s in seen]
    for _ in range(2):
        normals = _normals(params[0])
        proj = flat @ normals.T
        index, near = [], []
        for f in range(2):
            k = np.rint((proj[:, f] - params[1 + f]) / params[3]).astype(int)
            residual = proj[:, f] - params[1 + f] - k * params[3]
            index.append(k)
            near.append((np.abs(residual) <= tolerance_mm) & np.isin(k, seen[f]))
        members = [near[0] & ~near[1], near[1] & ~near[0]]

        def residuals(x, members=members, index=index):
            n = _normals(x[0])
            return np.concatenate([flat[members[f]] @ n[f] - x[1 + f] - index[f][members[f]] * x[3] for f in range(2)])

        params = least_squares(residuals, params, method="lm", x_scale=np.array([0.01, 1.0, 1.0, 1.0])).x
    final = residuals(params)
    used = int(members[0].sum() + members[1].sum())
    outliers = int((~(near[0] | near[1])).sum())
    return LatticeFit(_normals(params[0]), params[1:3].copy(), float(params[3]), float(np.sqrt(np.mean(final**2))),
                      float(np.abs(final).max()), used, outliers)
