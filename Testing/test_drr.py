"""Simulated C-arm views: DRR geometry and line integrals on analytic volumes, the classic checkpoint on the phantom."""

import numpy as np
import pytest
from proposal_cases import analysis, phantom
from synthetic import rotation_matrix

from PVPGuideLib.core.geometry import VertebraFrame
from PVPGuideLib.core.volume import CTVolume
from PVPGuideLib.drr import classic_checkpoint, drr_rgb, project
from PVPGuideLib.drr.project import MU_WATER_PER_MM


def _turned_frame(origin):
    r = rotation_matrix(12.0, -8.0, 20.0)
    return VertebraFrame.from_axes(origin=origin, right=r[:, 0], anterior=r[:, 1], superior=r[:, 2])


def _box_ct():
    """Air with a water box 40 mm along the frame's anterior axis (wide in the others) and a dense bead."""
    spacing = (0.8, 0.8, 1.0)
    direction = rotation_matrix(0.0, 0.0, 30.0)
    ct = CTVolume.from_geometry(np.full((90, 120, 120), -1000.0, np.float32), spacing=spacing,
                                origin=(-48.0, -48.0, -45.0), direction=direction)
    kk, jj, ii = np.meshgrid(*[np.arange(n) for n in ct.voxels.shape], indexing="ij")
    ras = ct.ijk_to_ras_points(np.stack([ii.ravel(), jj.ravel(), kk.ravel()], axis=1)).reshape(*ct.voxels.shape, 3)
    frame = _turned_frame((0.0, 0.0, 0.0))
    local = ras @ frame.rotation.T
    voxels = np.where((np.abs(local[..., 1]) <= 20.0) & (np.abs(local[..., 0]) <= 25.0) & (np.abs(local[..., 2]) <= 25.0),
                      0.0, -1000.0).astype(np.float32)
    bead = np.array([6.0, -4.0, 9.0])
    voxels[np.linalg.norm(ras - bead, axis=-1) <= 1.5] = 3000.0
    return ct.with_voxels(voxels), frame, bead


def test_ap_line_integral_through_water_is_its_thickness():
    ct, frame, _ = _box_ct()
    drr = project(ct, frame, "ap", size_mm=60.0, pixel_mm=1.0)
    centre = drr.pixel_of(frame.origin + [0.0, 0.0, 0.0])[0]
    # A point 10 mm beside the bead, inside the box: the ray crosses 40 mm of water.
    col, row = (drr.pixel_of(frame.origin - 10.0 * frame.superior)[0] - 0.5).round().astype(int)
    assert drr.line_integral[row, col] == pytest.approx(40.0 * MU_WATER_PER_MM, rel=0.03)
    assert np.allclose(centre, [30.0, 30.0], atol=1e-6)  # the centre ray through the middle of a 60-pixel picture


@pytest.mark.parametrize("view", ["ap", "lateral"])
def test_a_bead_projects_where_the_view_geometry_says(view):
    ct, frame, bead = _box_ct()
    drr = project(ct, frame, view, size_mm=60.0, pixel_mm=0.5)
    plain = project(ct.with_voxels(np.where(ct.voxels > 2000, 0.0, ct.voxels).astype(np.float32)), frame, view,
                    size_mm=60.0, pixel_mm=0.5)
    extra = np.clip(drr.line_integral - plain.line_integral, 0.0, None)
    rows, columns = np.indices(extra.shape)
    found = np.array([(extra * (columns + 0.5)).sum(), (extra * (rows + 0.5)).sum()]) / extra.sum()
    assert np.linalg.norm(found - drr.pixel_of(bead)[0]) < 0.5
    # Radiological AP: the patient's right on the picture's left; superior up on both views.
    up = drr.pixel_of(bead + 10.0 * frame.superior)[0] - drr.pixel_of(bead)[0]
    assert up[1] == pytest.approx(-20.0) and abs(up[0]) < 1e-9
    if view == "ap":
        assert (drr.pixel_of(bead + 10.0 * frame.right)[0] - drr.pixel_of(bead)[0])[0] == pytest.approx(-20.0)


def test_classic_checkpoint_on_the_phantom_matches_its_construction():
    truth = phantom("upright").truth["levels"]["L1"]
    a = analysis("upright", "labels")
    frame = truth["frame"]
    right, anterior = np.asarray(frame["right"]), np.asarray(frame["anterior"])
    wall_point = np.asarray(truth["body"]["posterior_wall_point"])
    for side in ("left", "right"):
        b, c = np.asarray(truth["plans"][side]["B"]), np.asarray(truth["plans"][side]["C"])
        check = classic_checkpoint(a, b, c, side)
        t = ((wall_point - b) @ anterior) / ((c - b) @ anterior)
        crossing = b + t * (c - b)
        border = truth["pedicles"][side]["medial_border"]
        point, direction = np.asarray(border["point"]), np.asarray(border["direction"])
        medial = point + ((wall_point - point) @ anterior) / (direction @ anterior) * direction
        lateral_margin = (medial - crossing) @ right * (1.0 if side == "left" else -1.0)
        assert check.margin_mm == pytest.approx(lateral_margin, abs=1.0), side
        assert np.linalg.norm(check.wall_point - crossing) < 1.5


def test_picture_draws_needle_and_checkpoint():
    p = phantom("upright")
    a = analysis("upright", "labels")
    truth = p.truth["levels"]["L1"]
    b, c = np.asarray(truth["plans"]["left"]["B"]), np.asarray(truth["plans"]["left"]["C"])
    check = classic_checkpoint(a, b, c, "left")
    for view in ("ap", "lateral"):
        drr = project(p.ct, a.frame, view)
        picture = drr_rgb(drr, b=b, c=c, checkpoint=check)
        col, row = (drr.pixel_of(c)[0] - 0.5).round().astype(int)
        assert picture.shape == (*drr.line_integral.shape, 3)
        ring = picture[row - 6:row + 7, col - 6:col + 7].reshape(-1, 3)
        assert (ring == (255, 200, 0)).all(axis=1).any()  # the needle's colour at C
