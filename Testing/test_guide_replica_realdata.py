"""The vertebra replica from the real 3 mm CT's label map (L1, both channels): printable, hollow, channels open,
checked by admesh and PrusaSlicer. Skipped when ../shared/data/totalseg_example is absent."""

from pathlib import Path

import numpy as np
import pytest
from guide_print_checks import assert_prints
from guide_synthetic import assert_printable

from PVPGuideLib.core.geometry import direction_from_angles
from PVPGuideLib.guide import GuideTrajectory, build_replica, read_stl, write_replica
from PVPGuideLib.guide.booleans import intersection, to_manifold
from PVPGuideLib.guide.checks import needle_solid
from PVPGuideLib.guide.slicer import axis_orientations

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "totalseg_example"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"real CT sample folder {DATA} is absent")


@pytest.fixture(scope="module")
def replica(tmp_path_factory):
    from PVPGuideLib.io.ct_io import read_ct, read_labelmap
    from PVPGuideLib.planning.skin import find_skin_entry, skin_surface

    ct = read_ct(DATA / "ct_T11_S1_3mm.nii.gz")
    labels = read_labelmap(DATA / "labels_T11_S1_3mm.nii.gz", ct)
    parts = read_labelmap(DATA / "labels_vertebral_body_3mm.nii.gz", ct)
    skin = skin_surface(ct)
    k, j, i = np.nonzero((labels.voxels == 31) & (parts.voxels == 1))
    body = ct.ijk_to_ras_points(np.column_stack([i, j, k])).mean(axis=0)
    trajectories = []
    for side in ("left", "right"):
        c = body + np.array([5.0 if side == "left" else -5.0, 5.0, 0.0])
        d = direction_from_angles(25.0, 3.0, side)
        trajectories.append(GuideTrajectory(find_skin_entry(skin, c - 45.0 * d, c).point, c, side, 11, "L1"))
    result = build_replica(labels, 31, trajectories, level="L1")
    out = tmp_path_factory.mktemp("replica")
    section = write_replica(result, out)
    vertebra_mm3 = np.count_nonzero(labels.voxels == 31) * float(np.prod(ct.spacing))
    return result, section, read_stl(out / section["stl"]).mesh, out / section["stl"], trajectories, vertebra_mm3


def test_real_replica_is_printable_hollow_with_the_channels_open(replica):
    result, section, mesh, _, trajectories, vertebra_mm3 = replica
    assert section["watertight"] and section["manifold"] and not section["self_intersecting"]
    assert_printable(mesh, min_wall_mm=0.0)  # the wall floor: see the next test
    solid = to_manifold(mesh, step="test")
    assert 0.2 * vertebra_mm3 < solid.volume() < 0.8 * vertebra_mm3  # hollow, not solid, not empty
    for t in trajectories:
        d = (t.C - t.A) / np.linalg.norm(t.C - t.A)
        needle = needle_solid(t.A, d, 3.05, inside_mm=np.linalg.norm(t.C - t.A) - 0.1, outside_mm=5.0)
        assert intersection(solid, needle, step="test", allow_empty=True).is_empty()


def test_real_replica_walls_reach_the_floor(replica):
    _, section, mesh, _, _, _ = replica
    assert_printable(mesh, min_wall_mm=1.5)
    assert section["min_wall_mm"] >= 1.5


def test_real_replica_slices_in_prusaslicer(replica):
    _, section, mesh, stl, _, _ = replica
    # One piece around sealed cavities (the channels run in sleeves through them): counted by manifold3d.
    volumes = [part.volume() for part in to_manifold(mesh, step="test").decompose()]
    assert sum(v > 0 for v in volumes) == 1
    report = assert_prints(mesh, stl, axis_orientations(), section["volume_mm3"], shells=len(volumes))
    print(f"{stl.name}: {report.orientation}, {report.print_time_s / 60:.0f} min, {report.filament_cm3} cm3")
