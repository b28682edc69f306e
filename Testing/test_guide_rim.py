"""The plate's rounded rim, measured in sections across its border on a synthetic trunk (straight along S)."""

import numpy as np
import pytest
from guide_synthetic import elliptic_cylinder_skin, entry_on_ellipse, planned_path

from PVPGuideLib.guide import GuideOptions, GuideTrajectory, build_guide
from PVPGuideLib.guide.rim import ARC_STEP_DEG, END_DEG
from PVPGuideLib.guide.sections import section_loops

MIDLINE = dict(midline_point=[0.0, -100.0, 0.0], midline_normal=[1.0, 0.0, 0.0])
# Features off: the ridge's and the label's edges are sharp by design; only the plate's own rim is measured.
PLAIN = dict(midline_feature="none", label=False)


@pytest.fixture(scope="module")
def plates():
    target, d = planned_path("left", transverse_deg=30.0, sagittal_deg=0.0, target=[8.0, -20.0, 0.0])
    trajectory = GuideTrajectory(entry_on_ellipse(target, d), target, "left", 11, "L1")
    skin = elliptic_cylinder_skin()
    return {radius: build_guide(skin, [trajectory], frame_superior=[0, 0, 1],
                                options=GuideOptions(rim_radius_mm=radius, **PLAIN), **MIDLINE)
            for radius in (1.5, 0.0)}


def rim_turns(result, *, offsets_mm=(-2.0, 0.0, 2.0), end_mm=3.0, min_segment_mm=0.05) -> list[float]:
    """Largest turn (degrees) of the plate's outline at its top rim, at both ends of sections across it.

    Sections are the planes u = (the entry's u) + offsets_mm of the plate frame: they run along the trunk's
    straight axis (v) and cross the border, a circle around the entry, square to it. The top rim is the
    part within end_mm of a section's extreme v that does not touch a skin-side segment (one facing down).
    Points closer than min_segment_mm are merged (slivers have no reliable direction).
    """
    local = result.frame.to_local(result.mesh.vertices.astype(float))
    entry_u = result.frame.to_local(np.atleast_2d(result.sleeves[0].entry))[0, 0]
    out = []
    for offset in offsets_mm:
        loops = section_loops(local, result.mesh.faces, [entry_u + offset, 0.0, 0.0], [1.0, 0.0, 0.0])
        loop = max(loops, key=len)[:, 1:]  # (v, w)
        kept = [loop[0]]
        for p in loop[1:]:
            if np.linalg.norm(p - kept[-1]) >= min_segment_mm:
                kept.append(p)
        p = np.array(kept)
        area = 0.5 * np.sum(p[:, 0] * np.roll(p[:, 1], -1) - np.roll(p[:, 0], -1) * p[:, 1])
        seg = np.roll(p, -1, axis=0) - p
        seg /= np.linalg.norm(seg, axis=1)[:, None]
        # Outward normal of each segment (v, w): right of travel for a counter-clockwise loop.
        normal = np.sign(area) * np.column_stack([seg[:, 1], -seg[:, 0]])
        turn = np.degrees(np.arccos(np.clip(np.einsum("ij,ij->i", seg, np.roll(seg, 1, axis=0)), -1, 1)))
        skin_side = normal[:, 1] < -0.5
        touches_skin = skin_side | np.roll(skin_side, 1)  # vertex i joins segments i-1 and i
        for end in (p[:, 0] <= p[:, 0].min() + end_mm, p[:, 0] >= p[:, 0].max() - end_mm):
            out.append(float(turn[end & ~touches_skin].max()))
    return out


def test_the_rim_is_rounded_where_a_sharp_rim_turns_a_right_angle(plates):
    # Along the trunk's axis the outer surface is level: a sharp rim turns by a right angle there.
    assert rim_turns(plates[0.0]) == pytest.approx([90.0] * 6, abs=2.0)
    # Rounded, the largest turn is where the fillet, falling at END_DEG, meets the side wall (90 - END_DEG),
    # and from facet to facet of the arc it turns by ARC_STEP_DEG; allow one facet more for the sampling.
    assert max(rim_turns(plates[1.5])) <= 90.0 - END_DEG + ARC_STEP_DEG


def test_the_rounded_plate_keeps_every_check(plates):
    for result in plates.values():
        assert result.passes and result.min_wall_mm >= 1.5 and result.fit_deviation_mm <= 0.1
    assert not any("rim" in w for w in plates[1.5].warnings), plates[1.5].warnings
    # The rounding takes material off the top edge only: a quarter-round-like strip along the border.
    assert plates[0.0].volume_mm3 - 300.0 < plates[1.5].volume_mm3 < plates[0.0].volume_mm3


def test_a_border_narrower_than_the_fillet_is_left_sharp_not_folded():
    from PVPGuideLib.guide.rim import _inward_miters, _is_simple, _profile, _resampled

    depths, _ = _profile(1.5)
    for width, simple in ((10.0, True), (2.0, False)):  # the rings reach 1.8 mm in: a 2 mm strip turns inside out
        strip = _resampled(np.array([[0.0, 0.0], [30.0, 0.0], [30.0, width], [0.0, width]]), 2.0)
        assert all(_is_simple(strip + d * _inward_miters(strip), strip) for d in depths) is simple
