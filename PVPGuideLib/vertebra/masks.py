"""One vertebra's masks on a crop of the CT grid, and the clean-up every input goes through."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..core.compat import strict_zip
from ..core.volume import CTVolume
from .errors import VertebraError

# Voxels kept around the vertebra's bounding box, so surfaces and line searches see background on every side.
CROP_MARGIN_VOXELS = 3
# A vertebral body is at least 10 mm thick everywhere inside (bodies are 20-30 mm high even when
# fractured, 30-50 mm wide); pedicles, laminae and processes are thinner. Voxels this deep form body cores.
CORE_DEPTH_MM = 5.0
# A core smaller than this, or than this fraction of the largest, is a thick process or debris, not a body.
CORE_MIN_ML = 1.5
CORE_MIN_FRACTION = 0.3
FULL_CONNECTIVITY = np.ones((3, 3, 3), dtype=bool)
# A second piece at least this fraction of the largest is another vertebra, not a stray island.
ISLAND_FRACTION = 0.25


@dataclass(frozen=True, eq=False)
class VertebraMasks:
    """One vertebra on a crop of the CT grid.

    ct : the whole CT (never modified); offset : (k, j, i) index of the crop's first voxel in the CT;
    vertebra : (K, J, I) bool crop, body : the vertebral body within it or None (then analysis splits it);
    level : name such as 'L1' ('' when unknown); source : how the mask was obtained;
    notes : what the clean-up changed, in words; cut_faces : CT borders the vertebra touches ('i-', 'k+', ...).
    """

    ct: CTVolume
    offset: tuple[int, int, int]
    vertebra: np.ndarray
    body: np.ndarray | None
    level: str
    source: str
    notes: tuple[str, ...] = ()
    cut_faces: tuple[str, ...] = ()

    @property
    def ijk_to_ras(self) -> np.ndarray:
        """4x4 IJK->RAS of the crop."""
        shift = np.eye(4)
        shift[:3, 3] = np.asarray(self.offset[::-1], dtype=float)
        return self.ct.ijk_to_ras @ shift

    @property
    def spacing_kji(self) -> np.ndarray:
        return self.ct.spacing[::-1].copy()

    def points_ras(self, mask: np.ndarray) -> np.ndarray:
        """(n, 3) RAS centres of the crop voxels set in `mask`."""
        kji = np.argwhere(mask)
        m = self.ijk_to_ras
        return kji[:, ::-1] @ m[:3, :3].T + m[:3, 3]


def voxel_volume_ml(ct: CTVolume) -> float:
    return float(abs(np.linalg.det(ct.ijk_to_ras[:3, :3]))) / 1000.0


def crop_box(mask: np.ndarray, margin: int = CROP_MARGIN_VOXELS) -> tuple[tuple[slice, ...], tuple[int, int, int]]:
    """Slices of the mask's bounding box plus a margin (clipped to the array) and the box's start index."""
    kji = np.argwhere(mask)
    lo = np.maximum(kji.min(axis=0) - margin, 0)
    hi = np.minimum(kji.max(axis=0) + margin + 1, mask.shape)
    return tuple(slice(int(a), int(b)) for a, b in strict_zip(lo, hi)), (int(lo[0]), int(lo[1]), int(lo[2]))


def cut_faces(mask: np.ndarray, offset, full_shape) -> tuple[str, ...]:
    """Faces of the CT's field of view that the mask (a crop starting at `offset`) touches."""
    faces = []
    for axis, name in strict_zip((2, 1, 0), "ijk"):
        n = mask.shape[axis]
        if offset[axis] == 0 and np.take(mask, 0, axis=axis).any():
            faces.append(f"{name}-")
        if offset[axis] + n == full_shape[axis] and np.take(mask, n - 1, axis=axis).any():
            faces.append(f"{name}+")
    return tuple(faces)


def keep_largest_component(mask: np.ndarray, ct: CTVolume, what: str, *, seed_index=None) -> tuple[np.ndarray, list[str]]:
    """The largest 26-connected piece (the one holding `seed_index` when given); the notes say what was dropped.

    Two pieces of comparable size (the second at least ISLAND_FRACTION of the first) are two vertebrae, not a
    vertebra and debris: without a seed that is an error rather than a guess.
    """
    labels, count = ndimage.label(mask, structure=FULL_CONNECTIVITY)
    if count <= 1:
        return mask, []
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    largest = int(np.argmax(sizes))  # the first of equal sizes: deterministic
    if seed_index is not None and labels[tuple(seed_index)] > 0:
        largest = int(labels[tuple(seed_index)])
    elif np.sort(sizes)[-2] >= ISLAND_FRACTION * sizes[largest]:
        volumes = ", ".join(f"{v * voxel_volume_ml(ct):.1f}" for v in sorted(sizes[sizes > 0], reverse=True)[:4])
        raise VertebraError(f"{what} holds {count} separate pieces of similar size ({volumes} ml): several vertebrae? "
                            "Give a seed point inside the target's body or a segmentation holding one vertebra")
    dropped = int(sizes.sum() - sizes[largest])
    note = (f"{what}: kept the largest connected piece, dropped {count - 1} stray island(s) of "
            f"{dropped * voxel_volume_ml(ct):.2f} ml")
    return labels == largest, [note]


