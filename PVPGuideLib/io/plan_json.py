"""plan.json: the plan as plain JSON (schema pvpguide.plan/1, RAS mm, full precision; see docs/plan-schema.md)."""

from __future__ import annotations

import math
from pathlib import PurePosixPath

from .. import __version__
from ..errors import PVPGuideError
from ..planning.plan import Plan, Trajectory

SCHEMA = "pvpguide.plan/1"


def voxels_sha256(voxels) -> str:
    """Content hash of a CT's voxels (shape, type and values; independent of the file format)."""
    import hashlib

    import numpy as np

    array = np.ascontiguousarray(voxels)
    array = array.astype(array.dtype.newbyteorder("<"), copy=False)
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode("ascii"))
    digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()


def _point(p):
    return None if p is None else [float(x) for x in p]


def _angles(angles):
    return None if angles is None else {"transverse": angles.transverse_deg, "sagittal": angles.sagittal_deg}


def trajectory_to_json(t: Trajectory) -> dict:
    lm = t.landmarks
    grid = t.grid_position
    data = {
        "level": t.level,
        "side": t.side,
        "points": {"A": _point(t.a), "B": _point(t.b), "C": _point(t.c)},
        "skin_entry": t.skin_status.value,
        "angles_deg": {"scanner": _angles(t.angles_scanner), "vertebra": _angles(t.angles_vertebra)},
        "lengths_mm": {"AB": t.lengths.ab_mm, "BC": t.lengths.bc_mm, "AC": t.lengths.ac_mm},
        "entry_offsets_mm": {
            "from_midline": t.entry_offsets.from_midline_mm,
            "from_spinous_tip": t.entry_offsets.from_spinous_tip_mm,
        },
        # A grid locator's position (PVPGuideLib.grid) also gives the offsets by name, the cell and inside_grid.
        "grid_position": None if grid is None else grid.to_json() if hasattr(grid, "to_json") else {
            "column": grid.column,
            "row": grid.row,
            "residual_mm": [grid.residual_u_mm, grid.residual_v_mm],
            "off_plane_mm": grid.off_plane_mm,
        },
        "vertebra_frame": None if lm.frame is None else lm.frame.to_json(),
        "midsagittal_plane": None if lm.midline_point is None else {
            "point": _point(lm.midline_point), "normal": _point(lm.midline_normal)},
        "spinous_tip": _point(lm.spinous_tip),
        "warnings": list(t.warnings),
    }
    data.update(t.sections)
    return data


def plan_to_json(plan: Plan, *, ct_path: str | None = None) -> dict:
    ct = plan.ct
    data = {
        "schema": SCHEMA,
        "generator": {"name": "PVPGuide", "version": __version__},
        "coordinate_system": "RAS",
        "units": "mm",
        "ct": {
            "path": ct_path if ct_path is not None else ct.source,
            "size": [int(n) for n in ct.shape_ijk],
            "spacing": [float(s) for s in ct.spacing],
            "ijk_to_ras": [[float(x) for x in row] for row in ct.ijk_to_ras],
            "voxels_sha256": voxels_sha256(ct.voxels),
        },
        "skin": None if plan.skin is None else {"threshold_hu": plan.skin.threshold_hu},
        "needle_gauge": plan.needle_gauge,
        "needle_outer_diameter_mm": plan.needle_outer_diameter_mm,
        "grid": None if plan.grid is None else plan.grid.to_json() if hasattr(plan.grid, "to_json") else {
            "origin": _point(plan.grid.origin), "u_axis": _point(plan.grid.u_axis),
            "v_axis": _point(plan.grid.v_axis), "spacing_mm": plan.grid.spacing_mm},
        "trajectories": [trajectory_to_json(t) for t in plan.trajectories],
        "warnings": list(plan.warnings),
    }
    data.update(plan.sections)
    return data


class PlanJsonError(PVPGuideError):
    """plan.json is not a readable PVPGuide plan (wrong JSON, schema or types)."""


MAX_PLAN_JSON_BYTES = 64 * 1024 * 1024  # a plan with many trajectories is well under 1 MB


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _numbers(value, count: int) -> bool:
    return isinstance(value, list) and len(value) == count and all(_is_number(x) for x in value)


def _inside_name(name) -> bool:
    """A file name of the set: relative, no '..', no drive or backslash (it must resolve inside the plan folder)."""
    if not isinstance(name, str) or not name or "\\" in name or ":" in name:
        return False
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and not name.startswith("~")


