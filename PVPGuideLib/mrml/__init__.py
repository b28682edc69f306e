"""The one MRML adapter: scene nodes <-> PVPGuideLib types, and .mrb scene bundles."""

from .bundle import load_scene_bundle, save_scene_bundle
from .errors import MRMLAdapterError, SceneBundleError
from .markups import (
    fiducial_node_from_point,
    is_locked,
    line_node_from_points,
    point_from_fiducial_node,
    points_from_line_node,
)
from .models import mesh_from_model_node, model_node_from_mesh
from .parameters import (
    get_node_reference,
    get_parameters,
    node_reference_roles,
    parameter_node,
    set_node_reference,
    set_parameters,
)
from .scene import SceneHandle, new_scene, register_segmentation_converter_rules
from .segmentations import (
    labelmap_from_segment,
    segment_ids,
    segment_names_by_id,
    segmentation_node_from_labelmap,
    set_segment_from_mask,
)
from .transforms import linear_transform_node, set_parent_transform, world_matrix
from .volumes import ct_from_volume_node, volume_node_from_ct

__all__ = [
    "MRMLAdapterError",
    "SceneBundleError",
    "SceneHandle",
    "ct_from_volume_node",
    "fiducial_node_from_point",
    "get_node_reference",
    "get_parameters",
    "is_locked",
    "labelmap_from_segment",
    "line_node_from_points",
    "linear_transform_node",
    "load_scene_bundle",
    "mesh_from_model_node",
    "model_node_from_mesh",
    "new_scene",
    "node_reference_roles",
    "parameter_node",
    "point_from_fiducial_node",
    "points_from_line_node",
    "register_segmentation_converter_rules",
    "save_scene_bundle",
    "segment_ids",
    "segment_names_by_id",
    "segmentation_node_from_labelmap",
    "set_node_reference",
    "set_parameters",
    "set_parent_transform",
    "set_segment_from_mask",
    "volume_node_from_ct",
    "world_matrix",
]
