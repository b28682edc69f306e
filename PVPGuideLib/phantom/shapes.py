"""Analytic anatomy of the phantom: vertebrae and torso as approximate signed distances in the anatomical frame."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.geometry import SIDE_SIGN, SIDES

# The spinal canal is shared by the three levels (L1 values): 22 mm wide, 17 mm deep.
CANAL_HALF_WIDTH = 11.0
CANAL_HALF_DEPTH = 8.5
# The posterior body walls line up at this anatomical A coordinate, as along a healthy posterior longitudinal line.
POSTERIOR_WALL_Y = -15.0
CANAL_CENTRE_Y = POSTERIOR_WALL_Y - CANAL_HALF_DEPTH
# The medial pedicle borders pass 0.5 mm lateral to the canal where it is widest, so the canal never cuts a
# pedicle and the medial border seen in the image is the straight line of the construction.
PEDICLE_MEDIAL_X = CANAL_HALF_WIDTH + 0.5
PEDICLE_CONVERGENCE_DEG = 10.0
# Pedicles arise from the upper half of the body; the transverse processes sit a little lower, so B lies
# slightly caudal to C and the planned needle tip points cranially (SPEC 4: sagittal angle 0-15 degrees).
PEDICLE_CENTRE_Z = 2.0
TRANSVERSE_PROCESS_Z = -2.0
BODY_CORTEX_MM = 1.2
POSTERIOR_CORTEX_MM = 1.0

# Torso: an elliptic cylinder along the spine axis with skin, subcutaneous fat and an abdominal-wall muscle layer.
TORSO_CENTRE_Y = 8.0
TORSO_HALF_WIDTH = 135.0
TORSO_HALF_DEPTH = 100.0
SKIN_MM = 2.0
SUBCUTANEOUS_FAT_MM = 20.0
ABDOMINAL_WALL_MM = 12.0
BACK_MUSCLE_FRONT_Y = -30.0  # inside the wall, everything behind this is paraspinal / quadratus muscle
PSOAS = ((32.0, -2.0), (11.0, 14.0))  # centre (|x|, y) and half-axes
VESSELS = ((-12.0, 27.0, 11.0), (22.0, 22.0, 9.0))  # aorta (patient's left), inferior vena cava: x, y, radius
# Skin HU ramps linearly to air over about one voxel, crossing -300 HU on the true surface, so a skin
# iso-surface at -300 HU lands on the modelled skin to sub-voxel precision.
SKIN_ISO_HU = -300.0

X_AXIS, Y_AXIS, Z_AXIS = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)


def _ellipse(u, v, a: float, b: float):
    """Approximate signed distance (mm, < 0 inside) to the ellipse (u/a)^2 + (v/b)^2 = 1.

    (G - 1) / |grad G| with G = sqrt((u/a)^2 + (v/b)^2): exact on the boundary and for circles, close to
    the true distance near the boundary (all the cortex test needs). g / norm lies in [min(a, b), max(a, b)];
    the tiny terms make it min(a, b) at the centre itself instead of 0 / 0.
    Returns (sd, gu, gv, norm): (gu, gv) is the outward normal, unnormalised, and norm its length.
    """
    gu, gv = u / (a * a), v / (b * b)
    g = np.sqrt(u * gu + v * gv)
    norm = np.sqrt(gu * gu + gv * gv) + 1e-12
    return (g - 1.0) * ((g + 1e-12 * min(a, b)) / norm), gu, gv, norm


def _ellipsoid(u, v, w, a: float, b: float, c: float):
    """Three-axis version of _ellipse: (sd, gu, gv, gw, norm)."""
    gu, gv, gw = u / (a * a), v / (b * b), w / (c * c)
    g = np.sqrt(u * gu + v * gv + w * gw)
    norm = np.sqrt(gu * gu + gv * gv + gw * gw) + 1e-12
    return (g - 1.0) * ((g + 1e-12 * min(a, b, c)) / norm), gu, gv, gw, norm


class Footprint:
    """Extent of one CT voxel along a direction, so thin cortex is drawn at least one voxel thick.

    scaled_axes : (3, 3) columns = spacing_i * grid axis i, in the anatomical frame. All zeros means
    exact geometry (no voxels): used for the ground truth, where only the sign of a distance matters.
    """

    def __init__(self, scaled_axes):
        m = np.asarray(scaled_axes, dtype=float)
        self.columns = tuple(tuple(float(c) for c in m[:, i]) for i in range(3))
        self.exact = not np.any(m)

    def _project(self, e):
        return tuple(e[0] * c[0] + e[1] * c[1] + e[2] * c[2] for c in self.columns)

    def along_plane(self, n) -> float:
        """Voxel extent (mm) along the unit vector n."""
        return float(sum(abs(p) for p in self._project(n)))

    def along(self, terms, norm):
        """Voxel extent along the normal sum(g * e for g, e in terms) of length `norm` (the e orthonormal)."""
        projected = [(g, self._project(e)) for g, e in terms]
        return sum(abs(sum(g * k[i] for g, k in projected)) for i in range(3)) / norm

    def shell(self, sd, thickness: float, extent):
        """sd in units of the drawn shell thickness: cortex where -1 <= value <= 0."""
        if self.exact:
            return sd / thickness
        return sd / np.maximum(thickness, extent)

    def plane(self, sd, thickness: float, n):
        return self.shell(sd, thickness, 0.0 if self.exact else self.along_plane(n))

    def curved(self, sd, thickness: float, terms, norm):
        return self.shell(sd, thickness, 0.0 if self.exact else self.along(terms, norm))


EXACT = Footprint(np.zeros((3, 3)))


@dataclass(frozen=True)
class Rod:
    """Elliptic cylinder from `start` along unit `axis` for `length` mm, optionally with an ellipsoidal end cap.

    The cross-section has half-axes `a` along unit `e1` and `b` along unit `e2` (both perpendicular to the
    axis); the cap reaches `cap` mm beyond the far end. Vectors are 3-tuples in a vertebra's local frame.
    """

    start: tuple
    axis: tuple
    e1: tuple
    e2: tuple
    a: float
    b: float
    length: float
    cap: float = 0.0

    def point_at(self, s: float) -> np.ndarray:
        return np.asarray(self.start) + s * np.asarray(self.axis)

    @property
    def tip(self) -> np.ndarray:
        """(3,) the far end of the rod including its cap, on the axis."""
        return self.point_at(self.length + self.cap)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        ends = np.array([self.point_at(0.0), self.tip])
        r = max(self.a, self.b, self.cap)
        return ends.min(axis=0) - r, ends.max(axis=0) + r

    def shell(self, x, y, z, fp: Footprint, thickness: float):
        """Shell-normalised signed distance (see Footprint.shell) at local points x, y, z."""
        qx, qy, qz = x - self.start[0], y - self.start[1], z - self.start[2]
        ax, e1, e2 = self.axis, self.e1, self.e2
        s = qx * ax[0] + qy * ax[1] + qz * ax[2]
        u = qx * e1[0] + qy * e1[1] + qz * e1[2]
        v = qx * e2[0] + qy * e2[1] + qz * e2[2]
        sd, gu, gv, norm = _ellipse(u, v, self.a, self.b)
        value = np.maximum(fp.curved(sd, thickness, ((gu, e1), (gv, e2)), norm),
                           fp.plane(-s, thickness, tuple(-c for c in ax)))
        value = np.maximum(value, fp.plane(s - self.length, thickness, ax))
        if self.cap > 0.0:
            sd, gu, gv, gw, norm = _ellipsoid(u, v, s - self.length, self.a, self.b, self.cap)
            value = np.minimum(value, fp.curved(sd, thickness, ((gu, e1), (gv, e2), (gw, ax)), norm))
        return value


@dataclass(frozen=True)
class LevelSpec:
    """Published-size dimensions of one vertebra (mm, degrees)."""

    name: str
    label: int  # TotalSegmentator v2 id
    width: float  # endplate width (Panjabi 1992 for L1, L2)
    depth: float  # antero-posterior body depth
    height: float  # posterior body height
    pedicle_width: float  # transverse isthmus width (Panjabi 1992 for L1, L2)
    pedicle_height: float
    tp_length: float
    spinous_length: float
    spinous_tilt_deg: float  # caudal tilt of the spinous process
    lamina_half_height: float


LEVEL_SPECS = (
    LevelSpec("T12", 32, 38.6, 28.0, 22.0, 7.8, 16.0, 14.0, 24.0, 25.0, 9.5),
    LevelSpec("L1", 31, 41.2, 30.0, 23.5, 8.6, 15.0, 22.0, 25.0, 15.0, 10.0),
    LevelSpec("L2", 30, 42.6, 31.0, 24.2, 8.25, 14.5, 28.0, 26.0, 10.0, 10.5),
)
# Discs above T12, T12/L1, L1/L2 and below L2 (mm); the outer two end the modelled column.
DISC_HEIGHTS = (9.0, 8.5, 9.5, 9.0)


@dataclass(frozen=True)
class PedicleLines:
    """A pedicle in a vertebra's local frame: isthmus axis point, anterior axis direction, lateral normal."""

    point: np.ndarray
    axis: np.ndarray
    lateral: np.ndarray
    width: float
    height: float

    def border_point(self, which: str) -> np.ndarray:
        offset = 0.5 * self.width * self.lateral
        return self.point + offset if which == "lateral" else self.point - offset


