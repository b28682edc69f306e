"""Warnings in plain words (the plan's own plus what the sections imply) and the list of steps not run."""

from __future__ import annotations

from .formatting import format_value
from .sections_html import PSBCV_VV_THRESHOLD_PERCENT, check_name, humanize, safety_checks

GUIDE_MIN_WALL_FLOOR_MM = 1.5  # SPEC section 7 default floor


def trajectory_title(t: dict) -> str:
    return f"{t.get('level') or 'level ?'} {t.get('side') or ''}".strip()


def plain_warnings(data: dict) -> list[str]:
    """Everything a reader must notice, in plan order; the plan's warnings first."""
    out = [str(w) for w in data.get("warnings") or []]
    for t in data.get("trajectories") or []:
        title = trajectory_title(t)
        safety = t.get("safety")
        if isinstance(safety, (dict, list)):
            for path, check in safety_checks(safety):
                verdict = str(check.get("verdict", "")).lower()
                if verdict in ("fail", "warn"):
                    what = "failed" if verdict == "fail" else "needs attention"
                    distance = check.get("distance_mm")
                    at = f" (distance {format_value('length', distance)})" if distance is not None else ""
                    message = f": {check['message']}" if check.get("message") else ""
                    out.append(f"{title}: safety check '{humanize(check_name(path, check))}' {what}{at}{message}")
        cement = t.get("cement")
        if isinstance(cement, dict) and cement.get("psbcv_vv_over_threshold"):
            threshold = cement.get("psbcv_vv_threshold_percent", PSBCV_VV_THRESHOLD_PERCENT)
            out.append(f"{title}: cement on the puncture side is {format_value('percent', cement.get('psbcv_vv_percent'))} "
                       f"of the body volume, above {threshold} %: a raised risk of paravertebral venous leakage")
        guide = t.get("guide")
        if isinstance(guide, dict):
            if guide.get("watertight") is False:
                out.append(f"{title}: the guide plate mesh is not watertight; do not print it")
            wall = guide.get("min_wall_mm")
            floor = guide.get("min_wall_floor_mm", GUIDE_MIN_WALL_FLOOR_MM)
            if isinstance(wall, (int, float)) and wall < floor:
                out.append(f"{title}: the guide plate's thinnest wall is {format_value('length', wall)}, "
                           f"under the {format_value('length', floor)} floor")
    return out


def not_run(data: dict) -> list[str]:
    """Steps whose section is absent from plan.json, said plainly per trajectory."""
    out = []
    for t in data.get("trajectories") or []:
        title = trajectory_title(t)
        missing = [text for key, text in (("safety", "safety checks not run"), ("cement", "cement prediction not run"),
                                          ("guide", "guide plate not designed")) if t.get(key) is None]
        if missing:
            out.append(f"{title}: " + "; ".join(missing))
    return out
