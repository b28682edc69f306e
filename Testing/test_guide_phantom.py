"""Guide plate on the bundled phantom: upright and rotated spine, both sides, bilateral, checked on the STL."""

import numpy as np
import pytest
from guide_synthetic import assert_printable, assert_sleeve_holds_plan, contact_distances_under, read_back

from PVPGuideLib.core.geometry import VertebraFrame, needle_angles
from PVPGuideLib.guide import GuideOptions, GuideTrajectory, build_guide
from PVPGuideLib.guide.sleeve import SleeveGeometry
from PVPGuideLib.phantom.build import generate_phantom
from PVPGuideLib.planning.skin import SkinEntryStatus, find_skin_entry, skin_surface


def _case(rotation_deg):
    phantom = generate_phantom(rotation_deg=rotation_deg)
    skin = skin_surface(phantom.ct)
    level = phantom.truth["levels"]["L1"]
    trajectories = {}
    for side in ("left", "right"):
        b, c = (np.asarray(level["plans"][side][k], float) for k in ("B", "C"))
        entry = find_skin_entry(skin, b, c)
        assert entry.status is SkinEntryStatus.FOUND
        trajectories[side] = GuideTrajectory(entry.point, c, side, 11, "L1")
    return skin.mesh, level, trajectories


def _build(skin, level, trajectories):
    frame = level["frame"]
    return build_guide(skin, trajectories, frame_superior=frame["superior"], frame_anterior=frame["anterior"],
                       midline_point=level["midsagittal_plane"]["point"],
                       midline_normal=level["midsagittal_plane"]["normal"], spinous_tips=[level["spinous_tip"]],
                       options=GuideOptions(case_id="PH1", skin_smoothing_mm=0.0))


def _vertebra_frame(level):
    f = level["frame"]
    return VertebraFrame.from_axes(origin=f["origin"], right=f["right"], anterior=f["anterior"], superior=f["superior"])


@pytest.fixture(scope="module")
def upright():
    return _case((0.0, 0.0, 0.0))


@pytest.mark.parametrize("sides", [("left",), ("right",), ("left", "right")])
def test_phantom_guide_upright(upright, sides, tmp_path):
    skin, level, trajectories = upright
    result = _build(skin, level, [trajectories[s] for s in sides])
    section, mesh = read_back(result, tmp_path)
    assert section["stl"] == f"guide_L1_{'bilateral' if len(sides) == 2 else sides[0]}.stl"
    assert section["passes"], section["warnings"]
    assert_printable(mesh)
    for sleeve in result.sleeves:
        assert_sleeve_holds_plan(mesh, sleeve, vertebra_frame=_vertebra_frame(level))
    assert result.fit_deviation_mm <= 0.1
    distances = contact_distances_under(result, mesh, skin)
    measured = distances[np.isfinite(distances)]
    assert measured.min() >= 0.1 and np.mean(np.abs(measured - 0.2) <= 0.1) > 0.98


def test_phantom_guide_rotated_spine_keeps_vertebra_frame_angles(upright, tmp_path):
    skin, level, trajectories = _case((10.0, -15.0, 20.0))
    result = _build(skin, level, [trajectories["left"]])
    _, mesh = read_back(result, tmp_path)
    assert_printable(mesh)
    assert_sleeve_holds_plan(mesh, result.sleeves[0], vertebra_frame=_vertebra_frame(level))
    # SPEC section 4: the vertebra-frame angles do not depend on how the patient lies. The upright plan's
    # angles and runway ends (same options, no plate needed) are the reference.
    up_level, up_path = upright[1], upright[2]["left"]
    frame = _vertebra_frame(up_level)
    geom = SleeveGeometry.plan(entry=up_path.A, target=up_path.C, superior=frame.superior, bore_radius_mm=1.675,
                               wall_mm=2.5, height_mm=25.0, runway_length_mm=10.0)
    ends = [needle_angles(geom.tilted(s * geom.half_angle_deg), "left", frame).sagittal_deg for s in (-1, 1)]
    sleeve = result.sleeves[0]
    assert sleeve.transverse_deg == pytest.approx(needle_angles(geom.direction, "left", frame).transverse_deg, abs=0.05)
    assert sleeve.sagittal_range_deg == pytest.approx(sorted(ends), abs=0.05)
