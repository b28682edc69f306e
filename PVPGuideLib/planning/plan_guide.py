"""Add the guide plate(s) of SPEC section 7 to a plan: STL files written, `guide` sections and meshes attached."""

from __future__ import annotations

import os

from ..guide import GuideOptions, plan_guides
from ..guide.slicer import plate_orientations, print_section
from .plan import Plan


def add_guide_plates(plan: Plan, out_dir, *, options: GuideOptions | None = None,
                     coordinate_system: str = "LPS", slicing: bool | None = None) -> Plan:
    """Build one plate per level (two sleeves for a bilateral level), write guide_<level>_<side>.stl into out_dir.

    Returns the plan with every trajectory's plate `guide` section (both sides of a bilateral plate share it),
    the meshes (RAS) in artifacts['guide_meshes'] keyed (level, side) of each trajectory, and the warnings added,
    including plates that could not be built (their section says why; the plan is kept).

    Each built plate's section gets `print`: the orientation needing the fewest supports and, when
    PrusaSlicer is installed, its estimated print time and filament (default profile, docs/guide-plate.md);
    "not sliced" otherwise. slicing None: on unless the environment sets PVPGUIDE_SLICE=0.
    """
    if slicing is None:
        slicing = os.environ.get("PVPGUIDE_SLICE", "1") != "0"
    warnings = []
    meshes = dict(plan.artifacts.get("guide_meshes", {}))
    trajectories = list(plan.trajectories)
    for result, section in plan_guides(plan, out_dir, options=options, coordinate_system=coordinate_system):
        if result is not None:
            section["print"] = print_section(result.mesh, plate_orientations(result.frame), slicing=slicing)
        level, side = section["level"], section["side"]
        where = f"{level or 'level ?'} {side}"
        for n, t in enumerate(trajectories):
            if t.level == level and side in ("bilateral", t.side):
                trajectories[n] = t.with_sections(guide=section)
                if result is not None:
                    meshes[(level, t.side)] = result.mesh
        if result is None:
            warnings.append(f"{where}: no guide plate: {section.get('error', 'it could not be built')}")
        else:
            warnings.extend(f"{where}: guide plate: {w}" for w in section.get("warnings", []))
    return plan.with_trajectories(trajectories).with_artifacts(guide_meshes=meshes).with_warnings(warnings)
