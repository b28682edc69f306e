"""The pictures of one trajectory, each as an HTML figure, or a plain note saying why it is missing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..core.mesh import TriangleMesh
from ..core.volume import CTVolume
from .bone import bone_surface
from .c_arm_pictures import c_arm_pictures
from .html_parts import esc, figure
from .meshes import read_stl
from .path_geometry import PathGeometry, path_geometry
from .png import png_bytes, png_size
from .slices import path_planes, slice_picture
from .view3d import trajectory_view

DEFAULT_NEEDLE_DIAMETER_MM = 2.41  # 13G, when plan.json does not say


@dataclass(frozen=True, eq=False)
class ReportInputs:
    """What the pictures draw besides plan.json (all optional).

    ct : the CT planned on. skin_mesh : the body surface. guide_meshes : (level, side) -> guide plate in RAS
    (default: read from the STL named in each trajectory's `guide` section). vertebra_meshes : level -> bone
    surface (default: an iso-surface of the CT). base_dir : the folder plan.json's file names are relative to.
    """

    ct: CTVolume | None = None
    skin_mesh: TriangleMesh | None = None
    guide_meshes: dict = field(default_factory=dict)
    vertebra_meshes: dict = field(default_factory=dict)
    base_dir: Path | None = None


@dataclass
class TrajectoryPictures:
    figures: list = field(default_factory=list)  # HTML
    notes: list = field(default_factory=list)  # plain text: why a picture is missing
    problems: list = field(default_factory=list)  # plain text: a picture failed (a bug or unreadable file)
    pngs: dict = field(default_factory=dict)  # picture name -> PNG bytes (for README pictures and tests)


def _guide_mesh(t: dict, inputs: ReportInputs, result: TrajectoryPictures):
    key = (t.get("level") or "", t.get("side") or "")
    if key in inputs.guide_meshes:
        return inputs.guide_meshes[key]
    section = t.get("guide")
    if not isinstance(section, dict) or not section.get("stl"):
        return None
    path = Path(section["stl"])
    if not path.is_absolute() and inputs.base_dir is not None:
        path = inputs.base_dir / path
    try:
        return read_stl(path, coordinate_system=section.get("coordinate_system", "LPS"))
    except (OSError, ValueError) as error:
        result.problems.append(f"the guide plate is not drawn: {error}")
        return None


def _add(result: TrajectoryPictures, name: str, png: bytes, *, alt: str, caption: str, css: str = "",
         display_scale: int = 1) -> None:
    result.pngs[name] = png
    result.figures.append(figure(png, alt=alt, caption=caption, css_class=css, display_scale=display_scale))


def _view3d(path: PathGeometry, t: dict, data: dict, inputs: ReportInputs, result: TrajectoryPictures, diameter):
    bone = inputs.vertebra_meshes.get(path.level)
    if bone is None and inputs.ct is not None:
        bone = bone_surface(inputs.ct, path)
    if bone is None:
        result.notes.append("the 3D view shows no vertebra: no CT or vertebra surface was given")
    guide = _guide_mesh(t, inputs, result)
    rgb = trajectory_view(path, needle_diameter_mm=diameter, bone=bone, skin=inputs.skin_mesh,
                          guides=[guide] if guide is not None else [])
    shown = ["vertebra" if bone is not None else None, "skin around A" if inputs.skin_mesh is not None else None,
             "needle", "guide plate" if guide is not None else None]
    caption = (f"3D view of {esc(path.title)}: " + ", ".join(s for s in shown if s)
               + ". A green, B orange, C red; seen from behind, above and the puncture side.")
    _add(result, "view3d", png_bytes(rgb), alt=f"3D view of the {path.title} trajectory", caption=caption, css="wide")


def _slices(path: PathGeometry, inputs: ReportInputs, result: TrajectoryPictures, diameter):
    for plane in path_planes(path):
        rgb = slice_picture(inputs.ct, plane, path, needle_diameter_mm=diameter)
        caption = (f"{plane.name.capitalize()} CT slice along the needle (oblique plane through A, B and C, "
                   f"{plane.tilt_deg:.1f}° from the true {plane.name} plane); bone window, needle in yellow.")
        _add(result, f"slice_{plane.name}", png_bytes(rgb), alt=f"{plane.name} slice along the {path.title} needle",
             caption=esc(caption))


def cement_projection_files(section: dict) -> dict:
    """view ('ap', 'lateral') -> file name of the cement projection PNGs named anywhere in the cement section."""
    found = {}

    def walk(value, key_path):
        if isinstance(value, dict):
            for k in sorted(value):
                walk(value[k], key_path + (str(k),))
        elif isinstance(value, str) and value.lower().endswith(".png"):
            tokens = set(re.split(r"[^a-z0-9]+", " ".join(key_path + (Path(value).stem,)).lower()))
            view = "lateral" if "lateral" in tokens else ("ap" if "ap" in tokens else None)
            if view and view not in found:
                found[view] = value

    walk(section, ())
    return found


def default_projection_files(t: dict, base_dir: Path | None, single: bool) -> dict:
    """Projection pictures found by name beside plan.json: <level>_<side>_projection_<view>.png, or
    projection_<view>.png when the plan has one trajectory (what `pvpguide score` writes)."""
    if base_dir is None:
        return {}
    found = {}
    for view in ("ap", "lateral"):
        names = [f"{t.get('level')}_{t.get('side')}_projection_{view}.png", f"{t.get('side')}_projection_{view}.png"]
        if single:
            names.append(f"projection_{view}.png")
        hit = next((n for n in names if (base_dir / n).is_file()), None)
        if hit:
            found[view] = hit
    return found


def _projections(t: dict, inputs: ReportInputs, result: TrajectoryPictures, single: bool) -> None:
    section = t.get("cement")
    if not isinstance(section, dict):
        result.notes.append("no AP/lateral cement projections: cement prediction not run")
        return
    files = cement_projection_files(section) or default_projection_files(t, inputs.base_dir, single)
    if not files:
        result.notes.append("no AP/lateral cement projection pictures were found for this trajectory")
    for view in ("ap", "lateral"):
        if view not in files:
            continue
        path = Path(files[view])
        if not path.is_absolute() and inputs.base_dir is not None:
            path = inputs.base_dir / path
        try:
            png = path.read_bytes()
            figure_name = "AP" if view == "ap" else "Lateral"
            # The projections are small diagrams (about 6 pixels per mm): shown twice as large, pixels sharp.
            _add(result, f"projection_{view}", png, alt=f"{figure_name} projection with cement", css="projection",
                 display_scale=2 if max(png_size(png)) < 400 else 1,
                 caption=esc(f"{figure_name} projection: body grey (green-grey in quadrants that score), cement "
                             "white, quadrant lines blue; each quadrant scores when cement covers over a third of it."))
        except (OSError, ValueError) as error:
            result.problems.append(f"the {view} cement projection is not shown: {error}")


def trajectory_pictures(data: dict, index: int, inputs: ReportInputs) -> TrajectoryPictures:
    """All pictures of trajectory `index`; a failing picture becomes a problem note, never a failed report."""
    result = TrajectoryPictures()
    t = data["trajectories"][index]
    path = path_geometry(t)
    diameter = float(data.get("needle_outer_diameter_mm") or DEFAULT_NEEDLE_DIAMETER_MM)
    steps = [("3D view", lambda: _view3d(path, t, data, inputs, result, diameter))]
    if inputs.ct is not None:
        steps.append(("CT slices", lambda: _slices(path, inputs, result, diameter)))
    else:
        result.notes.append("no CT slices: the CT was not given to the report")
    single = len(data.get("trajectories") or []) == 1
    steps.append(("cement projections", lambda: _projections(t, inputs, result, single)))
    steps.append(("C-arm views", lambda: c_arm_pictures(data, t, inputs.base_dir, lambda *a, **k: _add(result, *a, **k))))
    for name, step in steps:
        try:
            step()
        except Exception as error:  # noqa: BLE001  one failed picture must not lose the plan's report
            result.problems.append(f"the {name} could not be drawn ({type(error).__name__}: {error})")
    return result
