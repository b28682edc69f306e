"""A pedicle read at its isthmus: the narrowest section between the body and the lamina, its axis the line through
the middles of the rows along the pedicle there, and its width the chord across that axis.

Read on the whole vertebra, not the posterior elements alone: a body segmentation often takes the pedicle's
base, so the posterior elements alone show a pedicle only where it already flares into the transverse
process and the lamina (read 1.5-2.6 times too wide on 3 mm scans).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..core.geometry import SIDE_SIGN
from .canal import Canal
from .local_grid import LocalGrid
from .surfaces import LEVEL

# The isthmus is sought in this front fraction of the canal's depth (the laminae lie behind, and are thinner
# than a pedicle, so they must not be mistaken for its narrowest section).
ISTHMUS_ROWS_FRACTION = 0.6
# Each row and chord is read on planes this far (mm) above and below the pedicle's centre height, and the median
# taken: a lumbar or lower thoracic pedicle is 12-16 mm tall (SPEC section 9), so the planes stay in its core.
PLANE_OFFSETS_MM = (-2.0, -1.0, 0.0, 1.0, 2.0)
# Convergence angles accepted for the axis (degrees; positive towards the midline going forwards): the published
# T9-L5 range (about 0-30 degrees, Zindrick 1987) with room either side.
CONVERGENCE_RANGE_DEG = (-15.0, 45.0)
# Chords are followed this far either side of the isthmus centre (mm), sampled at half the grid step; rows this far
# out from the canal's centre line (past a wide L5 pedicle's lateral border).
CHORD_REACH_MM = 30.0
ROW_REACH_MM = 55.0
# Rows up to this factor of the isthmus width still show the pedicle alone; at least MIN_AXIS_ROWS of them
# give its axis.
FLARE = 1.25
MIN_AXIS_ROWS = 3
MIN_WIDTH_MM = 2.0


@dataclass(frozen=True)
class IsthmusReading:
    """The isthmus in local coordinates: centre point, the axis's slope (x = offset + slope * y, converging by
    convergence_deg), medial and lateral border points on the chord across the axis, width (mm) and height (mm,
    the vertical run of bone through the centre); axis_read: False when the axis was taken parallel to the
    anterior axis instead of read (coarse scans)."""

    centre: np.ndarray
    slope: float
    medial: np.ndarray
    lateral: np.ndarray
    width: float
    height: float
    convergence_deg: float
    axis_read: bool = True


def read_isthmus(grid: LocalGrid, vertebra: np.ndarray, canal: Canal, side: str, *, centre_z: float,
                 rise: float = 0.0, band_y: float = 0.0, parallel: bool = False) -> IsthmusReading | None:
    """The `side` pedicle's isthmus in the sampled whole vertebra (nx, ny, nz), or None when no run of bone
    beside the canal is found in front of the laminae.

    parallel: take the axis parallel to the anterior axis instead of reading it (coarse scans: on a pedicle
    three voxels wide and long the rows' middles step by half a voxel, 1.5 mm, so its direction is not
    readable); the width is then the row's.
    """
    s = SIDE_SIGN[side]
    y = grid.axis(1)
    rows = y[(y >= canal.front_y - ISTHMUS_ROWS_FRACTION * canal.depth) & (y <= canal.front_y)]
    if rows.size < 2:
        return None
    # Rows across the anterior axis, going out from the canal's centre line: the first run of bone.
    half = 0.5 * grid.step
    t = np.arange(0.0, ROW_REACH_MM, half)
    xs = canal.centre[0] + s * t
    widths, middles = [], []
    for row in rows:
        z = centre_z + rise * (row - band_y) + np.asarray(PLANE_OFFSETS_MM)
        points = np.stack(np.broadcast_arrays(xs[None, :], row, z[:, None]), axis=-1)
        runs = [_first_run(profile, t) for profile in _values(grid, vertebra, points)]
        found = [(a, b) for a, b in runs if np.isfinite(a)]
        widths.append(np.median([b - a for a, b in found]) if found else np.nan)
        middles.append(np.median([0.5 * (a + b) for a, b in found]) if found else np.nan)
    widths, middles = np.asarray(widths), np.asarray(middles)
    ok = np.isfinite(widths) & (widths >= MIN_WIDTH_MM)
    if not ok.any():
        return None
    # The isthmus: the narrowest row (smoothed over three rows, so that one row of voxel staircase does not
    # pick it). Rows run across the anterior axis, so a converging pedicle reads wider than it is: its width
    # is measured below, across its axis.
    smooth = np.convolve(np.pad(np.where(ok, widths, np.inf), 1, mode="edge"), np.ones(3) / 3.0, mode="valid")
    i = int(np.argmin(smooth))
    if not np.isfinite(smooth[i]):
        i = int(np.flatnonzero(ok)[np.argmin(widths[ok])])
    row = float(rows[i])
    centre = np.array([canal.centre[0] + s * middles[i], row, centre_z + rise * (row - band_y)])
    # The axis: the line through the middles of the rows along the pedicle, from the isthmus forwards and
    # backwards while the rows stay within FLARE of its width (wider rows reach into the body or a process,
    # whose bone would pull the middles sideways). A row's middle lies on the axis of a straight tube whatever
    # its direction; the chord across the axis hardly changes near it (1.5 % at 10 degrees), too little to read.
    along = _along_pedicle(widths, ok, i)
    if parallel:
        slope = 0.0
    elif along.size < MIN_AXIS_ROWS:
        return None
    else:
        slope = float(np.polyfit(rows[along], canal.centre[0] + s * middles[along], 1)[0])
    angle = float(np.degrees(np.arctan(-s * slope)))
    if not CONVERGENCE_RANGE_DEG[0] < angle < CONVERGENCE_RANGE_DEG[-1]:
        return None  # not a pedicle's axis
    across = _across(angle, s)
    width, (a, b) = _chord(grid, vertebra, centre, across)
    if not np.isfinite(width) or width < MIN_WIDTH_MM:
        return None
    ends = centre + np.array([a, b])[:, None] * across
    centre = ends.mean(axis=0)
    medial, lateral = (ends[1], ends[0]) if s < 0 else (ends[0], ends[1])
    height = _vertical_run(grid, vertebra, centre)
    return IsthmusReading(centre, float(slope), medial, lateral, float(width), float(height), angle,
                          axis_read=not parallel)


def _along_pedicle(widths: np.ndarray, ok: np.ndarray, i: int) -> np.ndarray:
    """Indices of the rows next to row i (both ways, contiguous) whose width stays within FLARE of row i's."""
    limit = FLARE * widths[i]
    good = ok & (widths <= limit)
    lo = i
    while lo - 1 >= 0 and good[lo - 1]:
        lo -= 1
    hi = i
    while hi + 1 < widths.size and good[hi + 1]:
        hi += 1
    return np.arange(lo, hi + 1)


