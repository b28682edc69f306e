"""Synthetic vertebrae for the cement tests: shapes known in the vertebra frame, placed on any CT grid."""

import numpy as np

from PVPGuideLib.core.geometry import VertebraFrame
from PVPGuideLib.core.volume import CTVolume

BODY_HALF = (20.0, 15.0, 12.0)  # body half-size along right, anterior, superior (mm): a 40 x 30 x 24 mm box
POSTERIOR_BOX = ((-12.0, 12.0), (-32.0, -17.0), (-8.0, 8.0))  # arch block behind the body (r, a, s ranges)
HU_CANCELLOUS, HU_POSTERIOR, HU_SOFT, HU_AIR = 150, 400, 20, -1000
SOFT_TISSUE_RADIUS = 38.0  # soft tissue in a ball around the vertebra, air outside (a CT needs both)


def rotation(rx_deg=0.0, ry_deg=0.0, rz_deg=0.0) -> np.ndarray:
    rx, ry, rz = np.radians([rx_deg, ry_deg, rz_deg])
    x = np.array([[1, 0, 0], [0, np.cos(rx), -np.sin(rx)], [0, np.sin(rx), np.cos(rx)]])
    y = np.array([[np.cos(ry), 0, np.sin(ry)], [0, 1, 0], [-np.sin(ry), 0, np.cos(ry)]])
    z = np.array([[np.cos(rz), -np.sin(rz), 0], [np.sin(rz), np.cos(rz), 0], [0, 0, 1]])
    return z @ y @ x


class Vertebra:
    """A box-shaped body plus a posterior block, posed by (pose, centre), sampled on a CT grid.

    pose : 3x3 rotation whose columns are the vertebra's right, anterior, superior axes in RAS.
    direction, spacing : the CT grid's direction matrix (any orthogonal matrix) and voxel size.
    """

    def __init__(self, *, spacing=(1.0, 1.0, 1.0), direction=None, pose=None, centre=(3.0, -5.0, 7.0),
                 half_extent_mm=40.0, body_half=BODY_HALF):
        self.pose = np.eye(3) if pose is None else np.asarray(pose, float)
        self.centre = np.asarray(centre, float)
        self.body_half = np.asarray(body_half, float)
        direction = np.eye(3) if direction is None else np.asarray(direction, float)
        spacing = np.asarray(spacing, float)
        counts = np.ceil(2 * half_extent_mm / spacing).astype(int) + 1
        # half a voxel off the centre: box faces at whole mm fall between voxel centres on aligned grids
        origin = self.centre - direction @ (spacing * (counts - 1) / 2 + 0.5 * spacing)
        self.ct = CTVolume.from_geometry(np.zeros(counts[::-1], np.int16), spacing=spacing, origin=origin,
                                         direction=direction)
        k, j, i = np.indices(self.ct.voxels.shape)
        ijk = np.stack([i.ravel(), j.ravel(), k.ravel()], axis=1)
        self.frame_coords = self.to_frame(self.ct.ijk_to_ras_points(ijk)).reshape(self.ct.voxels.shape + (3,))
        self.body = self.inside_box(-self.body_half, self.body_half)
        lo, hi = np.array(POSTERIOR_BOX).T
        self.posterior = self.inside_box(lo, hi) & ~self.body
        hu = np.full(self.ct.voxels.shape, HU_SOFT, np.int16)
        hu[np.linalg.norm(self.frame_coords, axis=-1) > SOFT_TISSUE_RADIUS] = HU_AIR
        hu[self.posterior] = HU_POSTERIOR
        hu[self.body] = HU_CANCELLOUS
        self.ct = self.ct.with_voxels(hu)
        self.frame = VertebraFrame(self.centre, self.pose[:, 0], self.pose[:, 1], self.pose[:, 2])

    def to_frame(self, ras):
        return (np.asarray(ras, float) - self.centre) @ self.pose

    def to_ras(self, frame_point):
        return self.centre + self.pose @ np.asarray(frame_point, float)

    def inside_box(self, lo, hi) -> np.ndarray:
        """Voxels whose centre lies in the frame box lo..hi (r, a, s mm)."""
        c = self.frame_coords
        return np.all((c >= np.asarray(lo)) & (c <= np.asarray(hi)), axis=-1)

    def inside_ball(self, centre_frame, radius) -> np.ndarray:
        return np.linalg.norm(self.frame_coords - np.asarray(centre_frame, float), axis=-1) <= radius

    @property
    def voxel_ml(self) -> float:
        return float(np.prod(self.ct.spacing)) / 1000.0
