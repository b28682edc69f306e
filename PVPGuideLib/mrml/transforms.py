"""Linear transform nodes, parenting, and the node-to-world matrix of a transformable node."""

from __future__ import annotations

import numpy as np

from ._vtk import from_vtk_matrix, to_vtk_matrix
from .errors import MRMLAdapterError


def linear_transform_node(scene, matrix, name: str):
    """vtkMRMLLinearTransformNode whose to-parent matrix is the (4, 4) `matrix` (RAS mm)."""
    node = scene.AddNewNodeByClass("vtkMRMLLinearTransformNode", name)
    node.SetMatrixTransformToParent(to_vtk_matrix(matrix))
    return node


def set_parent_transform(node, transform_node) -> None:
    """Place `node` under `transform_node` (None removes the parent); the node's data is unchanged."""
    node.SetAndObserveTransformNodeID(transform_node.GetID() if transform_node is not None else None)


def world_matrix(node) -> np.ndarray:
    """(4, 4) node-to-world (RAS) matrix: the product of all parent linear transforms.

    Raises MRMLAdapterError for a non-linear parent (e.g. a warp), which no 4x4 can express.
    """
    parent = node.GetParentTransformNode()
    if parent is None:
        return np.eye(4)
    if not parent.IsTransformToWorldLinear():
        raise MRMLAdapterError(
            f"node '{node.GetName()}' is under the non-linear transform '{parent.GetName()}'; "
            "harden the transform (Data module: right-click > Harden transform) and try again"
        )
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    matrix = vtkMatrix4x4()
    parent.GetMatrixTransformToWorld(matrix)
    return from_vtk_matrix(matrix)
