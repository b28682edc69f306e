"""The vertebral body in a local grid: its superior and inferior endplate planes, mid-height and centre."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..core.volume import CTVolume
from .errors import VertebraError
from .local_grid import LocalGrid
from .surfaces import LEVEL, column_surfaces, first_rise, fit_plane, values_at_heights

# Endplates are fitted on the columns at least this far inside the body's outline (and this fraction of the
# outline's largest inset): the rim is rounded, carries the ring apophysis and osteophytes.
ENDPLATE_RIM_MM = 3.0
ENDPLATE_RIM_FRACTION = 0.2
# When more of the fitted columns than this end at the border of the scan, the endplate is not in view;
# fewer are left out of the fit (and the analysis notes it).
MAX_CUT_FRACTION = 0.5
# Half-width (mm) of the band around the centre line over which the body's depth profile is averaged.
DEPTH_BAND_MM = 1.5
# Thinner than this between the fitted endplates is no body at all. A crushed body a few mm high is still planned:
# the safety checks (endplates, anterior cortex) then say with figures whether it can hold the needle's tip.
MIN_BODY_HEIGHT_MM = 1.5
# The posterior wall's tilt is read between the endplates, this fraction of the height away from each (rims).
WALL_MARGIN_FRACTION = 0.2


@dataclass(frozen=True, eq=False)
class Endplates:
    """Planes z = c0 + c1 x + c2 y (local mm) of the body's superior and inferior surfaces."""

    superior: np.ndarray
    inferior: np.ndarray
    columns: int
    cut_fractions: tuple[float, float] = (0.0, 0.0)  # superior, inferior: share of columns outside the scan

    def superior_z(self, x, y):
        return self.superior[0] + self.superior[1] * x + self.superior[2] * y

    def inferior_z(self, x, y):
        return self.inferior[0] + self.inferior[1] * x + self.inferior[2] * y

    def mid_z(self, x, y):
        """Mid-height between the endplates at (x, y) (SPEC section 3: C lies there)."""
        return 0.5 * (self.superior_z(x, y) + self.inferior_z(x, y))

    @staticmethod
    def normal(coefficients) -> np.ndarray:
        n = np.array([-coefficients[1], -coefficients[2], 1.0])
        return n / np.linalg.norm(n)

    @property
    def bisector(self) -> np.ndarray:
        """Local unit normal of the mid-endplate plane: the bisector of the two endplate normals (SPEC section 4)."""
        n = self.normal(self.superior) + self.normal(self.inferior)
        return n / np.linalg.norm(n)


@dataclass(frozen=True)
class BodyExtent:
    """Body centre (local) and its posterior wall / anterior surface along the centre line at mid-height."""

    centre: np.ndarray
    posterior_y: float
    anterior_y: float

    @property
    def depth(self) -> float:
        return self.anterior_y - self.posterior_y


def fit_endplates(grid: LocalGrid, body: np.ndarray, ct: CTVolume, *, level: str = "") -> Endplates:
    """Planes fitted (robustly) to the top and bottom surfaces of a sampled body (nx, ny, nz)."""
    top, bottom = column_surfaces(body, grid.axis(2))
    footprint = np.isfinite(top)
    if footprint.sum() < 10:
        raise VertebraError(f"{level or 'the vertebra'}: the vertebral body is too small to fit its endplates")
    inset = ndimage.distance_transform_edt(footprint) * grid.step
    inner = footprint & (inset >= max(ENDPLATE_RIM_MM, ENDPLATE_RIM_FRACTION * inset.max()))
    if inner.sum() < 10:
        inner = footprint & (inset >= 0.5 * inset.max())
    xx, yy = np.meshgrid(grid.axis(0), grid.axis(1), indexing="ij")
    planes, cut_fractions = [], []
    for name, surface in (("superior", top), ("inferior", bottom)):
        points = grid.to_ras(np.stack([xx[inner], yy[inner], surface[inner]], axis=1))
        cut = ~ct.contains(points, margin_voxels=-1.0)
        if cut.mean() > MAX_CUT_FRACTION:
            raise VertebraError(
                f"{level or 'the vertebra'}: the {name} endplate is cut by the CT's field of view (the scan ends "
                "inside the vertebral body), so mid-height and the vertebra frame cannot be found; scan the whole "
                "vertebra or place B and C by hand")
        cut_fractions.append(float(cut.mean()))
        keep = inner & np.isfinite(surface)
        keep[inner] &= ~cut
        coefficients, _ = fit_plane(xx[keep], yy[keep], surface[keep])
        planes.append(coefficients)
    endplates = Endplates(planes[0], planes[1], int(inner.sum()), (cut_fractions[0], cut_fractions[1]))
    cx, cy = xx[inner].mean(), yy[inner].mean()
    if endplates.superior_z(cx, cy) - endplates.inferior_z(cx, cy) < MIN_BODY_HEIGHT_MM:
        raise VertebraError(f"{level or 'the vertebra'}: the body is less than {MIN_BODY_HEIGHT_MM:g} mm high between "
                            "its fitted endplates; check the segmentation")
    return endplates


