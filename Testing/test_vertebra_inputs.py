"""Vertebra inputs: label maps with holes, stray islands or a joined neighbour, the CT alone with a bony bridge,
partial fields of view and bad arguments: clear results or clear errors, never a silent bad path."""

import numpy as np
import pytest
from proposal_cases import assert_spec_points, phantom, voxel_ras

from PVPGuideLib.core.volume import CTVolume, VolumeError
from PVPGuideLib.planning.proposal import propose_points
from PVPGuideLib.vertebra import (
    VertebraError,
    analyse_vertebra,
    label_for_level,
    level_for_label,
    normalise_level,
    vertebra_from_ct,
    vertebra_from_labels,
)
from PVPGuideLib.vertebra.levels import level_from_name, neighbouring_levels

TOLERANCE_MM = 1.5


def _index(ct, ras):
    return tuple(np.rint(ct.ras_to_ijk_points(ras)[0][::-1]).astype(int))


def _close_to_truth(p, masks, side="left"):
    points = propose_points(analyse_vertebra(masks), side, adjust=False)
    truth = p.truth["levels"]["L1"]["plans"][side]
    return np.linalg.norm(points.b - truth["B"]), np.linalg.norm(points.c - truth["C"])


def test_level_names():
    assert label_for_level("l1") == 31 and label_for_level("T12") == 32 and label_for_level("L5") == 27
    assert level_for_label(30) == "L2" and level_for_label(7) == ""
    assert normalise_level(" s1 ") == "S1"
    assert level_from_name("vertebrae_T12") == "T12" and level_from_name("L1 vertebra") == "L1"
    assert level_from_name("rib_left_12") == "" and level_from_name("T12-L1 disc") == "" and level_from_name("") == ""
    assert neighbouring_levels("T12", 1) == ["L1", "T11"] and neighbouring_levels("S1") == ["L5", "L4"]
    with pytest.raises(VertebraError, match="unknown vertebra level"):
        label_for_level("L7")


def test_empty_label_names_what_is_there():
    p = phantom("upright")
    with pytest.raises(VertebraError, match=r"label 40 is empty.*31 \(L1\)"):
        vertebra_from_labels(p.ct, p.labels, 40)


def test_holes_and_stray_islands_are_cleaned_and_reported():
    p = phantom("upright")
    labels = p.labels.voxels.copy()
    k, j, i = _index(p.ct, p.truth["levels"]["L1"]["body_centre"])
    labels[k - 1:k + 2, j - 4:j + 5, i - 4:i + 5] = 0  # a cavity inside the body
    labels[2:5, 5:9, 5:9] = 31  # a stray island in a corner of the scan
    masks = vertebra_from_labels(p.ct, p.labels.with_voxels(labels), 31)
    notes = " ".join(masks.notes)
    assert "dropped 1 stray island" in notes and "filled" in notes
    assert max(_close_to_truth(p, masks)) <= TOLERANCE_MM


def test_two_vertebrae_in_one_label_need_a_seed():
    p = phantom("upright")
    labels = p.labels.voxels.copy()
    labels[labels == 32] = 31  # T12 carries L1's label: one segment holding two vertebrae
    seed = p.truth["levels"]["L1"]["body_centre"]
    with pytest.raises(VertebraError, match="2 separate pieces of similar size"):
        vertebra_from_labels(p.ct, p.labels.with_voxels(labels), 31)
    assert max(_close_to_truth(p, vertebra_from_labels(p.ct, p.labels.with_voxels(labels), 31, seed=seed))) <= 1.5
    # Now touching: an osteophyte labelled with them bridges the disc.
    k0, j0, i0 = _index(p.ct, np.add(p.truth["levels"]["L1"]["superior_endplate_centre"], [0.0, 12.0, 0.0]))
    k1, _, _ = _index(p.ct, p.truth["levels"]["T12"]["inferior_endplate_centre"])
    labels[min(k0, k1):max(k0, k1) + 1, j0 - 3:j0 + 4, i0 - 3:i0 + 4] = 31
    joined = p.labels.with_voxels(labels)
    with pytest.raises(VertebraError, match="2 vertebral bodies joined together; give a seed point"):
        vertebra_from_labels(p.ct, joined, 31)
    masks = vertebra_from_labels(p.ct, joined, 31, seed=seed)
    assert any("kept the one holding the seed" in n for n in masks.notes)
    assert max(_close_to_truth(p, masks)) <= TOLERANCE_MM


