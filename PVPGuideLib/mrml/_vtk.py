"""Lazy import of slicer, numpy <-> vtkMatrix4x4 conversion and VTK message capture."""

from __future__ import annotations

import contextlib
import importlib

import numpy as np


def slicer_module():
    """The `slicer` package (Slicer application or slicer-core wheel), imported on first use."""
    try:
        return importlib.import_module("slicer")
    except ImportError as exc:  # the adapter is optional for the pure library, so say how to get it
        raise ImportError("PVPGuideLib.mrml needs Slicer's MRML: run it inside 3D Slicer or `pip install slicer-core`") from exc


def to_vtk_matrix(matrix) -> object:
    """(4, 4) array -> vtkMatrix4x4."""
    m = np.asarray(matrix, dtype=float)
    if m.shape != (4, 4) or not np.all(np.isfinite(m)):
        raise ValueError(f"expected a finite 4x4 matrix, got shape {m.shape}")
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    vtk_matrix = vtkMatrix4x4()
    vtk_matrix.DeepCopy(m.ravel().tolist())
    return vtk_matrix


def from_vtk_matrix(vtk_matrix) -> np.ndarray:
    """vtkMatrix4x4 -> (4, 4) float array."""
    return np.array([[vtk_matrix.GetElement(r, c) for c in range(4)] for r in range(4)], dtype=float)


@contextlib.contextmanager
def captured_vtk_output():
    """Collect VTK/MRML warnings and errors in a list (one string each) instead of printing them.

    MRML reports expected conditions (e.g. a reader probing a file) through the global
    vtkOutputWindow and vtkLogger; callers turn what matters into exceptions, so the rest is kept
    off the terminal. Both are restored afterwards, so the Slicer application's log is untouched
    outside the block.
    """
    from vtkmodules.vtkCommonCore import vtkLogger, vtkOutputWindow, vtkStringOutputWindow

    previous_window = vtkOutputWindow.GetInstance()
    previous_window.Register(None)  # keep it alive while it is not the global instance
    previous_verbosity = vtkLogger.GetCurrentVerbosityCutoff()
    capture = vtkStringOutputWindow()
    vtkOutputWindow.SetInstance(capture)
    vtkLogger.SetStderrVerbosity(vtkLogger.VERBOSITY_OFF)
    messages: list[str] = []
    try:
        yield messages
    finally:
        vtkLogger.SetStderrVerbosity(vtkLogger.ConvertToVerbosity(previous_verbosity))
        vtkOutputWindow.SetInstance(previous_window)
        previous_window.UnRegister(None)
        # vtkStringOutputWindow separates messages by a blank line; keep each as one line
        for block in capture.GetOutput().split("\n\n"):
            text = " ".join(line.strip() for line in block.splitlines() if line.strip())
            if text:
                messages.append(text)


def fill_image_data(image, voxels: np.ndarray) -> None:
    """Copy (K, J, I) `voxels` into a vtkImageData (or vtkOrientedImageData) as its one scalar array.

    The image keeps extent (0..I-1, 0..J-1, 0..K-1), unit spacing and zero origin: in MRML the
    voxel-to-world geometry lives in the node (or the oriented image's matrix), not in the image.
    """
    from vtkmodules.util import numpy_support

    voxels = np.asarray(voxels)
    if voxels.ndim != 3:
        raise ValueError(f"expected a (K, J, I) voxel array, got {voxels.ndim} dimensions")
    if voxels.dtype == bool:  # VTK has no boolean scalar type
        voxels = voxels.astype(np.uint8)
    try:
        scalars = numpy_support.numpy_to_vtk(np.ascontiguousarray(voxels).ravel(), deep=True)
    except TypeError as exc:
        raise ValueError(f"voxel type {voxels.dtype} cannot be stored in a VTK image") from exc
    scalars.SetName("ImageScalars")
    k, j, i = voxels.shape
    image.SetDimensions(i, j, k)
    image.SetOrigin(0.0, 0.0, 0.0)
    image.SetSpacing(1.0, 1.0, 1.0)
    image.GetPointData().SetScalars(scalars)


def array_from_image_data(image) -> np.ndarray:
    """(K, J, I) copy of the single-component scalars of a vtkImageData."""
    from vtkmodules.util import numpy_support

    scalars = image.GetPointData().GetScalars()
    if scalars is None or scalars.GetNumberOfComponents() != 1:
        raise ValueError("the image has no single-component voxel array")
    i, j, k = image.GetDimensions()
    return numpy_support.vtk_to_numpy(scalars).reshape(k, j, i).copy()


def extent_offset_matrix(image) -> np.ndarray:
    """(4, 4) shift from array indices to the image's own IJK when its extent does not start at 0."""
    shift = np.eye(4)
    extent = image.GetExtent()
    shift[:3, 3] = extent[0], extent[2], extent[4]
    return shift
