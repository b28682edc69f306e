"""Benchmark (not a test): automatic plans on real vertebra shapes, each path checked by an independent checker.

Cases (from ../shared/data; skipped when absent):
- spine_mask_C7_L5: a real label mask (0.32 x 0.32 x 2 mm, sagittal slices), T9-L5, a CT made from it
  (Testing/ct_from_mask.py), each level on a crop of 40 mm around it;
- lumbar_mean_shape: the L2-L5 mean mesh voxelised at 0.5 x 0.5 x 1.25 mm (anisotropic), a CT made from it;
- totalseg_example: the real 3 mm CT with its labels and body split, T12-L5.
Both sides of every level are planned (propose_level, 13G with the gauge fallback); every planned path, and the
bilateral alternative when no unilateral one passes, is checked by independent_check.py (no code shared with
the vertebra analysis, safety or proposal). A false pass: the program says pass, the checker finds the needle
touching the canal, under 95 % of B->C in bone, or C less than 2 mm across the midline.
Prints a markdown table, totals and seconds per level (analysis + both sides; target under 2 s).
Run: .venv/bin/python Testing/benchmarks/bench_real_anatomy.py [filter, e.g. "totalseg_3mm L3"]
"""

from __future__ import annotations

import gzip
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Testing"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
DATA = ROOT.parent / "shared" / "data"

from ct_from_mask import ct_from_mask  # noqa: E402
from independent_check import check_path, level_geometry  # noqa: E402

from PVPGuideLib.core.needles import needle_outer_diameter_mm  # noqa: E402
from PVPGuideLib.core.volume import CTVolume  # noqa: E402
from PVPGuideLib.io.ct_io import read_ct, read_labelmap  # noqa: E402
from PVPGuideLib.planning.proposal import propose_level  # noqa: E402
from PVPGuideLib.vertebra import analyse_vertebra, vertebra_from_labels  # noqa: E402

CROP_MARGIN_MM = 40.0
VERSE = {16: "T9", 17: "T10", 18: "T11", 19: "T12", 20: "L1", 21: "L2", 22: "L3", 23: "L4", 24: "L5"}
TOTALSEG = {32: "T12", 31: "L1", 30: "L2", 29: "L3", 28: "L4", 27: "L5"}


def crop(volume: CTVolume, mask: np.ndarray, margin_mm: float) -> CTVolume:
    """The part of `volume` within margin_mm of the mask's bounding box (same voxels, shifted origin)."""
    index = np.argwhere(mask)
    margin = np.ceil(margin_mm / volume.spacing[::-1]).astype(int)
    lo = np.maximum(index.min(axis=0) - margin, 0)
    hi = np.minimum(index.max(axis=0) + margin + 1, mask.shape)
    m = volume.ijk_to_ras.copy()
    m[:3, 3] = m[:3, :3] @ lo[::-1] + m[:3, 3]
    return CTVolume(volume.voxels[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]], m, volume.source)


def spine_mask_cases():
    folder = DATA / "spine_mask_C7_L5"
    if not folder.exists():
        return
    labels = read_labelmap(folder / "healthy_ref_mask.nii.gz")
    for label, name in VERSE.items():
        if not (labels.voxels == label).any():
            continue
        part = crop(labels, labels.voxels == label, CROP_MARGIN_MM)
        yield ("spine_mask", name, label, part, ct_from_mask(part, seed=label), None, label - 1, label + 1)