def _across(convergence_deg: float, s: float) -> np.ndarray:
    """Unit vector in the axial plane across the pedicle axis of this convergence, pointing to +x (the right)."""
    a = np.radians(convergence_deg)
    return np.array([np.cos(a), s * np.sin(a), 0.0])


def _values(grid: LocalGrid, array: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Trilinear samples of a grid array at local points (..., 3); 0 outside the grid."""
    index = (points - grid.lower) / grid.step
    flat = index.reshape(-1, 3).T
    values = ndimage.map_coordinates(array, flat, order=1, cval=0.0, prefilter=False)
    return values.reshape(points.shape[:-1])


def _first_run(profile: np.ndarray, t: np.ndarray) -> tuple[float, float]:
    """Start and end (sub-sample) of the first run at or above LEVEL; NaN when none, or when it reaches the end."""
    inside = profile >= LEVEL
    if not inside.any() or inside[0]:
        return np.nan, np.nan
    start = int(np.argmax(inside))
    out = np.flatnonzero(~inside[start:])
    if out.size == 0:
        return np.nan, np.nan
    end = start + int(out[0])  # first outside sample after the run
    return _crossing(profile, t, start - 1, start), _crossing(profile, t, end - 1, end)


def _crossing(profile, t, i0: int, i1: int) -> float:
    v0, v1 = profile[i0], profile[i1]
    fraction = 0.0 if v0 == v1 else float(np.clip((LEVEL - v0) / (v1 - v0), 0.0, 1.0))
    return float(t[i0] + fraction * (t[i1] - t[i0]))


def _chord(grid: LocalGrid, vertebra: np.ndarray, centre: np.ndarray, across: np.ndarray):
    """Median length (over the planes) of the run of bone through the centre along `across`, and its ends."""
    t = np.arange(-CHORD_REACH_MM, CHORD_REACH_MM + 1e-9, 0.5 * grid.step)
    z = np.asarray(PLANE_OFFSETS_MM)
    points = centre + t[None, :, None] * across + z[:, None, None] * np.array([0.0, 0.0, 1.0])
    ends = [_run_through(profile, t) for profile in _values(grid, vertebra, points)]
    ends = np.array([e for e in ends if np.isfinite(e).all()])
    if ends.size == 0:
        return np.nan, (np.nan, np.nan)
    return float(np.median(ends[:, 1] - ends[:, 0])), (float(np.median(ends[:, 0])), float(np.median(ends[:, 1])))


def _run_through(profile: np.ndarray, t: np.ndarray) -> tuple[float, float]:
    """Ends of the run at or above LEVEL holding t = 0 (the middle sample); NaN when the middle is outside or the
    run reaches either end of the profile."""
    inside = profile >= LEVEL
    middle = len(profile) // 2
    if not inside[middle]:
        return np.nan, np.nan
    before = np.flatnonzero(~inside[:middle])
    after = np.flatnonzero(~inside[middle:])
    if before.size == 0 or after.size == 0:
        return np.nan, np.nan
    first_in, first_out = int(before[-1]) + 1, middle + int(after[0])
    return _crossing(profile, t, first_in - 1, first_in), _crossing(profile, t, first_out - 1, first_out)


def _vertical_run(grid: LocalGrid, vertebra: np.ndarray, centre: np.ndarray) -> float:
    """Height (mm) of the run of bone through the centre along the superior axis."""
    t = np.arange(-CHORD_REACH_MM, CHORD_REACH_MM + 1e-9, 0.5 * grid.step)
    points = centre + t[:, None] * np.array([0.0, 0.0, 1.0])
    a, b = _run_through(_values(grid, vertebra, points), t)
    return float(b - a) if np.isfinite(a) else float("nan")