@dataclass(frozen=True, eq=False)
class Vertebra:
    """One vertebra; local frame = anatomical axes translated to `origin`, the centre of the intact body."""

    spec: LevelSpec
    origin: tuple
    territory: tuple  # local S range holding the body and half of each adjacent disc
    wedge_fraction: float
    pedicles: dict  # side -> Rod
    pedicle_lines: dict  # side -> PedicleLines
    transverse_processes: dict
    fillet: Rod
    lamina: Rod
    spinous: Rod
    biconcave_fraction: float = 0.0  # middle height lost, shared by both endplates (Genant biconcave)
    # Height lost uniformly (Genant crush), half from each endplate: the body shrinks towards its mid-height, where
    # the pedicles join it, so the posterior elements stay attached and the neighbours stay in place.
    crush_fraction: float = 0.0

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def half_width(self) -> float:
        return 0.5 * self.spec.width

    @property
    def posterior_y(self) -> float:
        return -0.5 * self.spec.depth

    @property
    def canal_y(self) -> float:
        return CANAL_CENTRE_Y - self.origin[1]

    # The body cross-section is an ellipse reaching the anterior wall, cut flat posteriorly: a 30 mm deep L1
    # has a flat posterior wall about 31 mm wide, like the real one.
    @property
    def ellipse_y(self) -> float:
        return -0.1 * self.spec.depth

    @property
    def ellipse_b(self) -> float:
        return 0.6 * self.spec.depth

    @property
    def wedge_slope(self) -> float:
        """Fall of the superior endplate per mm towards anterior (0 for an intact body)."""
        return self.wedge_fraction * self.spec.height / self.spec.depth

    @property
    def z_inferior_rim(self) -> float:
        """The inferior endplate's height at its rim (where a biconcave depression ends)."""
        return -0.5 * self.spec.height * (1.0 - self.crush_fraction)

    def concavity(self, x, y):
        """Depth profile of a biconcave depression: 1 at the body centre, 0 at the walls; and its gradient.

        sin along A (0 at the posterior and anterior walls) times a parabola across R (0 at the lateral walls).
        """
        d, hw = self.spec.depth, self.half_width
        phase = np.pi * (np.asarray(y, dtype=float) - self.posterior_y) / d
        across = np.clip(1.0 - (np.asarray(x, dtype=float) / hw) ** 2, 0.0, None)
        along = np.clip(np.sin(phase), 0.0, None)
        dx = np.where(across > 0.0, -2.0 * np.asarray(x, dtype=float) / (hw * hw), 0.0) * along
        dy = np.where(along > 0.0, np.pi / d * np.cos(phase), 0.0) * across
        return across * along, dx, dy

    def _dent(self):
        """Depth (mm) each endplate sinks at the centre of a biconcave body."""
        return 0.5 * self.biconcave_fraction * self.spec.height

    def z_inferior(self, x=0.0, y=0.0):
        """Inferior endplate height at local (x, y); rises where a biconcave fracture dents it."""
        return self.z_inferior_rim + self._dent() * self.concavity(x, y)[0]

    def z_superior(self, y, x=0.0):
        # A wedge fracture tilts the superior endplate about its posterior edge (posterior height kept); a crush
        # lowers it uniformly; a biconcave fracture dents it towards the centre.
        h = self.spec.height
        flat = 0.5 * h * (1.0 - self.crush_fraction) - self.wedge_slope * (y - self.posterior_y)
        return flat - self._dent() * self.concavity(x, y)[0]

    def z_mid(self, y, x=0.0):
        return 0.5 * (self.z_superior(y, x) + self.z_inferior(x, y))

    def body_heights(self) -> dict:
        """Anterior, middle and posterior body heights (mm) on the midsagittal line (Genant's three heights)."""
        d = self.spec.depth
        return {name: float(self.z_superior(y) - self.z_inferior(0.0, y))
                for name, y in (("anterior", 0.5 * d), ("middle", 0.0), ("posterior", -0.5 * d))}

    def in_cross_section(self, x, y):
        """Inside the body's axial outline (used for the discs)."""
        return ((x / self.half_width) ** 2 + ((y - self.ellipse_y) / self.ellipse_b) ** 2 <= 1.0) & (
            y >= self.posterior_y)

    def body_shell(self, x, y, z, fp: Footprint):
        t = BODY_CORTEX_MM
        sd, gu, gv, norm = _ellipse(x, y - self.ellipse_y, self.half_width, self.ellipse_b)
        value = np.maximum(fp.curved(sd, t, ((gu, X_AXIS), (gv, Y_AXIS)), norm),
                           fp.plane(self.posterior_y - y, t, (0.0, -1.0, 0.0)))
        if self.biconcave_fraction == 0.0:
            value = np.maximum(value, fp.plane(self.z_inferior_rim - z, t, (0.0, 0.0, -1.0)))
            cos_a = 1.0 / math.hypot(1.0, self.wedge_slope)
            top = (z - self.z_superior(y)) * cos_a
            return np.maximum(value, fp.plane(top, t, (0.0, self.wedge_slope * cos_a, cos_a)))
        # Curved endplates: (z - surface) / |gradient| approximates the distance near the surface.
        _, px, py = self.concavity(x, y)
        dent = self._dent()
        gx, gy = dent * px, dent * py  # slopes of the inferior endplate
        norm = np.sqrt(1.0 + gx * gx + gy * gy)
        value = np.maximum(value, fp.curved((self.z_inferior(x, y) - z) / norm, t,
                                            ((gx, X_AXIS), (gy, Y_AXIS), (-1.0, Z_AXIS)), norm))
        sx, sy = -gx, -gy - self.wedge_slope  # slopes of the superior endplate
        norm = np.sqrt(1.0 + sx * sx + sy * sy)
        return np.maximum(value, fp.curved((z - self.z_superior(y, x)) / norm, t,
                                           ((-sx, X_AXIS), (-sy, Y_AXIS), (1.0, Z_AXIS)), norm))

    def posterior_shell(self, x, y, z, fp: Footprint):
        t = POSTERIOR_CORTEX_MM
        lamina = np.maximum(self.lamina.shell(x, y, z, fp, t),
                            fp.plane(y - (self.canal_y - 4.0), t, Y_AXIS))  # starts behind the isthmus
        value = np.minimum(lamina, self.fillet.shell(x, y, z, fp, t))
        value = np.minimum(value, self.spinous.shell(x, y, z, fp, t))
        for rod in (*self.pedicles.values(), *self.transverse_processes.values()):
            value = np.minimum(value, rod.shell(x, y, z, fp, t))
        sd, gu, gv, norm = _ellipse(x, y - self.canal_y, CANAL_HALF_WIDTH, CANAL_HALF_DEPTH)
        return np.maximum(value, -fp.curved(sd, t, ((gu, X_AXIS), (gv, Y_AXIS)), norm))

    def bone_sign(self, points) -> np.ndarray:
        """(n,) exact-geometry value, <= 0 in this vertebra's bone, for (n, 3) local points."""
        x, y, z = (np.asarray(points, dtype=float)[:, i] for i in range(3))
        return np.minimum(self.body_shell(x, y, z, EXACT), self.posterior_shell(x, y, z, EXACT))

    def body_exit(self, point, direction) -> float:
        """Line parameter where point + t * direction leaves the body outline's ellipse forwards (axial line)."""
        a, b = self.half_width, self.ellipse_b
        px, py = point[0], point[1] - self.ellipse_y
        dx, dy = direction[0], direction[1]
        qa = (dx / a) ** 2 + (dy / b) ** 2
        qb = 2.0 * (px * dx / a**2 + py * dy / b**2)
        qc = (px / a) ** 2 + (py / b) ** 2 - 1.0
        return (-qb + math.sqrt(qb * qb - 4.0 * qa * qc)) / (2.0 * qa)

    def body_box(self) -> tuple[np.ndarray, np.ndarray]:
        lo = np.array([-self.half_width, self.posterior_y, self.territory[0]]) - (0.5, 0.5, 0.0)
        hi = np.array([self.half_width, -self.posterior_y, self.territory[1]]) + (0.5, 0.5, 0.0)
        return lo, hi

    def posterior_box(self) -> tuple[np.ndarray, np.ndarray]:
        rods = (self.fillet, self.lamina, self.spinous, *self.pedicles.values(), *self.transverse_processes.values())
        bounds = [r.bounds() for r in rods]
        return np.min([b[0] for b in bounds], axis=0), np.max([b[1] for b in bounds], axis=0)


