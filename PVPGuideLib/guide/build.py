"""Build the guide plate for one level: base on the skin, sleeves with runway slots, features, measured checks."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from ..core.compat import strict_zip
from ..core.geometry import VertebraFrame, needle_angles
from ..core.mesh import TriangleMesh
from ..core.needles import DEFAULT_NEEDLE_GAUGE, needle_outer_diameter_mm
from . import base as base_mod
from . import checks, features
from .booleans import difference, printable_mesh, to_manifold, union
from .contact import clearance_keepout
from .errors import GuideError
from .frame import PlateFrame
from .rim import edge_drop, rim_cutter
from .skinfit import SKIN_EDGE_MARGIN_MM, fit_skin, outward_normal, skin_height_at, tapered_to_border
from .sleeve import SleeveGeometry, bore_solid, sleeve_solid
from .smooth_skin import BRIDGE_SLOPE_DEG, smoothed_skin
from .spatial import TriangleGrid, first_hits

SIDE_CODES = {"left": "L", "right": "R"}
# The exact skin-side patch may move this much when its near-flat triangles are merged (mm): a fifth of
# the 0.1 mm fit tolerance.
_CONTACT_SIMPLIFY_MM = 0.02
# The iso-surface closes the body within about one slice of where the scan ends (mm; slices up to 3 mm).
_SCAN_END_MM = 3.5
# Skin farther than this from the entries along the plate's outward axis is not considered (mm).
_SKIN_SLAB_MM = 60.0


@dataclass(frozen=True, eq=False)
class GuideTrajectory:
    """One planned path: skin entry A and target C (RAS mm), puncture side, needle gauge, vertebra level."""

    A: np.ndarray
    C: np.ndarray
    side: str
    needle_gauge: int = DEFAULT_NEEDLE_GAUGE
    level: str = ""

    def __post_init__(self):
        for name in ("A", "C"):
            p = np.asarray(getattr(self, name), dtype=float).reshape(-1)
            if p.shape != (3,) or not np.all(np.isfinite(p)):
                raise GuideError("input", f"{name} must be three finite numbers R, A, S (mm)")
            object.__setattr__(self, name, p)
        if self.side not in SIDE_CODES:
            raise GuideError("input", f"side must be 'left' or 'right', got {self.side!r}")
        needle_outer_diameter_mm(self.needle_gauge)  # unknown gauge: a clear ValueError now


@dataclass(frozen=True)
class GuideOptions:
    """Every setting of the guide plate (mm and degrees). Defaults follow SPEC section 7."""

    base_thickness_mm: float = 3.0
    fit_clearance_mm: float = 0.2
    patch_radius_mm: float = 20.0  # around each entry and each entry's foot on the midline
    bore_clearance_mm: float = 0.3  # added to the needle's outer diameter
    sleeve_wall_mm: float = 2.5
    sleeve_height_mm: float = 25.0  # from the skin entry A along the axis to the sleeve's top face
    runway_length_mm: float = 10.0  # cranio-caudal travel of the needle axis across the sleeve top; 0: round bore
    midline_feature: str = "ridge"  # "ridge", "groove" or "none"
    midline_feature_width_mm: float = 3.0
    midline_feature_height_mm: float = 1.5  # ridge height, or groove depth
    spinous_tick_length_mm: float = 12.0
    spinous_tick_width_mm: float = 2.0
    marker_diameter_mm: float = 2.0
    marker_clearance_mm: float = 0.3
    label: bool = True
    case_id: str = ""
    label_height_mm: float = 5.5
    label_depth_mm: float = 0.6
    label_stroke_mm: float = 0.9
    rim_radius_mm: float = 1.5  # the outer edge along the border is rounded (rim.py); 0: sharp
    min_wall_mm: float = 1.5  # the printability floor every wall is measured against
    entry_tolerance_mm: float = 1.0  # how far A may lie from the skin surface
    grid_spacing_mm: float = 1.0
    skin_smoothing_mm: float = 1.5  # Gaussian sigma the skin is smoothed with before fitting; 0: as extracted
    skin_max_shift_mm: float = 0.2  # ... moving no point of it farther than this from the CT's iso-surface
    skin_deviation_limit_mm: float = 0.5  # the plate's skin side must stay this close to clearance off the CT skin
    mesh_tolerance_mm: float = 0.001  # the output may deviate this much from the exact solid (simplification)
    circular_segments: int = 48

    def __post_init__(self):
        positive = ("base_thickness_mm", "patch_radius_mm", "sleeve_wall_mm", "sleeve_height_mm",
                    "midline_feature_width_mm", "midline_feature_height_mm", "marker_diameter_mm",
                    "label_height_mm", "label_depth_mm", "label_stroke_mm", "min_wall_mm", "grid_spacing_mm",
                    "entry_tolerance_mm", "spinous_tick_length_mm", "spinous_tick_width_mm", "mesh_tolerance_mm")
        for name in positive:
            if not (np.isfinite(getattr(self, name)) and getattr(self, name) > 0):
                raise GuideError("options", f"{name} must be a positive number of mm, got {getattr(self, name)!r}")
        for name in ("fit_clearance_mm", "bore_clearance_mm", "runway_length_mm", "marker_clearance_mm"):
            if not (np.isfinite(getattr(self, name)) and getattr(self, name) >= 0):
                raise GuideError("options", f"{name} must be zero or more mm, got {getattr(self, name)!r}")
        if self.midline_feature not in ("ridge", "groove", "none"):
            raise GuideError("options", "midline_feature must be 'ridge', 'groove' or 'none'")
        if self.sleeve_wall_mm < 2.0:
            raise GuideError("options", "sleeve_wall_mm must be at least 2 mm (SPEC section 7)")
        remaining = self.base_thickness_mm - max(self.label_depth_mm if self.label else 0.0,
                                                 self.midline_feature_height_mm if self.midline_feature == "groove"
                                                 else 0.0)
        if remaining < self.min_wall_mm:
            raise GuideError("options", f"engraving or groove leaves {remaining:.2f} mm of base, below the "
                                        f"minimum wall of {self.min_wall_mm} mm")
        if not (np.isfinite(self.rim_radius_mm) and self.rim_radius_mm >= 0):
            raise GuideError("options", f"rim_radius_mm must be zero or more mm, got {self.rim_radius_mm!r}")
        if self.base_thickness_mm - edge_drop(self.rim_radius_mm) < self.min_wall_mm:
            raise GuideError("options", f"a rim rounded with radius {self.rim_radius_mm} mm leaves the border "
                                        f"{self.base_thickness_mm - edge_drop(self.rim_radius_mm):.2f} mm thick, "
                                        f"below the minimum wall of {self.min_wall_mm} mm")
        if self.circular_segments < 16:
            raise GuideError("options", "circular_segments must be at least 16")

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True, eq=False)
class SleeveReport:
    """One sleeve as built and measured. Angles follow SPEC section 4 in the frame given to build_guide."""

    level: str
    side: str
    needle_gauge: int
    needle_diameter_mm: float
    bore_diameter_mm: float
    entry: np.ndarray
    target: np.ndarray
    tilt_axis: np.ndarray  # RAS unit normal of the runway's tilt plane
    tilt_half_range_deg: float
    transverse_deg: float
    sagittal_deg: float
    sagittal_range_deg: tuple[float, float]
    axis_offset_mm: float
    axis_angle_deg: float
    needle_passes: bool

    def tilted_direction(self, angle_deg: float) -> np.ndarray:
        """Needle direction tilted within the runway by angle_deg (positive: tip towards tilt_axis x d)."""
        d = (self.target - self.entry) / np.linalg.norm(self.target - self.entry)
        k, t = self.tilt_axis, np.radians(angle_deg)
        return d * np.cos(t) + np.cross(k, d) * np.sin(t) + k * np.dot(k, d) * (1 - np.cos(t))


@dataclass(frozen=True, eq=False)
class GuideResult:
    """The guide mesh (RAS mm, float32-exact: what the STL holds) and its measured properties."""

    mesh: TriangleMesh
    level: str
    sides: tuple[str, ...]
    watertight: bool
    manifold: bool
    outward_normals: bool
    self_intersecting: bool
    volume_mm3: float
    min_wall_mm: float
    min_wall_floor_mm: float
    fit_deviation_mm: float  # largest |distance to skin - clearance| over the sampled contact patch
    contact_samples: int
    skin_deviation_mm: float  # largest |distance of the skin side to the CT's skin iso-surface - clearance|
    sleeves: tuple[SleeveReport, ...]
    label: str | None
    frame: PlateFrame
    options: GuideOptions
    warnings: tuple[str, ...] = ()
    timings_s: dict = field(default_factory=dict)

    @property
    def side_name(self) -> str:
        return "bilateral" if len(self.sides) == 2 else self.sides[0]

    @property
    def passes(self) -> bool:
        """Printable, walls at or above the floor, every bore on its axis, every needle free, fit within 0.1 mm."""
        return (self.watertight and self.manifold and self.outward_normals and not self.self_intersecting
                and self.volume_mm3 > 0 and self.min_wall_mm >= self.min_wall_floor_mm - 1e-6
                and self.fit_deviation_mm <= 0.1
                and self.skin_deviation_mm <= self.options.skin_deviation_limit_mm
                and all(s.axis_offset_mm <= 0.1 and s.axis_angle_deg <= 0.1 and s.needle_passes for s in self.sleeves))


def build_guide(skin: TriangleMesh, trajectories, *, frame_superior, midline_point=None, midline_normal=None,
                spinous_tips=None, marker_points=None, frame_anterior=None,
                options: GuideOptions | None = None) -> GuideResult:
    """One guide plate for one vertebra level: one sleeve per trajectory (two for a bilateral plan).

    skin : body surface (RAS mm); trajectories : GuideTrajectory list (A on the skin, C the target);
    frame_superior : the vertebra's superior axis (the runway tilts the needle in the plane it spans
    with the needle); midline_point / midline_normal : the midsagittal plane, for the spinous-process
    ridge and for reaching the midline; spinous_tips : (k, 3) tips marked across the ridge;
    marker_points : (k, 3) skin markers visible on the CT, given sockets; frame_anterior : for
    reporting sagittal angles in the vertebra frame (default: the scanner's anterior axis).
    """
    options = options or GuideOptions()
    clock = _Clock()
    trajectories = _check_trajectories(skin, trajectories)
    superior = _unit(frame_superior, "frame_superior")
    entries = np.array([t.A for t in trajectories])
    targets = np.array([t.C for t in trajectories])
    warnings: list[str] = []
    skin = _skin_near(_without_scan_ends(skin, superior), entries, midline_point, midline_normal, spinous_tips, marker_points,
                      options)

    # Plate frame: w the mean outward skin normal at the entries, v along the spine.
    w = outward_normal(skin, entries, targets, radius_mm=options.patch_radius_mm)
    orientation = _skin_orientation(skin, entries, w, options.patch_radius_mm)
    frame = PlateFrame.from_normal(origin=entries.mean(axis=0), outward=w, superior=superior)
    skin = _skin_facing_plate(skin, frame)
    heights = skin_height_at(skin, frame, entries, skin_orientation=orientation)
    for t, h, local in strict_zip(trajectories, heights, frame.to_local(entries)):
        gap = local[2] - h
        if not np.isfinite(gap) or abs(gap) > options.entry_tolerance_mm:
            where = "no skin lies under it" if not np.isfinite(gap) else f"it lies {gap:+.1f} mm from the skin"
            raise GuideError("entry", f"A ({t.side}) is not on the skin: {where} (tolerance "
                                      f"{options.entry_tolerance_mm} mm); A must be where the path leaves the body")
    clock.lap("frame")

    # Sleeves and bores, in the plate frame (their footprint decides how far the skin grid must reach).
    geoms, sleeve_parts, bores = [], [], []
    superior_local = frame.vectors_to_local(superior)
    for t in trajectories:
        od = needle_outer_diameter_mm(t.needle_gauge)
        g = SleeveGeometry.plan(entry=frame.to_local(t.A), target=frame.to_local(t.C), superior=superior_local,
                                bore_radius_mm=0.5 * (od + options.bore_clearance_mm),
                                wall_mm=options.sleeve_wall_mm, height_mm=options.sleeve_height_mm,
                                runway_length_mm=options.runway_length_mm)
        geoms.append(g)
        sleeve_parts.append(sleeve_solid(g, segments=options.circular_segments, below_entry_mm=g.outer_radius_mm))
        bores.append(bore_solid(g, segments=options.circular_segments))
    footprints = [features.footprint(s) for s in sleeve_parts]

    # Patch: discs around each entry, each entry's foot on the midline, and the skin markers.
    plane = _midline_plane(midline_point, midline_normal, spinous_tips)
    entries_uv = frame.to_local(entries)[:, :2]
    discs = [(uv, options.patch_radius_mm) for uv in entries_uv]
    if plane is not None:
        for a in entries:
            foot = a - np.dot(a - plane[0], plane[1]) * plane[1]
            discs.append((frame.to_local(foot)[:2], 0.75 * options.patch_radius_mm))
    markers = np.zeros((0, 3)) if marker_points is None else np.atleast_2d(np.asarray(marker_points, dtype=float))
    socket_radius = 0.5 * options.marker_diameter_mm + options.marker_clearance_mm
    markers_local = frame.to_local(markers) if len(markers) else np.zeros((0, 3))
    for m in markers_local:
        discs.append((m[:2], socket_radius + 2 * features.FEATURE_MARGIN_MM + options.min_wall_mm))
    desired = base_mod.desired_outline(discs)
    bounds = np.array([desired.bounds()] + [f.bounds() for f in footprints])
    u_lo, v_lo = bounds[:, :2].min(axis=0)
    u_hi, v_hi = bounds[:, 2:].max(axis=0)
    if max(u_hi - u_lo, v_hi - v_lo) > 400:
        raise GuideError("base outline", "the plate would be more than 400 mm across: check the midline plane "
                                         "and the marker points")
    # The usable skin is shrunk by the edge margin plus the plate's thickness: the grid must reach beyond.
    margin = SKIN_EDGE_MARGIN_MM + options.fit_clearance_mm + options.base_thickness_mm + 2 * options.grid_spacing_mm + 2.0
    raw_skin, smoothed = skin, None
    if options.skin_smoothing_mm > 0:
        # Fitted to a smoothed skin: no facets or slice steps of the CT's voxels in the plate's skin side;
        # its distance to the CT's own iso-surface is measured below (skin_deviation_mm).
        pad = margin + options.grid_spacing_mm
        smoothed = smoothed_skin(skin, frame, lo_uv=(u_lo - pad, v_lo - pad), hi_uv=(u_hi + pad, v_hi + pad),
                             orientation=orientation, spacing_mm=options.grid_spacing_mm,
                             sigma_mm=options.skin_smoothing_mm, max_shift_mm=options.skin_max_shift_mm)
        skin, orientation = smoothed.mesh, 1.0
        if smoothed.bridged_area_mm2() > 0:
            warnings.append(f"the plate bridges {smoothed.bridged_area_mm2():.0f} mm^2 of skin steeper than "
                            f"{BRIDGE_SLOPE_DEG:g} degrees (it does not touch the skin there)")
    fit = fit_skin(skin, frame, lo_uv=(u_lo - margin, v_lo - margin), hi_uv=(u_hi + margin, v_hi + margin),
                   spacing_mm=options.grid_spacing_mm, clearance_mm=options.fit_clearance_mm,
                   thickness_mm=options.base_thickness_mm, skin_orientation=orientation)
    clock.lap("skin fit")
    outline = base_mod.patch_outline(desired, fit, must_contain_uv=entries_uv)
    fit = tapered_to_border(fit, features.points_inside(outline, fit.grid.nodes_uv).reshape(fit.grid.nv, fit.grid.nu))
    if (desired - outline).area() > 0.05 * desired.area():
        warnings.append("the skin could not carry the whole patch (it ends or is too steep near its border): "
                        "the plate was trimmed there")
    # Where each sleeve meets the plate, the plate is whole, even past the end of the scanned skin.
    feet = [features.footprint(base_mod.intersect_solid(
        part, base_mod.conformal_solid(fit, f.offset(1.0), fit.outer - 1.0, fit.outer + 3.0, step="sleeve foot")))
        .offset(features.FEATURE_MARGIN_MM) for f, part in strict_zip(footprints, sleeve_parts)]
    base, outline, not_carried, fit_note = _base_with_contact(skin, fit, outline, entries_uv, orientation,
                                                              options, feet, sleeve_parts, footprints)
    if fit_note:
        warnings.append(fit_note)
    clock.lap("base and sleeves")

    raised, cuts, label_text = _features(fit, outline, footprints, plane, spinous_tips, markers_local, socket_radius,
                                         trajectories, entries_uv, options, warnings)
    clock.lap("features")

    rim, sharp = rim_cutter(fit, outline, options.rim_radius_mm, keep=features.union_2d(feet).offset(1.0))
    if sharp:
        warnings.append(f"{sharp} border(s) of the plate turn too sharply for the {options.rim_radius_mm:g} mm rim "
                        "rounding: their edge was left sharp")
    solid = union([base, *raised], step="assemble")
    solid = difference(solid, [*bores, *cuts, *([rim] if rim is not None else [])],
                       step="cut bores, sockets and engravings, round the rim")
    solid = _single_piece(solid, warnings)
    mesh = printable_mesh(solid, local_to_world=frame.local_to_world, tolerance_mm=options.mesh_tolerance_mm,
                          step="clean for STL")
    clock.lap("booleans")

    report = checks.mesh_report(mesh, merge=False)
    for tolerance in (0.1 * options.mesh_tolerance_mm, 0.0):
        if report.self_intersecting_pairs == 0:
            break
        # Simplification can fold a sliver over its neighbour: redo it more gently (deterministic).
        mesh = printable_mesh(solid, local_to_world=frame.local_to_world, tolerance_mm=tolerance,
                              step="clean for STL")
        report = checks.mesh_report(mesh, merge=False)
    # One spatial index of the output mesh serves the wall, fit and skin checks.
    mesh_grid = TriangleGrid(mesh.vertices, mesh.faces, cell_mm=2.0)
    wall = checks.wall_thickness(mesh, grid=mesh_grid)
    if wall.min_mm < options.min_wall_mm:
        warnings.append(f"the thinnest wall is {wall.min_mm:.2f} mm, below the {options.min_wall_mm} mm floor")
    clock.lap("mesh checks")
    output_solid = to_manifold(mesh, step="check the output mesh")
    sleeve_reports = tuple(_sleeve_report(t, g, frame, mesh, output_solid, superior, frame_anterior)
                           for t, g in strict_zip(trajectories, geoms))
    clock.lap("sleeve checks")
    holes = list(footprints)
    holes.extend(base_mod.circle(m[:2], socket_radius) for m in markers_local)
    if not_carried is not None:
        holes.append(not_carried)  # the skin turns away or is covered there: no contact to measure
    # Where the plate bridges steep skin it touches nothing: no contact to measure there.
    deviation, samples, skin_points = _fit_deviation(fit, outline, holes, mesh, skin, options, mesh_grid,
                                                     bridged=None if smoothed is None else smoothed.bridged_at)
    skin_deviation = checks.skin_deviation_mm(mesh, raw_skin, skin_points, frame, options.fit_clearance_mm,
                                              grid=mesh_grid)
    clock.lap("fit check")
    return GuideResult(
        mesh=mesh, level=trajectories[0].level, sides=tuple(t.side for t in trajectories),
        watertight=report.watertight, manifold=report.manifold, outward_normals=report.outward_normals,
        self_intersecting=report.self_intersecting_pairs > 0, volume_mm3=report.volume_mm3,
        min_wall_mm=wall.min_mm, min_wall_floor_mm=options.min_wall_mm, fit_deviation_mm=deviation,
        skin_deviation_mm=skin_deviation,
        contact_samples=samples, sleeves=sleeve_reports, label=label_text, frame=frame, options=options,
        warnings=tuple(warnings), timings_s=clock.laps)


def _features(fit, outline, footprints, plane, spinous_tips, markers_local, socket_radius, trajectories, entries_uv,
              options: GuideOptions, warnings: list[str]):
    """Midline ridge or groove with spinous-tip marks, marker sockets and the label; (raised, cuts, label)."""
    frame = fit.frame
    inset = outline.offset(-features.FEATURE_MARGIN_MM)
    raised, cuts, occupied = [], [], list(footprints)
    if plane is not None and options.midline_feature != "none":
        centerline = features.midline_centerline(fit, plane[0], plane[1])
        marks = [features.polyline_region(centerline, options.midline_feature_width_mm)]
        if spinous_tips is not None:
            marks += features.tick_regions(centerline, frame.to_local(np.atleast_2d(spinous_tips)),
                                           length_mm=options.spinous_tick_length_mm,
                                           width_mm=options.spinous_tick_width_mm)
        keep_clear = [f.offset(features.FEATURE_MARGIN_MM) for f in footprints]
        region = features.printable_region(features.union_2d(marks), inset, keep_clear,
                                           min_width_mm=options.min_wall_mm)
        if region.is_empty():
            warnings.append("the patch does not reach the midline: no spinous-process mark was made")
        elif options.midline_feature == "ridge":
            raised.append(features.raised_feature(fit, region, height_mm=options.midline_feature_height_mm,
                                                  step="midline ridge"))
        else:
            cuts.append(features.engraving(fit, region, depth_mm=options.midline_feature_height_mm,
                                           step="midline groove"))
        occupied.append(region)
    elif options.midline_feature != "none":
        warnings.append("no midline plane was given: no spinous-process ridge was made")
    if len(markers_local):
        cuts.extend(features.socket_cutters(fit, markers_local, radius_mm=socket_radius))
        occupied.extend(base_mod.circle(m[:2], socket_radius) for m in markers_local)
    label_text = None
    if options.label:
        free = inset.offset(-options.min_wall_mm)
        for region in occupied:
            free = free - region.offset(features.FEATURE_MARGIN_MM)
        for candidate in _label_texts(trajectories, options.case_id):
            placed = features.place_label(candidate, free, preferred_uv=entries_uv.mean(axis=0),
                                          height_mm=options.label_height_mm, stroke_mm=options.label_stroke_mm,
                                          gap_mm=options.min_wall_mm + 0.2)
            if placed is not None:
                label_text = candidate
                cuts.append(features.engraving(fit, placed, depth_mm=options.label_depth_mm, step="label"))
                break
        if label_text is None:
            warnings.append("the label does not fit on the plate: it was left out")
        elif options.case_id and options.case_id.upper() not in label_text:
            warnings.append(f"the label was shortened to fit the plate (no case id): {label_text!r}")
    return raised, cuts, label_text


def _base_with_contact(skin, fit, outline, entries_uv, orientation, options, feet, sleeve_parts, footprints):
    """The base and sleeves with their skin side cut by the clearance keep-out.

    Returns (solid, outline, not_carried, note). The keep-out follows the skin's own triangles (exact
    clearance). Where they cannot carry the plate (skin turned away, under something, or ending) the
    sampled offset surface (grid accuracy) continues it; when the patch is unusable altogether it is
    the whole skin side. The sleeves reach down to the skin too, so a sleeve standing past the plate's
    border (near the end of the scanned skin, or by a window) still rests on the skin with its own foot.
    """
    feet_region = features.union_2d(feet)
    reach = outline + feet_region
    # Below the exact skin side everywhere, also in valleys narrower than a grid cell.
    floor = ndimage.grey_erosion(fit.inner, size=(3, 3), mode="nearest") - 1.0
    sleeves = []
    for f, part in strict_zip(footprints, sleeve_parts):
        top = float(np.asarray(part.bounding_box())[5]) + 1.0
        # 0.5 mm below the base's floor: no face of a sleeve coincides with one of the base.
        clip = base_mod.conformal_solid(fit, f.offset(1.0), floor - 1.5, np.maximum(fit.outer + 1.0, top),
                                        step="sleeve")
        sleeves.append(base_mod.intersect_solid(part, clip))
    rough = base_mod.conformal_solid(fit, outline, floor, fit.outer, step="base")
    body = union([rough, *sleeves], step="base and sleeves")
    if options.skin_smoothing_mm > 0:
        # A smoothed skin has no creases: its offset sampled on the grid lies within a few hundredths of a
        # millimetre of the exact one, with far fewer triangles than the skin's own.
        contact, why = None, "smoothed"
    else:
        contact, why = clearance_keepout(skin, fit.frame, reach.offset(8.0), clearance_mm=options.fit_clearance_mm,
                                         orientation=orientation, depth_mm=5.0, entry_uv=entries_uv[0])
    if contact is None:
        note = "" if why == "smoothed" else f"the skin side follows the skin sampled every {fit.grid.spacing} mm ({why})"
        fill = base_mod.keepout_solid(fit, reach.offset(1.0), depth_mm=8.0)
        return difference(body, [fill], step="fit the base to the skin"), outline, None, note
    note = ""
    # A fine skin (sub-millimetre CT) gives a dense patch: merge its near-flat triangles (the surface moves
    # by at most the mesh tolerance) so the booleans and checks stay quick.
    cutters = [to_manifold(contact.solid, step="skin keep-out").simplify(_CONTACT_SIMPLIFY_MM)]
    not_carried = reach.offset(1.0) - contact.covered
    if not not_carried.is_empty():
        # Overlap the exact patch a little so the two join without a seam.
        fill = base_mod.keepout_solid(fit, not_carried.offset(0.3), depth_mm=8.0)
        if fill is not None and not fill.is_empty():
            cutters.append(fill)
        note = (f"over {not_carried.area():.0f} mm^2 the skin cannot carry the plate exactly (it turns away, "
                "lies under something or ends): the skin side follows the sampled offset surface there")
    solid = difference(body, [union(cutters, step="skin keep-out")], step="fit the base to the skin")
    return solid, outline, (None if not_carried.is_empty() else not_carried), note


def _without_scan_ends(skin: TriangleMesh, superior: np.ndarray) -> TriangleMesh:
    """The skin without the caps that close it where the scan ends cranially and caudally: faces facing
    along the spine (within 45 degrees) within _SCAN_END_MM of the skin's cranial or caudal end. They
    are not skin, and seen from a plate tilted a little they are a cliff."""
    v = skin.vertices
    height = v @ superior
    p = v[skin.faces]
    n = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    along = np.abs(n @ superior) > np.cos(np.radians(45.0)) * np.linalg.norm(n, axis=1)
    h = height[skin.faces]
    cap = along & (np.all(h <= height.min() + _SCAN_END_MM, axis=1) | np.all(h >= height.max() - _SCAN_END_MM, axis=1))
    if not np.any(cap) or np.all(cap):
        return skin
    return TriangleMesh(v, skin.faces[~cap])


def _skin_near(skin: TriangleMesh, entries, midline_point, midline_normal, tips, markers, options) -> TriangleMesh:
    """The part of the skin the plate can reach (whole faces), so later steps work on thousands of faces."""
    centre = entries.mean(axis=0)
    reach = [np.linalg.norm(entries - centre, axis=1).max()]
    plane = _midline_plane(midline_point, midline_normal, tips)
    if plane is not None:
        lateral = max(abs(float(np.dot(a - plane[0], plane[1]))) for a in entries)
        reach.append(lateral + float(np.linalg.norm(entries - centre, axis=1).max()))
    if markers is not None:
        reach.append(np.linalg.norm(np.atleast_2d(markers) - centre, axis=1).max())
    radius = max(reach) + options.patch_radius_mm + options.sleeve_height_mm + 20.0
    v, f = skin.vertices, skin.faces
    near_vertex = np.einsum("ij,ij->i", v - centre, v - centre) <= radius * radius
    faces = f[near_vertex[f].any(axis=1)]
    if len(faces) == 0:
        raise GuideError("entry", "no skin lies near the entry point A: A must be on the skin")
    keep = np.zeros(len(v), dtype=bool)
    keep[faces.ravel()] = True
    index = np.cumsum(keep) - 1
    return TriangleMesh(v[keep], index[faces])


def _skin_under(skin: TriangleMesh, fit, region) -> TriangleMesh:
    """The skin's faces under a region of the plate (with a few millimetres to spare), for the fit check."""
    local = fit.frame.to_local(skin.vertices)
    u_lo, v_lo, u_hi, v_hi = region.bounds() if not region.is_empty() else (0.0, 0.0, 0.0, 0.0)
    p = local[skin.faces]
    lo, hi = p.min(axis=1), p.max(axis=1)
    near = ((hi[:, 0] >= u_lo - 5) & (lo[:, 0] <= u_hi + 5) & (hi[:, 1] >= v_lo - 5) & (lo[:, 1] <= v_hi + 5)
            & (hi[:, 2] >= float(np.min(fit.inner)) - 10) & (lo[:, 2] <= float(np.max(fit.outer)) + 5))
    faces = skin.faces[near]
    if len(faces) == 0:
        return skin
    keep = np.zeros(len(skin.vertices), dtype=bool)
    keep[faces.ravel()] = True
    index = np.cumsum(keep) - 1
    return TriangleMesh(skin.vertices[keep], index[faces])


