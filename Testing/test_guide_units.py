"""Guide-plate building blocks against hand-computed truth: offsets, topology, walls, sections, STL, font."""

import numpy as np
import pytest

from PVPGuideLib.core.mesh import TriangleMesh
from PVPGuideLib.guide.booleans import to_manifold, to_triangle_mesh
from PVPGuideLib.guide.checks import bore_axis, wall_thickness
from PVPGuideLib.guide.font import text_outline
from PVPGuideLib.guide.heightfield import HeightGrid, envelope_at, upper_envelope
from PVPGuideLib.guide.intersections import self_intersecting_pairs
from PVPGuideLib.guide.slab import heightfield_solid
from PVPGuideLib.guide.sleeve import cylinder
from PVPGuideLib.guide.stl import read_stl, write_stl
from PVPGuideLib.guide.topology import signed_volume, topology


def _plane(slope_deg, *, size=40.0, step=2.0):
    """Open sheet w = tan(slope) * u, oriented up."""
    u = np.arange(-size, size + 1e-9, step)
    uu, vv = np.meshgrid(u, u)
    ww = np.tan(np.radians(slope_deg)) * uu
    idx = np.arange(uu.size).reshape(uu.shape)
    a, b, c, d = idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel(), idx[1:, 1:].ravel(), idx[1:, :-1].ravel()
    return np.column_stack([uu.ravel(), vv.ravel(), ww.ravel()]), np.concatenate([np.column_stack([a, b, c]),
                                                                                 np.column_stack([a, c, d])])


@pytest.mark.parametrize("slope", [0.0, 30.0, 60.0])
def test_offset_of_a_sloped_plane_is_exact(slope):
    vertices, faces = _plane(slope)
    grid = HeightGrid.covering([-10, -10], [10, 10], 0.7)
    offset = upper_envelope(vertices, faces, grid, 0.2)
    expected = np.tan(np.radians(slope)) * grid.u[None, :] + 0.2 / np.cos(np.radians(slope))
    assert np.allclose(offset, np.broadcast_to(expected, offset.shape), atol=1e-9)
    assert envelope_at(vertices, faces, [[1.3, 2.1]], 0.0)[0] == pytest.approx(np.tan(np.radians(slope)) * 1.3)


def test_offset_over_a_convex_crease_is_a_cylinder():
    # A roof ridge along v: w = -|u|; its offset at r above the ridge is r (the ridge edge's cylinder).
    u = np.array([-20.0, 0.0, 20.0])
    v = np.array([-20.0, 20.0])
    uu, vv = np.meshgrid(u, v)
    vertices = np.column_stack([uu.ravel(), vv.ravel(), -np.abs(uu.ravel())])
    faces = np.array([[0, 1, 4], [0, 4, 3], [1, 2, 5], [1, 5, 4]])
    h = envelope_at(vertices, faces, [[0.0, 0.0], [0.1, 0.0]], 1.0)
    assert h[0] == pytest.approx(1.0)
    assert h[1] == pytest.approx(np.sqrt(1.0 - 0.1**2))  # still on the ridge's cylinder, not the faces' planes


def test_slab_is_a_closed_outward_solid_of_the_right_volume():
    grid = HeightGrid.covering([0, 0], [10, 6], 1.0)
    lower = np.zeros((grid.nv, grid.nu))
    mesh = heightfield_solid(grid, lower, lower + 3.0)
    report = topology(mesh.vertices, mesh.faces)
    assert report.manifold and report.consistently_oriented
    assert signed_volume(mesh.vertices, mesh.faces) == pytest.approx(10 * 6 * 3.0)


def test_topology_finds_holes_pinches_and_flips():
    grid = HeightGrid.covering([0, 0], [3, 3], 1.0)
    box = heightfield_solid(grid, np.zeros((4, 4)), np.ones((4, 4)))
    assert topology(box.vertices, box.faces[:-1]).boundary_edges == 3
    flipped = box.faces.copy()
    flipped[0] = flipped[0, ::-1]
    assert topology(box.vertices, flipped).misoriented_edges > 0
    # Two boxes sharing one corner vertex: closed, but pinched there.
    second = TriangleMesh(box.vertices + [3.0, 3.0, 1.0], box.faces)
    vertices = np.vstack([box.vertices, second.vertices])
    faces = np.vstack([box.faces, second.faces + len(box.vertices)])
    from PVPGuideLib.guide.topology import merge_identical_vertices

    merged_v, merged_f = merge_identical_vertices(vertices, faces)
    report = topology(merged_v, merged_f)
    assert report.watertight and report.nonmanifold_vertices == 1 and not report.manifold


