"""Sleeve, bore and the cranio-caudal runway slot around one planned needle axis (plate-frame solids)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .booleans import _manifold3d
from .errors import GuideError

# Length of the bore beyond the sleeve (mm): it must leave the plate on both sides whatever the tilt.
_BORE_REACH_OUT_MM = 200.0
_BORE_REACH_IN_MM = 12.0


@dataclass(frozen=True, eq=False)
class SleeveGeometry:
    """One sleeve: the needle pivots at the skin entry A within the tilt plane (A, needle axis, superior axis).

    entry : (3,) A; direction : (3,) unit A->C; tilt_axis : (3,) unit normal of the tilt plane;
    half_angle_deg : runway half range about the plan (0 = round bore); radii in mm;
    height_mm : from A along the axis to the sleeve's top face. Tilting about tilt_axis keeps A and the
    transverse angle fixed and changes only the sagittal angle (SPEC section 7).
    """

    entry: np.ndarray
    direction: np.ndarray
    tilt_axis: np.ndarray
    half_angle_deg: float
    bore_radius_mm: float
    outer_radius_mm: float
    height_mm: float

    @classmethod
    def plan(cls, *, entry, target, superior, bore_radius_mm: float, wall_mm: float, height_mm: float,
             runway_length_mm: float) -> SleeveGeometry:
        entry, target = np.asarray(entry, dtype=float), np.asarray(target, dtype=float)
        d = target - entry
        if np.linalg.norm(d) < 1.0:
            raise GuideError("sleeve", "the path is degenerate: A and C are less than 1 mm apart")
        d = d / np.linalg.norm(d)
        axis = np.cross(d, np.asarray(superior, dtype=float))
        if np.linalg.norm(axis) < 0.1:
            raise GuideError("sleeve", "the needle runs along the superior axis: no cranio-caudal tilt plane exists")
        # The runway length is the travel of the needle axis across the sleeve's top face.
        half_angle = np.degrees(np.arctan2(0.5 * runway_length_mm, height_mm))
        return cls(entry, d, axis / np.linalg.norm(axis), float(half_angle), float(bore_radius_mm),
                   float(bore_radius_mm + wall_mm), float(height_mm))

    def tilted(self, angle_deg: float) -> np.ndarray:
        """Needle direction tilted by angle_deg about tilt_axis (Rodrigues' rotation)."""
        k, d, t = self.tilt_axis, self.direction, np.radians(angle_deg)
        return d * np.cos(t) + np.cross(k, d) * np.sin(t) + k * np.dot(k, d) * (1 - np.cos(t))

    @property
    def top_centre(self) -> np.ndarray:
        return self.entry - self.height_mm * self.direction


def cylinder(start, end, radius_mm: float, *, segments: int, phase_axis) -> object:
    """Prism with `segments` sides from start to end whose flat sides lie at radius_mm (inscribed radius).

    The polygon's vertices sit at angles 2*pi*k/segments from phase_axis, so solids built with the same
    phase axis are mirror-symmetric about the plane through the axis and phase_axis.
    """
    m3d = _manifold3d()
    start, end = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
    z = end - start
    height = float(np.linalg.norm(z))
    z = z / height
    x = np.asarray(phase_axis, dtype=float) - np.dot(phase_axis, z) * z
    x = x / np.linalg.norm(x)
    y = np.cross(z, x)
    vertex_radius = radius_mm / np.cos(np.pi / segments)
    prism = m3d.Manifold.cylinder(height, vertex_radius, vertex_radius, segments)
    matrix = np.column_stack([x, y, z, start])
    return prism.transform(matrix)


def _fan(geom: SleeveGeometry, radius_mm: float, start_offset: float, end_offset: float, segments: int):
    """Convex hull of the prisms at both runway ends, each from A + start_offset*d to A + end_offset*d."""
    m3d = _manifold3d()
    ends = [geom.tilted(-geom.half_angle_deg), geom.tilted(geom.half_angle_deg)]
    if geom.half_angle_deg == 0:
        ends = ends[:1]
    prisms = [cylinder(geom.entry + start_offset * d, geom.entry + end_offset * d, radius_mm, segments=segments,
                       phase_axis=geom.tilt_axis) for d in ends]
    return prisms[0] if len(prisms) == 1 else m3d.Manifold.batch_hull(prisms)


def bore_solid(geom: SleeveGeometry, *, segments: int):
    """The needle's free space: the bore swept about A through the runway, reaching out of the plate both ways.

    Built as two convex fans meeting at A (outwards and inwards), so the slot narrows to the bore at the
    skin entry: tilting pivots the needle about A instead of letting it slide cranio-caudally.
    """
    m3d = _manifold3d()
    outwards = _fan(geom, geom.bore_radius_mm, 0.0, -_BORE_REACH_OUT_MM, segments)
    inwards = _fan(geom, geom.bore_radius_mm, 0.0, _BORE_REACH_IN_MM, segments)
    return m3d.Manifold.batch_boolean([outwards, inwards], m3d.OpType.Add)


def sleeve_solid(geom: SleeveGeometry, *, segments: int, below_entry_mm: float):
    """The sleeve's outer body: the runway fan thickened by the wall, cut flat at height_mm above A.

    It reaches below_entry_mm under A so that, once the skin clearance is cut away, it meets the base
    and the contact surface everywhere around the bore.
    """
    reach = geom.height_mm / np.cos(np.radians(geom.half_angle_deg)) + geom.outer_radius_mm + 1.0
    fan = _fan(geom, geom.outer_radius_mm, below_entry_mm, -reach, segments)
    top_offset = float(np.dot(geom.direction, geom.top_centre))
    return fan.trim_by_plane(tuple(geom.direction), top_offset)
