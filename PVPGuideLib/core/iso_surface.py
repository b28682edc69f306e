"""Iso-surface of a voxel field as a RAS TriangleMesh (VTK flying edges), closed at the field's border."""

from __future__ import annotations

import numpy as np

from .mesh import TriangleMesh


def iso_surface(field: np.ndarray, ijk_to_ras: np.ndarray, level: float, *, outside_value: float,
                smoothing_iterations: int = 0) -> TriangleMesh | None:
    """Surface where the (K, J, I) field crosses `level`; None when it never does.

    smoothing_iterations > 0 relaxes the surface with a windowed-sinc filter (for pictures of a coarse CT:
    it takes off the voxel staircase but moves the surface, so measurements use 0).

    The field is padded by one voxel of `outside_value`, so a region cut by the border of the grid still
    gets a closed surface (its cap lies half a voxel outside the grid). Faces are flipped when the grid
    mirrors (negative determinant), so orientation follows the field, not the CT's storage order.
    """
    import vtk
    from vtk.util import numpy_support

    padded = np.pad(np.asarray(field, dtype=np.float32), 1, constant_values=float(outside_value))
    image = vtk.vtkImageData()
    k, j, i = padded.shape
    image.SetDimensions(i, j, k)
    image.SetOrigin(-1.0, -1.0, -1.0)  # padding shifts index 0 to -1
    image.GetPointData().SetScalars(numpy_support.numpy_to_vtk(padded.ravel(), deep=True))
    contour = vtk.vtkFlyingEdges3D()
    contour.SetInputData(image)
    contour.SetValue(0, float(level))
    contour.ComputeNormalsOff()
    contour.ComputeGradientsOff()
    output = contour
    if smoothing_iterations > 0:
        output = vtk.vtkWindowedSincPolyDataFilter()
        output.SetInputConnection(contour.GetOutputPort())
        output.SetNumberOfIterations(int(smoothing_iterations))
        output.SetPassBand(0.1)
        output.NonManifoldSmoothingOn()
        output.NormalizeCoordinatesOn()
    output.Update()
    polys = output.GetOutput()
    if polys.GetNumberOfCells() == 0:
        return None
    ijk = numpy_support.vtk_to_numpy(polys.GetPoints().GetData()).astype(np.float64)
    faces = numpy_support.vtk_to_numpy(polys.GetPolys().GetConnectivityArray()).reshape(-1, 3).astype(np.int64)
    m = np.asarray(ijk_to_ras, dtype=float)
    if np.linalg.det(m[:3, :3]) < 0:
        faces = faces[:, ::-1].copy()
    return TriangleMesh(ijk @ m[:3, :3].T + m[:3, 3], faces)
