"""Synthetic CTs with analytically known surfaces, for tests."""

import numpy as np

from PVPGuideLib.core.volume import CTVolume


def rotation_matrix(rx_deg: float, ry_deg: float, rz_deg: float) -> np.ndarray:
    rx, ry, rz = np.radians([rx_deg, ry_deg, rz_deg])
    x = np.array([[1, 0, 0], [0, np.cos(rx), -np.sin(rx)], [0, np.sin(rx), np.cos(rx)]])
    y = np.array([[np.cos(ry), 0, np.sin(ry)], [0, 1, 0], [-np.sin(ry), 0, np.cos(ry)]])
    z = np.array([[np.cos(rz), -np.sin(rz), 0], [np.sin(rz), np.cos(rz), 0], [0, 0, 1]])
    return z @ y @ x


def cylinder_ct(*, radius=60.0, half_size=(80.0, 80.0, 40.0), spacing=(1.0, 1.0, 2.0), direction=None,
                centre=(0.0, 0.0, 0.0)) -> CTVolume:
    """A soft-tissue cylinder along the S axis in air, with a bone cube at its centre.

    The HU rises linearly across the surface (-300 HU exactly at the radius) so the skin threshold
    crosses at the radius to well under a voxel; the grid is any direction/spacing around `centre`.
    """
    direction = np.eye(3) if direction is None else np.asarray(direction, float)
    spacing = np.asarray(spacing, float)
    # The grid must cover the box in RAS: size it by the box's extent along each grid axis.
    half = np.abs(direction.T) @ np.asarray(half_size, float)
    counts = np.ceil(2 * half / spacing).astype(int) + 1
    origin = np.asarray(centre, float) - direction @ (spacing * (counts - 1) / 2)
    i, j, k = np.meshgrid(*(np.arange(n) for n in counts), indexing="ij")
    ijk = np.stack([i, j, k], axis=-1).reshape(-1, 3).astype(float)
    ras = ijk @ (direction @ np.diag(spacing)).T + origin - np.asarray(centre, float)
    r = np.hypot(ras[:, 0], ras[:, 1])
    hu = np.clip(-300.0 + 300.0 * (radius - r) / 2.0, -1000.0, 0.0)
    bone = np.all(np.abs(ras) < 10.0, axis=1)
    hu[bone] = 400.0
    voxels = hu.reshape(counts).transpose(2, 1, 0).astype(np.int16)  # (i, j, k) -> (K, J, I)
    return CTVolume.from_geometry(voxels, spacing=spacing, origin=origin, direction=direction)