def _skin_facing_plate(skin: TriangleMesh, frame: PlateFrame) -> TriangleMesh:
    """The skin's faces on the plate's side of the body: within a slab around the entries along w.

    The back's skin under a plate spans a few centimetres in w; the far side of the body, and skin
    folds far below, cannot matter and only cost time.
    """
    w = frame.to_local(skin.vertices)[:, 2]
    near = np.abs(w) <= _SKIN_SLAB_MM
    faces = skin.faces[near[skin.faces].any(axis=1)]
    keep = np.zeros(len(skin.vertices), dtype=bool)
    keep[faces.ravel()] = True
    index = np.cumsum(keep) - 1
    return TriangleMesh(skin.vertices[keep], index[faces])


class _Clock:
    def __init__(self):
        self.laps: dict[str, float] = {}
        self._start = self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self._last
        self.laps["total"] = now - self._start
        self._last = now


def _unit(vector, name: str) -> np.ndarray:
    v = np.asarray(vector, dtype=float).reshape(-1)
    if v.shape != (3,) or not np.all(np.isfinite(v)) or np.linalg.norm(v) < 1e-9:
        raise GuideError("input", f"{name} must be a non-zero 3D vector")
    return v / np.linalg.norm(v)


def _check_trajectories(skin, trajectories) -> list[GuideTrajectory]:
    if not isinstance(skin, TriangleMesh) or skin.is_empty:
        raise GuideError("input", "the skin surface is empty: the guide plate needs the body surface from the CT")
    trajectories = list(trajectories)
    if not 1 <= len(trajectories) <= 2:
        raise GuideError("input", f"one plate carries one or two sleeves (bilateral), got {len(trajectories)} paths")
    for t in trajectories:
        if np.linalg.norm(t.C - t.A) < 1.0:
            raise GuideError("input", f"the {t.side} path is degenerate: A and C are less than 1 mm apart")
    if len(trajectories) == 2:
        if {t.side for t in trajectories} != {"left", "right"}:
            raise GuideError("input", "two sleeves must be one left and one right (a bilateral plan)")
        if trajectories[0].level != trajectories[1].level:
            raise GuideError("input", "a bilateral plate serves one level: both paths must have the same level")
        trajectories.sort(key=lambda t: t.side)  # left first: the same plate whatever the input order
    return trajectories


