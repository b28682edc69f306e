"""Bone iso-surface of one vertebra for the 3D view: the CT around the target level, cropped to a box in the
vertebra frame, contoured at a bone threshold. The CT itself is not changed (a cropped copy is contoured)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..mesh import TriangleMesh
from ..volume import CTVolume
from .path_geometry import PathGeometry

# Cortical bone reads several hundred HU, osteoporotic cancellous bone about 50-150 HU, muscle about 50:
# 200 HU draws the cortical shell of the vertebra without the soft tissue around it.
BONE_THRESHOLD_HU = 180.0
# A light blur before contouring: trabecular noise would otherwise show as loose fragments inside the body.
BLUR_MM = 1.0
AIR_HU = -1000.0
# Box around one vertebra in its frame (mm from the frame origin, the body centre): wide enough for the
# transverse processes, deep enough for the spinous process, about one body plus half a disc high.
BOX_RIGHT_MM = (-45.0, 45.0)
BOX_ANTERIOR_MM = (-70.0, 25.0)
BOX_SUPERIOR_MM = (-17.0, 17.0)
SMOOTHING_ITERATIONS = 15


def vertebra_box(path: PathGeometry) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(origin, axes (3, 3) rows right/anterior/superior, (3, 2) lower/upper mm along each axis)."""
    axes = np.array([path.right, path.anterior, path.superior])
    limits = np.array([BOX_RIGHT_MM, BOX_ANTERIOR_MM, BOX_SUPERIOR_MM])
    if not path.has_vertebra_frame:
        # C sits in the anterior third of the body, about 8 mm in front of its centre: shift the box back
        limits = limits - np.array([[0.0, 0.0], [8.0, 8.0], [0.0, 0.0]])
    return path.origin, axes, limits


def bone_surface(ct: CTVolume, path: PathGeometry, *, threshold_hu: float = BONE_THRESHOLD_HU) -> TriangleMesh | None:
    """The bone iso-surface inside the vertebra box (RAS mm), or None when there is no bone there."""
    from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
    from vtkmodules.vtkCommonDataModel import vtkImageData
    from vtkmodules.vtkFiltersCore import vtkFlyingEdges3D, vtkWindowedSincPolyDataFilter

    origin, axes, limits = vertebra_box(path)
    corners = np.array([[x, y, z] for x in limits[0] for y in limits[1] for z in limits[2]])
    corners_ras = origin + corners @ axes
    ijk = ct.ras_to_ijk_points(corners_ras)
    size = np.asarray(ct.shape_ijk)
    lo = np.clip(np.floor(ijk.min(axis=0)).astype(int) - 1, 0, size - 1)
    hi = np.clip(np.ceil(ijk.max(axis=0)).astype(int) + 1, 0, size - 1)
    if np.any(hi - lo < 2):
        return None
    block = ct.voxels[lo[2]:hi[2] + 1, lo[1]:hi[1] + 1, lo[0]:hi[0] + 1].astype(np.float32)
    # Outside the oriented box counts as air, so the surface closes at the box walls.
    kk, jj, ii = np.meshgrid(*(np.arange(lo[n], hi[n] + 1) for n in (2, 1, 0)), indexing="ij")
    ras = ct.ijk_to_ras_points(np.stack([ii.ravel(), jj.ravel(), kk.ravel()], axis=1))
    local = (ras - origin) @ axes.T
    inside = np.all((local >= limits[:, 0]) & (local <= limits[:, 1]), axis=1).reshape(block.shape)
    block = ndimage.gaussian_filter(block, BLUR_MM / ct.spacing[::-1], mode="nearest")
    block[~inside] = AIR_HU
    if not np.any(block > threshold_hu):
        return None
    block = np.pad(block, 1, constant_values=AIR_HU)

    image = vtkImageData()
    image.SetDimensions(block.shape[2], block.shape[1], block.shape[0])
    image.SetOrigin(*(lo - 1).astype(float))  # index space of the CT (padding shifts by one)
    image.GetPointData().SetScalars(numpy_to_vtk(block.ravel(), deep=True))
    contour = vtkFlyingEdges3D()
    contour.SetInputData(image)
    contour.SetValue(0, float(threshold_hu))
    contour.ComputeNormalsOff()
    smooth = vtkWindowedSincPolyDataFilter()  # takes the voxel staircase off a 1-3 mm CT
    smooth.SetInputConnection(contour.GetOutputPort())
    smooth.SetNumberOfIterations(SMOOTHING_ITERATIONS)
    smooth.SetPassBand(0.1)
    smooth.NonManifoldSmoothingOn()
    smooth.NormalizeCoordinatesOn()
    smooth.Update()
    polys = smooth.GetOutput()
    if polys.GetNumberOfCells() == 0:
        return None
    points_ijk = vtk_to_numpy(polys.GetPoints().GetData()).astype(np.float64)
    faces = vtk_to_numpy(polys.GetPolys().GetConnectivityArray()).reshape(-1, 3).astype(np.int64)
    return TriangleMesh(ct.ijk_to_ras_points(points_ijk), faces)