def test_ct_alone_separates_a_neighbour_joined_by_a_bony_bridge():
    p = phantom("upright")
    hu = p.ct.voxels.copy()
    # An anterior osteophyte bridging the T12/L1 disc: a 6 mm bar of cortical bone.
    top = p.truth["levels"]["L1"]["superior_endplate_centre"]
    above = p.truth["levels"]["T12"]["inferior_endplate_centre"]
    k0, j0, i0 = _index(p.ct, np.add(top, [0.0, 12.0, -2.0]))
    k1, _, _ = _index(p.ct, np.add(above, [0.0, 12.0, 2.0]))
    hu[min(k0, k1):max(k0, k1) + 1, j0 - 3:j0 + 4, i0 - 3:i0 + 4] = 800
    ct = p.ct.with_voxels(hu)
    masks = vertebra_from_ct(ct, seed=p.truth["levels"]["L1"]["body_centre"], level="L1")
    assert any("separated from" in n for n in masks.notes)
    assert max(_close_to_truth(p, masks)) <= TOLERANCE_MM


def test_partial_field_of_view_is_a_clear_error():
    p = phantom("upright")
    ct = p.ct
    # The scan ends 5 mm above L1's centre: its superior endplate is outside the field of view.
    last = _index(ct, [0.0, 0.0, 5.0])[0]
    cut = CTVolume(ct.voxels[:last + 1], ct.ijk_to_ras)
    masks = vertebra_from_labels(cut, cut.with_voxels(p.labels.voxels[:last + 1]), 31)
    assert "k+" in masks.cut_faces
    with pytest.raises(VertebraError, match="superior endplate is cut by the CT's field of view.*border"):
        analyse_vertebra(masks)


def test_bad_arguments():
    p = phantom("upright")
    with pytest.raises(VertebraError, match="shape"):
        vertebra_from_labels(p.ct, p.labels.voxels[:-1], 31)
    parts = np.where(p.parts.voxels == 1, 0, p.parts.voxels)  # no body label at all
    with pytest.raises(VertebraError, match="body label 1 does not overlap label 31"):
        vertebra_from_labels(p.ct, p.labels, 31, parts=parts)
    with pytest.raises(VolumeError, match="outside the CT"):
        vertebra_from_ct(p.ct, seed=[0.0, 0.0, 900.0])
    with pytest.raises(VertebraError, match="from the nearest bone"):
        vertebra_from_ct(p.ct, seed=[100.0, 0.0, 0.0])  # in the abdomen, far from the spine
    with pytest.raises(ValueError, match="side"):
        propose_points(analyse_vertebra(vertebra_from_labels(p.ct, p.labels, 31)), "both")


def test_a_process_alone_is_no_vertebra():
    p = phantom("upright")
    labels = np.where((p.labels.voxels == 31) & (p.parts.voxels == 2), 31, 0).astype(np.uint8)
    with pytest.raises(VertebraError, match="no vertebral body"):
        vertebra_from_labels(p.ct, labels, 31)


@pytest.mark.parametrize("cover", ["whole", "half"])
def test_bone_across_the_canal_above_or_below_the_pedicles_does_not_hide_it(cover):
    """A coarse label's disc rim or the next level's articular process can lie across the canal near an endplate;
    the canal is read where the needle passes it, over the body's middle heights (the phantom's canal: 22 mm)."""
    p = phantom("upright")
    truth = p.truth["levels"]["L1"]
    labels = p.labels.voxels.copy()
    centre = np.asarray(truth["canal"]["centre"], float)
    low = np.asarray(truth["inferior_endplate_centre"], float)[2]
    k_plate = _index(p.ct, [centre[0], centre[1], low + 2.0])[0]  # one slice just above the inferior endplate
    kk, jj, ii = np.meshgrid([k_plate], np.arange(labels.shape[1]), np.arange(labels.shape[2]), indexing="ij")
    ras = p.ct.ijk_to_ras_points(np.stack([ii.ravel(), jj.ravel(), kk.ravel()], axis=1))
    across = ((ras[:, 0] - centre[0]) / 13.0) ** 2 + ((ras[:, 1] - centre[1]) / 10.5) ** 2 <= 1.0
    if cover == "half":
        across &= ras[:, 0] >= centre[0]  # from the patient's right wall to the midline
    plate = np.zeros(labels.shape, dtype=bool)
    plate[kk.ravel()[across], jj.ravel()[across], ii.ravel()[across]] = True
    labels[plate & (labels == 0)] = 31
    a = analyse_vertebra(vertebra_from_labels(p.ct, p.labels.with_voxels(labels), 31))
    assert a.canal.width == pytest.approx(truth["canal"]["width_mm"], abs=1.5)
    assert_spec_points(a, truth, TOLERANCE_MM)


