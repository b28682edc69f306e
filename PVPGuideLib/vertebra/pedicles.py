"""Each pedicle in a local grid: centre height, medial and lateral border lines, axis and isthmus."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.geometry import SIDE_SIGN
from .canal import Canal
from .errors import VertebraError
from .isthmus import IsthmusReading, read_isthmus
from .local_grid import LocalGrid
from .surfaces import column_surfaces, first_rise, fit_common_slope, values_at_heights

# Behind the posterior wall, over this fraction of the canal's depth, the bone beside the canal is the
# pedicle alone (laminae, articular and transverse processes start further back): its height is read there.
HEIGHT_BAND_FRACTION = 0.4
# The borders are read on this many planes spread over this fraction of the pedicle's height each side of
# its centre: each plane sees the grid's staircase at another phase, so together they locate the borders
# to a fraction of a voxel.
EDGE_PLANES = 9
EDGE_SPAN_FRACTION = 0.4
# Edge points farther than this from the fitted border lines belong to the lamina, a transverse process
# or the body's rounded corner; the floor covers the staircase of the voxel grid.
MIN_EDGE_TOLERANCE_MM = 0.35
EDGE_TOLERANCE_PER_VOXEL = 0.3
WIDTH_RANGE_MM = (2.0, 40.0)
# Pedicle axes converge towards the midline by about 0-30 degrees from T12 to L5 (Zindrick 1987); a fit
# outside this range followed a process or the canal's rounded corner, not the pedicle.
CONVERGENCE_RANGE_DEG = (-15.0, 45.0)
# Above this voxel size (geometric mean, mm) a pedicle is a few voxels wide: its borders are read at its
# narrowest row (planes within NARROW_PLANES_MM of its centre height averaged).
COARSE_VOXEL_MM = 1.5
NARROW_PLANES_MM = 2.5
# The pedicle joins the body: its narrowest row is sought in this front fraction of the canal's depth (the
# thin laminae lie behind), and rows narrower than MIN_NARROW_WIDTH_MM are gaps in the mask, not a pedicle.
NARROW_ROWS_FRACTION = 0.6
NARROW_BODY_GAP_MM = 2.0
MIN_NARROW_WIDTH_MM = 4.0
# Columns at least this fraction of the tallest pass through the pedicle's core (shorter ones graze its
# rounded edges or a neighbouring process).
TALL_COLUMN_FRACTION = 0.5


@dataclass(frozen=True)
class Pedicle:
    """One pedicle in local coordinates: border lines x = offset + slope * y at the centre height.

    The medial and lateral borders are parallel to the pedicle axis (their common direction); the isthmus
    is where the pedicle is narrowest between them. centre_z is the centre height at the isthmus; the
    centre rises by `rise` mm per mm forwards (the pedicle's tilt in the frame, e.g. when a wedge fracture
    tilts the endplates but not the posterior elements).
    """

    side: str
    centre_z: float
    height: float
    slope: float
    rise: float
    medial_offset: float
    lateral_offset: float
    isthmus_y: float
    medial_points: int
    lateral_points: int
    method: str = "border lines"

    def border_x(self, which: str, y):
        offset = self.medial_offset if which == "medial" else self.lateral_offset
        return offset + self.slope * np.asarray(y, dtype=float)

    def border_point(self, which: str) -> np.ndarray:
        """Local point of the medial or lateral border at the isthmus, on the pedicle's centre height."""
        return np.array([float(self.border_x(which, self.isthmus_y)), self.isthmus_y, self.centre_z])

    @property
    def axis_point(self) -> np.ndarray:
        return 0.5 * (self.border_point("medial") + self.border_point("lateral"))

    def centre_height(self, y):
        """Local z of the pedicle's centre at y."""
        return self.centre_z + self.rise * (np.asarray(y, dtype=float) - self.isthmus_y)

    @property
    def direction(self) -> np.ndarray:
        """Local unit vector along the pedicle in the axial plane, pointing anteriorly."""
        d = np.array([self.slope, 1.0, 0.0])
        return d / np.linalg.norm(d)

    @property
    def axis_direction(self) -> np.ndarray:
        """Local unit vector along the pedicle including its tilt, pointing anteriorly."""
        d = np.array([self.slope, 1.0, self.rise])
        return d / np.linalg.norm(d)

    @property
    def width(self) -> float:
        """Isthmus width across the pedicle (perpendicular to its axis), mm."""
        return abs(self.lateral_offset - self.medial_offset) / float(np.hypot(1.0, self.slope))

    @property
    def convergence_deg(self) -> float:
        """Angle of the axis to the anterior axis in the axial plane, positive when it converges to the midline."""
        return float(np.degrees(np.arctan(-SIDE_SIGN[self.side] * self.slope)))


