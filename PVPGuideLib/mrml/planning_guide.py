"""The panel's guide plate (SPEC section 7): options from the settings, design, model node, STL, freshness, table rows."""

from __future__ import annotations

import importlib
import importlib.util
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..core.display import format_angle, format_length, format_volume_ml
from ..core.progress import Steps
from ..io.atomic_io import write_bytes_atomic
from ..planning.plan import infer_side
from ..planning.skin import SKIN_THRESHOLD_HU
from .planning_cement import FRESH_TOLERANCE_MM

# What PVPGuideLib.guide imports beyond numpy and scipy (which Slicer ships); imported only when a plate is built.
GUIDE_PACKAGES = ("manifold3d",)
COORDINATE_SYSTEMS = ("LPS", "RAS")
GUIDE_COLOR = (0.55, 0.85, 0.55)  # as in the command line's plan.mrb (plan_scene.py)
_STEPS = ["reading the CT", "extracting the skin surface", "building the guide plate", "writing the STL",
          "adding the guide model"]


def missing_guide_packages() -> list[str]:
    """The packages of GUIDE_PACKAGES this Python cannot import (e.g. Slicer's own Python before installing them)."""
    importlib.invalidate_caches()  # a package installed since the last look (slicer.util.pip_install) is found
    return [name for name in GUIDE_PACKAGES if importlib.util.find_spec(name) is None]


def guide_options(settings: dict):
    """GuideOptions from the panel's guide settings; the library's defaults for everything else."""
    from ..guide import GuideOptions

    return GuideOptions(base_thickness_mm=settings["guideBaseThicknessMm"],
                        fit_clearance_mm=settings["guideFitClearanceMm"],
                        runway_length_mm=GuideOptions.runway_length_mm if settings["guideRunwaySlot"] else 0.0,
                        midline_feature="ridge" if settings["guideSpinousLine"] else "none",
                        label=settings["guideLabel"])


def guide_inputs(a, c, side: str, settings: dict) -> dict:
    """What a plate is designed for (JSON): it is current while these still hold."""
    return {"A": None if a is None else [float(x) for x in a], "C": None if c is None else [float(x) for x in c],
            "side": side, "level": settings["level"], "needle_gauge": settings["needleGauge"],
            "skin_threshold_hu": settings["skinThresholdHu"], "landmarks": settings["vertebraLandmarks"],
            "options": {name: settings[name] for name in ("guideBaseThicknessMm", "guideFitClearanceMm",
                                                          "guideRunwaySlot", "guideSpinousLine", "guideLabel")}}


def guide_stale_reasons(designed: dict | None, current: dict) -> list[str]:
    """Why a stored plate no longer matches the plan ([] when it does)."""
    if not designed:
        return ["no record of what it was designed for"]
    reasons = []
    for name in ("A", "C"):
        if current[name] is None:
            reasons.append(f"{name} is not placed")
        elif designed.get(name) is None or np.linalg.norm(np.subtract(designed[name], current[name])) > FRESH_TOLERANCE_MM:
            reasons.append(f"{name} moved")
    labels = {"side": "the puncture side", "level": "the level", "needle_gauge": "the needle gauge",
              "skin_threshold_hu": "the skin threshold", "landmarks": "the vertebra landmarks",
              "options": "the guide options"}
    reasons += [f"{label} changed" for key, label in labels.items() if designed.get(key) != current[key]]
    return reasons


def guide_status(logic) -> list[str] | None:
    """None without a plate; [] while it matches A, C, side, level, gauge, skin, landmarks and options; else why not."""
    if logic.state.existing_parameter_node() is None:
        return None
    settings = logic.settings()
    if not settings["guideSection"]:
        return None
    if logic.node("guideModel") is None:
        return ["the guide plate's model was deleted"]
    try:
        a, b, c = (logic.point(name, required=False) for name in ("A", "B", "C"))
    except ValueError as error:
        return [str(error)]
    side = settings["side"]
    if side == "both" and b is not None and c is not None:
        side = infer_side(b, c, logic.landmarks().frame)
    return guide_stale_reasons(settings["guideInputs"], guide_inputs(a, c, side, settings))


