"""Parts of the target vertebra that a label map gave to a neighbour are taken back; the neighbour itself is not."""

import numpy as np
import pytest
from proposal_cases import assert_spec_points, body_part_labelled_as_t12, phantom

from PVPGuideLib.vertebra import analyse_vertebra, vertebra_from_labels
from PVPGuideLib.vertebra.enclosed import enclosed_in_every_view


def test_a_chunk_inside_is_enclosed_a_neighbour_beside_is_not():
    target = np.zeros((20, 30, 30), dtype=bool)
    target[5:15, 5:25, 5:25] = True
    chunk = np.zeros_like(target)
    chunk[8:12, 10:15, 12:18] = True  # surrounded by the target on every side
    target &= ~chunk
    notch = np.zeros_like(target)
    notch[8:12, 5:9, 12:18] = True  # cut into one face: open to the outside in the axial and sagittal views
    target &= ~notch
    neighbour = np.zeros_like(target)
    neighbour[16:19, 5:25, 5:25] = True  # the next vertebra, across a disc
    found = enclosed_in_every_view(target, chunk | notch | neighbour)
    assert found[chunk].all()
    assert not found[neighbour].any()
    # A notch in a convex outline is inside the convex outline in every view: it is taken too (a gap in the label).
    assert found[notch].all()
    assert not found[~(chunk | notch | neighbour)].any()


def test_too_few_or_collinear_voxels_give_no_outline():
    target = np.zeros((5, 5, 5), dtype=bool)
    target[2, 2, :] = True  # a line
    candidates = np.zeros_like(target)
    candidates[2, 2, 2] = True
    assert not enclosed_in_every_view(target & ~candidates, candidates).any()


def test_phantom_body_part_labelled_as_the_next_level_is_taken_back():
    p = phantom("upright")
    truth = p.truth["levels"]["L1"]
    labels, block = body_part_labelled_as_t12(p)
    masks = vertebra_from_labels(p.ct, p.labels.with_voxels(labels), 31)
    voxel_ml = abs(np.linalg.det(p.ct.ijk_to_ras[:3, :3])) / 1000.0
    note = next(n for n in masks.notes if "labelled as 32 (T12)" in n)
    assert f"{block.sum() * voxel_ml:.2f} ml" in note  # the block, and nothing of the real T12
    a = analyse_vertebra(masks)
    assert_spec_points(a, truth)


def test_custom_label_maps_are_left_as_they_are():
    p = phantom("upright")
    labels = np.where(p.labels.voxels == 31, 1, np.where(p.labels.voxels > 0, 2, 0)).astype(np.int16)
    masks = vertebra_from_labels(p.ct, p.labels.with_voxels(labels), 1, level="L1")
    assert not any("inside its outline" in n for n in masks.notes)
    assert masks.vertebra.sum() == pytest.approx((labels == 1).sum(), rel=0.01)


def test_bone_a_coarse_label_misses_along_its_edges_is_added_and_no_other_label():
    """A label one voxel short all round (as a map made on a coarser grid is): the CT's bone within 2 mm of it that
    no other label holds is added back; T12's bone next to it is not taken."""
    from scipy import ndimage

    p = phantom("upright")
    truth = p.truth["levels"]["L1"]
    labels = p.labels.voxels.copy()
    l1 = labels == 31
    shell = l1 & ~ndimage.binary_erosion(l1)
    labels[shell] = 0
    masks = vertebra_from_labels(p.ct, p.labels.with_voxels(labels), 31)
    o, shape = masks.offset, masks.vertebra.shape
    crop = tuple(slice(o[a], o[a] + shape[a]) for a in range(3))
    bone = (p.ct.voxels[crop] >= 226) & (p.ct.voxels[crop] <= 3071)
    restored = masks.vertebra & shell[crop]
    assert restored.sum() >= 0.9 * (shell[crop] & bone).sum()
    assert not (masks.vertebra & (p.labels.voxels[crop] == 32)).any()
    assert any("of bone on the CT" in n for n in masks.notes)
    a = analyse_vertebra(masks)
    assert_spec_points(a, truth)