def find_pedicle(grid: LocalGrid, posterior: np.ndarray, canal: Canal, side: str, *, voxel_mm: float,
                 rise: float = 0.0, level: str = "", vertebra: np.ndarray | None = None) -> Pedicle:
    """The `side` pedicle from the sampled posterior elements (nx, ny, nz) and the canal.

    Its borders are traced on planes across its height: on each, the first bone going out from the canal's
    centre (medial) and coming in from the side (lateral), row by row along the anterior axis. On CTs with
    voxels up to COARSE_VOXEL_MM, one slope is fitted to all of them (the pedicle axis), one offset per plane
    and border; the offsets, smoothed over the planes by a parabola, give the borders at the centre height,
    where the pedicle is widest. On coarser CTs, or when that fit is implausible, the pedicle is read at its
    isthmus in the whole vertebra (isthmus.py; when `vertebra` is given), else at the posterior elements'
    narrowest row (see _narrowest_section).
    """
    s = SIDE_SIGN[side]
    name = f"{level + ' ' if level else ''}{side} pedicle"
    x, y, z = grid.axis(0), grid.axis(1), grid.axis(2)
    centre_z, height, band_y = _centre_height(grid, posterior, canal, s, name)
    rows = np.flatnonzero((y >= canal.back_y) & (y <= canal.front_y))
    if rows.size < 3:
        raise VertebraError(f"{name}: the canal is too shallow to trace the pedicle beside it")
    ix = int(np.argmin(np.abs(x - canal.centre[0])))
    # Medial border: first bone going out from the canal's centre; lateral: first bone coming in from the side.
    outward = np.arange(ix, x.size) if s > 0 else np.arange(ix, -1, -1)
    inward = outward[::-1]
    ys = y[rows]
    heights = np.linspace(-EDGE_SPAN_FRACTION, EDGE_SPAN_FRACTION, EDGE_PLANES) * height
    edges = []  # per plane: (medial, lateral) x of each row, NaN where not found
    for dz in heights:
        section = values_at_heights(posterior, z, centre_z + rise * (y[None, :] - band_y) + dz)
        edges.append(tuple(first_rise(section[start][:, rows].T, x[start]) for start in (outward, inward)))
    lines = None
    if voxel_mm <= COARSE_VOXEL_MM:
        lines = _border_lines(ys, edges, heights, s, max(MIN_EDGE_TOLERANCE_MM, EDGE_TOLERANCE_PER_VOXEL * voxel_mm))
    method = "border lines"
    if lines is None and vertebra is not None:
        reading = read_isthmus(grid, vertebra, canal, side, centre_z=centre_z, rise=rise, band_y=band_y,
                               parallel=voxel_mm > COARSE_VOXEL_MM)
        if reading is not None:
            return pedicle_at_isthmus(reading, side, rise, height)
    if lines is None:
        # Not the last rows before the body: there the pedicle's base flares into the body and the body
        # label cuts it, which looks narrow.
        front = (ys >= canal.front_y - NARROW_ROWS_FRACTION * canal.depth) & (ys <= canal.front_y - max(
            NARROW_BODY_GAP_MM, voxel_mm))
        lines = _narrowest_section(ys[front], [(m[front], lat[front]) for m, lat in edges], heights, s)
        method = "narrowest section"
    if lines is None:
        raise VertebraError(f"{name}: its medial and lateral borders could not be traced beside the canal; check that "
                            "the pedicle is in the segmentation and the field of view")
    slope, medial_offset, lateral_offset, isthmus_y, points = lines
    width = abs(lateral_offset - medial_offset) / np.hypot(1.0, slope)
    if not WIDTH_RANGE_MM[0] <= width <= WIDTH_RANGE_MM[1] or s * (lateral_offset - medial_offset) <= 0:
        raise VertebraError(f"{name}: traced borders {width:.1f} mm apart, outside the {WIDTH_RANGE_MM[0]:g}-"
                            f"{WIDTH_RANGE_MM[1]:g} mm of a pedicle; check the segmentation")
    centre_at_isthmus = centre_z + rise * (isthmus_y - band_y)
    return Pedicle(side, float(centre_at_isthmus), float(height), float(slope), float(rise), float(medial_offset),
                   float(lateral_offset), float(isthmus_y), points[0], points[1], method)


