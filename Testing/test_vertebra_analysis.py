"""Vertebra analysis on the phantom: frame, body, endplates, canal, pedicles, processes against the ground truth."""

import numpy as np
import pytest
from proposal_cases import analysis, phantom

from PVPGuideLib.vertebra import vertebra_from_ct

CASES = [("upright", "labels"), ("all_axes_25", "labels"), ("lps_oblique_grid", "labels"), ("wedge_30", "parts"),
         ("low_density", "ct")]


def _angle(u, v):
    return np.degrees(np.arccos(np.clip(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v), -1.0, 1.0)))


@pytest.mark.parametrize(("scenario", "source"), CASES)
def test_frame_and_body_landmarks(scenario, source):
    truth = phantom(scenario).truth["levels"]["L1"]
    a = analysis(scenario, source)
    for axis in ("right", "anterior", "superior"):
        assert _angle(getattr(a.frame, axis), truth["frame"][axis]) < 0.5
    assert np.linalg.norm(a.body_centre - truth["body_centre"]) < 1.0
    # The canal centre is a point of the canal's axis: the truth's lies on the analysed axis (the frame's superior
    # axis through the analysed centre), whatever height each picked.
    rel = np.asarray(truth["canal"]["centre"]) - a.canal_centre
    assert np.linalg.norm(rel - np.dot(rel, a.frame.superior) * a.frame.superior) < 1.0
    # Endplate centres: the point of each plane above / below the body centre (1 mm: the 2 mm slices).
    for which in ("superior", "inferior"):
        assert np.linalg.norm(a.endplate_centre(which) - truth[f"{which}_endplate_centre"]) < 1.5
    assert a.body.depth == pytest.approx(truth["body"]["depth_mm"], abs=1.5)
    assert a.body_width_mm == pytest.approx(truth["body"]["width_mm"], abs=1.5)
    assert a.canal.width == pytest.approx(truth["canal"]["width_mm"], abs=1.5)
    # Built to the published sizes (SPEC section 9): nothing for the plausibility checks to report.
    assert not [n for n in a.notes if "published" in n or "canal found" in n]
    assert np.allclose(a.landmarks().midline_normal, a.frame.right)
    assert np.linalg.norm(a.spinous_tip - truth["spinous_tip"]) < 3.0


@pytest.mark.parametrize(("scenario", "source"), CASES)
def test_pedicle_borders_and_transverse_processes(scenario, source):
    truth = phantom(scenario).truth["levels"]["L1"]
    a = analysis(scenario, source)
    data = a.to_json()
    frame = np.array([truth["frame"][k] for k in ("right", "anterior", "superior")])
    for side in ("left", "right"):
        mine, expected = data["pedicles"][side], truth["pedicles"][side]
        for border in ("medial_border", "lateral_border"):
            point, direction = np.array(mine[border]["point"]), np.array(mine[border]["direction"])
            rel = np.asarray(expected[border]["point"]) - point
            off_line = frame @ (rel - np.dot(rel, direction) * direction)  # (right, anterior, superior) mm
            assert abs(off_line[0]) < 0.5  # across the pedicle
            assert abs(off_line[2]) < 1.0  # height (2 mm slices)
            # Direction in the axial plane: the convergence the construction extends to C.
            axial = frame @ direction
            expected_axial = frame @ np.asarray(expected[border]["direction"])
            assert _angle(axial[:2], expected_axial[:2]) < 1.5
        assert mine["isthmus_width_mm"] == pytest.approx(expected["isthmus_width_mm"], abs=0.7)
        tp = data["transverse_processes"][side]
        assert tp["found"]
        height = frame @ (np.asarray(tp["mid_height_point"]) - truth["transverse_process_mid"][side])
        assert abs(height[2]) < 1.0


def test_ct_alone_matches_the_labels():
    p = phantom("upright")
    masks = vertebra_from_ct(p.ct, seed=p.truth["levels"]["L1"]["body_centre"], level="L1")
    full = np.zeros(p.ct.voxels.shape, bool)
    k, j, i = masks.offset
    full[k:k + masks.vertebra.shape[0], j:j + masks.vertebra.shape[1], i:i + masks.vertebra.shape[2]] = masks.vertebra
    label = p.labels.voxels == 31
    dice = 2 * (full & label).sum() / (full.sum() + label.sum())
    assert dice > 0.95
    assert masks.level == "L1" and masks.body is None and "226" in masks.notes[0]