def mid_height_section(grid: LocalGrid, body: np.ndarray, endplates: Endplates) -> np.ndarray:
    """(nx, ny) body values sampled on the mid-height surface between the endplates (linear along z)."""
    xx, yy = np.meshgrid(grid.axis(0), grid.axis(1), indexing="ij")
    return values_at_heights(body, grid.axis(2), endplates.mid_z(xx, yy))


def body_extent(grid: LocalGrid, body: np.ndarray, endplates: Endplates, *, level: str = "") -> BodyExtent:
    """Centre of the body: x = centroid of its mid-height section, y = midway between the posterior wall and
    the anterior surface along that centre line, z = mid-height there."""
    section = mid_height_section(grid, body, endplates)
    x, y = grid.axis(0), grid.axis(1)
    total = float(section.sum())
    if total <= 0:
        raise VertebraError(f"{level or 'the vertebra'}: the body has no cross-section at mid-height")
    centre_x = float((section.sum(axis=1) * x).sum() / total)
    band = np.abs(x - centre_x) <= max(DEPTH_BAND_MM, grid.step)
    profile = section[band].mean(axis=0)
    inside = np.flatnonzero(profile >= LEVEL)
    if inside.size == 0:
        raise VertebraError(f"{level or 'the vertebra'}: no body found along its centre line at mid-height")
    posterior = first_rise(profile[None, :], y)[0]
    anterior = first_rise(profile[None, ::-1], y[::-1])[0]
    posterior = float(y[inside[0]]) if not np.isfinite(posterior) else float(posterior)
    anterior = float(y[inside[-1]]) if not np.isfinite(anterior) else float(anterior)
    centre_y = 0.5 * (posterior + anterior)
    centre = np.array([centre_x, centre_y, float(endplates.mid_z(centre_x, centre_y))])
    return BodyExtent(centre, posterior, anterior)


def posterior_wall_rise(grid: LocalGrid, vertebra: np.ndarray, canal_centre, endplates: Endplates) -> float:
    """Tilt of the body's posterior wall in the frame, as the rise (dz/dy) of a line perpendicular to it.

    Along x = the canal's centre, at each height of the body's middle part, the posterior wall is the first
    bone in front of the canal; a line y = p0 + p1 z through those points gives rise = -p1. A wedge fracture
    tilts the endplates (and so the frame) but not the posterior wall and the arch behind it: the pedicles
    and transverse processes keep the wall's orientation.
    """
    x, y, z = grid.axis(0), grid.axis(1), grid.axis(2)
    cx, cy = float(canal_centre[0]), float(canal_centre[1])
    low, high = endplates.inferior_z(cx, cy), endplates.superior_z(cx, cy)
    levels = np.flatnonzero((z >= low + WALL_MARGIN_FRACTION * (high - low)) & (z <= high - WALL_MARGIN_FRACTION * (high - low)))
    near = np.abs(x - cx) <= max(DEPTH_BAND_MM, grid.step)
    start = int(np.argmin(np.abs(y - cy)))
    if levels.size < 3:
        return 0.0
    profiles = vertebra[near][:, start:, :][:, :, levels].mean(axis=0).T  # (levels, y)
    wall = first_rise(profiles, y[start:])
    ok = np.isfinite(wall)
    if ok.sum() < 3:
        return 0.0
    slope = np.polyfit(z[levels][ok], wall[ok], 1)[0]
    return float(-slope)
