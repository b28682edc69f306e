"""Cement pattern: central aggregate mass, unilateral aggregate mass or diffuse (honeycomb), by a fixed rule."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

# Rule (docs/cement.md): diffuse when the cement is scattered (its largest 26-connected piece holds
# less than AGGREGATE_FRACTION of it) or spongy (it fills less than MIN_SOLIDITY of its convex hull);
# otherwise an aggregate mass, unilateral when the smaller side of the midsagittal plane holds less
# than UNILATERAL_MINOR_FRACTION of it, else central.
AGGREGATE_FRACTION = 0.8
MIN_SOLIDITY = 0.5
UNILATERAL_MINOR_FRACTION = 0.2


@dataclass(frozen=True, eq=False)
class PatternMeasures:
    pattern: str
    components: int
    largest_component_fraction: float
    solidity: float
    minor_side_fraction: float

    def to_json(self) -> dict:
        return {
            "components": self.components,
            "largest_component_fraction": round(self.largest_component_fraction, 4),
            "solidity": round(self.solidity, 4),
            "minor_side_fraction": round(self.minor_side_fraction, 4),
        }


def classify_pattern(cement_mask: np.ndarray, ijk_to_ras: np.ndarray, *,
                     contralateral_fraction: float) -> PatternMeasures:
    """Apply the rule to a non-empty full-grid cement mask (intravertebral cement only)."""
    kji = np.argwhere(cement_mask)
    lo, hi = kji.min(axis=0), kji.max(axis=0) + 1
    crop = cement_mask[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    labels, count = ndimage.label(crop, structure=np.ones((3, 3, 3), dtype=bool))
    sizes = np.bincount(labels.ravel())[1:]
    largest = float(sizes.max() / sizes.sum())
    solidity = _solidity(crop, ijk_to_ras)
    minor = float(min(contralateral_fraction, 1.0 - contralateral_fraction))
    if largest < AGGREGATE_FRACTION or solidity < MIN_SOLIDITY:
        pattern = "diffuse"
    elif minor < UNILATERAL_MINOR_FRACTION:
        pattern = "unilateral"
    else:
        pattern = "central"
    return PatternMeasures(pattern, int(count), largest, solidity, minor)


def _solidity(crop: np.ndarray, ijk_to_ras: np.ndarray) -> float:
    """Cement volume / volume of the convex hull of its voxels (corners of the surface voxels)."""
    surface = crop & ~ndimage.binary_erosion(crop, border_value=0)
    # corners on the doubled integer grid so that voxels sharing a corner give one point
    doubled = 2 * np.argwhere(surface)
    corners = np.array([[dk, dj, di] for dk in (-1, 1) for dj in (-1, 1) for di in (-1, 1)])
    unique = np.unique((doubled[:, None, :] + corners[None, :, :]).reshape(-1, 3), axis=0)
    points = 0.5 * unique[:, ::-1].astype(float) @ ijk_to_ras[:3, :3].T
    try:
        hull_mm3 = ConvexHull(points).volume
    except QhullError:
        return 1.0
    return float(min(1.0, crop.sum() * abs(np.linalg.det(ijk_to_ras[:3, :3])) / hull_mm3))
