"""Read CTs and label maps (NRRD, NIfTI, MHA/MHD, DICOM folder) into RAS CTVolumes with SimpleITK."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.volume import CTVolume
from ..errors import PVPGuideError
from .read_limits import current_limits
from .scan_files import CTReadError, check_detached_data_file, payload_check, require_regular_file, resolved

# SimpleITK (like ITK and DICOM) stores geometry in LPS; PVPGuide works in RAS.
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])
# A CT in Hounsfield units shows air or fat (<= -200) and bone (>= 100) somewhere.
HU_AIR_OR_FAT_MAX = -200
HU_BONE_MIN = 100
# A label map on the CT's grid size with other axis directions is refused when, voxel for voxel, its labels
# lie on dense bone more than this many times as often as where its header puts them (ct_io docs/cli.md).
LABEL_HEADER_DOUBT_RATIO = 2.0


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
    from .dicom_series import check_series

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
    for name in files:
        require_regular_file(name, "DICOM slice")
    spacing = check_series(folder, files)
    reader.SetFileNames(files)
    image = reader.Execute()
    if abs(image.GetSpacing()[2] - spacing) > 0.01 + 0.01 * spacing:
        raise CTReadError(f"{folder}: the volume's slice spacing {image.GetSpacing()[2]:.3f} mm differs from the "
                          f"slices' positions ({spacing:.3f} mm apart); the series is inconsistent")
    return image


def _voxel_bytes(reader) -> int:
    sitk = _sitk()
    sample = sitk.Image([1, 1, 1], reader.GetPixelID(), max(1, reader.GetNumberOfComponents()))
    itemsize = sitk.GetArrayViewFromImage(sample).itemsize
    return int(np.prod([int(n) for n in reader.GetSize()])) * itemsize * max(1, reader.GetNumberOfComponents())


def _read_file(path: Path, *, ct: bool):
    """A volume file read after the safety checks (scan_files): regular, complete, within the limits."""
    sitk = _sitk()
    limits = current_limits()
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    check_detached_data_file(path)  # inside the header's folder and regular, before ITK opens it
    reader.ReadImageInformation()
    payload_check(path, _voxel_bytes(reader), limits.max_bytes, limits.max_expansion if ct else None)
    return reader.Execute()


def _read_image(path: Path, *, ct: bool = True):
    path = Path(path)
    real = resolved(path, "file or folder")
    if not real.is_dir():
        require_regular_file(path)
    sitk = _sitk()
    warnings = sitk.ProcessObject.GetGlobalWarningDisplay()
    sitk.ProcessObject.SetGlobalWarningDisplay(False)  # ITK's raw warnings are replaced by our checks
    try:
        if real.is_dir():
            return _read_dicom_folder(path)
        return _read_file(real, ct=ct)
    except RuntimeError as error:
        first_line = str(error).strip().splitlines()[-1] if str(error).strip() else "unknown reason"
        raise CTReadError(
            f"{path}: cannot be read as an image ({first_line}); give NRRD, NIfTI, MHA or a DICOM folder"
        ) from None
    finally:
        sitk.ProcessObject.SetGlobalWarningDisplay(warnings)


def check_geometry(image_or_volume, source: str) -> None:
    """Refuse a non-orthogonal direction matrix and voxel sizes outside the accepted range (read_limits)."""
    volume = image_or_volume
    direction = volume.direction
    if not np.allclose(direction.T @ direction, np.eye(3), atol=1e-4):
        raise CTReadError(f"{source}: the direction matrix is not orthogonal (sheared axes); a CT's axes are at right "
                          "angles: check the file's header (direction / space directions)")
    low, high = current_limits().voxel_range_mm
    spacing = volume.spacing
    if np.any(spacing < low) or np.any(spacing > high):
        shown = " x ".join(f"{s:g}" for s in spacing)
        raise CTReadError(f"{source}: voxel size {shown} mm is outside the accepted {low:g}-{high:g} mm; check the "
                          "header's units; if the size is right, widen the range with --voxel-size-range MIN,MAX")


def _volume_from_image(image, source: str) -> CTVolume:
    if image.GetDimension() != 3:
        raise CTReadError(f"{source}: a CT must be a 3D volume, this image has {image.GetDimension()} dimensions")
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise CTReadError(f"{source}: a CT has one value per voxel, this image has {image.GetNumberOfComponentsPerPixel()}")
    if min(image.GetSize()) < 2:
        raise CTReadError(f"{source}: a CT volume needs at least 2 voxels along each axis, got size {image.GetSize()}")
    voxels = _sitk().GetArrayFromImage(image)
    try:
        volume = CTVolume(voxels, ijk_to_ras_from_sitk(image), source)
    except PVPGuideError as error:
        raise CTReadError(f"{source}: {error}") from None
    check_geometry(volume, source)
    if not np.issubdtype(voxels.dtype, np.integer):
        bad = int(np.count_nonzero(~np.isfinite(voxels)))
        if bad:
            raise CTReadError(f"{source}: {bad} of {voxels.size} voxels are not finite numbers (NaN or infinity); "
                              "the file is damaged or was written by a faulty conversion: export it again")
    return volume


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
    image = _read_image(path, ct=False)
    volume = _volume_from_image(image, str(path))
    if not np.issubdtype(volume.voxels.dtype, np.integer):
        rounded = np.rint(volume.voxels)
        if not np.array_equal(rounded, volume.voxels):
            raise CTReadError(f"{path}: a label map holds whole numbers; this image has fractional values")
    if reference is None:
        return volume
    placed = volume.voxels if _same_grid(volume, reference) else resample_labels_to(volume, reference)
    check_label_orientation(volume, reference, placed, str(path))
    return reference.with_voxels(placed)


def _axis_names(direction: np.ndarray) -> list:
    """Nearest anatomical direction of each voxel axis: 'R', 'L', 'A', 'P', 'S' or 'I'."""
    names = []
    for column in direction.T:
        axis = int(np.argmax(np.abs(column)))
        names.append("RAS"[axis] if column[axis] > 0 else "LPI"[axis])
    return names


def check_label_orientation(labels: CTVolume, ct: CTVolume, placed: np.ndarray, source: str) -> None:
    """Refuse a label map with the CT's grid size and spacing, other axis directions, and labels off the bone.

    A segmentation made from this CT shares its grid. The same size with a flipped or swapped axis is
    either a consistent re-orientation (data flipped too: the labels still lie on bone once placed by
    their header) or a header written wrongly, which resampling would silently mirror (labels in soft
    tissue). placed: the labels on the CT grid as their header puts them.
    """
    from ..vertebra.label_checks import dense_bone_fraction

    same_sampling = labels.voxels.shape == ct.voxels.shape and np.allclose(labels.spacing, ct.spacing, rtol=1e-3)
    label_axes, ct_axes = _axis_names(labels.direction), _axis_names(ct.direction)
    if not same_sampling or label_axes == ct_axes:
        return
    by_header = dense_bone_fraction(ct.voxels, placed != 0)
    ignoring_header = dense_bone_fraction(ct.voxels, labels.voxels != 0)
    # The measure: labelled voxels on dense bone; a wrong header puts them there far less often than its voxels do.
    if ignoring_header > LABEL_HEADER_DOUBT_RATIO * by_header:
        raise CTReadError(
            f"{source}: the label map has the CT's grid ({' x '.join(map(str, ct.shape_ijk))} voxels) but its axes "
            f"point {''.join(label_axes)} where the CT's point {''.join(ct_axes)}; placed by its header "
            f"{100 * by_header:.0f} % of its labelled voxels lie on bone, voxel for voxel on the CT's grid "
            f"{100 * ignoring_header:.0f} %: its header's direction looks wrong. Check the header (direction, "
            "qform/sform) and the tool that wrote it"
        )


def _same_grid(a: CTVolume, b: CTVolume, tol_mm: float = 1e-3) -> bool:
    return a.voxels.shape == b.voxels.shape and np.allclose(a.ijk_to_ras, b.ijk_to_ras, atol=tol_mm)


def resample_labels_to(labels: CTVolume, reference: CTVolume) -> np.ndarray:
    """Label voxels mapped onto the reference grid by nearest neighbour, 0 outside."""
    sitk = _sitk()
    moving = sitk_image_from_volume(labels)
    ref = sitk_image_from_volume(reference.with_voxels(np.zeros(reference.voxels.shape, np.uint8)))
    out = sitk.Resample(moving, ref, sitk.Transform(), sitk.sitkNearestNeighbor, 0, moving.GetPixelID())
    return sitk.GetArrayFromImage(out)