def _voxelise(vertices: np.ndarray, faces: np.ndarray, spacing, margin_mm: float = 45.0) -> CTVolume:
    """Label map (30 = L2 ... 27 = L5, by height) of the mesh's connected parts on an RAS grid."""
    import vtk
    from vtk.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray, vtk_to_numpy

    lo, hi = vertices.min(axis=0) - margin_mm, vertices.max(axis=0) + margin_mm
    spacing = np.asarray(spacing, dtype=float)
    dims = np.ceil((hi - lo) / spacing).astype(int) + 1
    points = vtk.vtkPoints()
    points.SetData(numpy_to_vtk(np.ascontiguousarray(vertices), deep=True))
    cells = vtk.vtkCellArray()
    packed = np.hstack([np.full((len(faces), 1), 3), faces]).astype(np.int64).ravel()
    cells.SetCells(len(faces), numpy_to_vtkIdTypeArray(packed, deep=True))
    mesh = vtk.vtkPolyData()
    mesh.SetPoints(points)
    mesh.SetPolys(cells)
    regions = vtk.vtkPolyDataConnectivityFilter()
    regions.SetInputData(mesh)
    regions.SetExtractionModeToAllRegions()
    regions.ColorRegionsOn()
    regions.Update()
    coloured = regions.GetOutput()
    region_of_point = vtk_to_numpy(coloured.GetPointData().GetArray("RegionId"))
    region_points = vtk_to_numpy(coloured.GetPoints().GetData())
    ids = np.unique(region_of_point)
    heights = {r: region_points[region_of_point == r][:, 2].mean() for r in ids}
    out = np.zeros(dims[::-1], dtype=np.uint8)
    for rank, region in enumerate(sorted(ids, key=lambda r: -heights[r])):
        one = vtk.vtkThreshold()
        one.SetInputData(coloured)
        one.SetInputArrayToProcess(0, 0, 0, vtk.vtkDataObject.FIELD_ASSOCIATION_POINTS, "RegionId")
        one.SetLowerThreshold(float(region) - 0.5)
        one.SetUpperThreshold(float(region) + 0.5)
        surface = vtk.vtkGeometryFilter()
        surface.SetInputConnection(one.GetOutputPort())
        stencil = vtk.vtkPolyDataToImageStencil()
        stencil.SetInputConnection(surface.GetOutputPort())
        stencil.SetOutputOrigin(*lo)
        stencil.SetOutputSpacing(*spacing)
        stencil.SetOutputWholeExtent(0, dims[0] - 1, 0, dims[1] - 1, 0, dims[2] - 1)
        image = vtk.vtkImageData()
        image.SetOrigin(*lo)
        image.SetSpacing(*spacing)
        image.SetDimensions(*dims)
        image.AllocateScalars(vtk.VTK_UNSIGNED_CHAR, 1)
        image.GetPointData().GetScalars().Fill(1)
        to_image = vtk.vtkImageStencil()
        to_image.SetInputData(image)
        to_image.SetStencilConnection(stencil.GetOutputPort())
        to_image.ReverseStencilOff()
        to_image.SetBackgroundValue(0)
        to_image.Update()
        inside = vtk_to_numpy(to_image.GetOutput().GetPointData().GetScalars()).reshape(dims[::-1]) > 0
        out[inside & (out == 0)] = 30 - rank
    return CTVolume.from_geometry(out, spacing=spacing, origin=lo)


def mean_shape_cases():
    folder = DATA / "lumbar_mean_shape"
    if not folder.exists():
        return
    with gzip.open(folder / "meanMesh_vertices.csv.gz", "rt") as f:
        xyz = np.loadtxt(f, delimiter=",")
    with gzip.open(folder / "meanMesh_faces.csv.gz", "rt") as f:
        faces = np.loadtxt(f, delimiter=",", dtype=np.int64) - 1
    # x runs from the spinous processes (-71) to the bodies (+22): anterior; y is left-right (symmetric); z up.
    ras = np.stack([-xyz[:, 1], xyz[:, 0], xyz[:, 2]], axis=1)
    labels = _voxelise(ras, faces, (0.5, 0.5, 1.25))
    ct = ct_from_mask(labels, seed=7)
    for label, name in ((30, "L2"), (29, "L3"), (28, "L4"), (27, "L5")):
        yield ("mean_shape", name, label, labels, ct, None, label + 1, label - 1)


def totalseg_cases():
    folder = DATA / "totalseg_example"
    if not folder.exists():
        return
    ct = read_ct(folder / "ct_T11_S1_3mm.nii.gz")
    labels = read_labelmap(folder / "labels_T11_S1_3mm.nii.gz", ct)
    bodies = read_labelmap(folder / "labels_vertebral_body_3mm.nii.gz", ct)
    for label, name in TOTALSEG.items():
        yield ("totalseg_3mm", name, label, labels, ct, bodies, label + 1, label - 1)


