"""CT volume as a voxel array plus its voxel-to-world (IJK -> RAS) transform."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import PVPGuideError


class VolumeError(PVPGuideError):
    """A CT volume or a point given with it is unusable."""


@dataclass(frozen=True, eq=False)
class CTVolume:
    """A scalar volume in RAS millimetres.

    voxels : (K, J, I) array, numpy order of slicer.util.arrayFromVolume (slice, row, column).
    ijk_to_ras : (4, 4) float, maps homogeneous (i, j, k, 1) voxel indices to RAS mm.
    The direction matrix may be any rotation or reflection; spacing may be anisotropic.
    """

    voxels: np.ndarray
    ijk_to_ras: np.ndarray
    source: str | None = None

    def __post_init__(self):
        m = np.asarray(self.ijk_to_ras, dtype=float)
        if m.shape != (4, 4) or not np.all(np.isfinite(m)):
            raise VolumeError("ijk_to_ras must be a finite 4x4 matrix")
        if abs(np.linalg.det(m[:3, :3])) < 1e-12:
            raise VolumeError("ijk_to_ras is singular: the CT has a zero spacing or a degenerate direction matrix")
        if np.asarray(self.voxels).ndim != 3:
            raise VolumeError(f"a CT must be a 3D volume, got {np.asarray(self.voxels).ndim} dimensions")
        object.__setattr__(self, "ijk_to_ras", m)

    @classmethod
    def from_geometry(cls, voxels, *, spacing, origin, direction=None, source=None) -> CTVolume:
        """Build from RAS origin (centre of voxel 0,0,0), spacing (i, j, k) and a 3x3 RAS direction."""
        direction = np.eye(3) if direction is None else np.asarray(direction, dtype=float)
        m = np.eye(4)
        m[:3, :3] = direction @ np.diag(np.asarray(spacing, dtype=float))
        m[:3, 3] = np.asarray(origin, dtype=float)
        return cls(np.asarray(voxels), m, source)

    @property
    def shape_ijk(self) -> tuple[int, int, int]:
        k, j, i = self.voxels.shape
        return (i, j, k)

    @property
    def spacing(self) -> np.ndarray:
        """(3,) voxel size in mm along i, j, k."""
        return np.linalg.norm(self.ijk_to_ras[:3, :3], axis=0)

    @property
    def direction(self) -> np.ndarray:
        """(3, 3) unit columns: RAS direction of the i, j, k axes."""
        return self.ijk_to_ras[:3, :3] / self.spacing

    @property
    def origin(self) -> np.ndarray:
        return self.ijk_to_ras[:3, 3].copy()

    @property
    def ras_to_ijk(self) -> np.ndarray:
        return np.linalg.inv(self.ijk_to_ras)

    def ijk_to_ras_points(self, ijk) -> np.ndarray:
        """(n, 3) continuous voxel indices -> (n, 3) RAS mm."""
        ijk = np.atleast_2d(np.asarray(ijk, dtype=float))
        return ijk @ self.ijk_to_ras[:3, :3].T + self.ijk_to_ras[:3, 3]

    def ras_to_ijk_points(self, ras) -> np.ndarray:
        """(n, 3) RAS mm -> (n, 3) continuous voxel indices (i, j, k)."""
        ras = np.atleast_2d(np.asarray(ras, dtype=float))
        inv = self.ras_to_ijk
        return ras @ inv[:3, :3].T + inv[:3, 3]

    def contains(self, ras, *, margin_voxels: float = 0.5) -> np.ndarray:
        """(n,) bool: the RAS points lie inside the field of view (voxel centres +- margin)."""
        ijk = self.ras_to_ijk_points(ras)
        upper = np.asarray(self.shape_ijk, dtype=float) - 1 + margin_voxels
        return np.all((ijk >= -margin_voxels) & (ijk <= upper), axis=1)

    def require_inside(self, name: str, ras) -> None:
        """Raise VolumeError naming the point when it lies outside the CT."""
        if not bool(self.contains(ras)[0]):
            lo, hi = self.bounds_ras()
            p = np.asarray(ras, dtype=float).ravel()
            raise VolumeError(
                f"point {name} = ({p[0]:.1f}, {p[1]:.1f}, {p[2]:.1f}) RAS lies outside the CT "
                f"(RAS bounds {np.round(lo, 1).tolist()} to {np.round(hi, 1).tolist()}); "
                "place it inside the scanned volume"
            )

    def bounds_ras(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned RAS bounding box of the voxel centres."""
        i, j, k = (n - 1 for n in self.shape_ijk)
        corners = np.array([[a, b, c] for a in (0, i) for b in (0, j) for c in (0, k)], dtype=float)
        ras = self.ijk_to_ras_points(corners)
        return ras.min(axis=0), ras.max(axis=0)

    def with_voxels(self, voxels: np.ndarray) -> CTVolume:
        """Same geometry, other voxel values (e.g. a mask on the CT grid)."""
        if voxels.shape != self.voxels.shape:
            raise VolumeError(f"voxel array shape {voxels.shape} differs from the CT's {self.voxels.shape}")
        return CTVolume(voxels, self.ijk_to_ras.copy(), self.source)
