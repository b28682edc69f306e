"""The needle on an intra-operative CT: metal voxels, a line fit, and the tip at its deepest point."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..core.volume import CTVolume
from .errors import VerifyError

# Metal: steel is far above any bone; a needle thinner than a voxel is diluted by partial volume, so the
# threshold sits above the densest cortex (about 1800 HU) with a margin.
METAL_HU = 2500.0
# A metal piece shorter than this is not a needle (a clip, a marker, noise in streaks).
MIN_NEEDLE_LENGTH_MM = 10.0
# A needle is thin: the spread across its axis (RMS, mm) stays below this.
MAX_NEEDLE_RMS_MM = 3.0
# Pieces of one needle broken by partial volume (coarse voxels) are merged when the shorter lies within this
# distance (plus a voxel) of the longer one's axis.
MERGE_DISTANCE_MM = 2.0
# The metal excess is summed this far (mm, at least a voxel) around the thresholded needle (partial volume).
EXCESS_GROW_MM = 2.0
# The density of metal per mm is read over this stretch behind the provisional tip.
DENSITY_STRETCH_MM = 8.0


@dataclass(frozen=True, eq=False)
class Needle:
    """tip : RAS point of the needle's deepest end; direction : unit RAS vector pointing to the tip (shaft -> tip);
    length_mm : metal length seen; rms_mm : spread of the metal across the fitted axis."""

    tip: np.ndarray
    direction: np.ndarray
    length_mm: float
    rms_mm: float
    voxels: int


def metal_pieces(ct: CTVolume, threshold_hu: float = METAL_HU) -> list[np.ndarray]:
    """Bool masks of the needle-like metal pieces (long and thin), longest first."""
    metal = np.asarray(ct.voxels) >= threshold_hu
    labels, count = ndimage.label(metal, structure=np.ones((3, 3, 3), bool))
    groups = [[index] for index in range(1, count + 1)]
    merged = True
    while merged:  # join collinear pieces until nothing changes (few pieces: a simple loop)
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                if _collinear(ct, labels, groups[i], groups[j]):
                    groups[i] = groups[i] + groups.pop(j)
                    merged = True
                    break
            if merged:
                break
    pieces = []
    for group in groups:
        piece = np.isin(labels, group)
        points = ct.ijk_to_ras_points(np.argwhere(piece)[:, ::-1])
        if len(points) < 2:
            continue
        _, rms, length = _principal_axis(points)
        if length >= MIN_NEEDLE_LENGTH_MM and rms <= MAX_NEEDLE_RMS_MM:
            pieces.append((length, piece))
    return [piece for _, piece in sorted(pieces, key=lambda x: -x[0])]


def _collinear(ct: CTVolume, labels: np.ndarray, first, second) -> bool:
    """Two metal pieces on one line (a needle broken by partial volume): every voxel of the shorter lies near the
    longer one's axis (a short piece's own axis is too uncertain on coarse voxels to compare)."""
    clouds = [ct.ijk_to_ras_points(np.argwhere(np.isin(labels, group))[:, ::-1]) for group in (first, second)]
    longer, shorter = sorted(clouds, key=lambda c: -_principal_axis(c)[2] if len(c) > 1 else 0.0)
    if len(longer) < 2:
        return False
    axis = _principal_axis(longer)[0]
    rel = shorter - longer.mean(axis=0)
    return bool(np.linalg.norm(rel - np.outer(rel @ axis, axis), axis=1).max()
                <= MERGE_DISTANCE_MM + float(ct.spacing.max()))


def find_single_needle(ct: CTVolume, threshold_hu: float = METAL_HU) -> np.ndarray:
    """The one needle's metal mask; a clear error when there is none or more than one."""
    pieces = metal_pieces(ct, threshold_hu)
    if not pieces:
        top = float(np.max(ct.voxels))
        raise VerifyError(f"no needle found on the intra-operative CT: no long thin metal piece at or above "
                          f"{threshold_hu:g} HU (the CT's highest value is {top:g} HU); is the needle in the scan?")
    if len(pieces) > 1:
        lengths = ", ".join(f"{_principal_axis(ct.ijk_to_ras_points(np.argwhere(p)[:, ::-1]))[2]:.0f}" for p in pieces)
        raise VerifyError(f"{len(pieces)} needles found on the intra-operative CT (metal pieces {lengths} mm long); "
                          "the check takes one needle per plan trajectory: scan with one needle in place")
    return pieces[0]


