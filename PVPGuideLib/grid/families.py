"""The two families of parallel, evenly spaced wires in on-skin coordinates: their directions and lattices.

The wire points are projected on a direction; when it is the normal of one family, that family's points
pile up in a few narrow bins (one pile per wire). The sharpness of the projection's histogram (sum of
squared counts) is largest there, so the two normals are the two peaks of the sharpness over angle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .errors import GridError

COARSE_STEP_DEG = 0.5
FINE_STEP_DEG = 0.05
# The second family is searched this far either side of perpendicular to the first.
PERPENDICULAR_SEARCH_DEG = 10.0
# A square grid's two families are perpendicular to within this.
MAX_NON_PERPENDICULAR_DEG = 3.0
# Directions within this of a family's normal belong to its peak (the peak's width for 3 mm voxels).
PEAK_HALF_WIDTH_DEG = 8.0
# Another perpendicular pair this sharp relative to the weaker family is a second grid.
THIRD_FAMILY_RATIO = 0.5
# Wire spacing the locator accepts (mm).
SPACING_RANGE_MM = (4.0, 50.0)
# A wire's histogram peak below this fraction of a typical wire's is noise.
MIN_PEAK_FRACTION = 0.3
# Lines off the lattice by more than this fraction of the spacing mean a second grid or a deformed one.
MAX_LATTICE_ERROR = 0.2
MIN_WIRES = 3
# More lattice lines missing than this fraction: the grid is too incomplete to be named.
MAX_MISSING_FRACTION = 1.0 / 3.0


@dataclass(frozen=True)
class Family:
    """Wires with normal at angle_deg (on-skin frame): line k at normal offset origin + k * spacing."""

    angle_deg: float
    origin: float
    spacing: float
    indices: tuple  # lattice index of every wire seen
    sharpness: float

    @property
    def normal(self) -> np.ndarray:
        a = np.radians(self.angle_deg)
        return np.array([np.cos(a), np.sin(a)])


def sharpness(flat: np.ndarray, angles_deg: np.ndarray, bin_mm: float) -> np.ndarray:
    """Per angle: sum of squared histogram counts at bin_mm over the same at 3 bin_mm.

    About 1/3 for points spread evenly, whatever the cloud's extent along the angle; near 1 when the points pile
    up on lines narrower than a bin and at least three bins apart.
    """
    return _squared_counts(flat, angles_deg, bin_mm) / _squared_counts(flat, angles_deg, 3.0 * bin_mm)


def _squared_counts(flat: np.ndarray, angles_deg: np.ndarray, bin_mm: float) -> np.ndarray:
    a = np.radians(angles_deg)
    proj = flat @ np.stack([np.cos(a), np.sin(a)])
    proj -= proj.min(axis=0)
    width = int(proj.max() / bin_mm) + 2
    bins = (proj / bin_mm).astype(np.int64) + np.arange(len(a)) * width
    counts = np.bincount(bins.ravel(), minlength=len(a) * width).astype(float)
    squared = (counts**2).reshape(len(a), width).sum(axis=1)
    return squared


def family_normals(flat: np.ndarray, bin_mm: float) -> tuple[float, float]:
    """The normal angles (degrees, [0, 180)) of the two wire families; refuses a third family.

    flat should be dithered within each voxel (see dithered): voxel centres lie on a lattice whose own rows
    would otherwise pile up in the histograms along the CT's axes.
    """
    coarse = np.arange(0.0, 180.0, COARSE_STEP_DEG)
    score = sharpness(flat, coarse, bin_mm)
    first = _refine(flat, coarse[int(np.argmax(score))], bin_mm)
    window = np.arange(-PERPENDICULAR_SEARCH_DEG, PERPENDICULAR_SEARCH_DEG + 1e-9, COARSE_STEP_DEG) + first + 90.0
    second_scores = sharpness(flat, window, bin_mm)
    second = _refine(flat, window[int(np.argmax(second_scores))], bin_mm) % 180.0
    skew = abs(((second - first) % 180.0) - 90.0)
    if skew > MAX_NON_PERPENDICULAR_DEG:
        raise GridError(f"the two families of grid wires are {90 - skew:.1f} degrees apart, not perpendicular: "
                        "this is not one square grid (two grids, or a deformed one); give the grid by hand")
    peak = min(sharpness(flat, np.array([first, second]), bin_mm))
    background = float(np.median(score))
    # A second grid shows as another perpendicular pair of sharp directions (a single one is a staircase of
    # wires across thick slices, or stray structures).
    paired = np.minimum(score, np.roll(score, len(coarse) // 2))
    others = np.ones(len(coarse), bool)
    for centre in (first, second):
        others &= np.abs(((coarse - centre + 90.0) % 180.0) - 90.0) > PEAK_HALF_WIDTH_DEG
    third = float(paired[others].max()) if others.any() else 0.0
    if third - background > THIRD_FAMILY_RATIO * (peak - background):
        angle = float(coarse[others][int(np.argmax(paired[others]))])
        raise GridError(f"another pair of wire families runs at {angle % 90:.0f} and {angle % 90 + 90:.0f} degrees besides "
                        "the grid's two: two overlapping grids lie on the skin; remove one, or give the grid by hand")
    return first, second


def dithered(flat: np.ndarray, voxel_mm: float) -> np.ndarray:
    """Each voxel's point moved to a seeded random place within a voxel: it stands for wire anywhere inside it."""
    rng = np.random.default_rng(0)
    return flat + rng.uniform(-0.5, 0.5, flat.shape) * voxel_mm