def plan_json_problems(data) -> list:
    """What is wrong with a plan.json's structure (empty when the report can rely on it)."""
    if not isinstance(data, dict):
        return ["the top level is not a JSON object"]
    problems = []
    if not str(data.get("schema", "")).startswith("pvpguide.plan/"):
        problems.append(f"schema is {data.get('schema')!r}, expected {SCHEMA!r}")
    ct = data.get("ct")
    if ct is not None:
        if not isinstance(ct, dict):
            problems.append("'ct' is not an object")
        else:
            if ct.get("path") is not None and not isinstance(ct.get("path"), str):
                problems.append("ct.path is not text")
            if "size" in ct and not (_numbers(ct["size"], 3) and all(float(n).is_integer() and n > 0 for n in ct["size"])):
                problems.append("ct.size is not three positive whole numbers")
            if "spacing" in ct and not _numbers(ct["spacing"], 3):
                problems.append("ct.spacing is not three numbers")
            m = ct.get("ijk_to_ras")
            if m is not None and not (isinstance(m, list) and len(m) == 4 and all(_numbers(r, 4) for r in m)):
                problems.append("ct.ijk_to_ras is not a 4x4 matrix of numbers")
    for key in ("skin", "grid", "outputs", "files", "generator"):
        if data.get(key) is not None and not isinstance(data[key], dict):
            problems.append(f"'{key}' is not an object")
    if not isinstance(data.get("warnings", []), list):
        problems.append("'warnings' is not a list")
    trajectories = data.get("trajectories", [])
    if not isinstance(trajectories, list):
        return problems + ["'trajectories' is not a list"]
    for n, t in enumerate(trajectories, start=1):
        where = f"trajectory {n}"
        if not isinstance(t, dict):
            problems.append(f"{where} is not an object")
            continue
        points = t.get("points")
        if not isinstance(points, dict) or not all(points.get(k) is None or _numbers(points.get(k), 3) for k in "ABC"):
            problems.append(f"{where}: 'points' must hold A, B, C as three numbers each")
        elif points.get("B") is None or points.get("C") is None:
            problems.append(f"{where}: B or C is missing")
        for key in ("angles_deg", "lengths_mm", "entry_offsets_mm", "safety", "cement", "guide"):
            if t.get(key) is not None and not isinstance(t[key], (dict, list) if key == "safety" else dict):
                problems.append(f"{where}: '{key}' is not an object")
        if not isinstance(t.get("warnings", []), list):
            problems.append(f"{where}: 'warnings' is not a list")
    for name in named_files(data):
        if not _inside_name(name):
            problems.append(f"the file name {name!r} does not lie inside the plan folder (relative names only)")
    return problems


def named_files(data: dict) -> list:
    """File names plan.json refers to (outputs, guide STLs, cement pictures, the `files` list)."""
    names = []
    outputs = data.get("outputs")
    if isinstance(outputs, dict):
        names += [v for v in outputs.values() if v is not None]
    files = data.get("files")
    if isinstance(files, dict):
        names += list(files)
    for t in data.get("trajectories") or []:
        if not isinstance(t, dict):
            continue
        guide = t.get("guide")
        if isinstance(guide, dict) and guide.get("stl") is not None:
            names.append(guide["stl"])
        cement = t.get("cement")
        projections = cement.get("projections") if isinstance(cement, dict) else None
        if isinstance(projections, dict):
            names += [v for v in projections.values() if v is not None]
    return names


def read_plan_json(path) -> dict:
    """plan.json read (regular file, bounded size), parsed and validated; PlanJsonError otherwise."""
    import json
    from pathlib import Path

    from .scan_files import require_regular_file

    path = Path(path)
    real = require_regular_file(path, "plan.json")
    size = real.stat().st_size
    if size > MAX_PLAN_JSON_BYTES:
        raise PlanJsonError(f"{path} is {size / 2**20:.0f} MiB, far larger than any plan "
                            f"(limit {MAX_PLAN_JSON_BYTES / 2**20:.0f} MiB); it is not a PVPGuide plan.json")
    try:
        data = json.loads(real.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise PlanJsonError(f"{path} is not valid JSON ({error}); give the plan.json written by plan or demo") from None
    except RecursionError:
        raise PlanJsonError(f"{path} is nested too deeply to be a plan.json (a damaged or hostile file)") from None
    problems = plan_json_problems(data)
    if problems:
        shown = "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
        raise PlanJsonError(f"{path} is not a usable PVPGuide plan: {shown}")
    return data