def fit_needle(ct: CTVolume, piece: np.ndarray, excess: np.ndarray, towards) -> Needle:
    """Line and tip of a needle from its metal excess (HU above what the tissue alone would show).

    excess : (K, J, I) float on the CT grid, >= 0 (the intra-operative CT minus the registered planning CT).
    towards : RAS vector roughly along the needle to its tip (the planned direction).
    The axis is the excess-weighted principal axis; the tip is where the metal ends: the metal beyond a cut
    across the shaft, divided by the metal per mm just behind it (partial volume is counted, not thresholded).
    """
    grown = ndimage.binary_dilation(piece, structure=np.ones((3, 3, 3), bool),
                                    iterations=max(1, int(round(EXCESS_GROW_MM / float(ct.spacing.min())))))
    kji = np.argwhere(grown)
    weights = np.clip(excess[grown], 0.0, None).astype(float)
    points = ct.ijk_to_ras_points(kji[:, ::-1])
    if weights.sum() <= 0:
        raise VerifyError("the needle shows no metal above the registered planning CT; is the registration right?")
    centre = (weights[:, None] * points).sum(axis=0) / weights.sum()
    rel = points - centre
    covariance = (weights[:, None] * rel).T @ rel / weights.sum()
    values, vectors = np.linalg.eigh(covariance)
    direction = vectors[:, -1]
    if np.dot(direction, towards) < 0:
        direction = -direction
    along = rel @ direction
    across = rel - along[:, None] * direction
    rms = float(np.sqrt((weights * (across ** 2).sum(axis=1)).sum() / weights.sum()))
    core = np.argwhere(piece)
    core_along = (ct.ijk_to_ras_points(core[:, ::-1]) - centre) @ direction
    provisional, back = float(core_along.max()), float(core_along.min())
    voxel = float(np.max(ct.spacing))
    cut = provisional - voxel - 1.0
    start = max(back + voxel, cut - DENSITY_STRETCH_MM)
    if cut - start < 2.0:
        raise VerifyError(f"the needle is only {provisional - back:.1f} mm long on the CT: too short to fit")
    # The metal is counted with its sign inside a cylinder around the axis, so the tissue's leftover differences
    # (registration, interpolation) cancel rather than add up.
    # A voxel straddling a cut counts by the share of its extent along the axis beyond it (a linear ramp over the
    # voxel's projected length), not wholly on the side of its centre: on coarse voxels that is a millimetre.
    signed = excess[grown].astype(float) * (np.linalg.norm(across, axis=1) <= voxel + 1.5)
    footprint = float(np.abs(ct.ijk_to_ras[:3, :3].T @ direction).sum())  # the voxel's length along the axis

    def beyond(position):
        return np.clip((along - position) / footprint + 0.5, 0.0, 1.0)

    density = (signed * (beyond(start) - beyond(cut))).sum() / (cut - start)
    if density <= 0:
        raise VerifyError("the needle shows no metal above the registered planning CT; is the registration right?")
    past_tip = along <= provisional + 2.0 * voxel
    tip_offset = cut + (signed * beyond(cut) * past_tip).sum() / density
    return Needle(centre + tip_offset * direction, direction, float(tip_offset - back), rms, int(piece.sum()))


def _principal_axis(points: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Unit principal axis, RMS distance across it and extent along it of a point cloud."""
    rel = points - points.mean(axis=0)
    _, _, vt = np.linalg.svd(rel, full_matrices=False)
    axis = vt[0]
    along = rel @ axis
    across = rel - along[:, None] * axis
    return axis, float(np.sqrt((across ** 2).sum(axis=1).mean())), float(along.max() - along.min())
