"""Benchmark (not a test): guide-plate booleans through VTK's vtkBooleanOperationPolyDataFilter and through
PVPGuide's path (manifold3d, validated, cleaned for STL), on the same operands in one run; and whole guides.

Operands: a skin-conforming plate (height-field slab over a bumpy back, ~0.75 mm grid) and the sleeve and bore
of one needle path. Union = plate + sleeve; difference = (plate + sleeve) - bore. For each engine: time, and
whether the result is watertight (every edge shared by exactly two faces after merging coincident points,
as a printer's slicer reads an STL). VTK runs in a child process with a time limit: it can hang or crash.
Run: .venv/bin/python Testing/benchmarks/bench_guide_booleans.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "Testing")]
DATA = ROOT.parent / "shared" / "data" / "totalseg_example"
VTK_TIME_LIMIT_S = 300


def _operands():
    from guide_synthetic import bumpy_back_height, bumpy_back_skin, entry_on_height_surface, planned_path

    from PVPGuideLib.guide.booleans import to_triangle_mesh
    from PVPGuideLib.guide.build import _skin_orientation
    from PVPGuideLib.guide.frame import PlateFrame
    from PVPGuideLib.guide.skinfit import fit_skin, outward_normal
    from PVPGuideLib.guide.slab import heightfield_solid
    from PVPGuideLib.guide.sleeve import SleeveGeometry, bore_solid, sleeve_solid

    skin = bumpy_back_skin()
    c, d = planned_path("left", transverse_deg=30.0, target=[8.0, -20.0, 0.0])
    a = entry_on_height_surface(c, d, bumpy_back_height)
    w = outward_normal(skin, a[None], c[None], radius_mm=20.0)
    frame = PlateFrame.from_normal(origin=a, outward=w, superior=[0, 0, 1])
    fit = fit_skin(skin, frame, lo_uv=(-30, -25), hi_uv=(30, 25), spacing_mm=0.75, clearance_mm=0.2,
                   thickness_mm=3.0, skin_orientation=_skin_orientation(skin, a[None], w, 20.0))
    plate = heightfield_solid(fit.grid, fit.inner, fit.outer, window=fit.grid.window((-25, -20), (25, 20)))
    geom = SleeveGeometry.plan(entry=frame.to_local(a), target=frame.to_local(c), superior=frame.v @ frame.rotation.T,
                               bore_radius_mm=1.675, wall_mm=2.5, height_mm=25.0, runway_length_mm=10.0)
    sleeve = to_triangle_mesh(sleeve_solid(geom, segments=48, below_entry_mm=2.0))
    bore = to_triangle_mesh(bore_solid(geom, segments=48))
    return plate, sleeve, bore


def _watertight(vertices, faces) -> bool:
    from PVPGuideLib.guide.topology import merge_identical_vertices, topology

    if len(faces) == 0:
        return False
    v, f = merge_identical_vertices(np.asarray(vertices, dtype=np.float32), faces)
    f = f[(f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 2] != f[:, 0])]
    return topology(v.astype(float), f).watertight


def _pvpguide(plate, sleeve, bore):
    from PVPGuideLib.guide.booleans import difference, printable_mesh, to_manifold, union

    start = time.perf_counter()
    joined = union([to_manifold(plate, step="plate"), to_manifold(sleeve, step="sleeve")], step="union")
    joined_mesh = printable_mesh(joined, step="union")
    t_union = time.perf_counter() - start
    start = time.perf_counter()
    cut = difference(to_manifold(joined_mesh, step="cut"), [to_manifold(bore, step="bore")], step="difference")
    cut_mesh = printable_mesh(cut, step="difference")
    t_diff = time.perf_counter() - start
    return (t_union, _watertight(joined_mesh.vertices, joined_mesh.faces), joined_mesh,
            t_diff, _watertight(cut_mesh.vertices, cut_mesh.faces))


def _vtk_worker(operation: str, a_path: str, b_path: str, out_path: str) -> None:
    """Child process: one VTK boolean on two meshes stored as .npz; writes the result .npz and its time."""
    import vtk
    from vtk.util import numpy_support as ns

    def poly(path):
        data = np.load(path)
        points = vtk.vtkPoints()
        points.SetData(ns.numpy_to_vtk(np.ascontiguousarray(data["v"], dtype=float), deep=True))
        cells = vtk.vtkCellArray()
        offsets = np.arange(0, 3 * len(data["f"]) + 1, 3, dtype=np.int64)
        cells.SetData(ns.numpy_to_vtkIdTypeArray(offsets, deep=True),
                      ns.numpy_to_vtkIdTypeArray(np.ascontiguousarray(data["f"], dtype=np.int64).ravel(), deep=True))
        pd = vtk.vtkPolyData()
        pd.SetPoints(points)
        pd.SetPolys(cells)
        return pd

    f = vtk.vtkBooleanOperationPolyDataFilter()
    {"union": f.SetOperationToUnion, "difference": f.SetOperationToDifference}[operation]()
    f.SetInputData(0, poly(a_path))
    f.SetInputData(1, poly(b_path))
    start = time.perf_counter()
    f.Update()
    seconds = time.perf_counter() - start
    out = f.GetOutput()
    tri = vtk.vtkTriangleFilter()
    tri.SetInputData(out)
    tri.Update()
    out = tri.GetOutput()
    v = ns.vtk_to_numpy(out.GetPoints().GetData()) if out.GetNumberOfPoints() else np.zeros((0, 3))
    faces = (ns.vtk_to_numpy(out.GetPolys().GetConnectivityArray()).reshape(-1, 3)
             if out.GetNumberOfCells() else np.zeros((0, 3), dtype=np.int64))
    np.savez(out_path, v=v, f=faces, seconds=seconds)


def _vtk(operation, a, b, folder: Path):
    paths = [folder / f"{operation}_{name}.npz" for name in ("a", "b", "out")]
    np.savez(paths[0], v=a.vertices, f=a.faces)
    np.savez(paths[1], v=b.vertices, f=b.faces)
    try:
        subprocess.run([sys.executable, __file__, "--vtk-worker", operation, *map(str, paths)], check=True,
                       timeout=VTK_TIME_LIMIT_S, capture_output=True)
    except subprocess.TimeoutExpired:
        return float("inf"), False, f"gave up after {VTK_TIME_LIMIT_S} s"
    except subprocess.CalledProcessError as error:
        return float("nan"), False, f"crashed (exit {error.returncode})"
    data = np.load(paths[2])
    return float(data["seconds"]), _watertight(data["v"], data["f"]), f"{len(data['f'])} triangles"


def _whole_guides():
    from guide_synthetic import bumpy_back_height, bumpy_back_skin, entry_on_height_surface, planned_path

    from PVPGuideLib.guide import GuideOptions, GuideTrajectory, build_guide

    skin = bumpy_back_skin()
    rows = []
    for sides in (("left",), ("left", "right")):
        trajectories = []
        for side in sides:
            c, d = planned_path(side, transverse_deg=30.0, target=[8.0 if side == "left" else -8.0, -20.0, 0.0])
            trajectories.append(GuideTrajectory(entry_on_height_surface(c, d, bumpy_back_height), c, side, 11, "L1"))
        start = time.perf_counter()
        result = build_guide(skin, trajectories, frame_superior=[0, 0, 1], midline_point=[0, -100, 0],
                             midline_normal=[1, 0, 0], options=GuideOptions(case_id="B1"))
        rows.append(("synthetic back", "+".join(sides), time.perf_counter() - start, result))
    try:
        from PVPGuideLib.phantom.build import generate_phantom
        from PVPGuideLib.planning.skin import find_skin_entry, skin_surface
    except ImportError:
        return rows
    phantom = generate_phantom()
    skin = skin_surface(phantom.ct)
    level = phantom.truth["levels"]["L1"]
    for sides in (("left",), ("left", "right")):
        trajectories = []
        for side in sides:
            b, c = (np.asarray(level["plans"][side][k], float) for k in ("B", "C"))
            trajectories.append(GuideTrajectory(find_skin_entry(skin, b, c).point, c, side, 11, "L1"))
        start = time.perf_counter()
        result = build_guide(skin.mesh, trajectories, frame_superior=level["frame"]["superior"],
                             midline_point=level["midsagittal_plane"]["point"],
                             midline_normal=level["midsagittal_plane"]["normal"], spinous_tips=[level["spinous_tip"]],
                             options=GuideOptions(case_id="B1"))
        rows.append(("phantom (0.9 mm skin)", "+".join(sides), time.perf_counter() - start, result))
    return rows


def main() -> None:
    plate, sleeve, bore = _operands()
    print(f"operands: plate {len(plate.faces)} triangles, sleeve {len(sleeve.faces)}, bore {len(bore.faces)}")
    t_union, ok_union, joined, t_diff, ok_diff = _pvpguide(plate, sleeve, bore)
    with tempfile.TemporaryDirectory() as folder:
        v_union = _vtk("union", plate, sleeve, Path(folder))
        v_diff = _vtk("difference", joined, bore, Path(folder))
    print(f"{'operation':<12}{'engine':<26}{'seconds':>10}{'watertight':>12}  note")
    for name, ours, vtk_row in (("union", (t_union, ok_union), v_union), ("difference", (t_diff, ok_diff), v_diff)):
        print(f"{name:<12}{'PVPGuide (manifold3d)':<26}{ours[0]:>10.3f}{str(ours[1]):>12}")
        print(f"{'':<12}{'VTK boolean filter':<26}{vtk_row[0]:>10.3f}{str(vtk_row[1]):>12}  {vtk_row[2]}")
        if np.isfinite(vtk_row[0]) and ours[0] > 0:
            print(f"{'':<12}time ratio VTK / PVPGuide: {vtk_row[0] / ours[0]:.0f}x")
    print("\nwhole guide (build_guide: booleans, cleaning and every measured check)")
    for where, sides, seconds, result in _whole_guides():
        print(f"  {where:<24}{sides:<12}{seconds:6.2f} s  {len(result.mesh.faces):6d} triangles  "
              f"min wall {result.min_wall_mm:.2f} mm  fit +-{result.fit_deviation_mm:.3f} mm  passes {result.passes}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--vtk-worker":
        _vtk_worker(*sys.argv[2:6])
    else:
        main()