def _skin_orientation(skin: TriangleMesh, entries: np.ndarray, w: np.ndarray, radius: float) -> float:
    v, f = skin.vertices, skin.faces
    centroid = v[f].mean(axis=1)
    near = np.zeros(len(f), dtype=bool)
    for a in entries:
        near |= np.linalg.norm(centroid - a, axis=1) <= radius
    n = np.cross(v[f[near, 1]] - v[f[near, 0]], v[f[near, 2]] - v[f[near, 0]]).sum(axis=0)
    return 1.0 if np.dot(n, w) > 0 else -1.0


def _midline_plane(point, normal, tips):
    if normal is None or (point is None and tips is None):
        return None
    n = _unit(normal, "midline_normal")
    # The ridge follows the spinous-process tips when they are known, else the midsagittal plane.
    p = np.atleast_2d(np.asarray(tips, dtype=float)).mean(axis=0) if tips is not None else np.asarray(point, float)
    return p, n


def _label_texts(trajectories, case_id: str) -> list[str]:
    """The label (level, side, case id) and its shorter fallbacks, longest first."""
    side = "B" if len(trajectories) == 2 else SIDE_CODES[trajectories[0].side]
    head = " ".join(p for p in (trajectories[0].level, side) if p)
    if not case_id:
        return [head]
    return [f"{head} {case_id}", f"{head}\n{case_id}", head]


