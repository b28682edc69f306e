"""Segmentation nodes <-> label maps on a CT grid (one segment per label value)."""

from __future__ import annotations

import numpy as np

from ..core.volume import CTVolume
from ._vtk import array_from_image_data, fill_image_data, from_vtk_matrix, slicer_module, to_vtk_matrix
from .errors import MRMLAdapterError
from .transforms import world_matrix

# Used when the caller gives no colour: Slicer would otherwise pick a random one per process,
# and the saved .seg.nrrd (and .mrb) would differ between two saves of the same plan.
_DEFAULT_COLORS = (
    (0.945, 0.839, 0.569),  # bone
    (0.850, 0.325, 0.098),
    (0.000, 0.447, 0.741),
    (0.466, 0.674, 0.188),
    (0.494, 0.184, 0.556),
    (0.301, 0.745, 0.933),
    (0.929, 0.694, 0.125),
    (0.635, 0.078, 0.184),
)


def _oriented_image(voxels: np.ndarray, ijk_to_ras, extent_start=(0, 0, 0)):
    """vtkOrientedImageData of (K, J, I) `voxels` whose first voxel has IJK `extent_start` on the grid."""
    image = slicer_module().vtkOrientedImageData()
    fill_image_data(image, voxels)
    i0, j0, k0 = (int(v) for v in extent_start)
    k, j, i = voxels.shape
    image.SetExtent(i0, i0 + i - 1, j0, j0 + j - 1, k0, k0 + k - 1)
    image.SetImageToWorldMatrix(to_vtk_matrix(ijk_to_ras))
    return image


def _cropped_mask(mask: np.ndarray, ijk_to_ras):
    """Oriented image of the mask's bounding box on the full grid (Slicer keeps labelmaps cropped)."""
    nonzero = np.nonzero(mask)
    low = [int(axis.min()) for axis in nonzero]
    high = [int(axis.max()) + 1 for axis in nonzero]
    box = mask[low[0] : high[0], low[1] : high[1], low[2] : high[2]]
    return _oriented_image(box.astype(np.uint8), ijk_to_ras, extent_start=low[::-1])


def _serialized_geometry(ct: CTVolume) -> str:
    """Slicer's reference-image-geometry string for the CT grid (matrix and full extent)."""
    from vtkmodules.vtkCommonDataModel import vtkImageData

    grid = vtkImageData()  # extent only, no voxels needed
    i, j, k = ct.shape_ijk
    grid.SetExtent(0, i - 1, 0, j - 1, 0, k - 1)
    return slicer_module().vtkSegmentationConverter.SerializeImageGeometry(to_vtk_matrix(ct.ijk_to_ras), grid)


def segmentation_node_from_labelmap(
    scene,
    labels_ct: CTVolume,
    name: str,
    *,
    segment_names: dict[int, str],
    colors: dict[int, tuple[float, float, float]] | None = None,
    reference_volume_node=None,
):
    """vtkMRMLSegmentationNode with one segment per entry of `segment_names` ({label value: name}).

    Each segment's ID is its name, so it can be read back with labelmap_from_segment(node, name, ct).
    A label absent from the map gives an empty segment. The reference geometry is
    `reference_volume_node` when given, else the label map's own grid.
    """
    voxels = np.asarray(labels_ct.voxels)
    names = list(segment_names.values())
    if len(set(names)) != len(names) or any(not n for n in names):
        raise MRMLAdapterError(f"segment names must be unique and non-empty, got {names}")
    if any(int(label) == 0 for label in segment_names):
        raise MRMLAdapterError("label 0 is background and cannot be a segment")
    node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", name)
    node.CreateDefaultDisplayNodes()
    if reference_volume_node is not None:
        node.SetReferenceImageGeometryParameterFromVolumeNode(reference_volume_node)
    else:
        node.GetSegmentation().SetConversionParameter(
            slicer_module().vtkSegmentationConverter.GetReferenceImageGeometryParameterName(),
            _serialized_geometry(labels_ct),
        )
    segmentation = node.GetSegmentation()
    for number, label in enumerate(sorted(segment_names)):  # sorted: order must not follow the dict's
        segment_name = segment_names[label]
        mask = voxels == label
        given = (colors or {}).get(label)
        color = [float(c) for c in (given if given is not None else _DEFAULT_COLORS[number % len(_DEFAULT_COLORS)])]
        # explicit IDs: Slicer would otherwise generate random ones, making saved scenes differ
        if mask.any():
            image = _cropped_mask(mask, labels_ct.ijk_to_ras)
            added = node.AddSegmentFromBinaryLabelmapRepresentation(image, segment_name, color, segment_name)
        else:
            added = segmentation.AddEmptySegment(segment_name, segment_name, color)
        if added != segment_name:
            raise MRMLAdapterError(f"could not add segment '{segment_name}' to segmentation '{name}'")
    return node


