"""Check a printable STL with a real slicer: PrusaSlicer's command line (G-code, time, filament) and admesh."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.mesh import TriangleMesh
from .stl import write_stl

# The documented default profile (docs/guide-plate.md): PLA, 0.4 mm nozzle, 0.2 mm layers, solid
# (a guide is small and must not flex), automatic supports from 45 degrees overhang, on a 250 x 210 mm bed.
DEFAULT_PROFILE = {
    "printer_technology": "FFF",
    "bed_shape": "0x0,250x0,250x210,0x210",
    "max_print_height": "210",
    "nozzle_diameter": "0.4",
    "layer_height": "0.2",
    "first_layer_height": "0.2",
    "perimeters": "3",
    "top_solid_layers": "5",
    "bottom_solid_layers": "4",
    "fill_density": "100%",
    "fill_pattern": "rectilinear",
    "support_material": "1",
    "support_material_auto": "1",
    "support_material_threshold": "45",
    "filament_type": "PLA",
    "filament_diameter": "1.75",
    "filament_density": "1.24",
    "temperature": "215",
    "first_layer_temperature": "215",
    "bed_temperature": "60",
    "first_layer_bed_temperature": "60",
    "gcode_flavor": "marlin2",
}
PROFILE_NAME = "PVPGuide PLA 0.2 mm, 100 % infill, supports"
# Faces pointing down steeper than this need support (degrees from the build plate's downward normal).
_OVERHANG_DEG = 45.0
_TIMEOUT_S = 600


@dataclass(frozen=True)
class SliceReport:
    """What PrusaSlicer said about one STL sliced with the default profile in the suggested orientation."""

    ok: bool
    orientation: str
    print_time_s: float | None
    filament_mm: float | None
    filament_cm3: float | None
    filament_g: float | None
    message: str

    def to_json(self) -> dict:
        # PrusaSlicer's estimates of one STL differ between runs by seconds and hundredths of a millimetre of
        # filament: plan.json gives them to the minute, the millimetre and 0.1 cm3 / 0.1 g, so that the same
        # inputs give the same plan.
        return {"sliced": self.ok, "slicer": "PrusaSlicer", "profile": PROFILE_NAME, "orientation": self.orientation,
                "print_time_s": _rounded(self.print_time_s, 60.0), "print_time": format_duration(self.print_time_s),
                "filament_mm": _rounded(self.filament_mm, 1.0), "filament_cm3": _rounded(self.filament_cm3, 0.1),
                "filament_g": _rounded(self.filament_g, 0.1), "message": self.message}


def _rounded(value: float | None, unit: float) -> float | None:
    return None if value is None else round(round(value / unit) * unit, 6)


def prusa_slicer() -> str | None:
    """Path of PrusaSlicer's command line, or None when it is not installed."""
    return shutil.which("prusa-slicer") or shutil.which("prusa-slicer-console")


def profile_ini() -> str:
    """The default profile as PrusaSlicer's .ini text."""
    return "".join(f"{k} = {v}\n" for k, v in DEFAULT_PROFILE.items())


def best_orientation(mesh: TriangleMesh, candidates: dict[str, np.ndarray]) -> tuple[str, np.ndarray, float]:
    """(name, rotation, overhang mm^2): of the candidate 'up' directions (RAS), the one leaving the least
    overhanging area to support (faces facing down more than 45 degrees, bar those resting on the plate)."""
    best = None
    for name, up in candidates.items():
        rotation = rotation_to_z(np.asarray(up, dtype=float))
        area = overhang_area_mm2(mesh.vertices @ rotation.T, mesh.faces)
        if best is None or area < best[2] - 1e-6:
            best = (name, rotation, area)
    return best


