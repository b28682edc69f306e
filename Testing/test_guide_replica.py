"""Optional vertebra replica: a closed hollow shell of the phantom's L1 with the planned channel open."""

import numpy as np
import pytest
from guide_synthetic import assert_printable

from PVPGuideLib.core.volume import CTVolume
from PVPGuideLib.guide import GuideTrajectory, build_replica, read_stl, write_replica
from PVPGuideLib.guide.booleans import intersection, to_manifold
from PVPGuideLib.guide.checks import needle_solid
from PVPGuideLib.phantom.build import generate_phantom
from PVPGuideLib.planning.skin import find_skin_entry, skin_surface


@pytest.fixture(scope="module")
def replica():
    phantom = generate_phantom()
    skin = skin_surface(phantom.ct)
    level = phantom.truth["levels"]["L1"]
    b, c = (np.asarray(level["plans"]["left"][k], float) for k in ("B", "C"))
    trajectory = GuideTrajectory(find_skin_entry(skin, b, c).point, c, "left", 11, "L1")
    return build_replica(phantom.labels, level["label"], [trajectory], level="L1"), trajectory, phantom


def test_replica_is_a_printable_hollow_shell_with_the_channel_open(replica, tmp_path):
    result, trajectory, phantom = replica
    section = write_replica(result, tmp_path)
    assert section["stl"] == "replica_L1.stl" and section["coordinate_system"] == "LPS"
    mesh = read_stl(tmp_path / section["stl"]).mesh
    # The channel runs 1.8 mm (field) / 2.3 mm (planned) above the inferior surface 68 mm in from A; that floor
    # kept or removed, every wall reaches the printing floor (SPEC section 7).
    assert_printable(mesh, min_wall_mm=1.5)
    solid = to_manifold(mesh, step="test")
    assert sum(part.volume() > 0 for part in solid.decompose()) == 1  # one printed piece around sealed cavities
    vertebra_mm3 = np.count_nonzero(phantom.labels.voxels == phantom.truth["levels"]["L1"]["label"]) * np.prod(
        phantom.ct.spacing)
    assert 0.2 * vertebra_mm3 < solid.volume() < 0.8 * vertebra_mm3  # hollow, not solid, not empty
    d = (trajectory.C - trajectory.A) / np.linalg.norm(trajectory.C - trajectory.A)
    length = np.linalg.norm(trajectory.C - trajectory.A)
    needle = needle_solid(trajectory.A, d, 3.05, inside_mm=length - 0.1, outside_mm=5.0)
    assert intersection(solid, needle, step="test", allow_empty=True).is_empty()
    assert section["min_wall_mm"] == pytest.approx(result.min_wall_mm)


@pytest.mark.parametrize(("heading_deg", "floor_mm"), [
    (0.0, 2.25), (45.0, 2.25),
    pytest.param(30.0, 2.1, marks=pytest.mark.xfail(strict=True, reason=(
        "open: the closing-then-opening cuts this floor through with an hourglass slot whose ~1 mm waist the "
        "0.75 mm contour grid bridges (a 0.8 mm web)"))),
])
def test_channel_close_above_a_face_leaves_no_thin_web(heading_deg, floor_mm):
    """A box with an 11G channel running parallel to its bottom face, floor_mm of printable floor between the
    planned channel and the face, and 0.5 mm less under the replica's wider field channel: between the wall
    floor (1.5) and the opening's diameter (2). Opened first and closed after, such a floor was cut along its
    thinnest line and the cut bridged with a 0.3-0.6 mm web; every wall must reach 1.5 mm, the channel along
    the voxel grid, diagonal to it (45 degrees) or between."""
    spacing = 0.75
    voxels = np.zeros((27, 54, 54), dtype=np.uint8)
    voxels[3:24, 7:47, 7:47] = 1  # 15.75 x 30 x 30 mm; the bottom face half a voxel below slice 3
    labels = CTVolume.from_geometry(voxels, spacing=(spacing, spacing, spacing), origin=(0.0, 0.0, 0.0))
    bottom = 2.5 * spacing
    radius = 0.5 * (3.05 + 0.3)  # 11G and the default channel clearance
    d = np.array([np.cos(np.radians(heading_deg)), np.sin(np.radians(heading_deg)), 0.0])
    c = np.array([20.0, 20.0, bottom + floor_mm + radius]) + 4.0 * d
    trajectory = GuideTrajectory(c - 40.0 * d, c, "left", 11, "L1")
    result = build_replica(labels, 1, [trajectory], level="L1")
    assert_printable(result.mesh, min_wall_mm=1.5)
    needle = needle_solid(trajectory.A, d, 3.05, inside_mm=39.9, outside_mm=5.0)
    assert intersection(to_manifold(result.mesh, step="test"), needle, step="test", allow_empty=True).is_empty()