def test_wall_thickness_of_a_plate_and_a_tube():
    grid = HeightGrid.covering([0, 0], [20, 20], 1.0)
    plate = heightfield_solid(grid, np.zeros((grid.nv, grid.nu)), np.full((grid.nv, grid.nu), 1.8))
    assert wall_thickness(plate).min_mm == pytest.approx(1.8, abs=1e-3)
    outer = cylinder([0, 0, 0], [0, 0, 30], 4.0, segments=48, phase_axis=[1, 0, 0])
    inner = cylinder([0, 0, -1], [0, 0, 31], 1.6, segments=48, phase_axis=[1, 0, 0])
    tube = to_triangle_mesh(outer - inner)
    assert wall_thickness(tube).min_mm == pytest.approx(2.4, abs=1e-3)
    assert len(self_intersecting_pairs(tube.vertices, tube.faces)) == 0
    axis = bore_axis(tube, [0, 0, 0], [0, 0, -50], from_mm=5, to_mm=25)  # planes 5..25 mm out from A
    assert axis.offset_mm < 1e-9 and axis.angle_deg < 1e-6 and axis.sections == 9
    tilted = bore_axis(tube, [0.3, 0, 0], [0.3, 0, -50], from_mm=5, to_mm=25)
    assert tilted.offset_mm == pytest.approx(0.3, abs=1e-9)


def test_stl_round_trip_is_exact_and_atomic(tmp_path):
    tube = to_triangle_mesh(cylinder([10, -20, 300], [12, -25, 330], 4.0, segments=32, phase_axis=[1, 0, 0]))
    from PVPGuideLib.guide.booleans import printable_mesh

    mesh = printable_mesh(to_manifold(tube, step="t"))
    write_stl(tmp_path / "a.stl", mesh)
    write_stl(tmp_path / "b.stl", mesh, coordinate_system="RAS")
    a, b = read_stl(tmp_path / "a.stl"), read_stl(tmp_path / "b.stl")
    assert (a.coordinate_system, b.coordinate_system) == ("LPS", "RAS")
    assert np.array_equal(a.mesh.vertices, mesh.vertices) and np.array_equal(b.mesh.faces, mesh.faces)
    raw = np.frombuffer((tmp_path / "a.stl").read_bytes(), "<f4", 3, 84 + 12)
    assert raw.tolist() == pytest.approx((mesh.vertices[mesh.faces[0, 0]] * [-1, -1, 1]).tolist())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.stl", "b.stl"]


def test_engraved_text_leaves_no_ridge_thinner_than_the_gap():
    outline, (width, height) = text_outline("L1 RW8", height_mm=5.5, stroke_mm=0.9, gap_mm=1.7)
    assert width > 30 and height == pytest.approx(6.4)
    # Material between strokes (the box minus the grooves) survives an opening by just under half the gap.
    import manifold3d as m3d

    box = m3d.CrossSection.square((width + 4, height + 4)).translate((-2, -2))
    material = box - outline
    opened = material.offset(-0.84, m3d.JoinType.Round).offset(0.84, m3d.JoinType.Round)
    assert (material - opened).area() < 0.02 * material.area()


@pytest.mark.parametrize("coordinate_system", ["LPS", "RAS"])
def test_3d_slicer_reads_the_stl_at_the_planned_ras_position(coordinate_system, tmp_path):
    slicer = pytest.importorskip("slicer", reason="slicer-core is not installed")
    from vtk.util import numpy_support

    from PVPGuideLib.guide.booleans import printable_mesh

    tube = cylinder([-40, 25, 380], [-20, 60, 385], 4.0, segments=32, phase_axis=[0, 0, 1])
    mesh = printable_mesh(tube)
    write_stl(tmp_path / "guide.stl", mesh, coordinate_system=coordinate_system)
    scene = slicer.vtkMRMLScene()
    model = scene.AddNewNodeByClass("vtkMRMLModelNode")
    storage = scene.AddNewNodeByClass("vtkMRMLModelStorageNode")
    storage.SetFileName(str(tmp_path / "guide.stl"))
    assert storage.ReadData(model)
    points = numpy_support.vtk_to_numpy(model.GetPolyData().GetPoints().GetData()).astype(float)
    ours = np.unique(np.round(mesh.vertices, 4), axis=0)
    assert np.allclose(np.unique(np.round(points, 4), axis=0), ours)  # Slicer honours SPACE= in the header
