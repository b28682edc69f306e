"""Vertebral body analysis for cement scores: frame coordinates, midsagittal plane, endplate layers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.geometry import VertebraFrame
from .errors import CementError
from .frame import as_vertebra_frame
from .masks import body_mask_on_grid
from .sampling import FrameGrid, column_surfaces, voxel_centres_ras

# Cement within this depth of an endplate (along the superior axis, from the voxel centre to the body
# surface) touches it: the endplate cortex plus the partial-volume blur of a clinical CT slice.
DEFAULT_CONTACT_MM = 3.0
# Frame-aligned sampling step for simulated projections and sections (mm); finer than any clinical voxel.
DEFAULT_SAMPLING_STEP_MM = 0.5


@dataclass(frozen=True, eq=False)
class BodyAnalysis:
    """A vertebral body on its CT grid, seen in the vertebra frame.

    flat_index : (n,) int64, ascending flat indices of the body voxels in the (K, J, I) grid.
    coords : (n, 3) float, voxel centres in the frame (r, a, s mm relative to the frame origin).
    signed_distance : (n,) float, distance to the midsagittal plane, positive on the patient's right.
    superior_layer, inferior_layer : (n,) bool, voxels within contact_mm of each endplate.
    grid, sampled : the body ray-sampled on a frame-aligned grid (projections, sections, footprints).
    footprint : (nr, na) bool, the body seen along the superior axis; top, bottom : (nr, na) frame s (mm)
    of each column's upper and lower surface (outside the footprint: the nearest column's).
    """

    mask: np.ndarray
    ijk_to_ras: np.ndarray
    axes: VertebraFrame
    flat_index: np.ndarray
    coords: np.ndarray
    voxel_volume_mm3: float
    superior_endplate_centre: np.ndarray
    inferior_endplate_centre: np.ndarray
    midsagittal_point: np.ndarray
    midsagittal_normal: np.ndarray
    signed_distance: np.ndarray
    superior_layer: np.ndarray
    inferior_layer: np.ndarray
    contact_mm: float
    grid: FrameGrid
    sampled: np.ndarray
    footprint: np.ndarray
    top: np.ndarray
    bottom: np.ndarray

    @property
    def volume_ml(self) -> float:
        return len(self.flat_index) * self.voxel_volume_mm3 / 1000.0

    def values_of(self, mask: np.ndarray) -> np.ndarray:
        """(n,) bool: a full-grid mask read at the body voxels."""
        return np.asarray(mask, dtype=bool).ravel()[self.flat_index]


def analyse_body(ct, body_mask, frame, *, contact_mm: float = DEFAULT_CONTACT_MM,
                 sampling_step_mm: float = DEFAULT_SAMPLING_STEP_MM) -> BodyAnalysis:
    """Analyse a body mask (bool (K, J, I) on the CT grid) in a vertebra frame.

    The body is ray-sampled on a frame-aligned grid; each column along the superior axis has an
    upper and a lower surface point (the endplates seen from above and below). An endplate's
    midpoint is the mean of its surface points. The midsagittal plane (SPEC section 6) passes
    through both midpoints and contains the frame's anterior axis, so on a coronal view it is the
    line joining them. A body voxel is in an endplate's layer when its centre lies within contact_mm
    of that endplate's surface along the superior axis (and nearer to it than to the other one).
    """
    axes = as_vertebra_frame(frame)
    mask = body_mask_on_grid(ct, body_mask, needed_for="segment the body (label of the vertebra, body part) first")
    kji = np.argwhere(mask)
    if contact_mm <= 0 or sampling_step_mm <= 0:
        raise CementError("contact_mm and sampling_step_mm must be positive")
    ijk_to_ras = np.asarray(ct.ijk_to_ras, dtype=float)
    flat_index = np.ravel_multi_index(kji.T, mask.shape).astype(np.int64)
    ras = voxel_centres_ras(ijk_to_ras, kji)
    coords = axes.to_frame(ras)

    voxel_reach = float(np.abs(ijk_to_ras[:3, :3]).sum(axis=1).max())
    grid = FrameGrid.covering(axes, coords, step=sampling_step_mm, margin=voxel_reach)
    sampled = grid.sample(mask, ijk_to_ras)
    footprint = sampled.any(axis=2)
    if not footprint.any():
        raise CementError("the vertebral body mask is too small to analyse: it holds no sample of the frame grid")
    top, bottom = column_surfaces(grid, sampled, footprint)
    r_grid, a_grid = np.meshgrid(grid.coordinates(0), grid.coordinates(1), indexing="ij")
    columns = np.stack([r_grid[footprint], a_grid[footprint]], axis=1)
    superior_centre = axes.to_ras(np.append(columns.mean(axis=0), top[footprint].mean()))[0]
    inferior_centre = axes.to_ras(np.append(columns.mean(axis=0), bottom[footprint].mean()))[0]
    # each voxel's depth below its column's upper and lower surface; a voxel belongs to the nearer one
    column = tuple(_nearest_sample(grid, coords[:, axis], axis) for axis in (0, 1))
    depth_superior = top[column] - coords[:, 2]
    depth_inferior = coords[:, 2] - bottom[column]
    superior_layer = (depth_superior <= contact_mm) & (depth_superior <= depth_inferior)
    inferior_layer = (depth_inferior <= contact_mm) & (depth_inferior < depth_superior)
    height_axis = superior_centre - inferior_centre
    normal = np.cross(axes.anterior, height_axis)
    if np.linalg.norm(normal) < 1e-6 * max(np.linalg.norm(height_axis), 1.0):
        raise CementError(
            "endplate midpoints line up with the anterior axis: the vertebra frame does not fit this body"
        )
    normal /= np.linalg.norm(normal)
    if normal @ axes.right < 0:
        normal = -normal
    point = 0.5 * (superior_centre + inferior_centre)

    return BodyAnalysis(
        mask=mask,
        ijk_to_ras=ijk_to_ras,
        axes=axes,
        flat_index=flat_index,
        coords=coords,
        voxel_volume_mm3=float(abs(np.linalg.det(ijk_to_ras[:3, :3]))),
        superior_endplate_centre=superior_centre,
        inferior_endplate_centre=inferior_centre,
        midsagittal_point=point,
        midsagittal_normal=normal,
        signed_distance=(ras - point) @ normal,
        superior_layer=superior_layer,
        inferior_layer=inferior_layer,
        contact_mm=float(contact_mm),
        grid=grid,
        sampled=sampled,
        footprint=footprint,
        top=top,
        bottom=bottom,
    )


def _nearest_sample(grid: FrameGrid, values: np.ndarray, axis: int) -> np.ndarray:
    index = np.floor((values - grid.lower[axis]) / grid.step + 0.5).astype(np.int64)
    return np.clip(index, 0, grid.shape[axis] - 1)