def test_b_stays_on_the_pedicle_when_an_articular_process_continues_its_lateral_border():
    """Bone joined to the pedicle's lateral border and running back past the laminae (an articular process or
    the pars on a real scan) must not pull B behind the canal: the pedicle lies in front of the laminae."""
    p = phantom("upright")
    truth = p.truth["levels"]["L1"]
    labels = p.labels.voxels.copy()
    b_truth = np.asarray(truth["plans"]["left"]["B"], float)
    # A 4 x 4 mm bar from 1 mm in front of B straight back 16 mm, along the anterior axis (the phantom is upright).
    ras = voxel_ras(p.ct)
    bar = ((np.abs(ras[..., 0] - b_truth[0]) <= 2.0) & (np.abs(ras[..., 2] - b_truth[2]) <= 2.0)
           & (ras[..., 1] <= b_truth[1] + 1.0) & (ras[..., 1] >= b_truth[1] - 16.0))
    labels[bar & (labels == 0)] = 31
    a = analyse_vertebra(vertebra_from_labels(p.ct, p.labels.with_voxels(labels), 31))
    points = propose_points(a, "left", adjust=False)
    b_local = a.to_local(points.b)[0]
    assert b_local[1] >= a.canal.back_y - 0.05  # not behind the canal's back wall
    assert points.b_rule == "lateral_border_at_canal_back"
    assert np.linalg.norm(points.b - b_truth) <= 2.5  # the truth B lies 1.6 mm in front of the canal's back


@pytest.mark.parametrize(("half_height", "medial"), [(2.0, 3.0), (4.0, 4.0)])
def test_a_cleft_in_front_of_c_does_not_pull_it_back(half_height, medial):
    """A gap in the body in front of C (a fracture cleft, a hole of a coarse label) open to the side is not the
    anterior cortex: C stays where the SPEC puts it. The larger cleft also changes the body's shape enough that
    its shortest axis is no longer the superior one (the first guess of the axes must not follow it)."""
    p = phantom("upright")
    truth = p.truth["levels"]["L1"]
    labels = p.labels.voxels.copy()
    c = np.asarray(truth["plans"]["left"]["C"], float)  # on the patient's right (+R) of the midline
    ras = voxel_ras(p.ct)
    # 2 mm deep, 2 x half_height high, from `medial` mm medial of C's line out through the body's right side.
    cleft = ((ras[..., 1] >= c[1] + 2.5) & (ras[..., 1] <= c[1] + 4.5) & (ras[..., 0] >= c[0] - medial)
             & (np.abs(ras[..., 2] - c[2]) <= half_height) & (labels == 31))
    labels[cleft] = 0
    hu = p.ct.voxels.copy()
    hu[cleft] = 20  # soft tissue in the cleft, on the CT too
    masks = vertebra_from_labels(p.ct.with_voxels(hu), p.labels.with_voxels(labels), 31)
    assert not any("filled" in n for n in masks.notes)  # open to the side: the cleft stays
    a = analyse_vertebra(masks)
    points = propose_points(a, "left", adjust=False)
    assert points.c_rule == truth["plans"]["left"]["C_rule"]
    assert np.linalg.norm(points.c - c) <= TOLERANCE_MM
    assert np.linalg.norm(points.b - truth["plans"]["left"]["B"]) <= TOLERANCE_MM
