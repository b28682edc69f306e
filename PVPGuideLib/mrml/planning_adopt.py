"""A scene made by `pvpguide plan`/`demo` opened in the module: its plan's settings and results adopted."""

from __future__ import annotations

import json

from ..core.needles import needle_outer_diameter_mm
from .planning_fields import COMMAND_LINE_BODY, FIELDS
from .planning_guide import command_line_guide
from .planning_values import encode, set_reference

# References written by `pvpguide plan`/`demo` (PVPGuideLib.mrml.plan_scene), adopted when such a scene is opened.
COMMAND_LINE_ROLES = {"ctVolume": "ct", "skinModel": "skin", "pointA": "A", "pointB": "B", "pointC": "C",
                      "trajectoryLine": "trajectory", "vertebraSegmentation": "vertebrae",
                      "cementSegmentation": "cement"}
# The keys of a plan.json trajectory that `measure` writes too (the capability sections are not measurements).
MEASUREMENT_KEYS = ("level", "side", "points", "skin_entry", "angles_deg", "lengths_mm", "entry_offsets_mm",
                    "grid_position", "vertebra_frame", "midsagittal_plane", "spinous_tip", "warnings")


def adopt_command_line_plan(params) -> None:
    """Take settings and results from a plan.json that `pvpguide plan`/`demo` stored in the parameter node."""
    # The module plans one trajectory at a time: the first one of the plan is adopted.
    try:
        gauge = json.loads(params.GetParameter("needle_gauge") or "null")
        trajectories = json.loads(params.GetParameter("trajectories") or "[]")
    except ValueError:
        return
    first = trajectories[0] if trajectories and isinstance(trajectories[0], dict) else {}
    settings = {"needleGauge": gauge, "level": first.get("level"), "side": first.get("side")}
    vertebrae = params.GetNodeReference("vertebrae")
    if (vertebrae is not None and isinstance(first.get("level"), str)
            and vertebrae.GetSegmentation().GetSegment(first["level"]) is not None):
        settings["vertebraSegmentId"] = first["level"]
    cement = first.get("cement")
    if isinstance(cement, dict):
        settings["plannedCementVolumeMl"] = cement.get("planned_volume_ml")
    guide_settings, guide_results, guide_role = command_line_guide(params, first, gauge)
    for name, value in {**settings, **guide_settings}.items():
        try:
            params.SetParameter(name, encode(FIELDS[name], value))
        except ValueError:
            pass  # absent or not a value the module knows: the default applies
    try:
        results = command_line_results(first, gauge, settings.get("vertebraSegmentId"))
    except (KeyError, TypeError, ValueError):
        return  # a plan.json the module cannot read: the panel starts from the points
    for name, value in {**results, **guide_results}.items():
        params.SetParameter(name, json.dumps(value, sort_keys=True, allow_nan=False))
    if guide_role:
        set_reference(params, "guideModel", params.GetNodeReference(guide_role))


def command_line_results(first: dict, gauge, segment_id: str | None) -> dict:
    """{result name: JSON value} of the module's results held in a command-line plan's first trajectory."""
    results = {}
    if all(key in first for key in MEASUREMENT_KEYS):
        results["measurements"] = {key: first[key] for key in MEASUREMENT_KEYS}
        results["measurements"]["needle"] = {"gauge": gauge, "outer_diameter_mm": needle_outer_diameter_mm(gauge)}
    landmarks = {key: first.get(key) for key in ("vertebra_frame", "midsagittal_plane", "spinous_tip")}
    if any(value is not None for value in landmarks.values()):
        results["vertebraLandmarks"] = landmarks
    if first.get("skin_entry") == "found":
        results["skinEntryPoint"] = [float(x) for x in first["points"]["A"]]
    cement = first.get("cement")
    if isinstance(cement, dict):
        # the projection pictures stay in the command line's output folder; they are not in the scene
        results["cementSection"] = {key: value for key, value in cement.items() if key != "projections"}
        results["cementInputs"] = {"B": first["points"]["B"], "C": first["points"]["C"], "side": first["side"],
                                   "volume_ml": float(cement["planned_volume_ml"]), "vertebra_segment": segment_id,
                                   "body_segment": "", "body": COMMAND_LINE_BODY}
    return results
