"""Skin entry A is the first skin crossing beyond B, on a body whose outline the ray meets more than once."""

import numpy as np

from PVPGuideLib.core.volume import CTVolume
from PVPGuideLib.planning.skin import SkinEntryStatus, find_skin_entry, skin_surface


def test_first_skin_crossing_beyond_b_when_the_ray_meets_skin_twice():
    """A back with an arm lying behind it (joined to the body at one side, air between): the path crosses the back's
    skin at y = -40, then enters the arm at y = -55 and leaves it at y = -70. A is the first crossing."""
    spacing = np.array([1.0, 1.0, 2.0])
    counts = np.array([121, 141, 7])  # x -60..60, y -100..40, z -6..6
    origin = np.array([-60.0, -100.0, -6.0])
    i, j, k = np.meshgrid(*(np.arange(n) for n in counts), indexing="ij")
    x, y = origin[0] + i * spacing[0], origin[1] + j * spacing[1]
    torso = np.hypot(x, y) <= 40.0
    arm = (x >= -30.0) & (x <= 45.0) & (y >= -70.0) & (y <= -55.0)
    elbow = (x >= 30.0) & (x <= 45.0) & (y >= -70.0) & (y <= -20.0)  # joins the arm to the torso
    hu = np.where(torso | arm | elbow, 0, -1000).astype(np.int16).transpose(2, 1, 0)
    ct = CTVolume.from_geometry(hu, spacing=spacing, origin=origin)
    skin = skin_surface(ct)
    b, c = np.array([0.0, -20.0, 0.0]), np.array([6.0, 10.0, 0.0])
    entry = find_skin_entry(skin, b, c)
    assert entry.status is SkinEntryStatus.FOUND
    # Expected: the ray from B away from C meets the torso's circle of radius 40 (solve |B + t d| = 40 in x, y).
    d = (b - c) / np.linalg.norm(b - c)
    p, q = b[:2], d[:2]
    t = (-p @ q + np.sqrt((p @ q) ** 2 - (q @ q) * (p @ p - 40.0**2))) / (q @ q)
    # The voxels are either body (0 HU) or air: the -300 HU surface lies within a voxel of the true boundary.
    assert np.linalg.norm(entry.point - (b + t * d)) < 1.0
    assert entry.point[1] > -45.0  # not the arm's skin at y = -55 or -70
