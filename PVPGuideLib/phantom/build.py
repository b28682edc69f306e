"""The bundled sample: a seeded analytic CT phantom of T12-L2 (target L1) and its exact ground truth.

How it is built (RAS millimetres throughout; the anatomy itself is in phantom_shapes):

- The anatomy is defined in an anatomical frame (R, A, S axes; origin at the centre of the intact L1
  body). The spine pose maps it to RAS: ras = rotation @ anatomical, with rotation = Rs @ Ra @ Rr built
  from `rotation_deg` (right-hand rule about the scanner's R, then A, then S axis). Every voxel centre of
  the CT grid is mapped back through the pose and the shapes are evaluated there, so spacing, direction
  matrix and pose compose freely. The field of view is the grid-aligned box around the whole torso
  cross-section (plus 10 mm of air) over the three vertebrae (plus 5 mm), so it grows with the pose.
- Each vertebra is built in its own frame: the anatomical axes moved to its intact body centre. "Axial"
  means perpendicular to that S axis; "mid-height" at a point means midway between the superior and
  inferior endplates above and below that point, so a wedge fracture lowers it anteriorly.
- C (target) for a puncture side: the contralateral pedicle's medial border line (parallel to the pedicle
  axis through the isthmus, on the pedicle's centre height) is carried along S to the axial mid-height and
  followed forwards to where it enters the anterior third of the body (2/3 of the body depth from the
  posterior wall, measured along A). If that point is less than 5 mm behind the outer surface of the
  anterior cortex along the line, C is the point 5 mm behind that surface instead.
- B (bony entry): the ipsilateral pedicle's lateral border line, carried along S to the height of the middle
  of the transverse process; coming from behind along that line, B is where it first meets bone.
- frame: SPEC section 4 applied to the construction: superior = normal of the mid-endplate plane (the
  bisector of the endplate normals), anterior = canal centre -> body centre orthogonalised, right =
  anterior x superior, origin = body centre (on the body axis, midway between the endplates).
- Thin cortex is drawn at least one voxel thick along its normal (the partial volume a CT would show);
  the truth points lie on the exact surfaces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.volume import CTVolume
from ..errors import PVPGuideError
from . import shapes

TRUTH_SCHEMA = "pvpguide.phantom-truth/1"
TARGET_LEVEL = "L1"
PART_IDS = {"body": 1, "posterior_elements": 2}
# Cancellous, cortical and posterior-element cancellous HU per bone density.
BONE_HU = {
    "low": (50.0, 700.0, 100.0),
    "osteoporotic": (100.0, 800.0, 150.0),
    "normal": (200.0, 1000.0, 280.0),
}
SOFT_TISSUE_HU = {"air": -1000.0, "skin": 30.0, "fat": -100.0, "muscle": 50.0, "viscera": 35.0, "blood": 45.0,
                  "csf": 20.0, "disc": 80.0}
MAX_ROTATION_DEG = 25.0
MAX_WEDGE_FRACTION = 0.5
MAX_BICONCAVE_FRACTION = 0.6
MAX_CRUSH_FRACTION = 0.9
MIN_BODY_HEIGHT_MM = 2.0  # a fractured body keeps at least this much bone between its endplates
SPACING_RANGE_MM = (0.25, 5.0)
MAX_NOISE_HU = 100.0
MAX_VOXELS = 40_000_000  # about 1 GB of working memory at most
FOV_AIR_MM = 10.0
FOV_Z_MARGIN_MM = 5.0
C_DEPTH_FRACTION = 2.0 / 3.0
C_ANTERIOR_MARGIN_MM = 5.0
CHUNK_VOXELS = 1 << 20  # slabs of about a million voxels keep temporaries small and in cache
HU_RANGE = (-1024, 3071)


class PhantomError(PVPGuideError):
    """A phantom option is out of range."""


@dataclass(frozen=True, eq=False)
class Phantom:
    """ct : HU int16; labels : uint8 TotalSegmentator ids (T12 32, L1 31, L2 30); parts : uint8 (PART_IDS).

    All three share one grid. truth : JSON-ready ground truth (see the module docstring).
    """

    ct: CTVolume
    labels: CTVolume
    parts: CTVolume
    truth: dict


@dataclass(frozen=True, eq=False)
class _Options:
    seed: int
    spacing: tuple
    direction: np.ndarray
    rotation_deg: tuple
    wedge_fraction: float
    bone_density: str
    noise_sigma: float
    biconcave_fraction: float = 0.0
    crush_fraction: float = 0.0

    def to_json(self) -> dict:
        return {"seed": self.seed, "spacing": list(self.spacing), "direction": self.direction.tolist(),
                "rotation_deg": list(self.rotation_deg), "wedge_fraction": self.wedge_fraction,
                "biconcave_fraction": self.biconcave_fraction, "crush_fraction": self.crush_fraction,
                "bone_density": self.bone_density, "noise_sigma_hu": self.noise_sigma}

    def spine(self):
        return shapes.build_spine(self.wedge_fraction, self.biconcave_fraction, self.crush_fraction)


def generate_phantom(*, seed: int = 0, spacing=(0.9, 0.9, 2.0), direction=None, rotation_deg=(0.0, 0.0, 0.0),
                     wedge_fraction: float = 0.0, bone_density: str = "osteoporotic",
                     noise_sigma: float = 15.0, biconcave_fraction: float = 0.0,
                     crush_fraction: float = 0.0, skin_grid=None) -> Phantom:
    """Build the phantom CT, its label maps and ground truth.

    spacing : (3,) mm along i, j, k. direction : (3, 3) RAS direction of the grid (any rotation or
    reflection; default identity). rotation_deg : spine pose about R, A, S (each within +-25 degrees).
    wedge_fraction : anterior height loss of L1, 0-0.5. bone_density : 'low', 'osteoporotic' or 'normal'.
    noise_sigma : Gaussian noise in HU (0 for none), seeded by `seed`.
    biconcave_fraction : middle height loss of L1 (both endplates dented), 0-0.6.
    crush_fraction : uniform height loss of L1 (half at each endplate), 0-0.9; fractions combine, and L1
    keeps at least MIN_BODY_HEIGHT_MM at its anterior, middle and posterior heights.
    skin_grid : a phantom_grid.GridLayout to lay a grid locator on the back (its truth under
    truth['skin_grid']), or None.
    """
    options = _options(seed, spacing, direction, rotation_deg, wedge_fraction, bone_density, noise_sigma,
                       biconcave_fraction, crush_fraction)
    spine = options.spine()
    rotation = pose_rotation(options.rotation_deg)
    shape, ijk_to_ras = _grid(options, rotation, spine)
    ijk_to_anatomical = rotation.T @ ijk_to_ras[:3]
    hu, labels, parts = _render(spine, shape, ijk_to_anatomical, _hu_table(options.bone_density))
    _add_noise(hu, options.noise_sigma, options.seed)
    np.rint(hu, out=hu)
    np.clip(hu, *HU_RANGE, out=hu)
    ct = CTVolume(hu.astype(np.int16), ijk_to_ras, "PVPGuide phantom")
    phantom = Phantom(ct, ct.with_voxels(labels), ct.with_voxels(parts), _truth(options, spine, rotation))
    if skin_grid is not None:
        from .grid import lay_grid_on_phantom

        phantom = lay_grid_on_phantom(phantom, skin_grid)
    return phantom


def phantom_truth(*, seed: int = 0, spacing=(0.9, 0.9, 2.0), direction=None, rotation_deg=(0.0, 0.0, 0.0),
                  wedge_fraction: float = 0.0, bone_density: str = "osteoporotic", noise_sigma: float = 15.0,
                  biconcave_fraction: float = 0.0, crush_fraction: float = 0.0) -> dict:
    """The ground truth generate_phantom would return for these options, without building voxels."""
    options = _options(seed, spacing, direction, rotation_deg, wedge_fraction, bone_density, noise_sigma,
                       biconcave_fraction, crush_fraction)
    return _truth(options, options.spine(), pose_rotation(options.rotation_deg))


def write_phantom(phantom: Phantom, folder) -> dict[str, Path]:
    """Write ct.nrrd, labels.nrrd, parts.nrrd (LPS on disk, as SimpleITK stores it) and truth.json, each atomically."""
    from ..io.atomic_io import write_json_atomic
    from ..io.ct_io import write_volume

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.nrrd" for name in ("ct", "labels", "parts")}
    for name, volume in (("ct", phantom.ct), ("labels", phantom.labels), ("parts", phantom.parts)):
        write_volume(volume, paths[name])
    paths["truth"] = folder / "truth.json"
    write_json_atomic(paths["truth"], phantom.truth)
    return paths


def pose_rotation(rotation_deg) -> np.ndarray:
    """(3, 3) spine pose: rotation about R, then A, then S (fixed scanner axes), degrees."""
    rx, ry, rz = np.radians(np.asarray(rotation_deg, dtype=float))
    about_r = np.array([[1, 0, 0], [0, math.cos(rx), -math.sin(rx)], [0, math.sin(rx), math.cos(rx)]])
    about_a = np.array([[math.cos(ry), 0, math.sin(ry)], [0, 1, 0], [-math.sin(ry), 0, math.cos(ry)]])
    about_s = np.array([[math.cos(rz), -math.sin(rz), 0], [math.sin(rz), math.cos(rz), 0], [0, 0, 1]])
    return about_s @ about_a @ about_r


# ---------------------------------------------------------------- options


def _triple(value, name: str) -> tuple[float, float, float]:
    try:
        v = np.asarray(value, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        v = np.array([])
    if v.shape != (3,) or not np.all(np.isfinite(v)):
        raise PhantomError(f"{name} must be three finite numbers, got {value!r}")
    return tuple(float(x) for x in v)


def _fraction(value, name: str, limit: float) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        f = float("nan")
    if not 0.0 <= f <= limit:
        raise PhantomError(f"{name} must be 0-{limit:g} (fraction of the body height lost), got {value!r}")
    return f


def _options(seed, spacing, direction, rotation_deg, wedge_fraction, bone_density, noise_sigma,
             biconcave_fraction=0.0, crush_fraction=0.0) -> _Options:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise PhantomError(f"seed must be a non-negative integer, got {seed!r}")
    spacing = _triple(spacing, "spacing")
    lo, hi = SPACING_RANGE_MM
    if not all(lo <= s <= hi for s in spacing):
        raise PhantomError(f"spacing must be {lo}-{hi} mm along each axis, got {spacing}")
    matrix = np.eye(3) if direction is None else np.asarray(direction, dtype=float)
    if matrix.shape != (3, 3) or not np.all(np.isfinite(matrix)) or not np.allclose(matrix.T @ matrix, np.eye(3),
                                                                                     atol=1e-6):
        raise PhantomError("direction must be a 3x3 orthonormal matrix (a rotation, or a reflection such as LPS "
                           f"diag(-1, -1, 1)), got {direction!r}")
    rotation = _triple(rotation_deg, "rotation_deg")
    if any(abs(r) > MAX_ROTATION_DEG for r in rotation):
        raise PhantomError(f"rotation_deg must be within +-{MAX_ROTATION_DEG:g} degrees about each axis, got {rotation}")
    wedge = float(wedge_fraction)
    if not 0.0 <= wedge <= MAX_WEDGE_FRACTION:
        raise PhantomError(f"wedge_fraction must be 0-{MAX_WEDGE_FRACTION:g} (anterior height lost), got {wedge_fraction!r}")
    if bone_density not in BONE_HU:
        raise PhantomError(f"bone_density must be one of {', '.join(BONE_HU)}, got {bone_density!r}")
    sigma = float(noise_sigma)
    if not 0.0 <= sigma <= MAX_NOISE_HU:
        raise PhantomError(f"noise_sigma must be 0-{MAX_NOISE_HU:g} HU, got {noise_sigma!r}")
    biconcave = _fraction(biconcave_fraction, "biconcave_fraction", MAX_BICONCAVE_FRACTION)
    crush = _fraction(crush_fraction, "crush_fraction", MAX_CRUSH_FRACTION)
    options = _Options(int(seed), spacing, matrix, rotation, wedge, bone_density, sigma, biconcave, crush)
    l1 = next(v for v in options.spine() if v.name == TARGET_LEVEL)
    heights = l1.body_heights()
    if min(heights.values()) < MIN_BODY_HEIGHT_MM:
        shown = ", ".join(f"{k} {h:.1f} mm" for k, h in heights.items())
        raise PhantomError(f"the fractions together leave {TARGET_LEVEL} too thin ({shown}); keep every height at "
                           f"least {MIN_BODY_HEIGHT_MM:g} mm by lowering wedge/biconcave/crush_fraction")
    return options


def _hu_table(bone_density: str) -> dict:
    cancellous, cortical, posterior = BONE_HU[bone_density]
    return {**SOFT_TISSUE_HU, "cancellous": cancellous, "cortical": cortical, "posterior_cancellous": posterior}


# ---------------------------------------------------------------- voxels


def _grid(options: _Options, rotation: np.ndarray, spine) -> tuple[tuple[int, int, int], np.ndarray]:
    """(K, J, I) and the 4x4 IJK->RAS of the grid holding the torso box in any pose, centred on it."""
    z_lo, z_hi = shapes.column_z_range(spine)
    lo = (-shapes.TORSO_HALF_WIDTH - FOV_AIR_MM, shapes.TORSO_CENTRE_Y - shapes.TORSO_HALF_DEPTH - FOV_AIR_MM,
          z_lo - FOV_Z_MARGIN_MM)
    hi = (shapes.TORSO_HALF_WIDTH + FOV_AIR_MM, shapes.TORSO_CENTRE_Y + shapes.TORSO_HALF_DEPTH + FOV_AIR_MM,
          z_hi + FOV_Z_MARGIN_MM)
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    along = corners @ rotation.T @ options.direction  # coordinates along the grid axes
    a_lo, a_hi = along.min(axis=0), along.max(axis=0)
    spacing = np.asarray(options.spacing)
    counts = np.ceil((a_hi - a_lo) / spacing - 1e-9).astype(int) + 1
    if int(np.prod(counts)) > MAX_VOXELS:
        raise PhantomError(f"the phantom would need {int(np.prod(counts)):,} voxels (limit {MAX_VOXELS:,}); "
                           "choose a coarser spacing")
    first = 0.5 * (a_lo + a_hi) - 0.5 * spacing * (counts - 1)
    m = np.eye(4)
    m[:3, :3] = options.direction @ np.diag(spacing)
    m[:3, 3] = options.direction @ first
    return (int(counts[2]), int(counts[1]), int(counts[0])), m


def _render(spine, shape, ijk_to_anatomical: np.ndarray, hu: dict):
    """HU (float32), labels and parts (uint8), each (K, J, I), evaluated slab by slab."""
    footprint = shapes.Footprint(ijk_to_anatomical[:, :3])
    n_k, n_j, n_i = shape
    out = np.empty(shape, np.float32)
    labels = np.zeros(shape, np.uint8)
    parts = np.zeros(shape, np.uint8)
    m, q0 = ijk_to_anatomical[:, :3], ijk_to_anatomical[:, 3]
    cols = [(m[a, 0] * np.arange(n_i)).astype(np.float32) for a in range(3)]
    rows = [(m[a, 1] * np.arange(n_j)).astype(np.float32) for a in range(3)]
    step = max(1, CHUNK_VOXELS // (n_i * n_j))
    for k0 in range(0, n_k, step):
        kk = np.arange(k0, min(n_k, k0 + step))
        xyz = [(q0[a] + m[a, 2] * kk).astype(np.float32)[:, None, None] + rows[a][None, :, None]
               + cols[a][None, None, :] for a in range(3)]
        block = slice(k0, k0 + kk.size)
        out[block] = shapes.soft_tissue_hu(xyz[0], xyz[1], footprint, hu)
        _paint_spine(spine, [c.reshape(-1) for c in xyz], footprint, hu,
                     out[block].reshape(-1), labels[block].reshape(-1), parts[block].reshape(-1))
    return out, labels, parts


def _add_noise(hu: np.ndarray, sigma: float, seed: int) -> None:
    """Seeded Gaussian noise, drawn slab by slab (a fixed order) so no volume-sized temporary is needed."""
    if sigma <= 0:
        return
    rng = np.random.default_rng(seed)
    step = max(1, CHUNK_VOXELS // (hu.shape[1] * hu.shape[2]))
    for k0 in range(0, hu.shape[0], step):
        block = hu[k0:k0 + step]
        block += rng.standard_normal(block.shape, dtype=np.float32) * np.float32(sigma)


def _indices_in_box(xyz, candidates, lo, hi) -> np.ndarray:
    keep = candidates
    for axis in range(3):
        c = xyz[axis][keep]
        keep = keep[(c >= lo[axis]) & (c <= hi[axis])]
    return keep


def _paint_spine(spine, xyz, footprint, hu, out, labels, parts) -> None:
    """Paint discs, bodies and posterior elements over the soft tissue (flat views of one slab)."""
    everything = np.arange(xyz[0].size)
    boxes = [(v, kind, lo + v.origin, hi + v.origin) for v in spine
             for kind, (lo, hi) in (("body", v.body_box()), ("posterior", v.posterior_box()))]
    spine_lo = np.min([b[2] for b in boxes], axis=0)
    spine_hi = np.max([b[3] for b in boxes], axis=0)
    candidates = _indices_in_box(xyz, everything, spine_lo, spine_hi)
    for v, kind, lo, hi in boxes:  # body before posterior elements within a level: the body wins
        idx = _indices_in_box(xyz, candidates, lo, hi)
        if idx.size == 0:
            continue
        x, y, z = (xyz[a][idx] - np.float32(v.origin[a]) for a in range(3))
        if kind == "body":
            _paint_body(v, x, y, z, footprint, hu, idx, out, labels, parts)
        else:
            _paint_posterior(v, x, y, z, footprint, hu, idx, out, labels, parts)


def _paint_body(v, x, y, z, footprint, hu, idx, out, labels, parts) -> None:
    out[idx[v.in_cross_section(x, y)]] = hu["disc"]  # the level's share of the discs; the body goes over it
    shell = v.body_shell(x, y, z, footprint)
    bone = shell <= 0.0
    values = np.where(shell >= -1.0, hu["cortical"], hu["cancellous"])
    out[idx[bone]] = values[bone]
    labels[idx[bone]] = v.spec.label
    parts[idx[bone]] = PART_IDS["body"]


def _paint_posterior(v, x, y, z, footprint, hu, idx, out, labels, parts) -> None:
    shell = v.posterior_shell(x, y, z, footprint)
    bone = (shell <= 0.0) & (parts[idx] != PART_IDS["body"])
    values = np.where(shell >= -1.0, hu["cortical"], hu["posterior_cancellous"])
    out[idx[bone]] = values[bone]
    labels[idx[bone]] = v.spec.label
    parts[idx[bone]] = PART_IDS["posterior_elements"]


# ---------------------------------------------------------------- ground truth


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


def _target_point(v, side: str) -> tuple[np.ndarray, str, float]:
    """C in the level's frame, the rule that placed it and its distance to the anterior cortex along the line."""
    lines = v.pedicle_lines["right" if side == "left" else "left"]
    start, axis = lines.border_point("medial"), lines.axis
    t_third = (v.posterior_y + C_DEPTH_FRACTION * v.spec.depth - start[1]) / axis[1]
    t_cortex = v.body_exit(start, axis)
    t = min(t_third, t_cortex - C_ANTERIOR_MARGIN_MM)
    c = start + t * axis
    c[2] = v.z_mid(c[1], c[0])
    rule = "anterior_third" if t == t_third else "anterior_cortex_margin"
    return c, rule, t_cortex - t


