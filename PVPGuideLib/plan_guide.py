"""Add the guide plate(s) of SPEC section 7 to a plan: STL files written, `guide` sections and meshes attached."""

from __future__ import annotations

from .guide import GuideOptions, plan_guides
from .plan import Plan


def add_guide_plates(plan: Plan, out_dir, *, options: GuideOptions | None = None,
                     coordinate_system: str = "LPS") -> list[str]:
    """Build one plate per level (two sleeves for a bilateral level), write guide_<level>_<side>.stl into out_dir.

    Every trajectory gets its plate's `guide` section (both sides of a bilateral plate share it); the meshes
    (RAS) go to plan.artifacts['guide_meshes'] keyed (level, side) of each trajectory. Returns the warnings,
    including plates that could not be built (their section says why; the plan is kept).
    """
    warnings = []
    meshes = plan.artifacts.setdefault("guide_meshes", {})
    for result, section in plan_guides(plan, out_dir, options=options, coordinate_system=coordinate_system):
        level, side = section["level"], section["side"]
        where = f"{level or 'level ?'} {side}"
        for t in plan.trajectories:
            if t.level == level and side in ("bilateral", t.side):
                t.sections["guide"] = section
                if result is not None:
                    meshes[(level, t.side)] = result.mesh
        if result is None:
            warnings.append(f"{where}: no guide plate: {section.get('error', 'it could not be built')}")
        else:
            warnings.extend(f"{where}: guide plate: {w}" for w in section.get("warnings", []))
    return warnings
