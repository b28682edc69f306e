"""A DICOM CT series checked slice by slice: no missing, duplicate, corrupt or unevenly spaced slice.

ITK drops a slice it cannot read and spreads the rest evenly; a missing slice then makes every
distance along the slice axis wrong. Here each slice's Image Position (Patient) is projected on the
slice normal and every gap must equal the series' spacing within SLICE_GAP_TOLERANCE.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import PVPGuideError

# Scanners write positions to about 0.001 mm; a gap may differ from the median gap by 0.01 mm + 1 %.
# A missing slice doubles a gap, a duplicate makes it 0: both far outside.
SLICE_GAP_TOLERANCE_MM = 0.01
SLICE_GAP_TOLERANCE_FRACTION = 0.01
# Files in a DICOM folder that are no slices and may stay there.
IGNORED_NAMES = {"dicomdir", "readme", "readme.txt", "license", "source.md", "thumbs.db", ".ds_store"}


class DicomSeriesError(PVPGuideError):
    """The DICOM folder does not hold one complete, evenly spaced CT series."""


def _numbers(text: str, count: int, what: str, name: str) -> np.ndarray:
    try:
        values = np.array([float(x) for x in text.strip().split("\\")], dtype=float)
    except ValueError:
        values = np.array([])
    if values.size != count or not np.all(np.isfinite(values)):
        raise DicomSeriesError(f"slice {name}: its {what} {text!r} is not {count} numbers; the slice is damaged")
    return values


def slice_geometry(files, folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """(n,) positions along the slice normal (mm) and the (3,) normal, from each file's own header."""
    import SimpleITK as sitk

    positions, normal = [], None
    for file_name in files:
        name = Path(file_name).name
        reader = sitk.ImageFileReader()
        reader.SetFileName(str(file_name))
        try:
            reader.ReadImageInformation()
        except RuntimeError:
            raise DicomSeriesError(f"{folder}: slice {name} cannot be read (damaged); replace or remove it and "
                                   "check that the series is complete") from None
        if not reader.HasMetaDataKey("0020|0032") or not reader.HasMetaDataKey("0020|0037"):
            raise DicomSeriesError(f"{folder}: slice {name} has no Image Position/Orientation (Patient); "
                                   "it is not a CT slice with geometry")
        position = _numbers(reader.GetMetaData("0020|0032"), 3, "Image Position (Patient)", name)
        orientation = _numbers(reader.GetMetaData("0020|0037"), 6, "Image Orientation (Patient)", name)
        n = np.cross(orientation[:3], orientation[3:])
        if np.linalg.norm(n) < 0.5:
            raise DicomSeriesError(f"{folder}: slice {name} has a degenerate Image Orientation (Patient)")
        n = n / np.linalg.norm(n)
        if normal is None:
            normal = n
        elif abs(float(np.dot(normal, n))) < 0.9999:
            raise DicomSeriesError(f"{folder}: slice {name} is tilted against the others (Image Orientation "
                                   "differs); the folder mixes series: keep one series per folder")
        positions.append(float(np.dot(position, normal)))
    return np.array(positions), normal


def check_slice_positions(positions: np.ndarray, folder: Path) -> float:
    """The series' slice spacing (mm); refuses duplicate, missing and unevenly spaced slices."""
    order = np.sort(positions)
    gaps = np.diff(order)
    if gaps.size == 0:
        raise DicomSeriesError(f"{folder}: the series has one slice; a CT volume needs several")
    duplicates = int(np.count_nonzero(gaps < 1e-3))
    if duplicates:
        raise DicomSeriesError(f"{folder}: {duplicates} slice(s) are present twice (same position); remove the "
                               "copies so that each position appears once")
    spacing = float(np.median(gaps))
    tolerance = SLICE_GAP_TOLERANCE_MM + SLICE_GAP_TOLERANCE_FRACTION * spacing
    bad = np.flatnonzero(np.abs(gaps - spacing) > tolerance)
    if bad.size:
        first = int(bad[0])
        kind = "missing" if gaps[first] > 1.5 * spacing else "unevenly spaced"
        raise DicomSeriesError(
            f"{folder}: slices are {kind}: the gap between positions {order[first]:.2f} and {order[first + 1]:.2f} mm "
            f"is {gaps[first]:.3f} mm, the series' spacing {spacing:.3f} mm (tolerance {tolerance:.3f} mm; "
            f"{bad.size} gap(s) differ); export the complete series again"
        )
    return spacing


def unused_files(folder: Path, files) -> list:
    """Files in the folder that are not slices of the series (corrupt slices ITK skipped, other data)."""
    used = {Path(f).resolve() for f in files}
    return sorted(p.name for p in folder.iterdir()
                  if p.is_file() and not p.name.startswith(".") and p.name.lower() not in IGNORED_NAMES
                  and p.resolve() not in used)


def check_series(folder: Path, files) -> float:
    """All checks of a series (its files as ITK lists them); returns the slice spacing in mm."""
    leftovers = unused_files(folder, files)
    if leftovers:
        shown = ", ".join(leftovers[:5]) + (" ..." if len(leftovers) > 5 else "")
        raise DicomSeriesError(f"{folder}: {len(leftovers)} file(s) are not readable slices of the series ({shown}): "
                               "a damaged slice makes the volume incomplete; replace it or remove it from the folder")
    positions, _ = slice_geometry(files, folder)
    return check_slice_positions(positions, folder)
