"""Digitally reconstructed radiographs: parallel projections of a CT along a vertebra's own axes (true AP, lateral)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.geometry import VertebraFrame
from ..errors import PVPGuideError
from ..io.ct_io import sitk_image_from_volume

LPS = np.diag([-1.0, -1.0, 1.0])
# Linear attenuation of water at a typical C-arm energy (about 60 keV), per mm; HU scale it (air 0).
MU_WATER_PER_MM = 0.02
VIEWS = ("ap", "lateral")
DEFAULT_SIZE_MM = 120.0
DEFAULT_PIXEL_MM = 0.5
# Rays run this far each side of the vertebra (mm): a torso is at most about 40 cm across.
DEFAULT_DEPTH_MM = 400.0
# Samples along each ray (mm): the line integral of the interpolated CT changes little below this, and the time
# is proportional to the number of samples.
DEFAULT_STEP_MM = 2.0


class DRRError(PVPGuideError):
    """A simulated C-arm view that cannot be made from the given inputs."""


@dataclass(frozen=True, eq=False)
class DRR:
    """A projection: line_integral (rows, columns) of attenuation (dimensionless, sum of mu ds); pixel (0, 0)'s centre
    projects from `origin` (RAS); columns run along u_axis, rows along v_axis, pixel_mm apart; rays along ray."""

    view: str
    line_integral: np.ndarray
    origin: np.ndarray
    u_axis: np.ndarray
    v_axis: np.ndarray
    ray: np.ndarray
    pixel_mm: float

    def pixel_of(self, points_ras) -> np.ndarray:
        """(n, 2) continuous (column, row) pixel coordinates (pixel centres at .5) of RAS points."""
        rel = np.atleast_2d(np.asarray(points_ras, float)) - self.origin
        return np.stack([rel @ self.u_axis, rel @ self.v_axis], axis=1) / self.pixel_mm + 0.5

    def intensity(self) -> np.ndarray:
        """(rows, columns) in 0-1, bright where X-rays are absorbed (bone), as a fluoroscope shows it inverted."""
        return 1.0 - np.exp(-self.line_integral)


def view_axes(frame: VertebraFrame, view: str):
    """(u, v, ray) RAS unit vectors of a view. AP: rays posterior -> anterior, the patient's right on the picture's
    left (radiological convention), superior up. Lateral: rays from the patient's right to left, anterior to the
    picture's right, superior up."""
    if view == "ap":
        return -frame.right, -frame.superior, frame.anterior
    if view == "lateral":
        return frame.anterior, -frame.superior, -frame.right
    raise DRRError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")


def project(ct, frame: VertebraFrame, view: str, *, centre=None, size_mm: float = DEFAULT_SIZE_MM,
            pixel_mm: float = DEFAULT_PIXEL_MM, depth_mm: float = DEFAULT_DEPTH_MM, step_mm: float | None = None,
            values=None, attenuation: bool = True) -> DRR:
    """A parallel-beam DRR of the CT (or of `values`, an array on its grid) in a true AP or lateral view of the frame.

    centre : RAS point on the central ray (default the frame's origin). The CT is sampled (linear) on a grid
    aligned with the view, rays every step_mm (default DEFAULT_STEP_MM, at least the CT's finest spacing), and summed:
    attenuation = MU_WATER_PER_MM * max(0, 1 + HU / 1000) per mm, or the values themselves when attenuation=False.
    """
    import SimpleITK as sitk

    u, v, ray = view_axes(frame, view)
    centre = frame.origin if centre is None else np.asarray(centre, float)
    step = float(step_mm or max(DEFAULT_STEP_MM, float(np.min(ct.spacing))))
    n = int(round(size_mm / pixel_mm))
    depth = _ray_extent(ct, centre, ray, depth_mm)
    m = max(1, int(np.ceil((depth[1] - depth[0]) / step)))
    origin = centre - 0.5 * (n - 1) * pixel_mm * (u + v) + depth[0] * ray
    reference = sitk.Image(n, n, m, sitk.sitkUInt8)
    reference.SetSpacing((pixel_mm, pixel_mm, step))
    reference.SetOrigin(tuple(float(x) for x in LPS @ origin))
    reference.SetDirection(tuple(float(x) for x in (LPS @ np.column_stack([u, v, ray])).ravel()))
    # Attenuation per mm is computed once on the CT's voxels (fewer than the samples); outside the CT is air (0).
    if values is None and attenuation:
        source = ct.with_voxels(np.clip(1.0 + np.asarray(ct.voxels, np.float32) / np.float32(1000.0), 0.0, None)
                                * np.float32(MU_WATER_PER_MM))
    else:
        source = ct.with_voxels(np.asarray(ct.voxels if values is None else values, np.float32))
    image = sitk_image_from_volume(source)
    resampled = sitk.Resample(image, reference, sitk.Transform(), sitk.sitkLinear, 0.0, sitk.sitkFloat32)
    # A view, not a copy: `resampled` must outlive it (it holds the memory).
    line = sitk.GetArrayViewFromImage(resampled).sum(axis=0) * step  # (ray, row, column) summed along the rays
    return DRR(view, line.astype(np.float32), centre - 0.5 * (n - 1) * pixel_mm * (u + v), u, v, ray, float(pixel_mm))


def _ray_extent(ct, centre, ray, depth_mm: float) -> tuple[float, float]:
    """Range of ray positions (mm from the centre) where rays can meet the CT, within +-depth_mm/2."""
    lo, hi = ct.bounds_ras()
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    along = (corners - centre) @ ray
    start, end = max(float(along.min()), -0.5 * depth_mm), min(float(along.max()), 0.5 * depth_mm)
    if end <= start:
        raise DRRError("the CT does not reach the view's centre along its rays")
    return start, end