def _pedicle(spec: LevelSpec, canal_y: float, posterior_y: float, side: str) -> tuple[PedicleLines, Rod]:
    sign = SIDE_SIGN[side]
    theta = math.radians(PEDICLE_CONVERGENCE_DEG)
    axis = np.array([-sign * math.sin(theta), math.cos(theta), 0.0])  # forwards and towards the midline
    lateral = np.array([sign * math.cos(theta), math.sin(theta), 0.0])
    w = spec.pedicle_width
    # The medial border line passes through (sign * PEDICLE_MEDIAL_X, canal_y) on the pedicle's centre height.
    point = np.array([sign * (PEDICLE_MEDIAL_X + 0.5 * w / math.cos(theta)), canal_y, PEDICLE_CENTRE_Z])
    s_back = -7.5 / math.cos(theta)  # joins the lamina and transverse process
    s_front = (posterior_y + 3.0 - canal_y) / math.cos(theta)  # 3 mm into the body
    start = point + s_back * axis
    rod = Rod(tuple(start), tuple(axis), tuple(lateral), Z_AXIS, 0.5 * w, 0.5 * spec.pedicle_height,
              s_front - s_back)
    return PedicleLines(point, axis, lateral, w, spec.pedicle_height), rod


def _vertebra(spec: LevelSpec, origin: tuple, territory: tuple, wedge_fraction: float,
              biconcave_fraction: float = 0.0, crush_fraction: float = 0.0) -> Vertebra:
    posterior_y = -0.5 * spec.depth
    canal_y = CANAL_CENTRE_Y - origin[1]
    pedicles, lines = {}, {}
    for side in SIDES:
        lines[side], pedicles[side] = _pedicle(spec, canal_y, posterior_y, side)
    tps = {side: Rod((SIDE_SIGN[side] * 14.0, canal_y - 3.0, TRANSVERSE_PROCESS_Z), (SIDE_SIGN[side], 0.0, 0.0),
                     Y_AXIS, Z_AXIS, 3.5, 4.5, spec.tp_length, 3.0) for side in SIDES}
    half_h = 0.5 * spec.pedicle_height
    # Bone bridging the pedicle bases behind the posterior wall, rounding the canal's antero-lateral corners.
    fillet = Rod((-13.0, posterior_y, PEDICLE_CENTRE_Z), X_AXIS, Y_AXIS, Z_AXIS, 5.0, half_h, 26.0)
    lamina = Rod((0.0, canal_y, -spec.lamina_half_height), Z_AXIS, X_AXIS, Y_AXIS,
                 CANAL_HALF_WIDTH + 7.0, CANAL_HALF_DEPTH + 6.0, 2.0 * spec.lamina_half_height)
    tilt = math.radians(spec.spinous_tilt_deg)
    spinous = Rod((0.0, canal_y - 9.5, PEDICLE_CENTRE_Z - 1.0), (0.0, -math.cos(tilt), -math.sin(tilt)), X_AXIS,
                  (0.0, -math.sin(tilt), math.cos(tilt)), 3.0, 9.0, spec.spinous_length, 4.0)
    return Vertebra(spec, origin, territory, wedge_fraction, pedicles, lines, tps, fillet, lamina, spinous,
                    biconcave_fraction, crush_fraction)


