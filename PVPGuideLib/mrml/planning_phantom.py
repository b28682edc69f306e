"""The bundled phantom added to the scene: its CT, vertebra segmentation and target level's landmarks, selected."""

from __future__ import annotations

import numpy as np

from ..core.geometry import VertebraFrame
from ..planning.plan import VertebraLandmarks
from .planning_fields import LEVELS


def load_phantom(logic, phantom, *, name: str = "PVPGuide phantom") -> dict:
    """PlanningLogic.load_phantom: add the phantom's nodes and select them as the inputs."""
    from .segmentations import segmentation_node_from_labelmap
    from .volumes import volume_node_from_ct

    level = phantom.truth["target_level"]
    truth = phantom.truth["levels"][level]
    ct_node = volume_node_from_ct(logic.scene, phantom.ct, f"{name} CT")
    logic.select_ct(ct_node)
    segment_names = phantom_segment_names(phantom)
    segmentation = None
    if segment_names:
        segmentation = segmentation_node_from_labelmap(logic.scene, phantom.labels, f"{name} segmentation",
                                                       segment_names=segment_names, reference_volume_node=ct_node)
        logic.select_vertebra(segmentation, level if level in segment_names.values() else "")
    frame = truth["frame"]
    plane = truth["midsagittal_plane"]
    logic.set_vertebra_landmarks(VertebraLandmarks(
        frame=VertebraFrame.from_axes(**{k: frame[k] for k in ("origin", "right", "anterior", "superior")}),
        midline_point=np.asarray(plane["point"], float), midline_normal=np.asarray(plane["normal"], float),
        spinous_tip=np.asarray(truth["spinous_tip"], float)))
    if level in LEVELS:
        logic.set_settings(level=level)
    logic.ensure_point_nodes()
    return {"ct": ct_node, "segmentation": segmentation}


def phantom_segment_names(phantom) -> dict:
    """{label: vertebra name} of the phantom's label map (TotalSegmentator ids, e.g. 31: 'L1')."""
    if getattr(phantom, "labels", None) is None:
        return {}
    return {int(label): str(name) for name, label in phantom.truth.get("label_ids", {}).items() if int(label) != 0}
