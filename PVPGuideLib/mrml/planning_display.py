"""The panel's display of a path: the down-the-needle slice matrix, the needle model's cylinder, the measurements table."""

from __future__ import annotations

import numpy as np

from ..core import geometry
from ..core.display import format_angle, format_length, format_point

NEEDLE_MODEL_SIDES = 32


def needle_view_matrix(a, c, centre) -> np.ndarray:
    """(4, 4) slice-to-RAS of the plane through `centre` perpendicular to A->C: columns screen right, up, normal."""
    # Read like Slicer's coronal view, which the needle's mostly anterior course resembles: screen up is the
    # superior axis projected on the plane (anterior for a cranio-caudal needle), the patient's left on the right.
    normal = geometry.needle_direction(a, c)
    up = np.array([0.0, 0.0, 1.0]) - normal[2] * normal
    if np.linalg.norm(up) < 1e-6:
        up = np.array([0.0, 1.0, 0.0]) - normal[1] * normal
    up /= np.linalg.norm(up)
    matrix = np.eye(4)
    matrix[:3, 0] = np.cross(up, normal)
    matrix[:3, 1] = up
    matrix[:3, 2] = normal
    matrix[:3, 3] = geometry.as_point(centre, "needle view centre")
    return matrix


def needle_cylinder(a, c, diameter_mm: float, *, sides: int = NEEDLE_MODEL_SIDES):
    """vtkPolyData of a closed cylinder from `a` to `c` whose vertices lie on the needle's outer diameter."""
    from vtkmodules.vtkCommonExecutionModel import vtkAlgorithm
    from vtkmodules.vtkFiltersCore import vtkTriangleFilter, vtkTubeFilter
    from vtkmodules.vtkFiltersSources import vtkLineSource

    line = vtkLineSource()
    line.SetOutputPointsPrecision(vtkAlgorithm.DOUBLE_PRECISION)  # single precision would move it by ~1e-5 mm
    line.SetPoint1(*geometry.as_point(a, "needle start"))
    line.SetPoint2(*geometry.as_point(c, "needle tip"))
    tube = vtkTubeFilter()
    tube.SetOutputPointsPrecision(vtkAlgorithm.DOUBLE_PRECISION)
    tube.SetInputConnection(line.GetOutputPort())
    tube.SetRadius(diameter_mm / 2.0)
    tube.SetNumberOfSides(sides)
    tube.CappingOn()
    triangles = vtkTriangleFilter()
    triangles.SetInputConnection(tube.GetOutputPort())
    triangles.Update()
    return triangles.GetOutput()


def measurement_rows(measurements: dict | None) -> list[tuple[str, str]]:
    """(quantity, value) rows for the module's measurements table, rounded for display (SPEC section 4 names)."""
    if not measurements:
        return []
    angles = measurements["angles_deg"]
    lengths = measurements["lengths_mm"]
    offsets = measurements["entry_offsets_mm"]
    vertebra = angles["vertebra"] or {"transverse": None, "sagittal": None}
    points = measurements["points"]
    needle = measurements.get("needle", {})
    return [
        ("Level, side", f"{measurements['level'] or '?'} {measurements['side']}"),
        ("Transverse angle (scanner)", format_angle(angles["scanner"]["transverse"])),
        ("Sagittal angle (scanner)", format_angle(angles["scanner"]["sagittal"])),
        ("Transverse angle (vertebra)", format_angle(vertebra["transverse"])),
        ("Sagittal angle (vertebra)", format_angle(vertebra["sagittal"])),
        ("AB (soft tissue)", format_length(lengths["AB"])),
        ("BC (path in bone)", format_length(lengths["BC"])),
        ("AC (needle depth)", format_length(lengths["AC"])),
        ("Entry offset from midline", format_length(offsets["from_midline"])),
        ("Entry offset from spinous tip (+ cranial)", format_length(offsets["from_spinous_tip"])),
        ("A, skin entry (RAS)", format_point(points["A"]) + f" [{measurements['skin_entry'].replace('_', ' ')}]"),
        ("B, bony entry (RAS)", format_point(points["B"])),
        ("C, target (RAS)", format_point(points["C"])),
        ("Needle", f"{needle.get('gauge', '?')}G, {format_length(needle.get('outer_diameter_mm'))} outer diameter"),
    ]