def build_spine(wedge_fraction: float = 0.0, biconcave_fraction: float = 0.0,
                crush_fraction: float = 0.0) -> tuple[Vertebra, ...]:
    """T12, L1, L2 stacked along S in the anatomical frame (origin: centre of the intact L1 body).

    The fractions deform L1 only: wedge (anterior height lost), biconcave (middle height lost, both endplates
    dented), crush (height lost uniformly, half at each endplate; the space left is disc-like soft tissue).
    """
    specs = {s.name: s for s in LEVEL_SPECS}
    l1, t12, l2 = specs["L1"], specs["T12"], specs["L2"]
    centres = {
        "L1": 0.0,
        "T12": 0.5 * l1.height + DISC_HEIGHTS[1] + 0.5 * t12.height,
        "L2": -(0.5 * l1.height + DISC_HEIGHTS[2] + 0.5 * l2.height),
    }
    spine = []
    for index, spec in enumerate(LEVEL_SPECS):
        below, above = DISC_HEIGHTS[index + 1], DISC_HEIGHTS[index]
        # Inner discs are shared half and half; the outer ones belong wholly to the end vertebra.
        below = below if index == len(LEVEL_SPECS) - 1 else 0.5 * below
        above = above if index == 0 else 0.5 * above
        territory = (-0.5 * spec.height - below, 0.5 * spec.height + above)
        origin = (0.0, POSTERIOR_WALL_Y + 0.5 * spec.depth, centres[spec.name])
        fractured = spec.name == "L1"
        spine.append(_vertebra(spec, origin, territory, wedge_fraction if fractured else 0.0,
                               biconcave_fraction if fractured else 0.0, crush_fraction if fractured else 0.0))
    return tuple(spine)


