"""A vertebra from the CT alone: bone by threshold around a seed point, separated from its neighbours."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..core.compat import strict_zip
from ..core.geometry import as_point
from ..core.volume import CTVolume
from .errors import VertebraError
from .levels import normalise_level
from .masks import (
    FULL_CONNECTIVITY,
    VertebraMasks,
    body_cores,
    crop_box,
    cut_faces,
    fill_holes,
    keep_largest_component,
    split_at_cores,
)

# Bone as in the PVP planning studies (Mimics threshold 226-3071 HU). Osteoporotic cancellous bone is
# often below 226 HU: it is recovered by filling the cavities the cortical shell encloses.
BONE_HU_RANGE = (226.0, 3071.0)
# Half-size of the cube searched around the seed: a lumbar vertebra with its processes fits in 90 mm.
SEARCH_HALF_SIZE_MM = 60.0
# A seed in soft tissue next to the bone (a click just outside the cortex) is moved to the nearest bone.
SEED_SNAP_MM = 15.0


def vertebra_from_ct(ct: CTVolume, *, seed, level: str = "", bone_range_hu=BONE_HU_RANGE) -> VertebraMasks:
    """The vertebra around `seed` (RAS mm, best inside its body) segmented from the CT alone.

    Method: voxels in `bone_range_hu` within SEARCH_HALF_SIZE_MM of the seed; gaps of one voxel in the
    cortex closed; the cavities the cortex encloses filled (osteoporotic cancellous bone); the connected
    bone holding the seed kept. When that bone holds several vertebral bodies (joined at facet joints,
    osteophytes or a thin disc), each voxel goes to the body it reaches first along paths inside the bone,
    and the seed's body wins. Works on a CT showing a closed cortical shell (slices up to about 2 mm);
    on coarser scans give a segmentation instead.
    """
    seed = as_point(seed, "seed point")
    ct.require_inside("seed", seed)
    name = normalise_level(level) if level else ""
    low, high = (float(v) for v in bone_range_hu)
    if not low < high:
        raise VertebraError(f"the bone range must be low < high HU, got {bone_range_hu!r}")
    box, offset = _search_box(ct, seed)
    voxels = ct.voxels[box]
    bone = (voxels >= low) & (voxels <= high)
    if not bone.any():
        raise VertebraError(f"no voxel within {SEARCH_HALF_SIZE_MM:g} mm of the seed is bone ({low:g}-{high:g} HU); "
                            "is the seed on the spine and the CT in Hounsfield units?")
    # Pad before closing so bone at the edge of the search box is not eroded away.
    bone = ndimage.binary_closing(np.pad(bone, 1), structure=ndimage.generate_binary_structure(3, 1))[1:-1, 1:-1, 1:-1]
    bone = ndimage.binary_fill_holes(bone)
    seed_index = _snap_seed(ct, bone, seed, offset)
    pieces, _ = ndimage.label(bone, structure=FULL_CONNECTIVITY)
    piece = pieces == pieces[seed_index]
    cores, count = body_cores(piece, ct.spacing[::-1])
    notes = [f"segmented from the CT: bone {low:g}-{high:g} HU around the seed, enclosed cancellous bone filled"]
    if count == 0:
        raise VertebraError(f"the bone above {low:g} HU at the seed encloses no vertebral body (nowhere 10 mm thick): "
                            "either the seed is not in a vertebral body, or the cortex is not a closed shell at this "
                            "threshold (voxels coarser than about 1.5 mm, thin osteoporotic endplates); place the seed "
                            "inside the body, or give a segmentation (--segmentation, e.g. from TotalSegmentator)")
    if count > 1:
        parts = split_at_cores(piece, cores)
        if parts[seed_index] == 0:
            raise VertebraError("the seed point reaches no vertebral body; place it inside the body to treat")
        piece = parts == parts[seed_index]
        notes.append(f"separated from {count - 1} neighbouring vertebra(e) joined to it in the bone threshold")
    piece, more = keep_largest_component(piece, ct, "vertebra from the CT")
    notes += more
    piece, more = fill_holes(piece, ct, "vertebra from the CT")
    notes += more
    inner_box, inner_offset = crop_box(piece)
    vertebra = piece[inner_box]
    offset = tuple(int(a + b) for a, b in strict_zip(offset, inner_offset))
    return VertebraMasks(ct, offset, vertebra, None, name, "CT threshold from a seed point", tuple(notes),
                         cut_faces(vertebra, offset, ct.voxels.shape))


def _search_box(ct: CTVolume, seed: np.ndarray):
    """Index box (clipped to the CT) of the RAS cube of half-size SEARCH_HALF_SIZE_MM around the seed."""
    h = SEARCH_HALF_SIZE_MM
    corners = np.array([[x, y, z] for x in (-h, h) for y in (-h, h) for z in (-h, h)]) + seed
    ijk = ct.ras_to_ijk_points(corners)
    lo = np.maximum(np.floor(ijk.min(axis=0)).astype(int), 0)
    hi = np.minimum(np.ceil(ijk.max(axis=0)).astype(int) + 1, ct.shape_ijk)
    box = tuple(slice(int(lo[a]), int(hi[a])) for a in (2, 1, 0))
    return box, (int(lo[2]), int(lo[1]), int(lo[0]))


def _snap_seed(ct: CTVolume, bone: np.ndarray, seed: np.ndarray, offset) -> tuple[int, int, int]:
    """Crop index of the bone voxel nearest the seed (within SEED_SNAP_MM), else a clear error."""
    index = np.rint(ct.ras_to_ijk_points(seed)[0][::-1]).astype(int) - np.asarray(offset)
    index = np.clip(index, 0, np.asarray(bone.shape) - 1)
    if bone[tuple(index)]:
        return tuple(int(v) for v in index)
    distance, nearest = ndimage.distance_transform_edt(~bone, sampling=ct.spacing[::-1], return_indices=True)
    if distance[tuple(index)] > SEED_SNAP_MM:
        raise VertebraError(f"the seed point is {distance[tuple(index)]:.0f} mm from the nearest bone (more than "
                            f"{SEED_SNAP_MM:g} mm); place it inside the vertebral body to treat")
    return tuple(int(nearest[a][tuple(index)]) for a in range(3))
