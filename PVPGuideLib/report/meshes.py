"""Meshes the report draws but does not compute: guide plates read back from their STL files (LPS or RAS)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.mesh import TriangleMesh

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def read_stl(path, *, coordinate_system: str = "LPS") -> TriangleMesh:
    """Triangles of an STL file in RAS mm; `coordinate_system` is the file's (SPEC section 2: LPS by default)."""
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkFiltersCore import vtkTriangleFilter
    from vtkmodules.vtkIOGeometry import vtkSTLReader

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"STL file {path} not found")
    reader = vtkSTLReader()
    reader.SetFileName(str(path))
    triangles = vtkTriangleFilter()
    triangles.SetInputConnection(reader.GetOutputPort())
    triangles.Update()
    poly = triangles.GetOutput()
    if poly.GetNumberOfCells() == 0:
        raise ValueError(f"STL file {path} holds no triangles")
    vertices = vtk_to_numpy(poly.GetPoints().GetData()).astype(np.float64)
    faces = vtk_to_numpy(poly.GetPolys().GetConnectivityArray()).reshape(-1, 3).astype(np.int64)
    mesh = TriangleMesh(vertices, faces)
    system = str(coordinate_system).upper()
    if system == "LPS":
        return mesh.transformed(LPS_TO_RAS)
    if system != "RAS":
        raise ValueError(f"unknown STL coordinate system {coordinate_system!r} (expected LPS or RAS)")
    return mesh
