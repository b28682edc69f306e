"""A vertebra from a segmentation: a label map and label id (TotalSegmentator, a Slicer segment exported as a
label map), optionally with a body / posterior-elements label map; cleaned and checked."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..core.volume import CTVolume
from .enclosed import enclosed_in_every_view
from .errors import VertebraError
from .levels import TOTALSEGMENTATOR_LABELS, level_for_label, normalise_level
from .masks import (
    CORE_DEPTH_MM,
    FULL_CONNECTIVITY,
    VertebraMasks,
    body_cores,
    crop_box,
    cut_faces,
    fill_holes,
    keep_largest_component,
    split_at_cores,
    voxel_volume_ml,
)
from .segment import BONE_HU_RANGE

# Pieces of a neighbour's label the target surrounds are taken from this size (ml): smaller ones are the tips of
# interlocking articular processes (up to 0.14 ml on the 3 mm example; the DICOM case's mislabelled pieces of T12
# are 0.36 ml and more), and a cavity inside the target is filled anyway.
MIN_RECLAIMED_ML = 0.2
# A TotalSegmentator map is made on a 1.5 or 3 mm grid: bone within this distance (mm) of its edge is the vertebra's.
SNAP_MM = 2.0
# Label of the vertebral body in a body / posterior-elements label map (TotalSegmentator "vertebrae_body"
# and the phantom's parts both use 1).
DEFAULT_BODY_LABEL = 1


def _on_ct_grid(ct: CTVolume, labels, what: str) -> np.ndarray:
    """The label voxels on the CT grid: arrays must match it; volumes on another grid are resampled (nearest)."""
    if isinstance(labels, CTVolume):
        if labels.voxels.shape == ct.voxels.shape and np.allclose(labels.ijk_to_ras, ct.ijk_to_ras, atol=1e-3):
            return np.asarray(labels.voxels)
        from ..io.ct_io import resample_labels_to

        return resample_labels_to(labels, ct)
    array = np.asarray(labels)
    if array.shape != ct.voxels.shape:
        raise VertebraError(f"the {what} has shape {array.shape} but the CT has {ct.voxels.shape}; give it on "
                            "the CT's grid (or as a volume with its own geometry, which is resampled)")
    return array


def _present_labels(array: np.ndarray) -> str:
    present = [int(v) for v in np.unique(array) if v != 0]
    if not present:
        return "it is empty"
    shown = ", ".join(f"{v}{' (' + level_for_label(v) + ')' if level_for_label(v) else ''}" for v in present[:12])
    return f"it holds {shown}{' ...' if len(present) > 12 else ''}"


def vertebra_from_labels(ct: CTVolume, labels, label: int, *, level: str | None = None, parts=None,
                         body_label: int = DEFAULT_BODY_LABEL, seed=None, snap_mm: float = SNAP_MM) -> VertebraMasks:
    """The vertebra `label` of a label map, cleaned: largest connected piece kept, enclosed holes filled.

    labels, parts : CTVolume (any grid; resampled to the CT by nearest neighbour) or array on the CT grid.
    parts : optional label map whose `body_label` marks vertebral bodies; its overlap with the vertebra is
    the body (anything else in the vertebra is posterior elements).
    seed : optional RAS point inside the target's body, used only when the label holds several vertebral
    bodies joined together (then the one holding the seed is kept).
    level : name for reports; default from the TotalSegmentator id (31 -> 'L1').
    snap_mm : in a TotalSegmentator vertebra map, CT bone this close to the label and in no other label is added
    (0: not at all, for a map that does not label the ribs and vessels around the vertebra).
    """
    array = _on_ct_grid(ct, labels, "segmentation")
    mask = array == int(label)
    if not mask.any():
        raise VertebraError(f"label {label} is empty in the segmentation on the CT grid ({_present_labels(array)}); "
                            "choose the label of the vertebra to treat")
    name = normalise_level(level) if level else level_for_label(int(label))
    box, offset = crop_box(mask)
    seed_index = None
    if seed is not None:
        seed_index = np.rint(ct.ras_to_ijk_points(seed)[0][::-1]).astype(int) - np.asarray(offset)
        if np.any(seed_index < 0) or np.any(seed_index >= mask[box].shape):
            seed_index = None
    vertebra, notes = _reclaim_from_neighbours(ct, array[box], mask[box], int(label))
    vertebra, more = _snap_to_ct_bone(ct, box, array[box], vertebra, int(label), snap_mm)
    notes += more
    vertebra, more = _clean(ct, vertebra, f"label {label}", seed_index=seed_index)
    notes += more
    part_array = None if parts is None else _on_ct_grid(ct, parts, "body / posterior-elements segmentation")[box]
    has_body = part_array is not None and bool(((part_array == int(body_label)) & vertebra).any())
    vertebra, more = _one_vertebra(ct, vertebra, offset, seed, f"label {label}", body_given=has_body)
    notes += more
    body = None
    source = "segmentation"
    if parts is not None:
        body = (part_array == int(body_label)) & vertebra
        if not body.any():
            raise VertebraError(f"the body label {body_label} does not overlap label {label} of the vertebra "
                                f"segmentation ({_present_labels(part_array)} there); check --parts and its body label")
        body, more = _clean(ct, body, "body segmentation")
        body &= vertebra
        notes += more
        source = "segmentation with body split"
    return VertebraMasks(ct, offset, vertebra, body, name, source, tuple(notes), cut_faces(vertebra, offset, ct.voxels.shape))


def _reclaim_from_neighbours(ct: CTVolume, labels: np.ndarray, mask: np.ndarray, label: int) -> tuple[np.ndarray, list[str]]:
    """In a TotalSegmentator vertebra map, voxels labelled as another vertebra that the target surrounds in every
    view (enclosed.py) are the target's; other label maps are left as they are."""
    vertebra_ids = set(TOTALSEGMENTATOR_LABELS.values())
    if label not in vertebra_ids:
        return mask, []
    others = np.isin(labels, sorted(vertebra_ids - {label}))
    if not others.any():
        return mask, []
    reclaimed = enclosed_in_every_view(mask, others)
    pieces, count = ndimage.label(reclaimed, structure=FULL_CONNECTIVITY)
    voxel_ml = voxel_volume_ml(ct)
    sizes = np.bincount(pieces.ravel(), minlength=count + 1) * voxel_ml
    reclaimed = (sizes >= MIN_RECLAIMED_ML)[pieces] & reclaimed
    if not reclaimed.any():
        return mask, []
    sources = ", ".join(f"{v} ({level_for_label(v)})" for v in np.unique(labels[reclaimed]))
    volume = reclaimed.sum() * voxel_ml
    return mask | reclaimed, [f"label {label}: {volume:.2f} ml labelled as {sources} lie inside its outline in every "
                              "view and were taken as part of it"]


