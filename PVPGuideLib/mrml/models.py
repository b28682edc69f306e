"""Model nodes <-> TriangleMesh (RAS mm, triangles only)."""

from __future__ import annotations

import numpy as np

from ..core.mesh import TriangleMesh
from .errors import MRMLAdapterError
from .transforms import world_matrix


def _poly_data(mesh: TriangleMesh):
    from vtkmodules.util import numpy_support
    from vtkmodules.vtkCommonCore import vtkPoints
    from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData

    points = vtkPoints()
    # double precision so vertices survive the node and a saved scene unchanged
    points.SetData(numpy_support.numpy_to_vtk(np.ascontiguousarray(mesh.vertices, dtype=np.float64), deep=True))
    offsets = np.arange(0, 3 * len(mesh.faces) + 1, 3, dtype=np.int64)
    cells = vtkCellArray()
    cells.SetData(
        numpy_support.numpy_to_vtkIdTypeArray(offsets, deep=True),
        numpy_support.numpy_to_vtkIdTypeArray(np.ascontiguousarray(mesh.faces, dtype=np.int64).ravel(), deep=True),
    )
    poly_data = vtkPolyData()
    poly_data.SetPoints(points)
    poly_data.SetPolys(cells)
    return poly_data


def model_node_from_mesh(scene, mesh: TriangleMesh, name: str, *, color=None):
    """vtkMRMLModelNode `name` holding a copy of `mesh`; `color` is an optional (r, g, b) in 0..1."""
    node = scene.AddNewNodeByClass("vtkMRMLModelNode", name)
    node.SetAndObservePolyData(_poly_data(mesh))
    node.CreateDefaultDisplayNodes()
    if color is not None:
        rgb = np.asarray(color, dtype=float).ravel()
        if rgb.shape != (3,) or np.any(rgb < 0) or np.any(rgb > 1):
            raise MRMLAdapterError(f"model color must be (r, g, b) with values in 0..1, got {color!r}")
        node.GetDisplayNode().SetColor(*rgb.tolist())
    return node


def set_model_mesh(node, mesh: TriangleMesh) -> None:
    """Replace a model node's surface with a copy of `mesh` (world RAS); a parent linear transform is undone first."""
    if node is None or not node.IsA("vtkMRMLModelNode"):
        raise MRMLAdapterError("expected a model node (vtkMRMLModelNode)")
    node.SetAndObservePolyData(_poly_data(mesh.transformed(np.linalg.inv(world_matrix(node)))))


def mesh_from_model_node(node) -> TriangleMesh:
    """TriangleMesh copy of a model node's surface in world RAS.

    Polygons and strips are triangulated; vertices, lines and unused points carry no surface and
    are not turned into faces. Parent linear transforms are applied.
    """
    from vtkmodules.util import numpy_support
    from vtkmodules.vtkFiltersCore import vtkTriangleFilter

    if node is None or not node.IsA("vtkMRMLModelNode"):
        raise MRMLAdapterError("expected a model node (vtkMRMLModelNode)")
    poly_data = node.GetPolyData()
    if poly_data is None or poly_data.GetNumberOfPoints() == 0:
        return TriangleMesh(np.empty((0, 3)), np.empty((0, 3), dtype=np.int64))
    polys = poly_data.GetPolys()
    all_triangles = poly_data.GetNumberOfStrips() == 0 and polys.GetNumberOfCells() > 0 and polys.IsHomogeneous() == 3
    if not all_triangles:
        triangulate = vtkTriangleFilter()
        triangulate.PassVertsOff()
        triangulate.PassLinesOff()
        triangulate.SetInputData(poly_data)
        triangulate.Update()
        poly_data = triangulate.GetOutput()
        polys = poly_data.GetPolys()
    vertices = numpy_support.vtk_to_numpy(poly_data.GetPoints().GetData()).astype(np.float64)
    faces = numpy_support.vtk_to_numpy(polys.GetConnectivityArray()).astype(np.int64).reshape(-1, 3)
    return TriangleMesh(vertices, faces).transformed(world_matrix(node))
