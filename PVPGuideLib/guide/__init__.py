"""Guide plate: a printable, skin-fitting needle guide built with robust boolean meshing (SPEC section 7)."""

from .build import GuideOptions, GuideResult, GuideTrajectory, SleeveReport, build_guide
from .errors import GuideError
from .from_plan import plan_guides
from .output import guide_file_name, guide_section, write_guide, write_replica
from .replica import ReplicaResult, build_replica
from .stl import read_stl, write_stl

__all__ = [
    "GuideError",
    "GuideOptions",
    "GuideResult",
    "GuideTrajectory",
    "ReplicaResult",
    "SleeveReport",
    "build_guide",
    "build_replica",
    "guide_file_name",
    "guide_section",
    "plan_guides",
    "read_stl",
    "write_guide",
    "write_replica",
    "write_stl",
]
