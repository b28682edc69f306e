"""Checks that a vertebra label map agrees with its CT: labels on bone, levels in anatomical order.

A label map saved with a wrong header (flipped or swapped axes) is resampled onto the CT without
complaint and puts "L1" in soft tissue; these checks refuse it before anything is planned.
"""

from __future__ import annotations

import numpy as np

from .errors import VertebraError
from .levels import TOTALSEGMENTATOR_LABELS, level_for_label

# Overlap measure: the fraction of a vertebra label's voxels (on the CT grid) at or above DENSE_BONE_HU.
# Cortex and posterior elements are dense bone even in an osteoporotic vertebra; soft tissue, fat and
# air never are. Real TotalSegmentator vertebrae in ../shared/data: 31-52 % (3 mm and DICOM cases);
# the same labels flipped onto soft tissue: 0-6 %. The floor leaves a wide margin on both sides.
DENSE_BONE_HU = 200.0
MIN_DENSE_BONE_FRACTION = 0.10


def dense_bone_fraction(ct_voxels: np.ndarray, mask: np.ndarray) -> float:
    """Fraction of the mask's voxels whose CT value is >= DENSE_BONE_HU (0 for an empty mask)."""
    count = int(np.count_nonzero(mask))
    if count == 0:
        return 0.0
    return float(np.count_nonzero(ct_voxels[mask] >= DENSE_BONE_HU)) / count


def check_labels_on_bone(ct, label_voxels: np.ndarray, values, source: str = "the segmentation") -> None:
    """Refuse vertebra labels that do not lie on the CT's bone (see MIN_DENSE_BONE_FRACTION)."""
    for value in values:
        mask = label_voxels == int(value)
        if not mask.any():
            continue  # an empty label is reported by the vertebra reader with the labels present
        fraction = dense_bone_fraction(ct.voxels, mask)
        if fraction < MIN_DENSE_BONE_FRACTION:
            name = level_for_label(int(value))
            raise VertebraError(
                f"label {value}{' (' + name + ')' if name else ''} of {source} does not lie on the CT's bone: "
                f"{100 * fraction:.0f} % of its voxels are >= {DENSE_BONE_HU:.0f} HU (a vertebra has at least "
                f"{100 * MIN_DENSE_BONE_FRACTION:.0f} %); check that the label map belongs to this CT and that its "
                "header (origin, direction) was not changed, e.g. flipped axes"
            )


def _superior_mm(ct, mask: np.ndarray) -> float:
    """RAS S coordinate of the mask's centroid."""
    centroid_kji = np.argwhere(mask).mean(axis=0)
    return float(ct.ijk_to_ras_points(centroid_kji[::-1])[0][2])


def check_level_order(ct, label_voxels: np.ndarray, names_by_value: dict | None = None,
                      source: str = "the segmentation") -> None:
    """Refuse a label map whose named vertebrae do not run in anatomical order along the superior (S) axis.

    names_by_value : {label value: level name}; default: every TotalSegmentator vertebra id present.
    Levels two apart or more are compared too, so one swapped pair is found wherever it is.
    """
    if names_by_value is None:
        present = {int(v) for v in np.unique(label_voxels)} & set(TOTALSEGMENTATOR_LABELS.values())
        names_by_value = {v: level_for_label(v) for v in present}
    heights = []
    for value, name in names_by_value.items():
        if name not in TOTALSEGMENTATOR_LABELS:
            continue
        mask = label_voxels == int(value)
        if mask.any():
            heights.append((TOTALSEGMENTATOR_LABELS[name], name, _superior_mm(ct, mask)))
    heights.sort()  # anatomical order from S1 upwards: S must increase
    for (_, lower, s_lower), (_, upper, s_upper) in zip(heights, heights[1:]):
        if s_upper <= s_lower:
            raise VertebraError(
                f"in {source} {upper} lies below {lower} (centres at S = {s_upper:.1f} and {s_lower:.1f} mm), "
                f"but {upper} is the upper vertebra; the label map's superior axis or its level numbering is wrong: "
                "check its header (direction) and that the labels are TotalSegmentator ids or the --level names match"
            )


def check_vertebra_labels(ct, label_voxels: np.ndarray, values, names=None, source: str = "the segmentation") -> None:
    """Both checks for the requested vertebra labels (names: their level names, '' when unknown).

    When the requested labels are TotalSegmentator ids named as such, every vertebra id in the map is
    ordered (a flip shows even when one level is requested); otherwise only the named requested ones.
    """
    values = [int(v) for v in values]
    names = list(names) if names else [level_for_label(v) for v in values]
    check_labels_on_bone(ct, label_voxels, values, source)
    if all(not n or n == level_for_label(v) for v, n in zip(values, names)):
        check_level_order(ct, label_voxels, None, source)
    else:
        check_level_order(ct, label_voxels, {v: n for v, n in zip(values, names) if n}, source)