def set_segment_from_mask(segmentation_node, segment_id: str, mask_ct: CTVolume, *, color, reference_volume_node=None):
    """Replace segment `segment_id` (added when missing; its ID is also its name) by the non-zero voxels of `mask_ct`.

    `mask_ct` is in world RAS; a parent transform of the segmentation node is taken into account. The
    node keeps its ID, so references to it stay valid. An empty mask gives an empty segment.
    """
    voxels = np.asarray(mask_ct.voxels) != 0
    if reference_volume_node is not None:
        segmentation_node.SetReferenceImageGeometryParameterFromVolumeNode(reference_volume_node)
    segmentation = segmentation_node.GetSegmentation()
    if segmentation.GetSegment(segment_id) is not None:
        segmentation.RemoveSegment(segment_id)
    color = [float(c) for c in color]
    if voxels.any():
        to_node = np.linalg.inv(world_matrix(segmentation_node)) @ mask_ct.ijk_to_ras
        added = segmentation_node.AddSegmentFromBinaryLabelmapRepresentation(
            _cropped_mask(voxels, to_node), segment_id, color, segment_id)
    else:
        added = segmentation.AddEmptySegment(segment_id, segment_id, color)
    if added != segment_id:
        raise MRMLAdapterError(f"could not set segment '{segment_id}' of segmentation '{segmentation_node.GetName()}'")


def segment_ids(segmentation_node) -> list[str]:
    """IDs of the segments in display order."""
    segmentation = segmentation_node.GetSegmentation()
    return [segmentation.GetNthSegmentID(n) for n in range(segmentation.GetNumberOfSegments())]


def segment_names_by_id(segmentation_node) -> dict[str, str]:
    """{segment ID: segment name} in display order."""
    segmentation = segmentation_node.GetSegmentation()
    return {sid: segmentation.GetSegment(sid).GetName() for sid in segment_ids(segmentation_node)}


def labelmap_from_segment(segmentation_node, segment_id: str, reference_ct: CTVolume) -> np.ndarray:
    """(K, J, I) uint8 mask (1 inside) of one segment on the grid of `reference_ct`, in world RAS.

    Parent linear transforms of the segmentation are applied. Resampling is nearest-neighbour,
    so a segment made on the same grid comes back voxel for voxel.
    """
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    slicer = slicer_module()
    if segmentation_node is None or not segmentation_node.IsA("vtkMRMLSegmentationNode"):
        raise MRMLAdapterError("expected a segmentation node (vtkMRMLSegmentationNode)")
    segmentation = segmentation_node.GetSegmentation()
    if segmentation.GetSegment(segment_id) is None:
        raise MRMLAdapterError(
            f"segmentation '{segmentation_node.GetName()}' has no segment with ID '{segment_id}'; "
            f"it has {segment_names_by_id(segmentation_node)} (ID: name)"
        )
    binary_name = slicer.vtkSegmentationConverter.GetSegmentationBinaryLabelmapRepresentationName()
    if not segmentation.ContainsRepresentation(binary_name):
        segmentation_node.CreateBinaryLabelmapRepresentation()  # e.g. a segmentation made of surfaces
    # The node's getter thresholds by the segment's label value; the module logic's
    # GetSegmentBinaryLabelmapRepresentation copies the whole shared layer (other segments too).
    segment_image = slicer.vtkOrientedImageData()
    if not segmentation_node.GetBinaryLabelmapRepresentation(segment_id, segment_image):
        raise MRMLAdapterError(f"could not get a label map of segment '{segment_id}'")
    image_to_node = vtkMatrix4x4()
    segment_image.GetImageToWorldMatrix(image_to_node)
    segment_image.SetImageToWorldMatrix(to_vtk_matrix(world_matrix(segmentation_node) @ from_vtk_matrix(image_to_node)))
    k, j, i = reference_ct.voxels.shape
    if segment_image.IsEmpty():
        return np.zeros((k, j, i), dtype=np.uint8)
    reference = slicer.vtkOrientedImageData()  # geometry only: the resampler needs no voxels
    reference.SetExtent(0, i - 1, 0, j - 1, 0, k - 1)
    reference.SetImageToWorldMatrix(to_vtk_matrix(reference_ct.ijk_to_ras))
    resampled = slicer.vtkOrientedImageData()
    if not slicer.vtkOrientedImageDataResample.ResampleOrientedImageToReferenceOrientedImage(
        segment_image, reference, resampled, False, False
    ):
        raise MRMLAdapterError(f"could not resample segment '{segment_id}' to the CT grid")
    return (array_from_image_data(resampled) != 0).astype(np.uint8)
