"""Point (fiducial) and line markups <-> RAS points, read in world coordinates."""

from __future__ import annotations

import numpy as np

from ..core.compat import strict_zip
from ._vtk import slicer_module
from .errors import MRMLAdapterError


def _ras(point, what: str) -> list[float]:
    p = np.asarray(point, dtype=float).ravel()
    if p.shape != (3,) or not np.all(np.isfinite(p)):
        raise MRMLAdapterError(f"{what} must be a finite RAS point (x, y, z), got {point!r}")
    return p.tolist()


def _add_points(scene, class_name: str, name: str, points, labels, locked: bool):
    node = scene.AddNewNodeByClass(class_name, name)
    node.CreateDefaultDisplayNodes()
    for point, label in strict_zip(points, labels):  # an empty label lets Slicer number the point
        index = node.AddControlPoint(point, label)
        node.SetNthControlPointLocked(index, locked)
    # lock the node too: the Markups module's lock button acts on the node
    node.SetLocked(locked)
    return node


def fiducial_node_from_point(scene, name: str, ras, *, locked: bool = False, label: str | None = None):
    """vtkMRMLMarkupsFiducialNode `name` with one control point at `ras` labelled `label` (default: name)."""
    position = _ras(ras, f"point {name}")
    return _add_points(scene, "vtkMRMLMarkupsFiducialNode", name, [position], [label or name], locked)


def _defined_positions_world(node, expected: int | None, what: str) -> np.ndarray:
    if node is None or not node.IsA("vtkMRMLMarkupsNode"):
        raise MRMLAdapterError(f"{what}: expected a markups node, got {node!r}")
    name = node.GetName()
    count = node.GetNumberOfControlPoints()
    if count == 0:
        raise MRMLAdapterError(f"markups node '{name}' has no control points; place {what} first")
    if expected is not None and count != expected:
        raise MRMLAdapterError(
            f"markups node '{name}' has {count} control point{'s' * (count != 1)}, expected {expected}; "
            "delete the extra points or pick the right node"
        )
    defined = slicer_module().vtkMRMLMarkupsNode.PositionDefined
    positions = np.empty((count, 3))
    for index in range(count):
        if node.GetNthControlPointPositionStatus(index) != defined:
            label = node.GetNthControlPointLabel(index)
            raise MRMLAdapterError(f"control point '{label}' of '{name}' is not placed yet; finish placing it")
        node.GetNthControlPointPositionWorld(index, positions[index])
    return positions


def point_from_fiducial_node(node, index: int = 0, *, expected_points: int | None = 1) -> np.ndarray:
    """(3,) world RAS of control point `index` (parent transforms applied).

    Raises MRMLAdapterError when the node has no points, a number other than `expected_points`
    (None accepts any), fewer than index + 1, or the point is not placed yet.
    """
    name = node.GetName() if node is not None else "?"
    positions = _defined_positions_world(node, expected_points, f"point {name}")
    if not 0 <= index < len(positions):
        raise MRMLAdapterError(f"markups node '{name}' has {len(positions)} control points; there is no point #{index}")
    return positions[index]


def is_locked(node) -> bool:
    """True when the markups node is locked (node lock; what the Markups module shows)."""
    return bool(node.GetLocked())


def line_node_from_points(scene, name: str, p0, p1, *, locked: bool = False):
    """vtkMRMLMarkupsLineNode `name` from RAS `p0` to `p1` (points get Slicer's default labels)."""
    points = [_ras(p0, f"start of line {name}"), _ras(p1, f"end of line {name}")]
    return _add_points(scene, "vtkMRMLMarkupsLineNode", name, points, ["", ""], locked)


def points_from_line_node(node) -> np.ndarray:
    """(2, 3) world RAS start and end of a line markups node."""
    name = node.GetName() if node is not None else "?"
    return _defined_positions_world(node, 2, f"line {name}")
