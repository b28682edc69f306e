"""The module hook of the needle check on a real MRML scene: volume nodes in, placed needle nodes out."""

import numpy as np
import pytest
from operative_phantom import burn_needle

from PVPGuideLib.phantom.build import generate_phantom


def test_check_on_volume_nodes_and_placed_needle_nodes(scene):
    from PVPGuideLib.mrml.markups import point_from_fiducial_node, points_from_line_node
    from PVPGuideLib.mrml.needle_check_nodes import SHOWN_LENGTH_MM, add_placed_needle_nodes, check_needle_on_nodes
    from PVPGuideLib.mrml.volumes import volume_node_from_ct

    p = generate_phantom()
    level = p.truth["levels"]["L1"]
    b, c = np.asarray(level["plans"]["right"]["B"]), np.asarray(level["plans"]["right"]["C"])
    d = (c - b) / np.linalg.norm(c - b)
    tip = c - 1.5 * d  # 1.5 mm short of C along the path
    planning = volume_node_from_ct(scene.scene, p.ct, "CT")
    intraop = volume_node_from_ct(scene.scene, burn_needle(p.ct, tip, d), "Intra-op CT")
    check = check_needle_on_nodes(planning, intraop, p.labels.voxels == 31, b=b, c=c, side="right")
    assert check.tip_to_c_mm == pytest.approx(1.5, abs=0.5)
    tip_node, line_node = add_placed_needle_nodes(scene.scene, check)
    assert np.allclose(point_from_fiducial_node(tip_node), check.tip)
    line = points_from_line_node(line_node)
    assert np.linalg.norm(line[1] - line[0]) == pytest.approx(SHOWN_LENGTH_MM, abs=1e-6)
    assert np.degrees(np.arccos(np.clip((line[1] - line[0]) @ d / SHOWN_LENGTH_MM, -1, 1))) < 0.5