def fill_holes(mask: np.ndarray, ct: CTVolume, what: str) -> tuple[np.ndarray, list[str]]:
    """Enclosed cavities filled in 3D (the spinal canal stays open: it is a tube through the mask)."""
    filled = ndimage.binary_fill_holes(mask)
    added = int(filled.sum() - mask.sum())
    if added == 0:
        return mask, []
    return filled, [f"{what}: filled {added * voxel_volume_ml(ct):.2f} ml of holes"]


# The body's core is found on a grid of about this step (mm) at most: see depth_in_mask.
DEPTH_STEP_MM = 1.0


def depth_in_mask(mask: np.ndarray, spacing_kji) -> np.ndarray:
    """Distance (mm) of each mask voxel to the nearest voxel outside it, 0 outside, for finding the body's core.

    Computed on the mask's bounding box with one empty voxel around it (every voxel beyond that layer is farther
    from an inside voxel than the layer itself). Axes finer than DEPTH_STEP_MM are read every n-th voxel (n = the
    largest keeping the step at most DEPTH_STEP_MM, a block inside only when all its voxels are) and the depth spread
    back to the block's voxels: the depth is then off by at most about one block's diagonal (a gap between vertebrae
    is never bridged: it leaves its blocks outside), a fraction of the core depths it is compared with (a body is over
    20 mm deep), and a 0.3 mm mask is transformed several times faster.
    """
    depth = np.zeros(mask.shape, dtype=float)
    index = np.argwhere(mask)
    if index.size == 0:
        return depth
    spacing = np.asarray(spacing_kji, dtype=float)
    every = np.maximum(1, np.floor(DEPTH_STEP_MM / spacing)).astype(int)
    lo, hi = index.min(axis=0), index.max(axis=0) + 1
    box = tuple(slice(a, b) for a, b in zip(lo, hi))
    # A coarse voxel is inside only when every fine voxel of its block is: a gap thinner than a block (between two
    # touching vertebrae) is kept.
    part = mask[box]
    size = -(-np.asarray(part.shape) // every) * every
    part = np.pad(part, [(0, int(s - n)) for s, n in zip(size, part.shape)])
    blocks = part.reshape(size[0] // every[0], every[0], size[1] // every[1], every[1], size[2] // every[2], every[2])
    coarse = np.pad(blocks.all(axis=(1, 3, 5)), 1)
    values = ndimage.distance_transform_edt(coarse, sampling=spacing * every)[1:-1, 1:-1, 1:-1]
    for axis, n in enumerate(every):
        values = np.repeat(values, n, axis=axis)
    depth[box] = values[:hi[0] - lo[0], :hi[1] - lo[1], :hi[2] - lo[2]]
    return np.where(mask, depth, 0.0)


def body_cores(mask: np.ndarray, spacing_kji, depth_mm: float = CORE_DEPTH_MM) -> tuple[np.ndarray, int]:
    """Labelled body cores (voxels deeper than depth_mm, big pieces only) and their number."""
    depth = depth_in_mask(mask, spacing_kji)
    cores, count = ndimage.label(depth >= depth_mm, structure=FULL_CONNECTIVITY)
    if count == 0:
        return cores, 0
    voxel_ml = float(np.prod(spacing_kji)) / 1000.0
    sizes = np.bincount(cores.ravel())[1:] * voxel_ml
    keep = (sizes >= CORE_MIN_ML) & (sizes >= CORE_MIN_FRACTION * sizes.max())
    relabel = np.zeros(count + 1, dtype=np.int32)
    relabel[1:][keep] = np.arange(1, int(keep.sum()) + 1)
    return relabel[cores], int(keep.sum())


def split_at_cores(mask: np.ndarray, cores: np.ndarray) -> np.ndarray:
    """Each mask voxel labelled with the core nearest along paths inside the mask (a geodesic race).

    Posterior elements reach their own body through the pedicles sooner than a neighbour's body
    through a facet joint, so the race splits touching vertebrae where an anatomist would.
    """
    labels = np.where(mask, cores, 0).astype(np.int32)
    cross = ndimage.generate_binary_structure(3, 1)
    while True:
        free = mask & (labels == 0)
        if not free.any():
            return labels
        grown = ndimage.grey_dilation(labels, footprint=cross)
        take = free & (grown > 0)
        if not take.any():  # pieces no core reaches: give them to the nearest labelled voxel
            _, index = ndimage.distance_transform_edt(labels == 0, return_indices=True)
            nearest = labels[tuple(index)]
            return np.where(mask, nearest, 0)
        labels[take] = grown[take]
