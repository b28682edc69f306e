"""A planned trajectory (A, B, C and everything measured on it) and a whole plan, built from a CT and points."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np

from ..core import geometry
from ..core.geometry import GridPosition, NeedleAngles, PathLengths, SkinGrid, VertebraFrame, as_point
from ..core.needles import DEFAULT_NEEDLE_GAUGE, needle_outer_diameter_mm
from ..core.volume import CTVolume
from ..errors import PVPGuideError
from .skin import SkinEntryStatus, SkinSurface, find_skin_entry


@dataclass(frozen=True, eq=False)
class VertebraLandmarks:
    """What a plan needs to know of a vertebra beyond B and C (all optional)."""

    frame: VertebraFrame | None = None
    midline_point: np.ndarray | None = None
    midline_normal: np.ndarray | None = None
    spinous_tip: np.ndarray | None = None


def _freeze(obj, *names: str) -> None:
    """Store the named fields as read-only views over copies, so that in-place changes raise (attach with with_*)."""
    for name in names:
        object.__setattr__(obj, name, MappingProxyType(dict(getattr(obj, name))))


class _Attached:
    """with_sections / with_artifacts of the frozen Trajectory and Plan: each returns a new object."""

    def with_sections(self, **sections):
        """A copy with these plan.json sections attached (a name already there keeps its place in plan.json)."""
        return replace(self, sections={**self.sections, **sections})

    def with_artifacts(self, **artifacts):
        """A copy with these non-JSON results (masks, scores, meshes, DRRs) attached."""
        return replace(self, artifacts={**self.artifacts, **artifacts})


@dataclass(frozen=True, eq=False)
class Trajectory(_Attached):
    """One planned path; frozen: sections and artifacts are attached by with_sections/with_artifacts (new objects)."""

    level: str
    side: str
    a: np.ndarray | None
    b: np.ndarray
    c: np.ndarray
    skin_status: SkinEntryStatus
    angles_scanner: NeedleAngles
    angles_vertebra: NeedleAngles | None
    lengths: PathLengths
    entry_offsets: geometry.EntryOffsets
    grid_position: GridPosition | None
    landmarks: VertebraLandmarks
    warnings: tuple[str, ...] = ()
    # Later capabilities (safety, cement, guide) attach their JSON sections here by name...
    sections: Mapping = field(default_factory=dict)
    # ...and what is not JSON (cement mask and scores, meshes) here, for the scene and the pictures.
    artifacts: Mapping = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "warnings", tuple(self.warnings))
        _freeze(self, "sections", "artifacts")


@dataclass(frozen=True, eq=False)
class Plan(_Attached):
    """The CT, the skin and the trajectories; frozen like Trajectory (attach with the with_* methods)."""

    ct: CTVolume
    skin: SkinSurface | None
    needle_gauge: int
    trajectories: tuple[Trajectory, ...]
    warnings: tuple[str, ...] = ()
    grid: SkinGrid | None = None
    sections: Mapping = field(default_factory=dict)
    artifacts: Mapping = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "trajectories", tuple(self.trajectories))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        _freeze(self, "sections", "artifacts")

    def with_trajectories(self, trajectories) -> Plan:
        """A copy with these trajectories (each usually a with_* copy of the plan's own)."""
        return replace(self, trajectories=tuple(trajectories))

    def with_warnings(self, warnings) -> Plan:
        """A copy with these warnings added after the plan's own."""
        return replace(self, warnings=self.warnings + tuple(warnings))

    @property
    def needle_outer_diameter_mm(self) -> float:
        return needle_outer_diameter_mm(self.needle_gauge)


def infer_side(b, c, frame: VertebraFrame | None = None) -> str:
    """The puncture side: B lies on the patient's left of C for a left entry."""
    frame = frame or geometry.SCANNER_FRAME
    offset_right = float(np.dot(as_point(b, "B") - as_point(c, "C"), frame.right))
    return "left" if offset_right < 0 else "right"


def check_points(ct: CTVolume, **points) -> None:
    """Each named point lies inside the CT, and the path between them is not degenerate (fail fast, cheap)."""
    named = {name: as_point(p, name) for name, p in points.items() if p is not None}
    for name, p in named.items():
        ct.require_inside(name, p)
    if "B" in named and "C" in named:
        geometry.needle_direction(named["B"], named["C"])


def plan_trajectory(ct: CTVolume, skin: SkinSurface | None, *, b, c, side: str | None = None, level: str = "",
                    landmarks: VertebraLandmarks | None = None, grid: SkinGrid | None = None) -> Trajectory:
    """Measure one trajectory: find A on the skin from C->B, then angles, lengths, offsets (SPEC sections 3-4).

    B and C must lie inside the CT and at least 1 mm apart. Without skin (or when the skin is out of the
    field of view) A is None and the reason is in the warnings.
    """
    b, c = as_point(b, "B"), as_point(c, "C")
    check_points(ct, B=b, C=c)
    direction = geometry.needle_direction(b, c)  # raises for a degenerate path (B equal to C)
    landmarks = landmarks or VertebraLandmarks()
    frame = landmarks.frame
    warnings: list[str] = []
    if side is None:
        side = infer_side(b, c, frame)
    geometry.check_side(side)
    if infer_side(b, c, frame) != side:
        warnings.append(f"B lies on the {infer_side(b, c, frame)} of C although the puncture side is {side}: "
                        "check the side or swap the points")

    if skin is None:
        a, status = None, SkinEntryStatus.NO_SKIN_CROSSING
        warnings.append("no skin surface was given, so A was not found")
    else:
        entry = find_skin_entry(skin, b, c)
        a, status = entry.point, entry.status
        if a is None:
            warnings.append(entry.message)

    superior = frame.superior if frame is not None else geometry.SCANNER_FRAME.superior
    offsets = geometry.entry_offsets(a, midline_point=landmarks.midline_point, midline_normal=landmarks.midline_normal,
                                     spinous_tip=landmarks.spinous_tip, superior_axis=superior)
    return Trajectory(
        level=level,
        side=side,
        a=a,
        b=b,
        c=c,
        skin_status=status,
        # Angles use the needle direction, which B->C and A->C share (A lies on the line C->B).
        angles_scanner=geometry.needle_angles(direction, side),
        angles_vertebra=None if frame is None else geometry.needle_angles(direction, side, frame),
        lengths=geometry.path_lengths(a, b, c),
        entry_offsets=offsets,
        grid_position=None if (grid is None or a is None) else geometry.locate_on_grid(a, grid),
        landmarks=landmarks,
        warnings=tuple(warnings),
    )


def build_plan(ct: CTVolume, skin: SkinSurface | None, trajectories, *, needle_gauge: int = DEFAULT_NEEDLE_GAUGE,
               grid: SkinGrid | None = None, warnings=()) -> Plan:
    needle_outer_diameter_mm(needle_gauge)  # validates the gauge
    trajectories = tuple(trajectories)
    if not trajectories:
        raise PVPGuideError("a plan needs at least one trajectory: give B and C (or a vertebra label) for one side of "
                            "one level")
    all_warnings = list(warnings)
    for t in trajectories:
        all_warnings.extend(f"{t.level or 'level ?'} {t.side}: {w}" for w in t.warnings)
    return Plan(ct, skin, int(needle_gauge), trajectories, tuple(all_warnings), grid)
