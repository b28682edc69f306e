"""Rules of the automatic planning that a plausible slip would break: the recommended side is never the worse
one (constructed safety reports, no data), an adjusted C stays at least 2 mm across the midline."""

from dataclasses import replace

import numpy as np
import pytest
from proposal_cases import analysis

from PVPGuideLib.planning.proposal import ProposedPoints, SideProposal, propose_points, recommend_side
from PVPGuideLib.planning.safety import DEFAULT_LIMITS, SafetyCheck, SafetyReport, check_safety, judge
from PVPGuideLib.vertebra.canal import Canal


def side_proposal(side, *, canal_mm, medial_wall_mm=3.0, anterior_cortex_mm=8.0, pedicle_width_mm=8.0):
    """A proposal for `side` whose safety report holds these distances (the other checks pass clearly)."""
    distances = {"spinal_canal": canal_mm, "medial_pedicle_wall": medial_wall_mm,
                 "anterior_cortex": anterior_cortex_mm, "superior_endplate": 8.0, "inferior_endplate": 8.0,
                 "lateral_escape": 0.0}
    checks = tuple(SafetyCheck(name, d, judge(d, DEFAULT_LIMITS[name]), DEFAULT_LIMITS[name])
                   for name, d in distances.items())
    points = ProposedPoints("L1", side, np.zeros(3), np.ones(3), "anterior_third", 2.0 / 3.0, 8.0,
                            "first_bone_on_lateral_border")
    return SideProposal(points, None, SafetyReport(13, 2.41, checks, pedicle_width_mm))


# (left, right, the side that must be recommended, why). Limits (SPEC section 5, safety.py): canal fails under
# 1 mm and warns under 2 mm; medial wall fails under 0 and warns under 1 mm; anterior cortex warns under 5 mm.
CASES = [
    (dict(canal_mm=0.5), dict(canal_mm=1.5), "right", "a fail against a warn"),
    (dict(canal_mm=3.0, anterior_cortex_mm=4.0), dict(canal_mm=2.5), "right", "a warn against a pass"),
    (dict(canal_mm=5.0, medial_wall_mm=-0.5), dict(canal_mm=1.2), "right", "a cut medial wall fails"),
    (dict(canal_mm=1.2), dict(canal_mm=1.8), "right", "both warn: the larger neural clearance"),
    (dict(canal_mm=4.0, medial_wall_mm=2.0), dict(canal_mm=2.5, medial_wall_mm=3.0), "right",
     "both pass: smallest neural clearance 2.0 against 2.5 mm"),
    (dict(canal_mm=3.1, pedicle_width_mm=7.0), dict(canal_mm=3.0, pedicle_width_mm=9.0), "right",
     "equal clearances to 0.5 mm: the wider pedicle"),
]


@pytest.mark.parametrize(("left", "right", "expected", "why"), CASES, ids=[c[3] for c in CASES])
def test_recommended_side_is_the_safer_one_in_either_order(left, right, expected, why):
    left_p, right_p = side_proposal("left", **left), side_proposal("right", **right)
    assert recommend_side(left_p, right_p).side == expected, why
    assert recommend_side(right_p, left_p).side == expected, why  # the order of the arguments does not matter
    mirrored = recommend_side(side_proposal("left", **right), side_proposal("right", **left))
    assert mirrored.side == ("left" if expected == "right" else "right"), why


class WiderCanal(Canal):
    """The analysed canal grown by `grow_mm` all round: its signed distance is the original's minus grow_mm."""

    grow_mm = 1.7

    def distance_at(self, grid, local_points):
        return super().distance_at(grid, local_points) - self.grow_mm


def test_the_search_keeps_c_across_and_picks_a_clearer_path():
    a = analysis("upright")
    # The phantom's 13G path clears the canal by 1.37 mm (analytic); a canal 1.7 mm wider all round makes the SPEC
    # path graze it (under 1 mm: not a pass). The search (B along the lateral border, C along the anterior third towards
    # the midline) must pick a path with a larger neural clearance and keep C at least 2 mm across (SPEC 5).
    wide = replace(a, canal=WiderCanal(**{f: getattr(a.canal, f) for f in a.canal.__dataclass_fields__}))
    spec = propose_points(wide, "left", adjust=False)
    spec_report = check_safety(wide, b=spec.b, c=spec.c, side="left")
    assert spec_report.check("spinal_canal").verdict in ("warn", "fail")
    result = propose_points(wide, "left", needle_gauge=13)
    across = float(np.dot(result.c - wide.body_centre, wide.frame.right))  # a left puncture targets the right half
    assert across >= 2.0 - 1e-6  # SPEC section 5
    report = check_safety(wide, b=result.b, c=result.c, side="left")
    assert result.adjustment is not None and "candidate paths" in result.adjustment["reason"]
    assert report.smallest_neural_clearance_mm > spec_report.smallest_neural_clearance_mm + 0.5
    assert report.check("spinal_canal").verdict != "fail"


@pytest.mark.parametrize(("spacing", "right", "expected"), [
    ((3.0, 3.0, 3.0), (1.0, 0.0, 0.0), 5.0),  # a 3 mm CT: 2 mm and one voxel
    ((2.0, 0.32, 0.32), (1.0, 0.0, 0.0), 4.0),  # 2 mm sagittal slices: the voxel along the right axis is 2 mm
    ((0.5, 0.5, 1.25), (1.0, 0.0, 0.0), 3.0),  # fine voxels: the 1 mm floor
    ((2.0, 1.0, 1.0), (np.sqrt(0.5), np.sqrt(0.5), 0.0), 2.0 + 3.0 * np.sqrt(0.5)),  # oblique: the voxel's extent
])
def test_c_keeps_one_voxel_more_than_the_spec_limit_across(spacing, right, expected):
    from types import SimpleNamespace

    from PVPGuideLib.planning.proposal import across_target_mm

    ijk_to_ras = np.diag(list(spacing) + [1.0])
    a = SimpleNamespace(frame=SimpleNamespace(right=np.asarray(right)), masks=SimpleNamespace(ct=SimpleNamespace(
        ijk_to_ras=ijk_to_ras)))
    assert across_target_mm(a) == pytest.approx(expected, abs=1e-9)
