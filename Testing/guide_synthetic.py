"""Synthetic skins with analytic surfaces and planned trajectories on them, for the guide-plate tests."""

from __future__ import annotations

import numpy as np

from PVPGuideLib.core.geometry import direction_from_angles
from PVPGuideLib.core.mesh import TriangleMesh


def elliptic_cylinder_skin(*, semi_right=150.0, semi_anterior=100.0, half_length=120.0, step=2.0) -> TriangleMesh:
    """Closed elliptic cylinder along S centred on the origin, outward-oriented (a trunk without features)."""
    n_around = int(np.ceil(2 * np.pi * max(semi_right, semi_anterior) / step))
    n_along = int(np.ceil(2 * half_length / step)) + 1
    theta = np.linspace(0, 2 * np.pi, n_around, endpoint=False)
    s = np.linspace(-half_length, half_length, n_along)
    ring = np.column_stack([semi_right * np.cos(theta), semi_anterior * np.sin(theta)])
    vertices = np.column_stack([np.tile(ring, (n_along, 1)), np.repeat(s, n_around)])
    idx = np.arange(n_along * n_around).reshape(n_along, n_around)
    a, b = idx[:-1], np.roll(idx[:-1], -1, axis=1)
    c, d = np.roll(idx[1:], -1, axis=1), idx[1:]
    # theta runs counter-clockwise seen from +S, so (a, b, c) is counter-clockwise seen from outside.
    faces = np.concatenate([np.column_stack([a.ravel(), b.ravel(), c.ravel()]),
                            np.column_stack([a.ravel(), c.ravel(), d.ravel()])])
    n = len(vertices)
    vertices = np.vstack([vertices, [0, 0, -half_length], [0, 0, half_length]])
    bottom = np.column_stack([np.full(n_around, n), idx[0, 1:].tolist() + [idx[0, 0]], idx[0]])
    top = np.column_stack([np.full(n_around, n + 1), idx[-1], idx[-1, 1:].tolist() + [idx[-1, 0]]])
    return TriangleMesh(vertices, np.concatenate([faces, bottom, top]))


def bumpy_back_height(r, s):
    """Anterior coordinate of a bumpy back surface (posterior skin) at (R, S): gentle curvature,
    a spinous-process groove along the midline and bumps of +-1.5 mm."""
    r, s = np.asarray(r, dtype=float), np.asarray(s, dtype=float)
    return (-100.0 + 0.004 * r**2 + 3.0 * np.exp(-(r**2) / 60.0)
            + 1.5 * np.sin(r / 9.0) * np.sin(s / 11.0))


def bumpy_back_skin(*, half_width=130.0, half_length=110.0, step=2.0) -> TriangleMesh:
    """Open height-field sheet A = bumpy_back_height(R, S), oriented with normals towards posterior (-A)."""
    r = np.arange(-half_width, half_width + 1e-9, step)
    s = np.arange(-half_length, half_length + 1e-9, step)
    rr, ss = np.meshgrid(r, s)
    vertices = np.column_stack([rr.ravel(), bumpy_back_height(rr, ss).ravel(), ss.ravel()])
    idx = np.arange(rr.size).reshape(rr.shape)
    a, b, c, d = idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel(), idx[1:, 1:].ravel(), idx[1:, :-1].ravel()
    # (R right, S up) seen from posterior is (a, b, c) clockwise: reverse it for outward = posterior.
    faces = np.concatenate([np.column_stack([a, c, b]), np.column_stack([a, d, c])])
    return TriangleMesh(vertices, faces)


def entry_on_height_surface(c, direction, height) -> np.ndarray:
    """A: where the line from C backwards along -direction crosses A_coordinate = height(R, S) (bisection)."""
    c = np.asarray(c, dtype=float)

    def gap(t):
        p = c - t * direction
        return p[1] - height(p[0], p[2])

    lo, hi = 0.0, 1.0
    while gap(hi) > 0:
        hi *= 2
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if gap(mid) > 0 else (lo, mid)
    return c - 0.5 * (lo + hi) * direction


def entry_on_ellipse(c, direction, *, semi_right=150.0, semi_anterior=100.0) -> np.ndarray:
    """A on the elliptic cylinder: exit point of the line from C backwards along -direction."""
    c = np.asarray(c, dtype=float)
    d = -np.asarray(direction, dtype=float)
    a = (d[0] / semi_right) ** 2 + (d[1] / semi_anterior) ** 2
    b = 2 * (c[0] * d[0] / semi_right**2 + c[1] * d[1] / semi_anterior**2)
    k = (c[0] / semi_right) ** 2 + (c[1] / semi_anterior) ** 2 - 1
    t = (-b + np.sqrt(b * b - 4 * a * k)) / (2 * a)
    return c + t * d


def planned_path(side: str, *, transverse_deg=20.0, sagittal_deg=5.0, target=None):
    """(C, unit direction A->C) of a path converging to the midline from `side`."""
    target = np.array([8.0 if side == "left" else -8.0, -40.0, 0.0]) if target is None else np.asarray(target, float)
    return target, direction_from_angles(transverse_deg, sagittal_deg, side)


# ---------------------------------------------------------------------------------------------------------
# Acceptance checks on the guide as written to STL and read back (what a printer's slicer sees).

def read_back(result, out_dir, *, coordinate_system="LPS"):
    """Write the guide with write_guide, read the STL back merging vertices; (section, mesh)."""
    from PVPGuideLib.guide import read_stl, write_guide

    section = write_guide(result, out_dir, coordinate_system=coordinate_system)
    return section, read_stl(out_dir / section["stl"]).mesh