def column_z_range(spine) -> tuple[float, float]:
    """Anatomical S range from the lowest to the highest endplate."""
    lows = [v.origin[2] - 0.5 * v.spec.height for v in spine]
    highs = [v.origin[2] + 0.5 * v.spec.height for v in spine]
    return min(lows), max(highs)


def soft_tissue_hu(x, y, fp: Footprint, hu: dict):
    """HU of the torso (air, skin, fat, muscle, viscera, vessels, canal fluid) at anatomical x, y; any shape."""
    yt = y - TORSO_CENTRE_Y

    def inside(inset: float):
        return (x / (TORSO_HALF_WIDTH - inset)) ** 2 + (yt / (TORSO_HALF_DEPTH - inset)) ** 2 <= 1.0

    (px, py), (pa, pb) = PSOAS
    psoas = ((np.abs(x) - px) / pa) ** 2 + ((y - py) / pb) ** 2 <= 1.0
    vessels = np.zeros(np.shape(x), dtype=bool)
    for vx, vy, r in VESSELS:
        vessels |= (x - vx) ** 2 + (y - vy) ** 2 <= r * r
    canal = (x / CANAL_HALF_WIDTH) ** 2 + ((y - CANAL_CENTRE_Y) / CANAL_HALF_DEPTH) ** 2 <= 1.0
    cavity = inside(SKIN_MM + SUBCUTANEOUS_FAT_MM + ABDOMINAL_WALL_MM)
    sd, gu, gv, norm = _ellipse(x, yt, TORSO_HALF_WIDTH, TORSO_HALF_DEPTH)
    values = np.select(
        [canal, vessels, psoas, cavity & (y < BACK_MUSCLE_FRONT_Y), cavity, inside(SKIN_MM + SUBCUTANEOUS_FAT_MM),
         inside(SKIN_MM), sd <= 0.0],
        [hu["csf"], hu["blood"], hu["muscle"], hu["muscle"], hu["viscera"], hu["muscle"], hu["fat"], hu["skin"]],
        default=hu["air"]).astype(np.float32)
    extent = np.maximum(fp.along(((gu, X_AXIS), (gv, Y_AXIS)), norm), 1e-3)
    ramp = SKIN_ISO_HU - (SKIN_ISO_HU - hu["air"]) * sd / extent
    return np.where(ramp < hu["skin"], np.maximum(ramp, hu["air"]), values).astype(np.float32)