def _refine(flat, angle: float, bin_mm: float) -> float:
    fine = angle + np.arange(-COARSE_STEP_DEG, COARSE_STEP_DEG + 1e-9, FINE_STEP_DEG)
    return float(fine[int(np.argmax(sharpness(flat, fine, bin_mm)))] % 180.0)


def wire_offsets(proj: np.ndarray, smooth_mm: float, separation_mm: float) -> np.ndarray:
    """Normal offsets of the wires of one family: peaks of the smoothed histogram of the (dithered) projections,
    at least separation_mm apart and well above the background the other family spreads evenly."""
    step = 0.1
    lo = proj.min() - 3 * smooth_mm
    counts = np.bincount(((proj - lo) / step).astype(int), minlength=int((np.ptp(proj) + 6 * smooth_mm) / step) + 2)
    density = ndimage.gaussian_filter1d(counts.astype(float), smooth_mm / step, mode="constant")
    window = 2 * int(separation_mm / step) + 1
    peaks = np.flatnonzero((density == ndimage.maximum_filter1d(density, window, mode="constant")) & (density > 0))
    if len(peaks) == 0:
        return np.zeros(0)
    heights = density[peaks]
    background = float(np.median(density[density > 0]))
    top = float(np.median(np.sort(heights)[-3:]))
    keep = peaks[heights >= background + MIN_PEAK_FRACTION * (top - background)]
    # Each wire's offset is the mean of the projections near its peak (the histogram only located it).
    offsets = []
    for index in keep:
        near = np.abs(proj - (lo + index * step)) <= 1.5 * smooth_mm
        offsets.append(float(proj[near].mean()))
    return np.array(offsets)


def lattice(offsets: np.ndarray, what: str) -> tuple[float, float, np.ndarray]:
    """(origin, spacing, lattice index per offset) of evenly spaced wires, some possibly missing."""
    offsets = np.sort(offsets)
    if len(offsets) < MIN_WIRES:
        raise GridError(f"only {len(offsets)} {what} found on the skin (at least {MIN_WIRES} needed to measure and "
                        "name the grid): no grid, or one mostly outside the CT; give the grid by hand")
    gaps = np.diff(offsets)
    smallest = gaps.min()
    guess = float(np.median(gaps[gaps <= 1.25 * smallest]))
    k = np.rint((offsets - offsets[0]) / guess).astype(int)
    if len(np.unique(k)) != len(k):
        raise GridError(f"two {what} lie closer than the grid's spacing: two overlapping grids? "
                        "remove one, or give the grid by hand")
    spacing, origin = np.polyfit(k, offsets, 1)
    error = np.abs(offsets - origin - k * spacing)
    if not SPACING_RANGE_MM[0] <= spacing <= SPACING_RANGE_MM[1]:
        raise GridError(f"the {what} are {spacing:.1f} mm apart, outside the {SPACING_RANGE_MM[0]:g}-"
                        f"{SPACING_RANGE_MM[1]:g} mm a skin grid has: not a grid; give the grid by hand")
    if error.max() > MAX_LATTICE_ERROR * spacing:
        raise GridError(f"the {what} are not evenly spaced (one is {error.max():.1f} mm off a {spacing:.1f} mm lattice): "
                        "two overlapping grids or a deformed grid; give the grid by hand")
    missing = int(k.max() + 1 - len(k))
    if missing > MAX_MISSING_FRACTION * (k.max() + 1):
        raise GridError(f"{missing} of {k.max() + 1} {what} are missing in the CT: too few to name the grid's lines "
                        "safely; give the grid by hand")
    return float(origin), float(spacing), k
