"""The vertebrae adjacent to a target in a label map, analysed when present (for normal heights and the Cobb angle)."""

from __future__ import annotations

from ..vertebra import VertebraError, analyse_vertebra, vertebra_from_labels
from ..vertebra.levels import level_for_label


def adjacent_analyses(ct, label_volume, target_label: int, *, parts=None, body_label: int = 1):
    """(above, below, notes): analyses of the vertebrae labelled target_label + 1 (cranial) and - 1 (caudal).

    TotalSegmentator ids grow cranially (L1 31, T12 32, L2 30); a neighbour absent from the map, or one that
    cannot be analysed (cut by the scan, say), is None and the notes say why.
    """
    found, notes = {}, []
    values = label_volume.voxels if hasattr(label_volume, "voxels") else label_volume
    for where, label in (("above", target_label + 1), ("below", target_label - 1)):
        name = level_for_label(label) or f"label {label}"
        if not (values == label).any():
            notes.append(f"no vertebra {where} the target ({name}) in the segmentation")
            found[where] = None
            continue
        try:
            found[where] = analyse_vertebra(vertebra_from_labels(ct, label_volume, label, level=level_for_label(label)
                                                                 or None, parts=parts, body_label=body_label))
        except VertebraError as error:
            notes.append(f"the vertebra {where} the target ({name}) could not be measured: {error}")
            found[where] = None
    return found["above"], found["below"], notes
