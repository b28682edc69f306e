"""Predicted cement spread: a front grown from the needle tip through cancellous bone to the planned volume."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from ..core.compat import strict_zip
from .errors import CementError
from .masks import body_mask_on_grid

DEFAULT_CORTEX_MM = 1.0  # cortical shell the cement does not enter (vertebral cortex is 0.5-1 mm thick)
DEFAULT_TRACT_RADIUS_MM = 1.5  # outer radius of an 11G needle (3.05 mm)
# The needle's channel is an open tube through the trabeculae: Poiseuille flow, Darcy-equivalent permeability
# r^2/8 = 0.28 mm^2 for an 11G channel, against 0.034-0.045 mm^2 measured for lumbar cancellous bone (Baroud et al.
# 2004); at a porosity of about 0.9 the front runs about 0.9 x 0.28 / 0.04 = 6 times faster along the channel
# (4-12 over the measured spread). The cement's viscosity divides both flows alike, so it does not enter.
# docs/cement.md gives the derivation, what remains assumed, and the scores for 1-10.
DEFAULT_TRACT_SPEED = 6.0
MIN_HU_SPEED = 0.2  # dense bone slows the front but never stops it
MAX_VOLUME_ERROR = 0.02
MIN_VOXELS = int(np.ceil(0.5 / MAX_VOLUME_ERROR))
# 13 of the 26 neighbour offsets (k, j, i): one per undirected edge
_HALF_NEIGHBOURS = [
    (dk, dj, di) for dk in (-1, 0, 1) for dj in (-1, 0, 1) for di in (-1, 0, 1) if (dk, dj, di) > (0, 0, 0)
]


@dataclass(frozen=True, eq=False)
class CementPrediction:
    """A predicted cement region on the CT grid.

    mask : (K, J, I) bool. volume_ml is the region's volume (voxel count x voxel volume).
    seed_ras : where the front started (the tip, or the nearest cancellous voxel when the tip sits in the cortex).
    front_mm : the front's travel time at the region's edge, in mm at unit speed.
    """

    mask: np.ndarray
    volume_ml: float
    requested_ml: float
    tip_ras: np.ndarray
    seed_ras: np.ndarray
    entry_ras: np.ndarray | None
    front_mm: float
    cancellous_ml: float
    model: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "planned_volume_ml": round(self.requested_ml, 4),
            "predicted_volume_ml": round(self.volume_ml, 4),
            "tip_ras": [round(float(x), 4) for x in self.tip_ras],
            "seed_ras": [round(float(x), 4) for x in self.seed_ras],
            "front_mm": round(self.front_mm, 4),
            "cancellous_ml": round(self.cancellous_ml, 4),
            "model": dict(self.model),
        }


def predict_cement(ct, body_mask, tip_ras, volume_ml: float, *, entry_ras=None,
                   cortex_mm: float = DEFAULT_CORTEX_MM, hu_speed: tuple[float, float] | None = None,
                   max_cancellous_hu: float | None = None, tract_radius_mm: float = DEFAULT_TRACT_RADIUS_MM,
                   tract_speed: float = DEFAULT_TRACT_SPEED) -> CementPrediction:
    """Grow cement from the needle tip inside the body's cancellous bone until it holds volume_ml.

    Model (docs/cement.md): the cement front travels from the tip through the body's 26-connected
    voxel graph; an edge costs its length (mm) divided by the mean local speed of its two voxels, and
    the region is the voxels with the earliest arrival times (ties: lower voxel index first), as many
    as the volume needs. Cancellous bone = body voxels deeper than cortex_mm below the body surface
    (and at most max_cancellous_hu when given). Speed is 1, times a linear ramp from 1 at
    hu_speed[0] down to MIN_HU_SPEED at hu_speed[1] when hu_speed is given, times tract_speed inside
    the needle's channel (radius tract_radius_mm from the tip back to entry_ras) when entry_ras is given.
    """
    requested = float(volume_ml)
    if not np.isfinite(requested) or requested <= 0:
        raise CementError(f"planned cement volume must be a positive number of ml, got {volume_ml!r}")
    if cortex_mm < 0 or tract_radius_mm <= 0 or tract_speed <= 0:
        raise CementError("cortex_mm must be >= 0, tract_radius_mm and tract_speed > 0")
    if hu_speed is not None and not hu_speed[0] < hu_speed[1]:
        raise CementError(f"hu_speed must be (fast HU, slow HU) with fast < slow, got {hu_speed!r}")
    body = body_mask_on_grid(ct, body_mask, needed_for="cement can only be predicted inside a segmented body")
    tip = np.asarray(tip_ras, dtype=float).reshape(3)
    if not np.all(np.isfinite(tip)):
        raise CementError("the needle tip has non-finite coordinates")

    ijk_to_ras = np.asarray(ct.ijk_to_ras, dtype=float)
    voxel_mm3 = float(abs(np.linalg.det(ijk_to_ras[:3, :3])))
    n_wanted = int(np.floor(requested * 1000.0 / voxel_mm3 + 0.5))
    # rounding to whole voxels errs by at most half a voxel: within 2 % from 25 voxels up
    if n_wanted < MIN_VOXELS:
        raise CementError(
            f"planned volume {requested:g} ml is too small for this CT's voxels ({voxel_mm3:.2f} mm^3) to hold "
            f"within {MAX_VOLUME_ERROR:.0%}; plan at least {MIN_VOXELS * voxel_mm3 / 1000.0:.2f} ml"
        )
    tip_kji = _nearest_voxel(ijk_to_ras, tip, body.shape)
    if tip_kji is None or not body[tip_kji]:
        raise CementError(
            f"needle tip ({tip[0]:.1f}, {tip[1]:.1f}, {tip[2]:.1f}) RAS is outside the vertebral body: "
            "move C inside the body"
        )

    # crop to the body's bounding box: the front never leaves the body
    kji = np.argwhere(body)
    lo, hi = kji.min(axis=0), kji.max(axis=0) + 1
    box = tuple(slice(a, b) for a, b in strict_zip(lo, hi))
    crop_body = body[box]
    crop_to_ras = ijk_to_ras.copy()
    crop_to_ras[:3, 3] = ijk_to_ras[:3, :3] @ lo[::-1] + ijk_to_ras[:3, 3]

    domain = crop_body & (_depth_mm(crop_body, crop_to_ras) >= cortex_mm)
    hu = None
    if hu_speed is not None or max_cancellous_hu is not None:
        hu = np.asarray(ct.voxels[box], dtype=float)
        if max_cancellous_hu is not None:
            domain &= hu <= max_cancellous_hu
    if not domain.any():
        raise CementError("the body has no cancellous bone left after removing the cortex: is the mask a thin shell?")

    seed = _seed(domain, crop_to_ras, np.asarray(tip_kji) - lo, cortex_mm)
    speed = np.ones(domain.shape, dtype=float)
    if hu_speed is not None:
        ramp = np.clip((hu - hu_speed[0]) / (hu_speed[1] - hu_speed[0]), 0.0, 1.0)
        speed *= 1.0 - (1.0 - MIN_HU_SPEED) * ramp
    entry = None
    if entry_ras is not None:
        entry = np.asarray(entry_ras, dtype=float).reshape(3)
        radius = max(tract_radius_mm, 0.5 * float(np.linalg.norm(ijk_to_ras[:3, :3], axis=0).max()))
        speed[_near_segment(domain.shape, crop_to_ras, tip, entry, radius)] *= tract_speed

    distance, nodes = _arrival_times(domain, speed, crop_to_ras, seed, n_wanted)
    reached = np.isfinite(distance)
    if reached.sum() < n_wanted:
        capacity = reached.sum() * voxel_mm3 / 1000.0
        raise CementError(
            f"planned volume {requested:g} ml exceeds the cancellous bone reachable from the tip "
            f"({capacity:.2f} ml): plan a smaller volume"
        )
    # np.round makes equal arrival times computed along different paths tie exactly
    order = np.lexsort((np.arange(len(distance)), np.round(distance, 9)))[:n_wanted]
    crop_mask = np.zeros(domain.shape, dtype=bool)
    crop_mask.ravel()[nodes[order]] = True
    mask = np.zeros(body.shape, dtype=bool)
    mask[box] = crop_mask
    seed_ras = crop_to_ras[:3, :3] @ np.asarray(seed[::-1], dtype=float) + crop_to_ras[:3, 3]
    model = {
        "name": "arrival-time front in cancellous bone (26-connected voxel graph)",
        "cortex_mm": float(cortex_mm),
        "hu_speed": None if hu_speed is None else [float(hu_speed[0]), float(hu_speed[1])],
        "max_cancellous_hu": None if max_cancellous_hu is None else float(max_cancellous_hu),
        "tract_radius_mm": float(tract_radius_mm) if entry is not None else None,
        "tract_speed": float(tract_speed) if entry is not None else None,
    }
    return CementPrediction(
        mask=mask,
        volume_ml=n_wanted * voxel_mm3 / 1000.0,
        requested_ml=requested,
        tip_ras=tip,
        seed_ras=seed_ras,
        entry_ras=entry,
        front_mm=float(distance[order[-1]]),
        cancellous_ml=float(domain.sum() * voxel_mm3 / 1000.0),
        model=model,
    )


def _nearest_voxel(ijk_to_ras, ras, shape):
    ijk = np.linalg.solve(ijk_to_ras[:3, :3], ras - ijk_to_ras[:3, 3])
    kji = np.floor(ijk[::-1] + 0.5).astype(int)
    if np.any(kji < 0) or np.any(kji >= np.asarray(shape)):
        return None
    return tuple(int(x) for x in kji)


def _depth_mm(mask, ijk_to_ras) -> np.ndarray:
    """Depth of each voxel centre below the mask's surface (mm), the surface being the voxel faces."""
    spacing_kji = np.linalg.norm(ijk_to_ras[:3, :3], axis=0)[::-1]
    padded = np.pad(mask, 1)
    distance, nearest = ndimage.distance_transform_edt(padded, sampling=spacing_kji, return_indices=True)
    grid = np.indices(padded.shape)
    steps = np.abs(nearest - grid).max(axis=0)  # voxels to the nearest outside voxel, L-infinity
    # the segment to the nearest outside centre leaves the mask half a voxel before it
    depth = np.where(steps > 0, distance * (1.0 - 0.5 / np.maximum(steps, 1)), 0.0)
    return depth[1:-1, 1:-1, 1:-1]


