"""The module's hook for the intra-operative check: the placed needle shown beside the planned one."""

from __future__ import annotations

import numpy as np

from .markups import fiducial_node_from_point, line_node_from_points
from .volumes import ct_from_volume_node

# The placed needle is drawn this far back from its tip (mm): its part in bone and the pedicle.
SHOWN_LENGTH_MM = 40.0


def check_needle_on_nodes(planning_node, intraop_node, vertebra_mask: np.ndarray, *, b, c, side: str, **options):
    """Run the library's check_needle on two volume nodes (planning CT, intra-operative CT); see verify.check."""
    from ..verify import check_needle

    return check_needle(ct_from_volume_node(planning_node), vertebra_mask, ct_from_volume_node(intraop_node),
                        b=b, c=c, side=side, **options)


def add_placed_needle_nodes(scene, check, *, suffix: str = "") -> tuple:
    """A 'Placed tip' point and a 'Placed needle' line (planning-CT coordinates, locked) for a NeedleCheck, to be
    seen with the planned A, B, C and trajectory; returns (tip node, line node)."""
    tip = np.asarray(check.tip, float)
    start = tip - SHOWN_LENGTH_MM * np.asarray(check.direction, float)
    tip_node = fiducial_node_from_point(scene, ("Placed tip" + suffix).strip(), tip, locked=True, label="tip")
    line_node = line_node_from_points(scene, ("Placed needle" + suffix).strip(), start, tip, locked=True)
    return tip_node, line_node
