"""Optional vertebra replica: a closed hollow shell of the phantom's L1 with the planned channel open."""

import numpy as np
import pytest
from guide_synthetic import assert_printable

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
    assert_printable(mesh, min_wall_mm=0.0)  # the channel grazes the cortex by design: see its min wall
    solid = to_manifold(mesh, step="test")
    vertebra_mm3 = np.count_nonzero(phantom.labels.voxels == phantom.truth["levels"]["L1"]["label"]) * np.prod(
        phantom.ct.spacing)
    assert 0.2 * vertebra_mm3 < solid.volume() < 0.8 * vertebra_mm3  # hollow, not solid, not empty
    d = (trajectory.C - trajectory.A) / np.linalg.norm(trajectory.C - trajectory.A)
    length = np.linalg.norm(trajectory.C - trajectory.A)
    needle = needle_solid(trajectory.A, d, 3.05, inside_mm=length - 0.1, outside_mm=5.0)
    assert intersection(solid, needle, step="test", allow_empty=True).is_empty()
    assert section["min_wall_mm"] == pytest.approx(result.min_wall_mm)