def _seed(domain, ijk_to_ras, tip_kji, cortex_mm):
    """The tip's voxel, or the nearest cancellous voxel when the tip sits in the excluded cortex."""
    tip_kji = tuple(int(x) for x in tip_kji)
    if domain[tip_kji]:
        return tip_kji
    candidates = np.argwhere(domain)
    offsets = (candidates - np.asarray(tip_kji))[:, ::-1] @ ijk_to_ras[:3, :3].T
    distance = np.linalg.norm(offsets, axis=1)
    best = int(np.argmin(distance))  # argmin returns the first of equals: lowest index
    reach = cortex_mm + float(np.linalg.norm(ijk_to_ras[:3, :3], axis=0).max())
    if distance[best] > reach:
        raise CementError("the needle tip lies in the cortex, far from cancellous bone: move C into the body")
    return tuple(int(x) for x in candidates[best])


def _near_segment(shape, ijk_to_ras, a, b, radius) -> np.ndarray:
    """(K, J, I) bool: voxel centres within radius of segment a-b (RAS)."""
    kji = np.indices(shape).reshape(3, -1).T
    ras = kji[:, ::-1] @ ijk_to_ras[:3, :3].T + ijk_to_ras[:3, 3]
    axis = b - a
    length2 = float(axis @ axis)
    t = np.zeros(len(ras)) if length2 == 0 else np.clip((ras - a) @ axis / length2, 0.0, 1.0)
    return (np.linalg.norm(ras - a - t[:, None] * axis, axis=1) <= radius).reshape(shape)