def design_guide(logic, folder=None, *, progress=None) -> dict:
    """PlanningLogic.design_guide: build the plate for the current path, show it, store its section, write the STL."""
    from ..guide import GuideError, plan_guides
    from ..planning.plan import build_plan
    from ..planning.skin import SkinError

    steps = Steps(_STEPS if folder is not None else [s for s in _STEPS if s != "writing the STL"], progress)
    logic.state.ct_node()  # without a CT there is nothing to design on (not even a parameter node)
    folder = None if folder is None else Path(folder)
    if folder is not None and folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder} is a file, not a folder: choose a folder for the guide plate's STL")
    t = logic.trajectory()
    if t.a is None:
        raise GuideError("entry", "A (the skin entry) is not placed: use 'Find skin entry A' first; the plate sits on "
                                  "the skin around A")
    missing = missing_guide_packages()
    if missing:
        raise GuideError("booleans", f"the Python package(s) {', '.join(missing)} are not installed: in Slicer click "
                                     f"'Design guide plate' to install them, or run slicer.util.pip_install("
                                     f"'{' '.join(missing)}') (elsewhere: pip install {' '.join(missing)})")
    settings = logic.settings()
    options = guide_options(settings)
    try:
        skin = logic.state.skin(settings["skinThresholdHu"], steps)
    except SkinError as error:
        raise GuideError("skin", f"no skin surface to fit the plate to: {error}") from error
    inputs = guide_inputs(t.a, t.c, t.side, settings)
    key = (json.dumps(inputs, sort_keys=True), logic.state.skin_key(settings["skinThresholdHu"]))
    steps.start("building the guide plate")
    stage = Path(tempfile.mkdtemp(prefix="pvpguide-guide-"))
    try:
        if logic.state.guide_cache is not None and logic.state.guide_cache[0] == key:  # same plate: only the file is written
            from ..guide import write_guide

            result = logic.state.guide_cache[1]
            section = write_guide(result, stage, coordinate_system=settings["guideCoordinateSystem"])
        else:
            plan = build_plan(logic.state.ct_geometry(), skin, [t], needle_gauge=settings["needleGauge"])
            (result, section), = plan_guides(plan, stage, options=options,
                                             coordinate_system=settings["guideCoordinateSystem"])
            if result is None:
                raise ValueError(section["error"])  # names the step: "guide plate, step '...': ..."
        if folder is not None:
            steps.start("writing the STL")
            write_bytes_atomic(folder / section["stl"], (stage / section["stl"]).read_bytes())
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    logic.state.guide_cache = (key, result)
    steps.start("adding the guide model")
    _update_guide_model(logic, result.mesh, Path(section["stl"]).stem)
    params = logic.parameter_node()
    modifying = params.StartModify()
    params.SetParameter("guideSection", json.dumps(section, sort_keys=True, allow_nan=False))
    params.SetParameter("guideInputs", json.dumps(inputs, sort_keys=True, allow_nan=False))
    params.SetParameter("guideFolder", "" if folder is None else str(folder.resolve()))
    verdict = "passes every check" if section["passes"] else "FAILS a check: do not print it"
    params.SetParameter("status", f"guide plate {section['level']} {section['side']} {verdict}"
                        + "".join(f"; {w}" for w in section["warnings"])
                        + ("" if folder is None else f"; STL written to {folder / section['stl']}"))
    params.EndModify(modifying)
    steps.done()
    return section


def _update_guide_model(logic, mesh, name: str) -> None:
    """The model node 'guide_<level>_<side>' (the STL's name, as the command line names it): updated or added."""
    from .models import model_node_from_mesh, set_model_mesh

    node = logic.node("guideModel")
    if node is None:
        node = model_node_from_mesh(logic.scene, mesh, name, color=GUIDE_COLOR)
        logic.state.set_node("guideModel", node)
    else:
        set_model_mesh(node, mesh)
        node.SetName(name)


def add_guide_to_plan_json(logic, data: dict) -> None:
    """Put the current plate's section into plan.json's trajectory; an out-of-date plate is left out with a warning."""
    stale = guide_status(logic)
    if stale == []:
        data["trajectories"][0]["guide"] = logic.settings()["guideSection"]
    elif stale:
        data["warnings"].append("the guide plate is out of date (" + "; ".join(stale) + ") and is left out: design "
                                "it again")


