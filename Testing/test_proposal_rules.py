"""Rules of the automatic planning that a plausible slip would break: the recommended side is never the worse
one (constructed safety reports, no data), an adjusted C stays at least 2 mm across the midline."""

from dataclasses import replace

import numpy as np
import pytest
from proposal_cases import analysis

from PVPGuideLib.planning.proposal import ProposedPoints, SideProposal, propose_points, recommend_side
from PVPGuideLib.planning.safety import DEFAULT_LIMITS, SafetyCheck, SafetyReport, judge
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


def test_adjusted_c_stays_at_least_2_mm_across_the_midline():
    a = analysis("upright")
    # The phantom's 13G path clears the canal by 1.37 mm (analytic); a canal 1.7 mm wider all round makes the SPEC
    # path cut it (fail under 1 mm). Sliding C towards the midline widens the clearance, but by too little before
    # C comes within 2 mm of the midline (measured: C would have to reach about 0.2 mm across).
    wide = replace(a, canal=WiderCanal(**{f: getattr(a.canal, f) for f in a.canal.__dataclass_fields__}))
    spec = propose_points(wide, "left", adjust=False)
    result = propose_points(wide, "left", needle_gauge=13)
    across = float(np.dot(result.c - wide.body_centre, wide.frame.right))  # a left puncture targets the right half
    assert across >= 2.0 - 1e-6  # SPEC section 5
    assert result.adjustment is None and np.allclose(result.c, spec.c)  # kept and marked, not moved
    assert any("SPEC points are kept" in note for note in result.notes)
