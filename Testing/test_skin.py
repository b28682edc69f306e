"""Skin surface and skin entry A against an analytic cylinder, on aligned and oblique grids, and on real CT."""

from pathlib import Path

import numpy as np
import pytest
from synthetic import cylinder_ct, rotation_matrix

from PVPGuideLib.core.geometry import distance_point_to_line
from PVPGuideLib.io.ct_io import read_ct, read_labelmap
from PVPGuideLib.planning.skin import SkinEntryStatus, SkinError, find_skin_entry, skin_surface

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "totalseg_example"
needs_real_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"real CT sample folder {DATA} is absent")

GRIDS = {
    "identity": dict(direction=None, spacing=(1.0, 1.0, 2.0)),
    "oblique": dict(direction=rotation_matrix(20, -35, 50), spacing=(0.9, 1.3, 1.7)),
    "lps_mirrored": dict(direction=np.diag([-1.0, -1.0, 1.0]), spacing=(1.1, 0.8, 2.5)),
}


@pytest.mark.parametrize("grid", GRIDS)
def test_skin_entry_on_analytic_cylinder(grid):
    centre = np.array([12.0, -30.0, 100.0])
    ct = cylinder_ct(radius=60.0, centre=centre, **GRIDS[grid])
    skin = skin_surface(ct)
    assert skin.mesh.vertices.shape[0] > 1000
    c = centre + [4.0, 6.0, 3.0]
    b = centre + [-8.0, -20.0, 0.0]
    entry = find_skin_entry(skin, b, c)
    assert entry.status is SkinEntryStatus.FOUND
    a = entry.point
    # Expected: where the ray from B away from C reaches radius 60 (solve |B_xy + t d_xy| = 60).
    d = (b - c) / np.linalg.norm(b - c)
    p, q = (b - centre)[:2], d[:2]
    t = (-p @ q + np.sqrt((p @ q) ** 2 - (q @ q) * (p @ p - 60.0**2))) / (q @ q)
    expected = b + t * d
    half_voxel = 0.5 * min(GRIDS[grid]["spacing"])
    assert np.linalg.norm(a - expected) < half_voxel
    assert distance_point_to_line(b, a, c) < 0.1
    assert np.dot(b - a, c - b) > 0  # B between A and C


def test_skin_mesh_is_closed_and_outward():
    ct = cylinder_ct(radius=40.0, half_size=(50.0, 50.0, 20.0))
    mesh = skin_surface(ct).mesh
    edges = np.sort(np.concatenate([mesh.faces[:, [0, 1]], mesh.faces[:, [1, 2]], mesh.faces[:, [2, 0]]]), axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    assert np.all(counts == 2)  # every edge shared by exactly two triangles: closed
    v0, v1, v2 = (mesh.vertices[mesh.faces[:, n]] for n in range(3))
    volume = np.einsum("ij,ij->i", v0, np.cross(v1, v2)).sum() / 6
    # Cylinder radius 40 cut at +-20 mm (the grid ends there; the surface closes one voxel outside).
    assert volume > 0.9 * np.pi * 40.0**2 * 40.0


def test_skin_not_in_field_of_view():
    ct = cylinder_ct(radius=120.0, half_size=(80.0, 80.0, 30.0))  # body wider than the scan
    skin = skin_surface(ct)
    entry = find_skin_entry(skin, [-10.0, -20.0, 0.0], [5.0, 5.0, 0.0])
    assert entry.status is SkinEntryStatus.SKIN_NOT_IN_FIELD_OF_VIEW and entry.point is None
    assert "field of view" in entry.message


def test_path_that_never_meets_skin():
    ct = cylinder_ct(radius=40.0)
    skin = skin_surface(ct)
    entry = find_skin_entry(skin, [0.0, -60.0, 0.0], [0.0, 0.0, 0.0])  # B already in the air
    assert entry.status is SkinEntryStatus.NO_SKIN_CROSSING and entry.point is None
    assert "B lies outside the body" in entry.message


def test_all_air_is_a_clear_error():
    ct = cylinder_ct(radius=40.0)
    air = ct.with_voxels(np.full(ct.voxels.shape, -1000, np.int16))
    with pytest.raises(SkinError, match="no body found"):
        skin_surface(air)


def _label_centroid(labels, value):
    idx = np.argwhere(labels.voxels == value)[:, ::-1]  # (k, j, i) -> (i, j, k)
    return labels.ijk_to_ras_points(idx.mean(axis=0))[0]


@needs_real_data
@pytest.mark.parametrize(("ct_name", "label_name", "label"), [
    ("ct_T11_S1_3mm.nii.gz", "labels_T11_S1_3mm.nii.gz", 31),
    ("dicom_T11_T12", "labels_dicom_T11_T12.nii.gz", 32),
])
def test_real_skin_entry(ct_name, label_name, label):
    ct = read_ct(DATA / ct_name)
    labels = read_labelmap(DATA / label_name, ct)
    centre = _label_centroid(labels, label)
    skin = skin_surface(ct)
    # A left posterolateral path through the vertebra: C a little right of and in front of the centroid.
    c, b = centre + [5.0, 8.0, 0.0], centre + [-15.0, -25.0, 0.0]
    entry = find_skin_entry(skin, b, c)
    assert entry.status is SkinEntryStatus.FOUND
    a = entry.point
    assert ct.contains(a)[0]
    step = (a - b) / np.linalg.norm(a - b) * 0.5 * ct.spacing.min()
    from scipy.ndimage import map_coordinates

    def hu(p):
        return map_coordinates(ct.voxels.astype(float), ct.ras_to_ijk_points(p)[0][::-1].reshape(3, 1), order=1)[0]

    assert hu(a - step) > skin.threshold_hu > hu(a + step)  # body inside, air outside, within half a voxel
    assert hu(a + 4 * step) < -500  # real air behind the back
    assert 20.0 < np.linalg.norm(a - b) < 150.0  # soft tissue between skin and bone of a real back
    assert distance_point_to_line(b, a, c) < 0.1