def write_report_guide(logic, data: dict, folder: Path) -> dict:
    """Write the plan.json guide's STL into `folder` from the guide model; {(level, side): mesh} for the report."""
    section = data["trajectories"][0].get("guide")
    if not section:
        return {}
    from ..guide import write_stl
    from .models import mesh_from_model_node

    mesh = mesh_from_model_node(logic.node("guideModel"))
    write_stl(folder / section["stl"], mesh, coordinate_system=section["coordinate_system"],
              title=f"PVPGuide guide {section['level']} {section['side']}")
    t = data["trajectories"][0]
    return {(t["level"] or "", t["side"]): mesh}


def command_line_guide(params, first: dict, gauge) -> tuple[dict, dict, str]:
    """(settings, results, reference role) of the plate a `pvpguide plan`/`demo` scene built for its first path.

    The plate is adopted as built: its options become the panel's guide settings and what it was built for is
    recorded, so it stays current until A, C or a setting changes. A bilateral plate (two sleeves) is not the
    panel's one path and is left alone; so is a plan without a plate: ({}, {}, "").
    """
    section = first.get("guide")
    if not isinstance(section, dict) or not section.get("stl") or section.get("side") not in ("left", "right"):
        return {}, {}, ""
    try:
        options = section["options"]
        settings = {"guideBaseThicknessMm": options["base_thickness_mm"],
                    "guideFitClearanceMm": options["fit_clearance_mm"],
                    "guideRunwaySlot": options["runway_length_mm"] > 0,
                    "guideSpinousLine": options["midline_feature"] != "none", "guideLabel": bool(options["label"]),
                    "guideCoordinateSystem": section["coordinate_system"]}
        landmarks = {key: first.get(key) for key in ("vertebra_frame", "midsagittal_plane", "spinous_tip")}
        skin = json.loads(params.GetParameter("skin") or "null") or {}
        designed = {**settings, "level": first["level"], "needleGauge": gauge,
                    "skinThresholdHu": float(skin.get("threshold_hu", SKIN_THRESHOLD_HU)),
                    "vertebraLandmarks": landmarks if any(v is not None for v in landmarks.values()) else None}
        inputs = guide_inputs(first["points"]["A"], first["points"]["C"], section["side"], designed)
    except (KeyError, TypeError, ValueError):
        return {}, {}, ""  # a guide section the module cannot read: the panel can design the plate again
    return settings, {"guideSection": section, "guideInputs": inputs}, Path(section["stl"]).stem


def guide_rows(section: dict | None, stale: list[str] | None = None) -> list[tuple[str, str]]:
    """(property, value) rows for the panel's guide table (display.py rounding: 0.1 mm, 0.1 degree, 0.01 ml)."""
    if not section:
        return []
    rows = [("Out of date", "; ".join(stale) + ": design again")] if stale else []
    printable = section.get("watertight") and section.get("manifold") and not section.get("self_intersecting")
    rows += [
        ("Plate", f"{section.get('stl')} ({section.get('coordinate_system')}, mm)"),
        ("Passes every check", "yes" if section.get("passes") else "NO: do not print it"),
        ("Watertight, manifold", "yes" if printable else "NO"),
        ("Volume", format_volume_ml(_ml(section.get("volume_mm3")))),
        ("Thinnest wall", f"{format_length(section.get('min_wall_mm'))} "
                          f"(at least {format_length(section.get('min_wall_floor_mm'))})"),
        ("Fit deviation", f"{format_length(section.get('fit_deviation_mm'))} from the "
                          f"{format_length(section.get('fit_clearance_mm'))} clearance (tolerance 0.1 mm)"),
    ]
    for sleeve in section.get("sleeves", []):
        low, high = sleeve.get("sagittal_range_deg") or (None, None)
        rows += [
            (f"Sagittal range ({sleeve.get('side')})", f"{format_angle(low)} to {format_angle(high)} "
                                                       f"(plan {format_angle(sleeve.get('sagittal_deg'))})"),
            (f"Transverse angle ({sleeve.get('side')})", f"{format_angle(sleeve.get('transverse_deg'))} (fixed)"),
            (f"Bore axis to plan ({sleeve.get('side')})", f"{format_length(sleeve.get('axis_offset_mm'))}, "
                                                          f"{format_angle(sleeve.get('axis_angle_deg'))}"),
        ]
    rows += [("Note", warning) for warning in section.get("warnings", [])]
    return rows


def _ml(volume_mm3):
    return None if volume_mm3 is None else volume_mm3 / 1000.0
