"""Scalar volume nodes <-> CTVolume, with the IJK->RAS geometry and voxels kept exactly."""

from __future__ import annotations

from ..core.volume import CTVolume
from ._vtk import array_from_image_data, extent_offset_matrix, fill_image_data, from_vtk_matrix, to_vtk_matrix
from .errors import MRMLAdapterError
from .transforms import world_matrix


def volume_node_from_ct(scene, ct: CTVolume, name: str, *, class_name: str = "vtkMRMLScalarVolumeNode"):
    """A new volume node (default vtkMRMLScalarVolumeNode) holding a copy of `ct`.

    Its IJKToRAS matrix is `ct.ijk_to_ras` (any rotation or reflection, anisotropic spacing).
    Use class_name="vtkMRMLLabelMapVolumeNode" for a label map.
    """
    from vtkmodules.vtkCommonDataModel import vtkImageData

    image = vtkImageData()
    fill_image_data(image, ct.voxels)
    node = scene.AddNewNodeByClass(class_name, name)
    node.SetIJKToRASMatrix(to_vtk_matrix(ct.ijk_to_ras))
    node.SetAndObserveImageData(image)
    node.CreateDefaultDisplayNodes()
    node.AddDefaultStorageNode()
    storage = node.GetStorageNode()
    # Slicer >= 5.10 flips K on reading a left-handed (mirrored) grid unless told not to; keep the
    # user's grid so a saved plan re-opens with the same voxel order and matrix.
    if hasattr(storage, "SetForceRightHandedIJKCoordinateSystem"):
        storage.SetForceRightHandedIJKCoordinateSystem(False)
    return node


def ct_from_volume_node(node) -> CTVolume:
    """CTVolume copy of a scalar volume node, in world RAS (parent linear transforms folded in)."""
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    if node is None or not node.IsA("vtkMRMLScalarVolumeNode"):
        raise MRMLAdapterError("expected a scalar volume node (vtkMRMLScalarVolumeNode)")
    image = node.GetImageData()
    if image is None:
        raise MRMLAdapterError(f"volume '{node.GetName()}' has no voxel data; load the image first")
    try:
        voxels = array_from_image_data(image)
    except ValueError as exc:
        raise MRMLAdapterError(f"volume '{node.GetName()}': {exc}; a CT must have one value per voxel") from exc
    ijk_to_ras = vtkMatrix4x4()
    node.GetIJKToRASMatrix(ijk_to_ras)
    matrix = world_matrix(node) @ from_vtk_matrix(ijk_to_ras) @ extent_offset_matrix(image)
    return CTVolume(voxels, matrix)