def _single_piece(solid, warnings: list[str]):
    """The plate must be one piece; crumbs under 1 mm^3 left by cuts are dropped with a warning."""
    pieces = solid.decompose()
    if len(pieces) == 1:
        return solid
    volumes = [p.volume() for p in pieces]
    big = [p for p, vol in strict_zip(pieces, volumes) if vol >= 1.0]
    if len(big) != 1:
        raise GuideError("assemble", f"the plate falls apart into {len(big)} pieces; enlarge the patch so it "
                                     "joins the sleeves (patch_radius_mm) or check the midline plane")
    warnings.append(f"{len(pieces) - 1} loose crumb(s) under 1 mm^3 were removed from the plate")
    return big[0]


def _sleeve_report(t: GuideTrajectory, g: SleeveGeometry, frame: PlateFrame, mesh: TriangleMesh, solid,
                   superior: np.ndarray, anterior_hint) -> SleeveReport:
    anterior = np.array([0.0, 1.0, 0.0]) if anterior_hint is None else _unit(anterior_hint, "frame_anterior")
    anterior = anterior - np.dot(anterior, superior) * superior
    anterior /= np.linalg.norm(anterior)
    vframe = VertebraFrame.from_axes(origin=t.C, right=np.cross(anterior, superior), anterior=anterior,
                                     superior=superior)
    tilt_axis = frame.rotation.T @ g.tilt_axis
    d = (t.C - t.A) / np.linalg.norm(t.C - t.A)
    angles = needle_angles(d, t.side, vframe)
    ends = [needle_angles(frame.rotation.T @ g.tilted(s * g.half_angle_deg), t.side, vframe).sagittal_deg
            for s in (-1, 1)]
    od = needle_outer_diameter_mm(t.needle_gauge)
    # The bore is measured between the base's outer surface and the sleeve top.
    axis = checks.bore_axis(mesh, t.A, t.C, from_mm=0.45 * g.height_mm, to_mm=0.95 * g.height_mm, count=7)
    overlap = checks.needle_overlap_mm3(solid, t.A, d, od)
    return SleeveReport(
        level=t.level, side=t.side, needle_gauge=int(t.needle_gauge), needle_diameter_mm=od,
        bore_diameter_mm=2 * g.bore_radius_mm, entry=t.A.copy(), target=t.C.copy(), tilt_axis=tilt_axis,
        tilt_half_range_deg=g.half_angle_deg, transverse_deg=angles.transverse_deg, sagittal_deg=angles.sagittal_deg,
        sagittal_range_deg=(min(ends), max(ends)), axis_offset_mm=axis.offset_mm, axis_angle_deg=axis.angle_deg,
        needle_passes=overlap == 0.0)