def isthmus_pedicle(grid: LocalGrid, posterior: np.ndarray, vertebra: np.ndarray, canal: Canal, side: str, *,
                    rise: float = 0.0, level: str = "") -> Pedicle | None:
    """The `side` pedicle read at its isthmus in the whole vertebra (isthmus.py); None when it cannot be read."""
    name = f"{level + ' ' if level else ''}{side} pedicle"
    centre_z, height, band_y = _centre_height(grid, posterior, canal, SIDE_SIGN[side], name)
    reading = read_isthmus(grid, vertebra, canal, side, centre_z=centre_z, rise=rise, band_y=band_y)
    return None if reading is None else pedicle_at_isthmus(reading, side, rise, height)


def pedicle_at_isthmus(reading: IsthmusReading, side: str, rise: float, height: float) -> Pedicle:
    """The Pedicle of an isthmus reading: border lines parallel to its axis through the chord's ends."""
    slope = reading.slope
    medial_offset = float(reading.medial[0] - slope * reading.medial[1])
    lateral_offset = float(reading.lateral[0] - slope * reading.lateral[1])
    measured_height = reading.height if np.isfinite(reading.height) else height
    method = "isthmus" if reading.axis_read else "isthmus, axis parallel to the anterior axis (coarse scan)"
    return Pedicle(side, float(reading.centre[2]), float(measured_height), float(slope), float(rise), medial_offset,
                   lateral_offset, float(reading.centre[1]), 1, 1, method)


def _plausible(slope: float, s: float) -> bool:
    convergence = np.degrees(np.arctan(-s * slope))
    return CONVERGENCE_RANGE_DEG[0] <= convergence <= CONVERGENCE_RANGE_DEG[1]


def _border_lines(ys, edges, heights, s: float, tolerance: float):
    """Common-slope fit of all planes' borders; None when it fails or gives an implausible pedicle."""
    groups_y, groups_x = [], []
    for medial, lateral in edges:
        for edge in (medial, lateral):
            ok = np.isfinite(edge)
            groups_y.append(ys[ok])
            groups_x.append(edge[ok])
    limit = np.tan(np.radians(max(abs(a) for a in CONVERGENCE_RANGE_DEG)))
    fit = fit_common_slope(groups_y, groups_x, tolerance=tolerance, max_slope=limit)
    if fit is None:
        return None
    slope, offsets, inliers = fit
    medial_offset = _at_centre(heights, offsets[0::2], [k.sum() for k in inliers[0::2]])
    lateral_offset = _at_centre(heights, offsets[1::2], [k.sum() for k in inliers[1::2]])
    if medial_offset is None or lateral_offset is None or not _plausible(slope, s):
        return None
    centre = int(np.argmin(np.abs(heights)))
    isthmus_y = _isthmus(groups_y[2 * centre], groups_x[2 * centre], inliers[2 * centre],
                         groups_y[2 * centre + 1], groups_x[2 * centre + 1], inliers[2 * centre + 1], s, tolerance)
    if not np.isfinite(isthmus_y):
        return None
    points = (int(sum(k.sum() for k in inliers[0::2])), int(sum(k.sum() for k in inliers[1::2])))
    return slope, medial_offset, lateral_offset, isthmus_y, points