def _snap_to_ct_bone(ct: CTVolume, box, labels: np.ndarray, mask: np.ndarray, label: int,
                     snap_mm: float) -> tuple[np.ndarray, list[str]]:
    """In a TotalSegmentator vertebra map, CT bone (BONE_HU_RANGE) within snap_mm of the label and in no other
    label is added: a map made on a coarser grid than the CT (TotalSegmentator works at 1.5 or 3 mm) misses
    bone along its edges. Other labels (neighbouring vertebrae, ribs, the aorta) are never taken; on a CT as
    coarse as snap_mm no voxel is close enough to be added."""
    if label not in TOTALSEGMENTATOR_LABELS.values() or snap_mm <= 0:
        return mask, []
    near = ndimage.distance_transform_edt(~mask, sampling=ct.spacing[::-1]) <= snap_mm
    hu = ct.voxels[box]
    added = near & ~mask & (labels == 0) & (hu >= BONE_HU_RANGE[0]) & (hu <= BONE_HU_RANGE[1])
    if not added.any():
        return mask, []
    volume = added.sum() * voxel_volume_ml(ct)
    return mask | added, [f"label {label}: {volume:.2f} ml of bone on the CT ({BONE_HU_RANGE[0]:g}-{BONE_HU_RANGE[1]:g} "
                          f"HU) within {snap_mm:g} mm of its edge and in no other label added"]


def _clean(ct: CTVolume, mask: np.ndarray, what: str, seed_index=None) -> tuple[np.ndarray, list[str]]:
    mask, notes = keep_largest_component(mask, ct, what, seed_index=seed_index)
    mask, more = fill_holes(mask, ct, what)
    return mask, notes + more


# A body collapsed to 6 mm is still found from the label alone; thinner ones need the body label.
THIN_BODY_DEPTH_MM = 3.0


def _one_vertebra(ct: CTVolume, mask: np.ndarray, offset, seed, what: str,
                  body_given: bool = False) -> tuple[np.ndarray, list[str]]:
    """The mask itself when it holds one vertebral body; with several, the one holding the seed, else an error.

    A collapsed body (a crush fracture, the very case vertebroplasty treats) is nowhere 10 mm thick: the mask is
    still taken as one vertebra when a body label is given, or when 6 mm of thickness (THIN_BODY_DEPTH_MM deep)
    holds a body-sized core (pedicles, laminae and processes alone have none: 0.5 ml at most on the phantom)."""
    spacing_kji = ct.spacing[::-1]
    cores, count = body_cores(mask, spacing_kji)
    if count == 0:
        _, thin = body_cores(mask, spacing_kji, depth_mm=THIN_BODY_DEPTH_MM)
        if body_given or thin:
            return mask, [f"{what} is nowhere {2 * CORE_DEPTH_MM:g} mm thick: planned as a collapsed (crushed) body"]
        raise VertebraError(f"{what} is nowhere 10 mm thick, so it holds no vertebral body; check that the label is "
                            "a whole vertebra (body and posterior elements), not a process or a thin slab; for a "
                            "body collapsed to less than 6 mm give the body label too (parts)")
    if count == 1:
        return mask, []
    if seed is None:
        raise VertebraError(f"{what} holds {count} vertebral bodies joined together; give a seed point inside the "
                            "target's body (R,A,S) or correct the segmentation so it holds one vertebra")
    parts = split_at_cores(mask, cores)
    index = np.rint(ct.ras_to_ijk_points(seed)[0][::-1]).astype(int) - np.asarray(offset)
    if np.any(index < 0) or np.any(index >= mask.shape) or parts[tuple(index)] == 0:
        raise VertebraError(f"{what} holds {count} vertebral bodies joined together and the seed point is not on "
                            "any of them; place the seed inside the target's body")
    kept = parts == parts[tuple(index)]
    return kept, [f"{what}: held {count} vertebral bodies joined together; kept the one holding the seed"]
