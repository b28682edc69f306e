"""Optional printable vertebra replica: the vertebra hollowed to a shell, with the planned channels open."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..core.compat import strict_zip
from ..core.iso_surface import iso_surface
from ..core.mesh import TriangleMesh
from ..core.needles import needle_outer_diameter_mm
from ..core.volume import CTVolume
from . import checks
from .booleans import difference, printable_mesh, to_manifold
from .errors import GuideError
from .sleeve import cylinder

# Gaps narrower than twice this are filled and material thinner is removed (a morphological closing, then
# opening, of the solid): where a channel runs under the surface or crosses another, or a process is thin,
# the printed wall keeps the floor.
_OPENING_MM = 1.0
_WALL_FLOOR_MM = 1.5  # SPEC section 7: the thinnest printable wall
_FIELD_SLACK_MM = 0.5


@dataclass(frozen=True, eq=False)
class ReplicaResult:
    """The replica (RAS mm, float32-exact) and its measured properties."""

    mesh: TriangleMesh
    level: str
    shell_mm: float
    watertight: bool
    manifold: bool
    outward_normals: bool
    self_intersecting: bool
    volume_mm3: float
    min_wall_mm: float


def build_replica(labels: CTVolume, label_value: int, trajectories, *, level: str = "", shell_mm: float = 2.0,
                  voxel_mm: float = 0.75, channel_clearance_mm: float = 0.3) -> ReplicaResult:
    """The vertebra `label_value` of the label map as a shell_mm-thick hollow model, each path A->C drilled.

    trajectories : GuideTrajectory-like objects (A, C, needle_gauge). The surface is the label's boundary
    (a signed distance field, resampled to voxel_mm for a smooth print) and the inner wall the same
    field shell_mm inside; each channel is the needle's diameter plus channel_clearance_mm, from the skin
    entry A to the target C, so the planned path shows as an open tunnel through the wall. The shell is at
    least the opening's diameter and one of its voxels thick (about 2.4 mm on the default grid), whatever
    shell_mm asks; the result's shell_mm is the shell made.
    """
    if shell_mm <= 0 or voxel_mm <= 0:
        raise GuideError("replica", "shell_mm and voxel_mm must be positive")
    mask = np.asarray(labels.voxels) == label_value
    if not np.any(mask):
        raise GuideError("replica", f"label {label_value} is not in the label map: no vertebra to print")
    field, ijk_to_ras = _signed_distance(labels, mask, margin_mm=shell_mm + 3 * voxel_mm, voxel_mm=voxel_mm)
    points = _grid_points(field.shape, ijk_to_ras)
    spacing = float(np.min(np.linalg.norm(ijk_to_ras[:3, :3], axis=0)))
    vertebra = field < 0
    # The opening runs on a finer grid (see _closed_opened); the shell must outlast it -- its ball's diameter
    # and one of its voxels -- or the shell is eaten in patches.
    morphology_spacing = spacing / _morphology_split(spacing)
    shell_mm = max(float(shell_mm), 2.0 * _OPENING_MM + morphology_spacing)
    # The cavity is what lies deeper than shell_mm, measured on the fine grid: the label map's own distance
    # field is quantised by its slices (3 mm slices left a 1.2 mm shell at the end plates).
    cavity = ndimage.distance_transform_edt(vertebra, sampling=spacing) - 0.5 * spacing > shell_mm
    # Inside the cavity each channel runs in a sleeve of wall around its drill, closed beyond C by the same
    # wall; the wall must outlast the opening (its ball's diameter and a voxel), or it is eaten in patches.
    sheath_wall = max(shell_mm, 2.0 * _OPENING_MM + spacing)
    drilled = np.zeros_like(vertebra)
    sheathed = np.zeros_like(vertebra)
    channels = []
    for t in trajectories:
        a, c = np.asarray(t.A, dtype=float), np.asarray(t.C, dtype=float)
        d = (c - a) / np.linalg.norm(c - a)
        radius = 0.5 * (needle_outer_diameter_mm(t.needle_gauge) + channel_clearance_mm)
        # In the field the channel is a little wider than planned (the voxels' and the blur's error); the
        # exact channel is cut from the mesh afterwards, so the needle passes whatever the sampling.
        drill_radius = radius + _FIELD_SLACK_MM
        drilled |= _segment_distance(points, a - 5.0 * d, c, field.shape) <= drill_radius
        sheathed |= _segment_distance(points, a, c + sheath_wall * d, field.shape) <= drill_radius + sheath_wall
        phase = np.cross(d, [0.0, 0.0, 1.0] if abs(d[2]) < 0.9 else [1.0, 0.0, 0.0])
        channels.append(cylinder(a - 5.0 * d, c, radius, segments=32, phase_axis=phase))
    solid = _closed_opened(vertebra & ~(cavity & ~sheathed) & ~drilled, spacing, radius_mm=_OPENING_MM)
    if not np.any(solid < 0):
        raise GuideError("replica", "nothing of the vertebra is left once hollowed: check shell_mm")
    surface = _iso_surface(solid, ijk_to_ras, 0.0)
    shell = difference(to_manifold(surface, step="replica surface"), channels, step="replica: drill")
    mesh = printable_mesh(shell, step="replica: clean for STL")
    report = checks.mesh_report(mesh, merge=False)
    wall = checks.wall_thickness(mesh)
    return ReplicaResult(mesh, level, shell_mm, report.watertight, report.manifold, report.outward_normals,
                         report.self_intersecting_pairs > 0, report.volume_mm3, wall.min_mm)


def _grid_points(shape, ijk_to_ras: np.ndarray) -> np.ndarray:
    """(K*J*I, 3) RAS of every voxel of a (K, J, I) grid."""
    k, j, i = np.meshgrid(*(np.arange(n, dtype=float) for n in shape), indexing="ij")
    ijk = np.column_stack([i.ravel(), j.ravel(), k.ravel()])
    return ijk @ ijk_to_ras[:3, :3].T + ijk_to_ras[:3, 3]


def _segment_distance(points: np.ndarray, p0: np.ndarray, p1: np.ndarray, shape) -> np.ndarray:
    """(K, J, I) distance of every voxel to the segment p0-p1 (mm)."""
    axis = p1 - p0
    t = np.clip((points - p0) @ axis / float(axis @ axis), 0.0, 1.0)
    return np.linalg.norm(points - (p0 + t[:, None] * axis), axis=1).reshape(shape)


def _morphology_split(spacing: float) -> int:
    """How many parts each voxel edge is split into for the closing and opening.

    A ball drawn on voxels is exact to about a voxel, and the walls may lose no more than the opening's
    diameter exceeds the floor by; on the replica's grid a 1 mm ball is a seven-voxel cross, whose one-voxel
    arms reach into notches a true ball cannot enter and hold fins it would remove.
    """
    return max(1, int(np.ceil(spacing / (2.0 * _OPENING_MM - _WALL_FLOOR_MM) - 1e-9)))


def _closed_opened(inside: np.ndarray, spacing: float, *, radius_mm: float) -> np.ndarray:
    """Signed distance (mm, negative inside) of `inside` closed, then opened, by a ball of radius_mm.

    Opened last, every part of the solid lies in a ball of radius_mm inside it, so no wall is thinner than
    the ball's diameter (within the grid's error). Opened first, a floor a little thinner than the diameter
    over a channel was cut along its thinnest line only, and the closing then bridged that cut's waist with
    a web thinner than the floor (0.33 mm on the phantom, where the field's channel runs 1.8 mm above the
    inferior surface). Both run on the grid split by _morphology_split; the result is averaged back. Still
    open: where the opening cuts such a floor through, the cut is an hourglass whose waist (about 1 mm) the
    replica's grid cannot carry, and the blur bridges it with a web (docs/guide-plate.md).
    """
    split = _morphology_split(spacing)
    fine_spacing = spacing / split
    fine = inside
    for axis in range(3):
        fine = fine.repeat(split, axis)

    def grown(mask):
        return ndimage.distance_transform_edt(~mask, sampling=fine_spacing) <= radius_mm

    def shrunk(mask):
        return ndimage.distance_transform_edt(mask, sampling=fine_spacing) > radius_mm

    regular = grown(shrunk(shrunk(grown(fine))))
    half = 0.5 * fine_spacing
    outside = ndimage.distance_transform_edt(~regular, sampling=fine_spacing) - half
    within = ndimage.distance_transform_edt(regular, sampling=fine_spacing) - half
    k, j, i = inside.shape
    field = np.where(regular, -within, outside).reshape(k, split, j, split, i, split).mean(axis=(1, 3, 5))
    # A light blur takes the voxel staircase off the distance field (a fraction of a voxel).
    return ndimage.gaussian_filter(field, 0.6)


def _signed_distance(labels: CTVolume, mask: np.ndarray, *, margin_mm: float, voxel_mm: float):
    """Signed distance (mm, negative inside) around the mask, resampled to about voxel_mm; (field, ijk_to_ras)."""
    spacing_kji = labels.spacing[::-1]
    pad = np.ceil(margin_mm / spacing_kji).astype(int) + 1
    k, j, i = np.nonzero(mask)
    lo = np.array([k.min(), j.min(), i.min()]) - pad
    hi = np.array([k.max(), j.max(), i.max()]) + pad + 1
    cropped = np.zeros(hi - lo, dtype=bool)
    src_lo = np.maximum(lo, 0)
    src_hi = np.minimum(hi, mask.shape)
    cropped[tuple(slice(a - b, c - b) for a, b, c in strict_zip(src_lo, lo, src_hi))] = \
        mask[tuple(slice(a, c) for a, c in strict_zip(src_lo, src_hi))]
    # Half a voxel puts the zero level on the boundary between inside and outside voxels.
    half = 0.5 * float(np.min(spacing_kji))
    outside = ndimage.distance_transform_edt(~cropped, sampling=spacing_kji) - half
    inside = ndimage.distance_transform_edt(cropped, sampling=spacing_kji) - half
    field = np.where(cropped, -inside, outside)
    factors = np.maximum(spacing_kji / voxel_mm, 1.0)
    fine = ndimage.zoom(field, factors, order=1)
    fine = ndimage.gaussian_filter(fine, 0.6)  # soften the voxel staircase of a coarse label map
    # zoom maps the first and last samples onto each other: index scale (n_old - 1) / (n_new - 1) per axis.
    scale_kji = (np.array(field.shape) - 1) / np.maximum(np.array(fine.shape) - 1, 1)
    scale_ijk = scale_kji[::-1]
    origin_ijk = lo[::-1].astype(float)
    m = labels.ijk_to_ras.copy()
    fine_to_ras = np.eye(4)
    fine_to_ras[:3, :3] = m[:3, :3] @ np.diag(scale_ijk)
    fine_to_ras[:3, 3] = m[:3, :3] @ origin_ijk + m[:3, 3]
    return fine, fine_to_ras


def _iso_surface(field: np.ndarray, ijk_to_ras: np.ndarray, level: float) -> TriangleMesh | None:
    """Closed iso-surface of the signed distance at `level`, in RAS; None when the level is absent."""
    if not (field.min() < level < field.max()):
        return None
    return iso_surface(field, ijk_to_ras, level, outside_value=float(field.max()))