def _bony_entry(v, side: str) -> np.ndarray:
    """B in the level's frame: first bone met coming from behind along the lateral border at mid-process height."""
    lines = v.pedicle_lines[side]
    start = lines.border_point("lateral").copy()
    start[2] = v.transverse_processes[side].start[2]
    ts = np.arange(-80.0, 20.0, 0.05)  # finer than any cortex, so no bone is stepped over
    inside = v.bone_sign(start + ts[:, None] * lines.axis) <= 0.0
    first = int(np.argmax(inside))
    if not inside.any() or first == 0:
        raise RuntimeError(f"{v.name} {side}: the lateral pedicle border line meets no bone from behind")
    lo, hi = ts[first - 1], ts[first]
    for _ in range(40):  # 0.05 mm / 2**40: far below the rounding of the truth
        mid = 0.5 * (lo + hi)
        if v.bone_sign((start + mid * lines.axis)[None])[0] <= 0.0:
            hi = mid
        else:
            lo = mid
    return start + hi * lines.axis


def _level_truth(v, rotation: np.ndarray) -> dict:
    origin = np.asarray(v.origin, dtype=float)

    def point(local):
        return rotation @ (np.asarray(local, dtype=float) + origin)

    def vector(local):
        return rotation @ np.asarray(local, dtype=float)

    depth, k = v.spec.depth, v.wedge_slope
    heights = v.body_heights()
    centre = np.array([0.0, 0.0, v.z_mid(0.0)])
    superior_normal = _unit([0.0, k, 1.0])
    inferior_normal = np.array([0.0, 0.0, 1.0])
    superior = _unit(superior_normal + inferior_normal)
    canal_centre = np.array([0.0, v.canal_y, centre[2]])
    towards_body = centre - canal_centre
    anterior = _unit(towards_body - (towards_body @ superior) * superior)
    right = np.cross(anterior, superior)
    pedicles, tps, plans = {}, {}, {}
    for side in shapes.SIDES:
        lines = v.pedicle_lines[side]
        pedicles[side] = {
            "axis_point": point(lines.point), "axis_direction": vector(lines.axis),
            "isthmus_width_mm": lines.width, "height_mm": lines.height,
            "convergence_deg": shapes.PEDICLE_CONVERGENCE_DEG,
            "medial_border": {"point": point(lines.border_point("medial")), "direction": vector(lines.axis)},
            "lateral_border": {"point": point(lines.border_point("lateral")), "direction": vector(lines.axis)},
        }
        tp = v.transverse_processes[side]
        tps[side] = point(tp.point_at(0.5 * (tp.length + tp.cap)))
        c, rule, margin = _target_point(v, side)
        plans[side] = {"B": point(_bony_entry(v, side)), "C": point(c), "C_rule": rule,
                       "C_depth_fraction": (c[1] - v.posterior_y) / depth, "C_to_anterior_cortex_mm": margin}
    return {
        "label": v.spec.label,
        "body_centre": point(centre),
        "superior_endplate_centre": point([0.0, 0.0, v.z_superior(0.0)]),
        "inferior_endplate_centre": point([0.0, 0.0, v.z_inferior()]),
        "frame": {"origin": point(centre), "right": vector(right), "anterior": vector(anterior),
                  "superior": vector(superior)},
        "midsagittal_plane": {"point": point(centre), "normal": vector(right)},
        "canal": {"centre": point(canal_centre), "width_mm": 2 * shapes.CANAL_HALF_WIDTH,
                  "depth_mm": 2 * shapes.CANAL_HALF_DEPTH},
        "spinous_tip": point(v.spinous.tip),
        "transverse_process_mid": tps,
        "pedicles": pedicles,
        "body": {
            "width_mm": v.spec.width, "depth_mm": depth, "posterior_height_mm": heights["posterior"],
            "anterior_height_mm": heights["anterior"], "middle_height_mm": heights["middle"],
            "intact_height_mm": v.spec.height,
            # Genant's deformity: which heights were lowered, by the construction's fractions of intact height.
            "fracture": {"wedge_fraction": v.wedge_fraction, "biconcave_fraction": v.biconcave_fraction,
                         "crush_fraction": v.crush_fraction},
            "cortical_thickness_mm": shapes.BODY_CORTEX_MM,
            "anterior_cortex_point": point([0.0, 0.5 * depth, v.z_mid(0.5 * depth)]),
            "posterior_wall_point": point([0.0, -0.5 * depth, v.z_mid(-0.5 * depth)]),
            # Both endplate normals point cranially; their bisector is frame.superior.
            "superior_endplate_normal": vector(superior_normal),
            "inferior_endplate_normal": vector(inferior_normal),
        },
        "plans": plans,
    }