def rotation_to_z(up: np.ndarray) -> np.ndarray:
    """A rotation taking the unit vector `up` to +z (deterministic)."""
    z = up / np.linalg.norm(up)
    helper = np.array([1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    return np.array([x, np.cross(z, x), z])


def overhang_area_mm2(vertices: np.ndarray, faces: np.ndarray, *, bed_tolerance_mm: float = 0.2) -> float:
    """Area of faces facing down more than the overhang angle, not lying on the build plate (z = min)."""
    p = vertices[faces]
    n = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    area = 0.5 * np.linalg.norm(n, axis=1)
    cos_down = -n[:, 2] / np.maximum(2 * area, 1e-300)
    on_bed = p[:, :, 2].max(axis=1) <= vertices[:, 2].min() + bed_tolerance_mm
    needs = (cos_down > np.cos(np.radians(_OVERHANG_DEG))) & ~on_bed
    return float(area[needs].sum())


def slice_mesh(mesh: TriangleMesh, rotation: np.ndarray, orientation: str, *, work_dir=None) -> SliceReport:
    """Slice the mesh turned by `rotation` with the default profile; a report (ok False with the reason)."""
    exe = prusa_slicer()
    if exe is None:
        return SliceReport(False, orientation, None, None, None, None, "not sliced: PrusaSlicer is not installed")
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        tmp = Path(tmp)
        stl = tmp / "part.stl"
        turned = TriangleMesh(mesh.vertices @ rotation.T, mesh.faces)
        write_stl(stl, turned, coordinate_system="RAS", title="PVPGuide slicing check")
        (tmp / "profile.ini").write_text(profile_ini())
        gcode = tmp / "part.gcode"
        cmd = [exe, "--export-gcode", "--load", str(tmp / "profile.ini"), "--center", "125,105", "--loglevel", "1",
               "--datadir", str(tmp / "config"), "--output", str(gcode), str(stl)]
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            return SliceReport(False, orientation, None, None, None, None, f"PrusaSlicer failed to run: {error}")
        text = gcode.read_text(errors="replace")[-20000:] if gcode.is_file() else ""
        errors = [line for line in (run.stdout + run.stderr).splitlines() if re.search(r"\berror\b", line, re.I)]
        if run.returncode != 0 or not text or errors:
            reason = "; ".join(errors[:3]) or (run.stderr.strip().splitlines() or ["no G-code written"])[-1]
            return SliceReport(False, orientation, None, None, None, None,
                               f"PrusaSlicer exit {run.returncode}: {reason}")
        return SliceReport(True, orientation, _time_s(text), _number(text, r"filament used \[mm\]"),
                           _number(text, r"filament used \[cm3\]"), _number(text, r"filament used \[g\]"), "")


def admesh_report(stl_path) -> dict | None:
    """admesh's check of an STL as numbers (parts, facets, repairs it would make); None without admesh."""
    exe = shutil.which("admesh")
    if exe is None:
        return None
    run = subprocess.run([exe, str(stl_path)], capture_output=True, text=True, errors="replace",
                         timeout=_TIMEOUT_S, check=False)
    out = {"returncode": run.returncode}
    for key, pattern in (("parts", r"Number of parts\s*:\s*(\d+)"), ("facets", r"Number of facets\s*:\s*(\d+)"),
                         ("degenerate_facets", r"Degenerate facets\s*:\s*(\d+)"),
                         ("edges_fixed", r"Edges fixed\s*:\s*(\d+)"), ("facets_removed", r"Facets removed\s*:\s*(\d+)"),
                         ("facets_added", r"Facets added\s*:\s*(\d+)"),
                         ("facets_reversed", r"Facets reversed\s*:\s*(\d+)"),
                         ("backwards_edges", r"Backwards edges\s*:\s*(\d+)")):
        m = re.search(pattern, run.stdout)
        out[key] = int(m.group(1)) if m else None
    return out


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "not sliced"
    minutes = int(round(seconds / 60.0))
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _time_s(text: str) -> float | None:
    m = re.search(r"estimated printing time \(normal mode\)\s*=\s*([^\n]+)", text)
    if not m:
        return None
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    return float(sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([dhms])", m.group(1))))


def _number(text: str, label: str) -> float | None:
    m = re.search(label + r"\s*=\s*([0-9.]+)", text)
    return float(m.group(1)) if m else None


def plate_orientations(frame) -> dict[str, np.ndarray]:
    """Candidate 'up' directions (RAS) of a guide plate on the build plate, named for the printer."""
    return {"skin side down": frame.w, "skin side up": -frame.w, "cranial end down": frame.v,
            "caudal end down": -frame.v, "left edge down": frame.u, "right edge down": -frame.u}


def axis_orientations() -> dict[str, np.ndarray]:
    """Candidate 'up' directions for a part without a plate frame (the replica): the scanner's axes."""
    eye = np.eye(3)
    return {"superior up": eye[2], "inferior up": -eye[2], "anterior up": eye[1], "posterior up": -eye[1],
            "right up": eye[0], "left up": -eye[0]}


def print_section(mesh: TriangleMesh, candidates: dict, *, slicing: bool = True) -> dict:
    """plan.json `print` entry: the suggested orientation (fewest supports) and, when PrusaSlicer is
    installed and slicing is asked for, its estimated print time and filament with the default profile."""
    name, rotation, area = best_orientation(mesh, candidates)
    if slicing and prusa_slicer() is not None:
        report = slice_mesh(mesh, rotation, name)
    else:
        why = "not sliced" + ("" if slicing else " (slicing turned off)") + (
            ": PrusaSlicer is not installed" if prusa_slicer() is None else "")
        report = SliceReport(False, name, None, None, None, None, why)
    out = report.to_json()
    out["up_ras"] = [float(x) for x in np.asarray(candidates[name], dtype=float)]
    out["support_area_mm2"] = round(area, 1)
    return out
