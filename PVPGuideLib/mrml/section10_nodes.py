"""Scene nodes of SPEC section 10: markups lines for the measured body heights and the simulated C-arm views."""

from __future__ import annotations

import numpy as np

from ..core.volume import CTVolume
from .markups import line_node_from_points
from .parameters import set_node_reference
from .volumes import volume_node_from_ct

HEIGHT_NAMES = ("AVH", "MVH", "PVH")


def add_section10_nodes(scene, params, plan, plan_json: dict) -> None:
    """Lines 'AVH L1', 'MVH L1', 'PVH L1' (locked) from plan.json's fracture section, and one single-slice volume
    per DRR ('C-arm AP L1 left'), placed in 3D on the view's plane (pixel (0, 0) at the DRR's origin)."""
    for level, section in sorted((plan_json.get("fracture") or {}).items()):
        for name in HEIGHT_NAMES:
            segment = (section.get("segments") or {}).get(name)
            if segment is None:
                continue
            node = line_node_from_points(scene, f"{name} {level}", segment[0], segment[1], locked=True)
            set_node_reference(params, f"{name}_{level}", node)
    for t in plan.trajectories:
        for view, drr in sorted((t.artifacts.get("drr") or {}).items()):
            matrix = np.eye(4)
            matrix[:3, 0] = drr.u_axis * drr.pixel_mm
            matrix[:3, 1] = drr.v_axis * drr.pixel_mm
            matrix[:3, 2] = drr.ray
            matrix[:3, 3] = drr.origin
            image = CTVolume(np.rint(1000.0 * drr.intensity())[None].astype(np.int16), matrix, "DRR")
            title = f"C-arm {'AP' if view == 'ap' else 'lateral'} {t.level} {t.side}".strip()
            node = volume_node_from_ct(scene, image, title)
            set_node_reference(params, title.replace(" ", "_"), node)