def _narrowest_section(ys, edges, heights, s: float):
    """Borders through the pedicle's narrowest row (mean of the planes near its centre height), parallel to the
    anterior axis: the reading a coarse CT supports. A pedicle a few voxels wide shows no reliable direction
    (fits followed the transverse process or the canal's rounded corner by 20 degrees and more on 3 mm CTs)."""
    near = [k for k, dz in enumerate(heights) if abs(dz) <= NARROW_PLANES_MM] or [int(np.argmin(np.abs(heights)))]
    with np.errstate(invalid="ignore"):
        medial = np.nanmean([edges[k][0] for k in near], axis=0)
        lateral = np.nanmean([edges[k][1] for k in near], axis=0)
    width = s * (lateral - medial)
    ok = np.isfinite(width) & (width >= MIN_NARROW_WIDTH_MM)
    if not ok.any():
        return None
    narrowest = np.min(width[ok])
    i = int(np.flatnonzero(ok & (width == narrowest))[-1])  # the front-most of equal rows: nearest the body
    return 0.0, float(medial[i]), float(lateral[i]), float(ys[i]), (int(ok.sum()), int(ok.sum()))


def _at_centre(heights, offsets, counts) -> float | None:
    """Offset at the centre height: a parabola through the planes' offsets (weighted by their points)."""
    offsets, counts = np.asarray(offsets, dtype=float), np.asarray(counts, dtype=float)
    ok = np.isfinite(offsets) & (counts > 0)
    if ok.sum() == 0:
        return None
    if ok.sum() < 4:
        return float(offsets[ok][np.argmin(np.abs(heights[ok]))])
    coefficients = np.polyfit(heights[ok], offsets[ok], 2, w=np.sqrt(counts[ok]))
    return float(np.polyval(coefficients, 0.0))


def _centre_height(grid: LocalGrid, posterior: np.ndarray, canal: Canal, s: float, name: str):
    """Median mid-height and 90th-percentile height of the bone columns beside the canal just behind the body,
    and the y of that band's middle."""
    x, y = grid.axis(0), grid.axis(1)
    rows = (y >= canal.front_y - HEIGHT_BAND_FRACTION * canal.depth) & (y <= canal.front_y - 0.5)
    columns = s * (x - canal.centre[0]) > 0
    block = posterior[columns][:, rows]
    if block.size == 0:
        raise VertebraError(f"{name}: nothing beside the canal behind the body")
    top, bottom = column_surfaces(block, grid.axis(2))
    height = top - bottom
    if not np.isfinite(height).any():
        raise VertebraError(f"{name}: no bone beside the canal behind the body (is the pedicle segmented?)")
    valid = np.isfinite(height) & (height >= TALL_COLUMN_FRACTION * np.nanmax(height))
    band_y = float(np.mean(y[rows]))
    return float(np.median(0.5 * (top + bottom)[valid])), float(np.percentile(height[valid], 90)), band_y


def _isthmus(y_m, x_m, in_m, y_l, x_l, in_l, s: float, tolerance: float) -> float:
    """y where the pedicle is narrowest among rows holding both borders (centre plane); the middle of tied rows."""
    y_m, x_m, y_l, x_l = y_m[in_m], x_m[in_m], y_l[in_l], x_l[in_l]
    common, i_m, i_l = np.intersect1d(np.round(y_m, 6), np.round(y_l, 6), return_indices=True)
    if common.size == 0:
        return float(0.5 * (np.median(y_m) + np.median(y_l))) if y_m.size and y_l.size else float("nan")
    width = s * (x_l[i_l] - x_m[i_m])
    narrow = width <= width.min() + tolerance
    return float(np.median(common[narrow]))
