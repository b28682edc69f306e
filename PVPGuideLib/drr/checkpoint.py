"""The classic C-arm check (SPEC section 10): when the tip reaches the posterior body wall on the lateral view, it
must not yet have crossed the pedicle's medial wall on the AP view."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import PVPGuideError


@dataclass(frozen=True)
class Checkpoint:
    """wall_point : RAS point where the planned path B->C crosses the posterior body wall (at the body's centre
    line); medial_point : the ipsilateral pedicle's medial border at the same depth and height; margin_mm : how far
    the path is still lateral to that border there (negative: it has crossed it: the classic check fails)."""

    wall_point: np.ndarray
    medial_point: np.ndarray
    margin_mm: float

    @property
    def passes(self) -> bool:
        return self.margin_mm >= 0.0

    def to_json(self) -> dict:
        return {"posterior_wall_point": [float(x) for x in self.wall_point],
                "medial_wall_point": [float(x) for x in self.medial_point],
                "lateral_margin_mm": self.margin_mm, "verdict": "pass" if self.passes else "fail"}


def classic_checkpoint(analysis, b, c, side: str) -> Checkpoint:
    """The check for the planned path on an analysed vertebra (local axes: right, anterior, superior)."""
    local_b, local_c = analysis.to_local(b)[0], analysis.to_local(c)[0]
    wall_y = float(analysis.body.posterior_y)
    dy = local_c[1] - local_b[1]
    if dy <= 0 or not local_b[1] <= wall_y <= local_c[1]:
        raise PVPGuideError("the planned path does not cross the posterior wall of the body from behind: the classic "
                            "C-arm check cannot be made")
    wall = local_b + (wall_y - local_b[1]) / dy * (local_c - local_b)
    medial = np.array([float(analysis.pedicles[side].border_x("medial", wall_y)), wall_y, wall[2]])
    # The right axis points to the patient's right: a left pedicle's medial wall is at larger x than the path.
    margin = (medial[0] - wall[0]) if side == "left" else (wall[0] - medial[0])
    return Checkpoint(analysis.to_ras(wall)[0], analysis.to_ras(medial)[0], float(margin))
