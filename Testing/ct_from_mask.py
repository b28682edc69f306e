"""A CT made from any vertebra label mask, on the mask's own grid, for planning on real vertebra shapes without a scan.

Tissues, by distance from the bone of the mask (every label > 0 is bone):
- bone: a cortical shell CORTEX_MM thick (at least one voxel along every grid axis) at CORTICAL_HU, the
  interior cancellous at CANCELLOUS_HU (osteoporotic values, like the phantom's);
- discs and other narrow gaps between bones: what a closing of the bone by DISC_CLOSING_MM fills (disc spaces
  are 5-12 mm high; the canal, 15-25 mm across, stays open), at DISC_HU;
- muscle up to MUSCLE_MM from bone, then subcutaneous fat (FAT_MM), skin (SKIN_MM), then air (the back's skin
  lies about 57 mm behind the spinous processes, with air behind it; the tube follows the spine all round);
- Gaussian noise of `noise_sigma` HU, seeded.
Soft-tissue distances are computed on a grid coarsened to about SOFT_TISSUE_STEP_MM (they only place layers
tens of mm thick); the bone and its cortex use the mask's own voxels.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from PVPGuideLib.core.compat import strict_zip
from PVPGuideLib.core.volume import CTVolume

CORTEX_MM = 1.0
CORTICAL_HU, CANCELLOUS_HU = 800.0, 150.0
DISC_CLOSING_MM, DISC_HU = 5.0, 80.0
MUSCLE_MM, FAT_MM, SKIN_MM = 35.0, 20.0, 2.0
MUSCLE_HU, FAT_HU, SKIN_HU, AIR_HU = 50.0, -100.0, 30.0, -1000.0
SOFT_TISSUE_STEP_MM = 1.5


def _ellipsoid(radii_voxels) -> np.ndarray:
    r = [max(1, int(round(v))) for v in radii_voxels]
    grids = np.ogrid[tuple(slice(-n, n + 1) for n in r)]
    return sum((g / max(n, 1e-9)) ** 2 for g, n in strict_zip(grids, r)) <= 1.0


def ct_from_mask(labels: CTVolume, *, seed: int = 0, noise_sigma: float = 20.0) -> CTVolume:
    """HU int16 CT on the grid of `labels` (a CTVolume whose voxels are vertebra labels, 0 = background)."""
    bone = np.asarray(labels.voxels) > 0
    spacing_kji = np.asarray(labels.spacing, dtype=float)[::-1]
    inner = ndimage.binary_erosion(bone, structure=_ellipsoid(CORTEX_MM / spacing_kji), border_value=0)
    hu = np.full(bone.shape, AIR_HU, dtype=np.float32)
    # Soft tissue on a coarse grid: any bone in a coarse cell makes the cell bone.
    factor = np.maximum(1, np.floor(SOFT_TISSUE_STEP_MM / spacing_kji)).astype(int)
    padded = [int(np.ceil(n / f) * f) for n, f in strict_zip(bone.shape, factor)]
    coarse = np.zeros(padded, dtype=bool)
    coarse[:bone.shape[0], :bone.shape[1], :bone.shape[2]] = bone
    coarse = coarse.reshape(padded[0] // factor[0], factor[0], padded[1] // factor[1], factor[1],
                            padded[2] // factor[2], factor[2]).any(axis=(1, 3, 5))
    coarse_spacing = spacing_kji * factor
    distance = ndimage.distance_transform_edt(~coarse, sampling=coarse_spacing)
    closed = ndimage.binary_closing(np.pad(coarse, 4), structure=_ellipsoid(DISC_CLOSING_MM / coarse_spacing))
    disc = closed[4:-4, 4:-4, 4:-4] & ~coarse
    tissue = np.select([disc, distance <= MUSCLE_MM, distance <= MUSCLE_MM + FAT_MM,
                        distance <= MUSCLE_MM + FAT_MM + SKIN_MM],
                       [DISC_HU, MUSCLE_HU, FAT_HU, SKIN_HU], default=AIR_HU).astype(np.float32)
    for axis, f in enumerate(factor):
        tissue = np.repeat(tissue, f, axis=axis)
    hu[:] = tissue[:bone.shape[0], :bone.shape[1], :bone.shape[2]]
    hu[bone] = CORTICAL_HU
    hu[inner] = CANCELLOUS_HU
    if noise_sigma > 0:
        hu += np.random.default_rng(seed).standard_normal(hu.shape, dtype=np.float32) * np.float32(noise_sigma)
    return CTVolume(np.clip(np.rint(hu), -1024, 3071).astype(np.int16), labels.ijk_to_ras, "CT made from a label mask")
