"""Parts of a vertebra that a label map gave to its neighbour: voxels labelled as another vertebra but lying
inside the target's outline whichever way it is seen (TotalSegmentator, run at about 3 mm on a short slab,
labelled 3.9 ml of a T12 body as T11). They are given back to the target before the clean-up."""

from __future__ import annotations

import numpy as np
from scipy.spatial import ConvexHull, QhullError

# A slice needs this many target voxels for an outline (fewer: a tip of a process, no outline to speak of).
MIN_OUTLINE_VOXELS = 10


def enclosed_in_every_view(target: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """(K, J, I) bool: the candidate voxels inside the target's convex outline in their slice along each of the
    three array axes. A neighbour touching the target from outside (across a disc, at a facet joint) is outside
    it in at least one view; a chunk the target surrounds is inside it in all three."""
    inside = candidates.copy()
    for axis in range(3):
        if not inside.any():
            break
        inside &= _inside_slice_outlines(target, inside, axis)
    return inside


def _inside_slice_outlines(target: np.ndarray, candidates: np.ndarray, axis: int) -> np.ndarray:
    out = np.zeros_like(candidates)
    for n in np.flatnonzero(np.moveaxis(candidates, axis, 0).any(axis=(1, 2))):
        outline_points = np.argwhere(np.take(target, n, axis=axis))
        if len(outline_points) < MIN_OUTLINE_VOXELS:
            continue
        try:
            outline = ConvexHull(outline_points)
        except QhullError:  # all on one line: no area
            continue
        queries = np.argwhere(np.take(candidates, n, axis=axis))
        # Inside the convex outline: on the inner side of every edge (outward normals; a small tolerance keeps
        # points on an edge).
        hits = queries[(queries @ outline.equations[:, :2].T + outline.equations[:, 2] <= 1e-9).all(axis=1)]
        index = [hits[:, 0], hits[:, 1]]
        index.insert(axis, np.full(len(hits), n))
        out[tuple(index)] = True
    return out