def assert_printable(mesh, *, min_wall_mm=1.5):
    """Closed, manifold, outward, positive volume, no self-intersection, walls at least min_wall_mm;
    checked with PVPGuide's own measures and, independently, with trimesh."""
    import trimesh

    from PVPGuideLib.guide.checks import mesh_report, wall_thickness

    report = mesh_report(mesh)
    assert report.watertight and report.manifold and report.outward_normals, report
    assert report.volume_mm3 > 0 and report.self_intersecting_pairs == 0, report
    tm = trimesh.Trimesh(mesh.vertices, mesh.faces, process=True)
    assert tm.is_watertight and tm.is_winding_consistent and tm.volume > 0
    wall = wall_thickness(mesh)
    assert wall.min_mm >= min_wall_mm, f"thinnest wall {wall.min_mm:.3f} mm at {wall.at}"
    return report, wall


def assert_sleeve_holds_plan(mesh, sleeve, *, sleeve_height_mm=25.0, vertebra_frame=None):
    """Bore on the planned axis; the needle passes along the plan and anywhere in the runway, changing only
    the sagittal angle; a little beyond the runway, or tilted sideways, it touches the guide."""
    from PVPGuideLib.core.geometry import SCANNER_FRAME, needle_angles
    from PVPGuideLib.guide.booleans import to_manifold
    from PVPGuideLib.guide.checks import bore_axis, needle_overlap_mm3

    frame = vertebra_frame or SCANNER_FRAME
    axis = bore_axis(mesh, sleeve.entry, sleeve.target, from_mm=0.45 * sleeve_height_mm, to_mm=0.95 * sleeve_height_mm,
                     count=7)
    assert axis.sections >= 5
    assert axis.offset_mm <= 0.1 and axis.angle_deg <= 0.1, axis
    solid = to_manifold(mesh, step="test")
    d0 = (sleeve.target - sleeve.entry) / np.linalg.norm(sleeve.target - sleeve.entry)
    planned = needle_angles(d0, sleeve.side, frame)
    assert needle_overlap_mm3(solid, sleeve.entry, d0, sleeve.needle_diameter_mm) == 0.0
    sagittal = []
    for angle in np.linspace(-sleeve.tilt_half_range_deg, sleeve.tilt_half_range_deg, 5):
        d = sleeve.tilted_direction(angle)
        assert needle_overlap_mm3(solid, sleeve.entry, d, sleeve.needle_diameter_mm) == 0.0, angle
        tilted = needle_angles(d, sleeve.side, frame)
        assert abs(tilted.transverse_deg - planned.transverse_deg) < 1e-4  # frames given to ~1e-7
        sagittal.append(tilted.sagittal_deg)
    assert np.all(np.diff(sagittal) > 0) or np.all(np.diff(sagittal) < 0)
    assert np.isclose(min(sagittal), sleeve.sagittal_range_deg[0], atol=1e-4)
    assert np.isclose(max(sagittal), sleeve.sagittal_range_deg[1], atol=1e-4)
    beyond = sleeve.tilted_direction(sleeve.tilt_half_range_deg + 2.0)
    assert needle_overlap_mm3(solid, sleeve.entry, beyond, sleeve.needle_diameter_mm) > 0.0
    sideways = _rotate(d0, np.cross(sleeve.tilt_axis, d0), 2.0)  # about an axis in the tilt plane
    assert needle_overlap_mm3(solid, sleeve.entry, sideways, sleeve.needle_diameter_mm) > 0.0
    return axis, sagittal


def _rotate(d, axis, angle_deg):
    k = axis / np.linalg.norm(axis)
    t = np.radians(angle_deg)
    return d * np.cos(t) + np.cross(k, d) * np.sin(t) + k * np.dot(k, d) * (1 - np.cos(t))


def contact_distances_under(result, mesh, skin, *, step_mm=1.5, reach_mm=2.2):
    """Distance to the skin of the guide's skin side, sampled from skin points under the whole plate.

    Skin points come from rays cast down onto the skin mesh (along -w) on a regular grid over the
    plate's footprint; from each, the first guide surface met going outward is measured against the skin.
    Returns distances (inf where no guide is within reach: outside the plate, windows, bores).
    """
    from PVPGuideLib.guide.checks import contact_distances
    from PVPGuideLib.guide.spatial import TriangleGrid, first_hits

    frame = result.frame
    local = frame.to_local(mesh.vertices)
    lo, hi = local[:, :2].min(axis=0), local[:, :2].max(axis=0)
    uu, vv = np.meshgrid(np.arange(lo[0], hi[0], step_mm) + 0.37, np.arange(lo[1], hi[1], step_mm) + 0.61)
    top = local[:, 2].max() + 5.0
    above = frame.to_world(np.column_stack([uu.ravel(), vv.ravel(), np.full(uu.size, top)]))
    skin_grid = TriangleGrid(skin.vertices, skin.faces, cell_mm=4.0)
    down = np.broadcast_to(-frame.w, above.shape).copy()
    t, hit = first_hits(skin_grid, above, down, top - local[:, 2].min() + 20.0)
    points = above[hit >= 0] + t[hit >= 0, None] * down[hit >= 0]
    return contact_distances(mesh, skin, skin_points=points, outward=frame.w, reach_mm=reach_mm)