def _fit_deviation(fit, outline, holes, mesh: TriangleMesh, skin: TriangleMesh, options: GuideOptions,
                   mesh_grid: TriangleGrid, *, bridged=None):
    """Largest |skin distance - clearance| of the plate's skin side over the contact patch (sampled).

    Samples sit at the centres of the grid cells (about 1.5 mm apart), where a sampled surface is interpolated
    between its vertices (the worst place). Skin points come from casting rays down onto the skin mesh,
    independent of the height field the plate was built from.
    """
    region = outline.offset(-1.0)
    for hole in holes:
        region = region - hole.offset(1.0)
    skin = _skin_under(skin, fit, region)
    g = fit.grid
    uu, vv = np.meshgrid(g.u[:-1] + 0.5 * g.spacing, g.v[:-1] + 0.5 * g.spacing)
    uv = np.column_stack([uu.ravel(), vv.ravel()])
    uv = uv[features.points_inside(region, uv)]
    if bridged is not None and len(uv):
        uv = uv[~bridged(uv)]
    if len(uv) == 0:
        return float("inf"), 0, np.zeros((0, 3))
    top = float(np.max(fit.outer)) + 5.0
    above = fit.frame.to_world(np.column_stack([uv, np.full(len(uv), top)]))
    depth = top - float(np.min(fit.inner)) + 10.0
    skin_grid = TriangleGrid(skin.vertices, skin.faces, cell_mm=4.0)
    t, hit = first_hits(skin_grid, above, np.broadcast_to(-fit.frame.w, above.shape).copy(), depth)
    skin_points = above[hit >= 0] - t[hit >= 0, None] * fit.frame.w
    distances = checks.contact_distances(mesh, skin, skin_points=skin_points, outward=fit.frame.w,
                                         reach_mm=options.fit_clearance_mm + 2.0, grid=mesh_grid, skin_grid=skin_grid)
    ok = np.isfinite(distances)
    if not np.any(ok):
        return float("inf"), 0, skin_points[ok]
    return (float(np.max(np.abs(distances[ok] - options.fit_clearance_mm))), int(np.count_nonzero(ok)),
            skin_points[ok])
