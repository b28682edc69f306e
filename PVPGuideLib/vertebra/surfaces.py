"""Sub-voxel surface positions in sampled masks (the 0.5 level of a trilinear mask) and robust fits."""

from __future__ import annotations

import numpy as np

from ..core.compat import strict_zip

# The boundary of a mask sampled trilinearly: halfway between an inside and an outside voxel centre.
LEVEL = 0.5


def column_surfaces(values: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Highest and lowest crossing of LEVEL in every column of a (nx, ny, nz) array; NaN where none.

    z : (nz,) increasing sample positions. The crossing is interpolated between the last inside
    sample and its outside neighbour.
    """
    inside = values >= LEVEL
    has = inside.any(axis=2)
    nz = values.shape[2]
    top_k = nz - 1 - np.argmax(inside[:, :, ::-1], axis=2)
    bottom_k = np.argmax(inside, axis=2)
    step = z[1] - z[0]
    top = _refine(values, top_k, +1, z, step)
    bottom = _refine(values, bottom_k, -1, z, step)
    top[~has] = np.nan
    bottom[~has] = np.nan
    return top, bottom


def _refine(values, k, direction: int, z, step):
    nz = values.shape[2]
    neighbour = np.clip(k + direction, 0, nz - 1)
    v0 = np.take_along_axis(values, k[..., None], axis=2)[..., 0]
    v1 = np.take_along_axis(values, neighbour[..., None], axis=2)[..., 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where(v0 > v1, (v0 - LEVEL) / (v0 - v1), 0.0)
    fraction = np.where(neighbour == k, 0.0, np.clip(fraction, 0.0, 1.0))
    return z[k] + direction * step * fraction


def first_rise(profiles: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """(m,) position where each profile of (m, n) values first reaches LEVEL; NaN if it starts inside or never does."""
    inside = profiles >= LEVEL
    first = np.argmax(inside, axis=1)
    rows = np.arange(len(profiles))
    valid = inside.any(axis=1) & (first > 0)
    before = np.maximum(first - 1, 0)
    v0, v1 = profiles[rows, before], profiles[rows, first]
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.clip((LEVEL - v0) / (v1 - v0), 0.0, 1.0)
    result = positions[before] + fraction * (positions[first] - positions[before])
    result[~valid] = np.nan
    return result


def fit_plane(x: np.ndarray, y: np.ndarray, z: np.ndarray, *, rounds: int = 3,
              min_tolerance: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """z = c0 + c1 x + c2 y by least squares, dropping points beyond 3 robust sigmas (at least min_tolerance mm).

    Returns the coefficients and the inlier mask. Real endplates are concave and have osteophytes at the
    rim: the trimming keeps the plane on the bulk of the surface.
    """
    keep = np.isfinite(z)
    design = np.stack([np.ones_like(x), x, y], axis=1)
    coefficients = np.zeros(3)
    for _ in range(rounds):
        coefficients, *_ = np.linalg.lstsq(design[keep], z[keep], rcond=None)
        residual = z - design @ coefficients
        sigma = 1.4826 * np.median(np.abs(residual[keep]))
        keep = np.isfinite(z) & (np.abs(residual) <= max(3.0 * sigma, min_tolerance))
    return coefficients, keep


def fit_common_slope(ys, xs, *, tolerance: float, max_slope: float = 0.7, min_points: int = 3):
    """Lines x = offset[g] + slope * y, one per group of points, sharing one slope; robust to points off them.

    ys, xs : sequences of (n_g,) arrays, one pair per group. A Hough-style search over slopes picks the slope
    whose per-group densest offsets gather the most points within `tolerance` (groups with fewer than
    `min_points` there do not count); then least squares on those inliers, twice. Fitting many groups at once
    (the same border seen at several heights) dithers away the staircase of the voxel grid.
    Returns (slope, offsets (G,) NaN for groups without a line, inliers list) or None when no group has one.
    """
    ys = [np.asarray(v, dtype=float) for v in ys]
    xs = [np.asarray(v, dtype=float) for v in xs]
    best_slope = None
    for candidates in (np.arange(-max_slope, max_slope + 1e-9, 0.01), None):
        if candidates is None:  # refine around the coarse winner
            candidates = best_slope + np.arange(-0.01, 0.01 + 1e-9, 0.001)
        score = np.zeros(candidates.size)
        for y, x in strict_zip(ys, xs):
            counts = _densest_counts(x[None, :] - candidates[:, None] * y[None, :], tolerance)
            score += np.where(counts >= min_points, counts, 0)
        if score.max() <= 0:
            return None
        best_slope = float(candidates[int(np.argmax(score))])
    if best_slope is None:
        return None
    slope = best_slope
    offsets = np.array([_densest_offset(x - slope * y, tolerance)[1] for y, x in strict_zip(ys, xs)])
    for _ in range(2):
        inliers = [np.abs(x - slope * y - o) <= tolerance for y, x, o in strict_zip(ys, xs, offsets)]
        used = [g for g, keep in enumerate(inliers) if keep.sum() >= min_points]
        if not used:
            return None
        rows, rhs = [], []
        for column, g in enumerate(used):
            keep = inliers[g]
            block = np.zeros((int(keep.sum()), 1 + len(used)))
            block[:, 0] = ys[g][keep]
            block[:, 1 + column] = 1.0
            rows.append(block)
            rhs.append(xs[g][keep])
        solution, *_ = np.linalg.lstsq(np.concatenate(rows), np.concatenate(rhs), rcond=None)
        slope = float(solution[0])
        offsets = np.full(len(ys), np.nan)
        offsets[used] = solution[1:]
    inliers = [np.isfinite(o) & (np.abs(x - slope * y - o) <= tolerance) for y, x, o in strict_zip(ys, xs, offsets)]
    return slope, offsets, inliers


def _densest_counts(offsets: np.ndarray, tolerance: float) -> np.ndarray:
    """(m,) for each row of (m, n) values: the most values within a window 2 * tolerance wide."""
    if offsets.shape[1] == 0:
        return np.zeros(offsets.shape[0], dtype=int)
    ordered = np.sort(offsets, axis=1)
    counts = np.ones(ordered.shape, dtype=int)
    for shift in range(1, ordered.shape[1]):
        close = ordered[:, shift:] - ordered[:, :-shift] <= 2.0 * tolerance
        if not close.any():
            break
        counts[:, :-shift] += close
    return counts.max(axis=1)


def _densest_offset(offsets: np.ndarray, tolerance: float) -> tuple[int, float]:
    """The most points within +-tolerance of one value, and the mean of those points."""
    if offsets.size == 0:
        return 0, 0.0
    ordered = np.sort(offsets)
    ends = np.searchsorted(ordered, ordered + 2.0 * tolerance, side="right")
    counts = ends - np.arange(ordered.size)
    start = int(np.argmax(counts))
    window = ordered[start:ends[start]]
    return int(counts[start]), float(window.mean())


def values_at_heights(values: np.ndarray, z: np.ndarray, heights) -> np.ndarray:
    """(nx, ny) samples of a (nx, ny, nz) array at height heights[x, y] (or one height), linear along z."""
    heights = np.broadcast_to(np.asarray(heights, dtype=float), values.shape[:2])
    k = (heights - z[0]) / (z[1] - z[0])
    k0 = np.clip(np.floor(k).astype(int), 0, values.shape[2] - 1)
    k1 = np.clip(k0 + 1, 0, values.shape[2] - 1)
    w = np.clip(k - k0, 0.0, 1.0)
    v0 = np.take_along_axis(values, k0[..., None], axis=2)[..., 0]
    v1 = np.take_along_axis(values, k1[..., None], axis=2)[..., 0]
    return (1.0 - w) * v0 + w * v1
