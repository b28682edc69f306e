"""Write the guide plate to the plan's folder and describe it for plan.json's `guide` section."""

from __future__ import annotations

import re
from pathlib import Path

from .build import GuideResult
from .errors import GuideError
from .replica import ReplicaResult
from .stl import read_stl, write_stl
from .topology import signed_volume, topology


def guide_file_name(level: str, sides) -> str:
    """guide_<level>_<side>.stl, side 'bilateral' for two sleeves (level made file-name safe)."""
    sides = tuple(sides)
    side = "bilateral" if len(sides) == 2 else sides[0]
    safe_level = re.sub(r"[^A-Za-z0-9-]+", "-", level or "").strip("-")
    return f"guide_{safe_level}_{side}.stl" if safe_level else f"guide_{side}.stl"


def write_guide(result: GuideResult, out_dir, *, coordinate_system: str = "LPS") -> dict:
    """Write the STL (atomically), read it back as a slicer would and return the plan.json `guide` section.

    The watertight/manifold/volume entries describe the file as read back (vertices merged), not the
    mesh in memory; they must agree, or writing is an error. `stl` is the file name relative to out_dir.
    """
    name = guide_file_name(result.level, result.sides)
    path = Path(out_dir) / name
    write_stl(path, result.mesh, coordinate_system=coordinate_system,
              title=f"PVPGuide guide {result.level} {result.side_name}")
    back = read_stl(path).mesh
    topo = topology(back.vertices, back.faces)
    volume = signed_volume(back.vertices, back.faces)
    if not (topo.manifold and topo.consistently_oriented) or abs(volume - result.volume_mm3) > 1e-3 * result.volume_mm3:
        raise GuideError("stl", f"{name} does not read back as the mesh that was written ({topo})")
    return guide_section(result, stl=name, coordinate_system=coordinate_system,
                         watertight=topo.watertight, manifold=topo.manifold, volume_mm3=volume)


def guide_section(result: GuideResult, *, stl: str | None, coordinate_system: str, watertight: bool | None = None,
                  manifold: bool | None = None, volume_mm3: float | None = None) -> dict:
    """plan.json `guide` section (JSON types only, full precision; no timings, so it is reproducible)."""
    return {
        "stl": stl,
        "coordinate_system": coordinate_system,
        "units": "mm",
        "level": result.level,
        "side": result.side_name,
        "watertight": bool(result.watertight if watertight is None else watertight),
        "manifold": bool(result.manifold if manifold is None else manifold),
        "outward_normals": bool(result.outward_normals),
        "self_intersecting": bool(result.self_intersecting),
        "volume_mm3": float(result.volume_mm3 if volume_mm3 is None else volume_mm3),
        "min_wall_mm": float(result.min_wall_mm),
        "min_wall_floor_mm": float(result.min_wall_floor_mm),
        "fit_clearance_mm": float(result.options.fit_clearance_mm),
        "fit_deviation_mm": float(result.fit_deviation_mm),
        "skin_deviation_mm": float(result.skin_deviation_mm),
        "skin_deviation_limit_mm": float(result.options.skin_deviation_limit_mm),
        "triangles": int(len(result.mesh.faces)),
        "label": result.label,
        "passes": bool(result.passes),
        "sleeves": [
            {
                "side": s.side,
                "needle_gauge": s.needle_gauge,
                "needle_diameter_mm": s.needle_diameter_mm,
                "bore_diameter_mm": s.bore_diameter_mm,
                "axis_offset_mm": s.axis_offset_mm,
                "axis_angle_deg": s.axis_angle_deg,
                "needle_passes": s.needle_passes,
                "runway_length_mm": float(result.options.runway_length_mm),
                "tilt_half_range_deg": s.tilt_half_range_deg,
                "transverse_deg": s.transverse_deg,
                "sagittal_deg": s.sagittal_deg,
                "sagittal_range_deg": [float(x) for x in s.sagittal_range_deg],
                "tilt_axis": [float(x) for x in s.tilt_axis],
            }
            for s in result.sleeves
        ],
        "options": result.options.to_json(),
        "warnings": list(result.warnings),
    }


def write_replica(result: ReplicaResult, out_dir, *, coordinate_system: str = "LPS") -> dict:
    """Write replica_<level>.stl (atomically) and return its plan.json entry (`guide.replica`)."""
    safe_level = re.sub(r"[^A-Za-z0-9-]+", "-", result.level or "").strip("-")
    name = f"replica_{safe_level}.stl" if safe_level else "replica.stl"
    write_stl(Path(out_dir) / name, result.mesh, coordinate_system=coordinate_system,
              title=f"PVPGuide replica {result.level}")
    return {
        "stl": name,
        "coordinate_system": coordinate_system,
        "units": "mm",
        "level": result.level,
        "shell_mm": result.shell_mm,
        "watertight": bool(result.watertight),
        "manifold": bool(result.manifold),
        "outward_normals": bool(result.outward_normals),
        "self_intersecting": bool(result.self_intersecting),
        "volume_mm3": float(result.volume_mm3),
        "min_wall_mm": float(result.min_wall_mm),
    }
