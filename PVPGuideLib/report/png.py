"""PNG files of RGB pictures, written by VTK's vtkPNGWriter, and data: URIs for the HTML."""

from __future__ import annotations

import base64
import struct

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_bytes(rgb: np.ndarray) -> bytes:
    """Encode a (rows, columns, 3) uint8 picture, row 0 at the top, as an 8-bit RGB PNG (same picture, same bytes)."""
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonDataModel import vtkImageData
    from vtkmodules.vtkIOImage import vtkPNGWriter

    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise ValueError(f"a picture must be a non-empty (rows, columns, 3) array, got shape {rgb.shape}")
    rows, columns = rgb.shape[:2]
    image = vtkImageData()
    image.SetDimensions(columns, rows, 1)
    # VTK's image row 0 is the bottom one
    scalars = numpy_to_vtk(np.ascontiguousarray(rgb[::-1].reshape(-1, 3), dtype=np.uint8), deep=True)
    scalars.SetName("rgb")
    image.GetPointData().SetScalars(scalars)
    writer = vtkPNGWriter()
    writer.SetInputData(image)
    writer.WriteToMemoryOn()
    writer.Write()
    result = writer.GetResult()
    if result is None or result.GetNumberOfTuples() == 0:
        raise RuntimeError("VTK wrote no PNG data")
    return bytes(memoryview(result).cast("B"))


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) read from a PNG's header."""
    if data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def png_rgb(data: bytes) -> np.ndarray:
    """(rows, columns, 3) uint8 picture of a PNG, row 0 at the top (VTK's vtkPNGReader), for checks by content."""
    from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
    from vtkmodules.vtkIOImage import vtkPNGReader

    png_size(data)  # a clear error for anything but a PNG
    reader = vtkPNGReader()
    if hasattr(reader, "SetStream"):  # VTK 9.4+: streams; SetMemoryBuffer is deprecated from 9.6
        from vtkmodules.vtkIOCore import vtkMemoryResourceStream

        stream = vtkMemoryResourceStream()
        stream.SetBuffer(data, len(data), True)
        reader.SetStream(stream)
    else:  # VTK 9.2 (Slicer 5.6)
        buffer = numpy_to_vtk(np.frombuffer(data, dtype=np.uint8), deep=True)
        reader.SetMemoryBuffer(buffer)
        reader.SetMemoryBufferLength(len(data))
    reader.Update()
    image = reader.GetOutput()
    columns, rows, _ = image.GetDimensions()
    pixels = vtk_to_numpy(image.GetPointData().GetScalars()).reshape(rows, columns, -1)
    return np.ascontiguousarray(pixels[::-1, :, :3])


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