def _truth(options: _Options, spine, rotation: np.ndarray) -> dict:
    half_depth = shapes.TORSO_HALF_DEPTH
    truth = {
        "schema": TRUTH_SCHEMA,
        "coordinate_system": "RAS",
        "units": "mm",
        "parameters": options.to_json(),
        "target_level": TARGET_LEVEL,
        # ras = rotation @ anatomical + translation; anatomical origin = centre of the intact L1 body.
        "pose": {"rotation": rotation, "translation": np.zeros(3)},
        "label_ids": {v.name: v.spec.label for v in spine},
        "part_ids": dict(PART_IDS),
        "tissue_hu": _hu_table(options.bone_density),
        "soft_tissue": {
            "torso_centre": rotation @ np.array([0.0, shapes.TORSO_CENTRE_Y, 0.0]),
            "torso_half_width_mm": shapes.TORSO_HALF_WIDTH, "torso_half_depth_mm": half_depth,
            "skin_thickness_mm": shapes.SKIN_MM, "subcutaneous_fat_mm": shapes.SUBCUTANEOUS_FAT_MM,
            "posterior_skin_point": rotation @ np.array([0.0, shapes.TORSO_CENTRE_Y - half_depth, 0.0]),
            "posterior_direction": rotation @ np.array([0.0, -1.0, 0.0]),
        },
        "levels": {v.name: _level_truth(v, rotation) for v in spine},
    }
    return _json_ready(truth)


def _json_ready(value):
    """Plain JSON types; floats rounded to 1 nm so the text is short and stable."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_json_ready(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    return round(float(value), 6) + 0.0
