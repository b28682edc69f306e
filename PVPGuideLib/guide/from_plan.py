"""Guide plates for a whole plan: one plate per level (two sleeves when both sides are planned), written out."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .build import GuideOptions, GuideResult, GuideTrajectory, build_guide
from .errors import GuideError
from .output import guide_file_name, write_guide

_SCANNER_SUPERIOR = np.array([0.0, 0.0, 1.0])


def plan_guides(plan, out_dir, *, options: GuideOptions | None = None, coordinate_system: str = "LPS",
                bilateral: bool = True) -> list[tuple[GuideResult | None, dict]]:
    """Build and write the guide plate(s) of a plan; [(result or None, plan.json `guide` section), ...].

    plan : a PVPGuideLib.planning.plan.Plan (uses plan.skin.mesh, plan.needle_gauge and each trajectory's level,
    side, a, c and landmarks: frame, midline plane, spinous tip). Trajectories of one level with both
    sides share one plate when `bilateral`. A plate that cannot be built is reported in its section
    (`stl` null, `error` the reason) and the others are still made: the plan is saved either way.
    """
    if plan.skin is None:
        return []
    groups: OrderedDict[str, list] = OrderedDict()
    for t in plan.trajectories:
        key = t.level if bilateral else f"{t.level}/{t.side}"
        groups.setdefault(key, []).append(t)
    results = []
    for members in groups.values():
        with_entry = [t for t in members if t.a is not None]
        sides = tuple(sorted(t.side for t in members))
        if not with_entry or len(with_entry) != len(members) or (len(members) == 2 and sides != ("left", "right")):
            reason = ("A (the skin entry) is missing" if len(with_entry) != len(members)
                      else "two paths of one level must be one left and one right")
            results.append((None, _failed(members, reason, coordinate_system)))
            continue
        try:
            result = build_guide(plan.skin.mesh, [_guide_trajectory(t, plan.needle_gauge) for t in members],
                                 options=options, **_landmarks(members))
            results.append((result, write_guide(result, out_dir, coordinate_system=coordinate_system)))
        except GuideError as error:
            results.append((None, _failed(members, str(error), coordinate_system)))
    return results


def _guide_trajectory(t, needle_gauge) -> GuideTrajectory:
    return GuideTrajectory(t.a, t.c, t.side, needle_gauge, t.level)


def _landmarks(members) -> dict:
    marks = members[0].landmarks
    frame = marks.frame
    tips = [t.landmarks.spinous_tip for t in members if t.landmarks.spinous_tip is not None]
    return {
        "frame_superior": _SCANNER_SUPERIOR if frame is None else frame.superior,
        "frame_anterior": None if frame is None else frame.anterior,
        "midline_point": marks.midline_point,
        "midline_normal": marks.midline_normal,
        "spinous_tips": tips[:1] or None,
    }


def _failed(members, reason: str, coordinate_system: str) -> dict:
    return {
        "stl": None,
        "coordinate_system": coordinate_system,
        "units": "mm",
        "level": members[0].level,
        "side": "bilateral" if len(members) == 2 else members[0].side,
        "planned_stl": guide_file_name(members[0].level, [t.side for t in members]),
        "passes": False,
        "error": reason,
    }
