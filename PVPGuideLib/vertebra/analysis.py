"""Vertebra analysis: body and posterior elements, endplates, midsagittal plane, canal, pedicles, transverse and
spinous processes, and the SPEC section 4 vertebra frame, for a vertebra in any pose on any CT grid.

Method: a first guess of the axes (orientation.py), then repeatedly: sample the masks on a grid aligned with
the current axes, find the canal (the hole seen along the superior axis), the body (given, or the vertebra
in front of the canal), its endplate planes and centre, and rebuild the frame from them (superior = bisector
of the endplate normals, anterior = canal centre -> body centre) until it stops turning. A last pass on a
finer grid gives the landmarks; pedicles and processes are read in that final frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from ..core.compat import strict_zip
from ..core.geometry import SIDES, VertebraFrame
from ..planning.plan import VertebraLandmarks
from .body import BodyExtent, Endplates, body_extent, fit_endplates, mid_height_section, posterior_wall_rise
from .canal import Canal, find_canal
from .canal_slices import CanalSlices, canal_slices
from .errors import VertebraError
from .local_grid import LocalGrid, sample_points
from .masks import VertebraMasks
from .orientation import initial_axes
from .pedicles import Pedicle, find_pedicle, isthmus_pedicle
from .plausibility import (
    body_width,
    consistent_pair,
    mirrored_if_unreliable,
    pedicle_cautions,
    plausibility_cautions,
    plausibility_notes,
)
from .processes import TransverseProcess, find_spinous_tip, find_transverse_process

COARSE_STEP_MM = 1.0
# The final grid: half the CT's finest spacing, within these bounds (mm).
FINE_STEP_MM = (0.4, 1.0)
GRID_MARGIN_MM = 4.0
# The fine grid reaches this far beyond the body's sides: past the pedicles' lateral borders.
PEDICLE_REACH_MM = 12.0
MAX_ITERATIONS = 4
# The canal is read over the body's middle heights: this fraction of the body's height each side of mid-height.
CANAL_BAND_FRACTION = 0.3
CONVERGED_DEG = 0.1
FACE_NAMES = {"i-": "first-column", "i+": "last-column", "j-": "first-row", "j+": "last-row",
              "k-": "first-slice", "k+": "last-slice"}


@dataclass(frozen=True)
class _Measures:
    grid: LocalGrid
    canal: Canal
    endplates: Endplates
    body: BodyExtent
    vertebra: np.ndarray
    body_values: np.ndarray

    def frame(self) -> VertebraFrame:
        canal_centre = np.array([self.canal.centre[0], self.canal.centre[1], self.body.centre[2]])
        return VertebraFrame.from_landmarks(superior_axis=self.grid.vector_to_ras(self.endplates.bisector),
                                            canal_centre=self.grid.to_ras(canal_centre)[0],
                                            body_centre=self.grid.to_ras(self.body.centre)[0])


@dataclass(frozen=True, eq=False)
class VertebraAnalysis:
    """Everything measured on one vertebra. Local coordinates are the final grid's: origin near the body centre,
    axes (right, anterior, superior) of the vertebra frame; RAS via to_ras / to_local."""

    masks: VertebraMasks
    grid: LocalGrid
    frame: VertebraFrame
    endplates: Endplates
    body: BodyExtent
    canal: Canal
    pedicles: dict[str, Pedicle]
    transverse_processes: dict[str, TransverseProcess]
    spinous_tip_local: np.ndarray
    iterations: int
    notes: tuple[str, ...]
    vertebra_values: np.ndarray  # float32 crop of the vertebra mask, for sampling
    body_values: np.ndarray | None  # float32 crop of the body mask when given
    body_width_mm: float = float("nan")  # the body's outline along the right axis, through its centre
    canal_slices: CanalSlices | None = None  # the canal slice by slice (SPEC 5), for the safety checks
    cautions: tuple[str, ...] = ()  # implausible measurements: every safety verdict is at best warn
    # implausible measurements of one side's pedicle: the verdicts of the paths entering on that side are at best warn
    side_cautions: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def level(self) -> str:
        return self.masks.level

    def cautions_for(self, side: str) -> tuple[str, ...]:
        """The cautions that cap the safety verdicts of a path entering on `side`."""
        return tuple(self.cautions) + tuple(self.side_cautions.get(side, ()))

    def to_ras(self, local) -> np.ndarray:
        return self.grid.to_ras(local)

    def to_local(self, ras) -> np.ndarray:
        return self.grid.to_local(ras)

    # ---- landmarks in RAS
    @property
    def body_centre(self) -> np.ndarray:
        return self.to_ras(self.body.centre)[0]

    @property
    def canal_centre(self) -> np.ndarray:
        return self.to_ras([self.canal.centre[0], self.canal.centre[1], self.body.centre[2]])[0]

    def endplate_centre(self, which: str) -> np.ndarray:
        """Point of the superior or inferior endplate plane above / below the body centre."""
        x, y = self.body.centre[:2]
        z = self.endplates.superior_z(x, y) if which == "superior" else self.endplates.inferior_z(x, y)
        return self.to_ras([x, y, z])[0]

    @property
    def spinous_tip(self) -> np.ndarray:
        return self.to_ras(self.spinous_tip_local)[0]

    @property
    def midsagittal_normal(self) -> np.ndarray:
        return self.frame.right.copy()

    def landmarks(self) -> VertebraLandmarks:
        """What plan.plan_trajectory needs: frame, midsagittal plane, spinous-process tip."""
        return VertebraLandmarks(frame=self.frame, midline_point=self.body_centre, midline_normal=self.midsagittal_normal,
                                 spinous_tip=self.spinous_tip)

    # ---- sampling, for line searches and safety checks
    def bone_at(self, points_ras) -> np.ndarray:
        """(n,) vertebra mask value (0 outside, 1 inside, 0.5 on the surface) at RAS points."""
        return sample_points(self.vertebra_values, self.masks.ijk_to_ras, points_ras)

    def body_at(self, points_ras) -> np.ndarray:
        """(n,) body mask value at RAS points (the given body, else the vertebra in front of the canal)."""
        if self.body_values is not None:
            return sample_points(self.body_values, self.masks.ijk_to_ras, points_ras)
        in_front = self.to_local(points_ras)[:, 1] >= self.canal.front_y
        return np.where(in_front, self.bone_at(points_ras), 0.0)

    def canal_distance(self, points_ras) -> np.ndarray:
        """(n,) signed distance (mm) from the canal, negative inside it: slice by slice at each point's height
        (lateral recesses included) when the per-slice canal was measured, else from the projected canal."""
        if self.canal_slices is not None:
            return self.canal_slices.distance_at(self.to_local(points_ras))
        return self.canal.distance_at(self.grid, self.to_local(points_ras))

    def to_json(self) -> dict:
        """The landmarks in RAS (plan.json's `vertebra` section)."""
        pedicles = {}
        for side, p in sorted(self.pedicles.items()):
            direction = self.grid.vector_to_ras(p.direction)
            pedicles[side] = {
                "axis_point": _list(self.to_ras(p.axis_point)[0]),
                "axis_direction": _list(direction),
                "medial_border": {"point": _list(self.to_ras(p.border_point("medial"))[0]), "direction": _list(direction)},
                "lateral_border": {"point": _list(self.to_ras(p.border_point("lateral"))[0]), "direction": _list(direction)},
                "isthmus_width_mm": p.width,
                "height_mm": p.height,
                "convergence_deg": p.convergence_deg,
                "read_by": p.method,  # border lines, isthmus, narrowest section, or mirrored from the other side
            }
        processes = {}
        for side, tp in sorted(self.transverse_processes.items()):
            processes[side] = {
                "found": tp.found,
                "mid_height_point": _list(self.to_ras([self.pedicles[side].border_point("lateral")[0],
                                                       self.pedicles[side].isthmus_y, tp.mid_z])[0]),
                "centroid": None if tp.centroid is None else _list(self.to_ras(tp.centroid)[0]),
                "tip": None if tp.tip is None else _list(self.to_ras(tp.tip)[0]),
            }
        return {
            "level": self.level,
            "source": self.masks.source,
            "frame": self.frame.to_json(),
            "body_centre": _list(self.body_centre),
            "superior_endplate": {"centre": _list(self.endplate_centre("superior")),
                                  "normal": _list(self.grid.vector_to_ras(Endplates.normal(self.endplates.superior)))},
            "inferior_endplate": {"centre": _list(self.endplate_centre("inferior")),
                                  "normal": _list(self.grid.vector_to_ras(Endplates.normal(self.endplates.inferior)))},
            "body_depth_mm": self.body.depth,
            "body_width_mm": self.body_width_mm,
            "body_height_mm": float(self.endplates.superior_z(*self.body.centre[:2])
                                    - self.endplates.inferior_z(*self.body.centre[:2])),
            "midsagittal_plane": {"point": _list(self.body_centre), "normal": _list(self.midsagittal_normal)},
            "canal": {"centre": _list(self.canal_centre), "width_mm": self.canal.width, "depth_mm": self.canal.depth,
                      "closing_mm": self.canal.closing_mm},
            "pedicles": pedicles,
            "transverse_processes": processes,
            "spinous_tip": _list(self.spinous_tip),
            "iterations": self.iterations,
            "notes": list(self.notes),
            "cautions": list(self.cautions),
            "side_cautions": {side: list(c) for side, c in sorted(self.side_cautions.items())},
        }


def _list(v) -> list[float]:
    return [float(x) for x in np.asarray(v).ravel()]


def analyse_vertebra(masks: VertebraMasks) -> VertebraAnalysis:
    """Analyse one vertebra (VertebraMasks from inputs.vertebra_from_labels or segment.vertebra_from_ct).

    Raises VertebraError naming what could not be found; when the vertebra touches the border of the CT,
    the message says so (the missing part is the likely cause).
    """
    try:
        return _analyse(masks)
    except VertebraError as error:
        if not masks.cut_faces:
            raise
        faces = ", ".join(FACE_NAMES.get(face, face) for face in masks.cut_faces)
        raise VertebraError(f"{error} (the vertebra touches the border of the CT's field of view at the {faces} face(s): "
                            "part of it may be outside the scan)") from None


def _analyse(masks: VertebraMasks) -> VertebraAnalysis:
    ct = masks.ct
    vertebra_values = masks.vertebra.astype(np.float32)
    body_values = None if masks.body is None else masks.body.astype(np.float32)
    points = masks.points_ras(masks.vertebra)
    origin, rotation, _ = initial_axes(masks)
    first_guess = (origin, rotation)
    fine_step = float(np.clip(0.5 * ct.spacing.min(), *FINE_STEP_MM))
    coarse_step = max(COARSE_STEP_MM, fine_step)
    iterations, turned, coarse, guess_notes = 0, 180.0, None, []
    while iterations < MAX_ITERATIONS and turned >= CONVERGED_DEG:
        grid = LocalGrid.covering(origin, rotation, points, step=coarse_step, margin_mm=GRID_MARGIN_MM)
        try:
            coarse = _measure(grid, masks, vertebra_values, body_values)
        except VertebraError:
            if guess_notes:
                raise
            # A wedge-shaped body (L5, a fracture) can have its shortest principal axis far from its superior axis;
            # seen along that axis the ring shows no hole. Patients lie along the scanner's S axis: start again
            # from it (kept square to the first guess's right axis) before giving up.
            origin, rotation = first_guess[0], _scanner_superior(first_guess[1])
            iterations, turned = 0, 180.0
            guess_notes.append("the body's principal axes showed no canal; the first guess of the superior axis "
                               "was taken from the scanner's S axis instead")
            continue
        frame = coarse.frame()
        turned = _angle_between(rotation, frame.rotation)
        origin, rotation = frame.origin, frame.rotation
        iterations += 1
    # The fine pass, in the last frame, covers the body and the ring around the canal (where sub-millimetre
    # detail matters); the last coarse pass, at most CONVERGED_DEG away, gives its extent.
    fine_grid = _fine_grid(coarse, fine_step, origin, rotation)
    fine = _measure(fine_grid, masks, vertebra_values, body_values)
    frame = fine.frame()
    posterior = np.clip(fine.vertebra - fine.body_values, 0.0, 1.0)
    voxel_mm = float(np.prod(ct.spacing) ** (1.0 / 3.0))
    rise = posterior_wall_rise(fine_grid, fine.vertebra, fine.canal.centre, fine.endplates)
    pedicles, failures = {}, {}
    for side in SIDES:
        try:
            pedicles[side] = find_pedicle(fine_grid, posterior, fine.canal, side, voxel_mm=voxel_mm, rise=rise,
                                          level=masks.level, vertebra=fine.vertebra)
        except VertebraError as error:
            failures[side] = str(error)
    if len(failures) == len(SIDES):
        raise VertebraError(failures["left"])
    midline_x = float(fine.body.centre[0])
    pedicles, isthmus_notes = _second_reading(fine_grid, posterior, fine.vertebra, fine.canal, pedicles, failures,
                                              rise, masks.level)
    pedicles, mirrored = mirrored_if_unreliable(masks.level, pedicles, failures, midline_x)
    # Processes reach far out and back: read them on a coarse grid with the same local coordinates.
    whole = LocalGrid.covering(fine_grid.origin, fine_grid.rotation, points, step=coarse_step, margin_mm=GRID_MARGIN_MM)
    whole_vertebra = whole.sample(vertebra_values, masks.ijk_to_ras)
    if body_values is not None:
        whole_posterior = np.clip(whole_vertebra - whole.sample(body_values, masks.ijk_to_ras), 0.0, 1.0)
    else:
        whole_posterior = whole_vertebra * (whole.axis(1) < fine.canal.front_y)[None, :, None]
    processes = {side: find_transverse_process(whole, whole_posterior, fine.canal, pedicles[side]) for side in SIDES}
    notes = list(masks.notes) + guess_notes + isthmus_notes + [mirrored[side].note for side in sorted(mirrored)]
    for side, tp in processes.items():
        if not tp.found:
            notes.append(f"no {side} transverse process found lateral to the pedicle: its mid-height is taken as the "
                         "pedicle's centre height")
    for name, fraction in strict_zip(("superior", "inferior"), fine.endplates.cut_fractions):
        if fraction > 0.02:
            notes.append(f"{100 * fraction:.0f} % of the {name} endplate lies at or beyond the border of the CT; its "
                         "plane is fitted to the part in view")
    if fine.canal.closing_mm > 0:
        notes.append(f"the ring around the canal is open in the segmentation; closed by {fine.canal.closing_mm:g} mm "
                     "to find the canal")
    width = body_width(fine_grid, fine.body_values, fine.body.centre[1])
    notes += plausibility_notes(masks.level, pedicles, width, fine.canal)
    # A segmentation's bone surface is uncertain by about one voxel (partial volume at the border, automatic
    # labels): in an open slice only bone deeper than the coarsest voxel is surely not canal.
    slices = canal_slices(fine_grid, fine.vertebra, fine.canal, bone_uncertainty_mm=float(np.max(ct.spacing)))
    cautions = plausibility_cautions(masks.level, pedicles, fine.canal, slices.envelope_width)
    side_cautions = {side: tuple(found) for side, found in pedicle_cautions(masks.level, pedicles).items()}
    for side, mirror in sorted(mirrored.items()):
        # A mirrored pedicle caps the paths through it; when the side kept is not known to be the better reading,
        # the paths through that one too.
        if mirror.kept_side_sure:
            side_cautions[side] = side_cautions.get(side, ()) + (mirror.note,)
        else:
            cautions.append(mirror.note)
    spinous = find_spinous_tip(whole, whole_posterior, fine.canal)
    return VertebraAnalysis(masks, fine_grid, frame, fine.endplates, fine.body, fine.canal, pedicles, processes,
                            spinous, iterations, tuple(notes), vertebra_values, body_values, width, slices,
                            tuple(cautions), MappingProxyType(side_cautions))


def _second_reading(grid: LocalGrid, posterior, vertebra, canal, pedicles: dict[str, Pedicle], failures, rise: float,
                    level: str) -> tuple[dict[str, Pedicle], list[str]]:
    """When the border lines give an implausible or left/right-inconsistent pair, both pedicles read again at their
    isthmus (isthmus.py); that pair replaces them when it is plausible and consistent, and the notes say so."""
    if failures or consistent_pair(level, pedicles) or any(p.method.startswith("isthmus") for p in pedicles.values()):
        return pedicles, []
    again = {side: isthmus_pedicle(grid, posterior, vertebra, canal, side, rise=rise, level=level) for side in SIDES}
    if any(p is None for p in again.values()) or not consistent_pair(level, again):
        return pedicles, []
    before = ", ".join(f"{side} {p.width:.1f} mm wide, {p.convergence_deg:.0f} degrees" for side, p in
                       sorted(pedicles.items()))
    return again, [f"the pedicles' border lines disagreed ({before}); both read again at their isthmus"]


def _measure(grid: LocalGrid, masks: VertebraMasks, vertebra_values, body_values) -> _Measures:
    vertebra = grid.sample(vertebra_values, masks.ijk_to_ras)
    try:
        canal = find_canal(grid, vertebra, body_centre_y=0.0)
    except VertebraError:
        canal = find_canal(grid, vertebra, body_centre_y=0.0, ring_slices_only=True)
    if body_values is not None:
        body = grid.sample(body_values, masks.ijk_to_ras)
    else:
        body = vertebra * (grid.axis(1) >= canal.front_y)[None, :, None]
    endplates = fit_endplates(grid, body, masks.ct, level=masks.level)
    extent = body_extent(grid, body, endplates, level=masks.level)
    canal = _canal_beside_body(grid, vertebra, canal, endplates, extent)
    return _Measures(grid, canal, endplates, extent, vertebra, body)


def _canal_beside_body(grid: LocalGrid, vertebra: np.ndarray, canal: Canal, endplates: Endplates,
                       extent: BodyExtent) -> Canal:
    """The canal seen only over the body's middle heights, where the needle passes it (the pedicles join the
    body there): bone above and below (articular processes, a disc rim, stray bits of a coarse segmentation)
    would otherwise narrow it. The first reading is kept when this band shows no canal."""
    x, y = extent.centre[:2]
    low, high = endplates.inferior_z(x, y), endplates.superior_z(x, y)
    mid, half = 0.5 * (low + high), CANAL_BAND_FRACTION * (high - low)
    z = grid.axis(2)
    band = (z >= mid - half) & (z <= mid + half)
    if band.sum() < 2:
        return canal
    try:
        return find_canal(grid, np.where(band[None, None, :], vertebra, 0.0), body_centre_y=0.0)
    except VertebraError:
        return canal


def _fine_grid(coarse: _Measures, step: float, origin, rotation) -> LocalGrid:
    """Grid with the given axes over the body, the pedicles and the ring around the canal seen in `coarse`."""
    grid, body, canal, endplates = coarse.grid, coarse.body, coarse.canal, coarse.endplates
    section = mid_height_section(grid, coarse.body_values, endplates)
    xs = grid.axis(0)[(section >= 0.5).any(axis=1)]
    x_range = (xs.min() - PEDICLE_REACH_MM, xs.max() + PEDICLE_REACH_MM)
    y_range = (canal.back_y - GRID_MARGIN_MM, body.anterior_y + GRID_MARGIN_MM)
    columns = [(x, y) for x in x_range for y in y_range]
    z_range = (min(endplates.inferior_z(x, y) for x, y in columns) - GRID_MARGIN_MM,
               max(endplates.superior_z(x, y) for x, y in columns) + GRID_MARGIN_MM)
    corners = np.array([[x, y, z] for x, y in columns for z in z_range])
    return LocalGrid.covering(origin, rotation, grid.to_ras(corners), step=step, margin_mm=GRID_MARGIN_MM / 2)


def _scanner_superior(rotation: np.ndarray) -> np.ndarray:
    """Axes (right, anterior, superior) with the superior axis the scanner's S axis made square to `rotation`'s
    right axis."""
    right = rotation[0]
    superior = np.array([0.0, 0.0, 1.0]) - right[2] * right
    superior /= np.linalg.norm(superior)
    anterior = np.cross(superior, right)
    return np.array([right, anterior, superior])


def _angle_between(rotation_a: np.ndarray, rotation_b: np.ndarray) -> float:
    """Angle (degrees) of the rotation taking one set of axes to the other."""
    r = rotation_a.T @ rotation_b
    return float(np.degrees(np.arccos(np.clip((np.trace(r) - 1.0) / 2.0, -1.0, 1.0))))