def _arrival_times(domain, speed, ijk_to_ras, seed, n_wanted):
    """Arrival time (mm at unit speed) of the front at each domain voxel; inf beyond the search limit."""
    nodes = np.flatnonzero(domain)
    node_of = np.full(domain.size, -1, dtype=np.int64)
    node_of[nodes] = np.arange(len(nodes))
    node_of = node_of.reshape(domain.shape)
    slowness = 1.0 / speed
    rows, cols, weights = [], [], []
    for offset in _HALF_NEIGHBOURS:
        src = tuple(slice(max(0, -o), n - max(0, o)) for o, n in strict_zip(offset, domain.shape))
        dst = tuple(slice(max(0, o), n - max(0, -o)) for o, n in strict_zip(offset, domain.shape))
        both = domain[src] & domain[dst]
        if not both.any():
            continue
        length = float(np.linalg.norm(ijk_to_ras[:3, :3] @ np.asarray(offset[::-1], dtype=float)))
        rows.append(node_of[src][both])
        cols.append(node_of[dst][both])
        weights.append(length * 0.5 * (slowness[src][both] + slowness[dst][both]))
    n = len(nodes)
    empty = [np.zeros(0, dtype=np.int64)]
    graph = coo_matrix(
        (np.concatenate(weights or [np.zeros(0)]), (np.concatenate(rows or empty), np.concatenate(cols or empty))),
        shape=(n, n),
    ).tocsr()
    start = int(node_of[seed])
    # search only as far as needed (twice the radius of a ball of the volume at the slowest speed), else everywhere
    radius = (3.0 * n_wanted * abs(np.linalg.det(ijk_to_ras[:3, :3])) / (4.0 * np.pi)) ** (1.0 / 3.0)
    limit = 2.0 * radius * float(slowness[domain].max())
    distance = dijkstra(graph, directed=False, indices=start, limit=limit)
    if np.isfinite(distance).sum() < n_wanted:
        distance = dijkstra(graph, directed=False, indices=start)
    return distance, nodes
