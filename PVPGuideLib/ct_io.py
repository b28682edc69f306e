"""Read CTs and label maps (NRRD, NIfTI, MHA/MHD, DICOM folder) into RAS CTVolumes with SimpleITK."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import PVPGuideError
from .volume import CTVolume

# SimpleITK (like ITK and DICOM) stores geometry in LPS; PVPGuide works in RAS.
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])
# A CT in Hounsfield units shows air or fat (<= -200) and bone (>= 100) somewhere.
HU_AIR_OR_FAT_MAX = -200
HU_BONE_MIN = 100


class CTReadError(PVPGuideError):
    """The file or folder cannot be read as a CT."""


def _sitk():
    import SimpleITK as sitk

    return sitk


def ijk_to_ras_from_sitk(image) -> np.ndarray:
    """4x4 IJK->RAS of a SimpleITK image (its origin/spacing/direction are LPS)."""
    direction = np.asarray(image.GetDirection(), dtype=float).reshape(3, 3)
    m = np.eye(4)
    m[:3, :3] = LPS_TO_RAS @ direction @ np.diag(image.GetSpacing())
    m[:3, 3] = LPS_TO_RAS @ np.asarray(image.GetOrigin(), dtype=float)
    return m


def sitk_image_from_volume(volume: CTVolume):
    """SimpleITK image (LPS geometry) holding a CTVolume's voxels."""
    sitk = _sitk()
    image = sitk.GetImageFromArray(np.ascontiguousarray(volume.voxels))
    image.SetSpacing(tuple(float(s) for s in volume.spacing))
    image.SetDirection(tuple(float(x) for x in (LPS_TO_RAS @ volume.direction).ravel()))
    image.SetOrigin(tuple(float(x) for x in LPS_TO_RAS @ volume.origin))
    return image


def write_volume(volume: CTVolume, path) -> None:
    """Write a volume (NRRD/NIfTI/MHA by suffix) atomically, compressed."""
    from .atomic_io import atomic_path

    with atomic_path(path) as tmp:
        _sitk().WriteImage(sitk_image_from_volume(volume), str(tmp), True)


def _read_dicom_folder(folder: Path):
    sitk = _sitk()
    reader = sitk.ImageSeriesReader()
    series_ids = reader.GetGDCMSeriesIDs(str(folder))
    if not series_ids:
        raise CTReadError(f"{folder}: no DICOM series found in this folder; give a folder of CT slices or a volume file")
    if len(series_ids) > 1:
        raise CTReadError(
            f"{folder}: the folder holds {len(series_ids)} DICOM series ({', '.join(series_ids)}); "
            "put one CT series per folder and pass that folder"
        )
    files = reader.GetGDCMSeriesFileNames(str(folder), series_ids[0])
    if len(files) < 2:
        raise CTReadError(f"{folder}: the DICOM series has {len(files)} slice(s); a CT volume needs several")
    reader.SetFileNames(files)
    return reader.Execute()


def _read_image(path: Path):
    sitk = _sitk()
    if not path.exists():
        raise CTReadError(f"{path}: no such file or folder")
    try:
        if path.is_dir():
            return _read_dicom_folder(path)
        return sitk.ReadImage(str(path))
    except RuntimeError as error:
        first_line = str(error).strip().splitlines()[-1] if str(error).strip() else "unknown reason"
        raise CTReadError(
            f"{path}: cannot be read as an image ({first_line}); give NRRD, NIfTI, MHA or a DICOM folder"
        ) from None


def _volume_from_image(image, source: str) -> CTVolume:
    if image.GetDimension() != 3:
        raise CTReadError(f"{source}: a CT must be a 3D volume, this image has {image.GetDimension()} dimensions")
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise CTReadError(f"{source}: a CT has one value per voxel, this image has {image.GetNumberOfComponentsPerPixel()}")
    if min(image.GetSize()) < 2:
        raise CTReadError(f"{source}: a CT volume needs at least 2 voxels along each axis, got size {image.GetSize()}")
    voxels = _sitk().GetArrayFromImage(image)
    return CTVolume(voxels, ijk_to_ras_from_sitk(image), source)


def read_ct(path) -> CTVolume:
    """Read a CT in Hounsfield units; refuses images that do not look like a CT."""
    path = Path(path)
    volume = _volume_from_image(_read_image(path), str(path))
    lo, hi = float(volume.voxels.min()), float(volume.voxels.max())
    if lo > HU_AIR_OR_FAT_MAX or hi < HU_BONE_MIN:
        raise CTReadError(
            f"{path}: values {lo:g}..{hi:g} do not look like a CT in Hounsfield units "
            f"(expected air or fat <= {HU_AIR_OR_FAT_MAX} and bone >= {HU_BONE_MIN}); "
            "is this a label map or a non-CT image?"
        )
    if not np.issubdtype(volume.voxels.dtype, np.integer):
        volume = volume.with_voxels(volume.voxels.astype(np.float32))
    return volume


def read_labelmap(path, reference: CTVolume | None = None) -> CTVolume:
    """Read an integer label map; with a reference CT it is put on that CT's grid (nearest neighbour).

    Resampling the label map, never the CT, keeps the user's CT untouched.
    """
    path = Path(path)
    image = _read_image(path)
    volume = _volume_from_image(image, str(path))
    if not np.issubdtype(volume.voxels.dtype, np.integer):
        rounded = np.rint(volume.voxels)
        if not np.array_equal(rounded, volume.voxels):
            raise CTReadError(f"{path}: a label map holds whole numbers; this image has fractional values")
    if reference is None or _same_grid(volume, reference):
        return volume if reference is None else reference.with_voxels(volume.voxels)
    return reference.with_voxels(resample_labels_to(volume, reference))


def _same_grid(a: CTVolume, b: CTVolume, tol_mm: float = 1e-3) -> bool:
    return a.voxels.shape == b.voxels.shape and np.allclose(a.ijk_to_ras, b.ijk_to_ras, atol=tol_mm)


def resample_labels_to(labels: CTVolume, reference: CTVolume) -> np.ndarray:
    """Label voxels mapped onto the reference grid by nearest neighbour, 0 outside."""
    sitk = _sitk()
    moving = sitk_image_from_volume(labels)
    ref = sitk_image_from_volume(reference.with_voxels(np.zeros(reference.voxels.shape, np.uint8)))
    out = sitk.Resample(moving, ref, sitk.Transform(), sitk.sitkNearestNeighbor, 0, moving.GetPixelID())
    return sitk.GetArrayFromImage(out)