def _fmt(value, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def main(only: str = "") -> None:
    """only: run the cases whose 'dataset level' contains this text (all when empty)."""
    rows, levels, false_passes, seconds = [], [], [], []
    sources = {"spine_mask": spine_mask_cases, "mean_shape": mean_shape_cases, "totalseg_3mm": totalseg_cases}
    cases = (case for name, source in sources.items() if not only or only.split()[0] in name for case in source())
    for dataset, name, label, labels, ct, parts, above, below in cases:
        if only and only not in f"{dataset} {name}":
            continue
        start = time.perf_counter()
        try:
            analysis = analyse_vertebra(vertebra_from_labels(ct, labels, label, level=name, parts=parts))
            lp = propose_level(ct, None, analysis, side="both", needle_gauge=13)
        except ValueError as error:
            levels.append((dataset, name, "refused", str(error)))
            rows.append(f"| {dataset} | {name} | – | – | refused: {error} | | | | | | |")
            continue
        elapsed = time.perf_counter() - start
        seconds.append(elapsed)
        geometry = level_geometry(labels, label, above, below)
        passed = False
        for side in ("left", "right"):
            p = lp.sides[side]
            check = check_path(geometry, p.points.b, p.points.c, side,
                               0.5 * needle_outer_diameter_mm(p.safety.needle_gauge))
            verdict = p.safety.verdict
            false = verdict == "pass" and (check["unsafe"] or check["across_mm"] < 2.0)
            passed |= verdict == "pass"
            if false:
                false_passes.append(f"{dataset} {name} {side}")
            angle = p.trajectory.angles_vertebra.transverse_deg if p.trajectory.angles_vertebra else None
            rows.append(f"| {dataset} | {name} | {side} | {p.safety.needle_gauge}G | {verdict} | "
                        f"{_fmt(p.safety.value('spinal_canal'))} / {_fmt(check['canal_mm'])} | "
                        f"{_fmt(p.safety.value('c_across_midline'))} / {_fmt(check['across_mm'])} | "
                        f"{_fmt(check['in_bone_percent'], 0)} | {_fmt(angle, 0)} | "
                        f"{'FALSE PASS' if false else ('unsafe' if check['unsafe'] else 'ok')} | {elapsed:.1f} |")
        outcome = "pass" if passed else ("no safe unilateral path" if lp.no_safe_path else "warn/fail")
        if lp.bilateral:
            for side, p in lp.bilateral.items():
                check = check_path(geometry, p.points.b, p.points.c, side,
                                   0.5 * needle_outer_diameter_mm(p.safety.needle_gauge))
                unsafe = check["canal_mm"] < 0 or check["in_bone_percent"] < 95.0
                false = p.safety.verdict == "pass" and unsafe
                if false:
                    false_passes.append(f"{dataset} {name} bilateral {side}")
                rows.append(f"| {dataset} | {name} | {side} (bilateral) | {p.safety.needle_gauge}G | "
                            f"{p.safety.verdict} | {_fmt(p.safety.value('spinal_canal'))} / {_fmt(check['canal_mm'])} "
                            f"| own side {_fmt(p.safety.value('c_own_side'))} | {_fmt(check['in_bone_percent'], 0)} | "
                            f"– | {'FALSE PASS' if false else ('unsafe' if unsafe else 'ok')} | |")
        cautions = list(analysis.cautions) + [f"{side} only: {c}" for side, cs in sorted(analysis.side_cautions.items())
                                              for c in cs]
        levels.append((dataset, name, outcome, "; ".join(cautions)))
    print("| case | level | side | gauge | verdict | canal mm (program / checker) | C across mm (program / "
          "checker) | in bone % | transverse ° | checker | s/level |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print()
    lumbar = [lv for lv in levels if lv[1].startswith("L")]
    thoracic = [lv for lv in levels if lv[1].startswith("T")]
    lumbar_pass = sum(lv[2] == "pass" for lv in lumbar)
    thoracic_ok = sum(lv[2] in ("pass", "no safe unilateral path") for lv in thoracic)
    refused = [lv for lv in levels if lv[2] == "refused"]
    print(f"levels: {len(levels)}; refused: {len(refused)} "
          + "; ".join(f"{d} {n}: {why}" for d, n, _, why in refused))
    print(f"false passes: {len(false_passes)} {false_passes}")
    print(f"lumbar levels with a passing side: {lumbar_pass}/{len(lumbar)}")
    print(f"thoracic levels with a pass or 'no safe unilateral path': {thoracic_ok}/{len(thoracic)}")
    for d, n, _, cautions in levels:
        if cautions:
            print(f"  {d} {n} cautions: {cautions}")
    if seconds:
        print(f"seconds per level (analysis + both sides, gauge fallback included): mean {np.mean(seconds):.2f}, "
              f"max {np.max(seconds):.2f}")


if __name__ == "__main__":
    main(" ".join(sys.argv[1:]))
