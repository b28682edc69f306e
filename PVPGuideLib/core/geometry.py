"""SPEC section 4: vertebra frame, transverse and sagittal angles, lengths, entry offsets, grid locator."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import PVPGuideError

SIDES = ("left", "right")  # the puncture sides: every list of sides derives from this one
# Each side's sign along the right axis: the patient's left is -x (the right axis points to the patient's right).
SIDE_SIGN = {"left": -1.0, "right": 1.0}
# A point pair closer than this cannot define a needle direction.
MIN_PATH_LENGTH_MM = 1.0


class GeometryError(PVPGuideError):
    """Points or axes that cannot define the requested geometry."""


def as_point(value, name: str = "point") -> np.ndarray:
    """(3,) float RAS point; a clear error for anything else."""
    p = np.asarray(value, dtype=float).reshape(-1)
    if p.shape != (3,) or not np.all(np.isfinite(p)):
        raise GeometryError(f"{name} must be three finite numbers R, A, S (mm), got {value!r}")
    return p


def unit(vector, name: str = "vector") -> np.ndarray:
    v = np.asarray(vector, dtype=float).reshape(3)
    n = np.linalg.norm(v)
    if not np.isfinite(n) or n < 1e-9:
        raise GeometryError(f"{name} has zero length; it cannot define a direction")
    return v / n


def check_side(side: str) -> str:
    if side not in SIDES:
        raise GeometryError(f"side must be 'left' or 'right' (the puncture side), got {side!r}")
    return side


@dataclass(frozen=True, eq=False)
class VertebraFrame:
    """Orthonormal right-handed frame: right x anterior = superior (RAS-like, attached to a vertebra)."""

    origin: np.ndarray
    right: np.ndarray
    anterior: np.ndarray
    superior: np.ndarray

    @classmethod
    def from_landmarks(cls, *, superior_axis, canal_centre, body_centre) -> VertebraFrame:
        """SPEC section 4: superior = mid-endplate normal; anterior = canal centre -> body centre, orthogonalised."""
        superior = unit(superior_axis, "superior axis (endplate normal)")
        body_centre = as_point(body_centre, "body centre")
        towards_body = body_centre - as_point(canal_centre, "canal centre")
        anterior = towards_body - np.dot(towards_body, superior) * superior
        anterior = unit(anterior, "canal-to-body direction (parallel to the endplate normal?)")
        return cls(body_centre, np.cross(anterior, superior), anterior, superior)

    @classmethod
    def from_axes(cls, *, origin, right, anterior, superior, tolerance: float = 1e-3) -> VertebraFrame:
        """Frame from given axes, checked orthonormal and right-handed."""
        axes = np.array([unit(right, "right axis"), unit(anterior, "anterior axis"), unit(superior, "superior axis")])
        if not np.allclose(axes @ axes.T, np.eye(3), atol=tolerance) or np.linalg.det(axes) < 0:
            raise GeometryError("vertebra frame axes must be orthonormal and right-handed (right x anterior = superior)")
        return cls(as_point(origin, "frame origin"), *axes)

    @property
    def rotation(self) -> np.ndarray:
        """(3, 3) rows right, anterior, superior: multiplies a RAS vector into frame components."""
        return np.array([self.right, self.anterior, self.superior])

    def to_local(self, vectors) -> np.ndarray:
        """RAS direction vectors (n, 3) or (3,) -> components along (right, anterior, superior)."""
        return np.asarray(vectors, dtype=float) @ self.rotation.T

    def to_frame(self, ras) -> np.ndarray:
        """(n, 3) RAS mm -> (n, 3) frame coordinates (r, a, s) in mm relative to the origin."""
        return (np.atleast_2d(np.asarray(ras, dtype=float)) - self.origin) @ self.rotation.T

    def to_ras(self, ras_in_frame) -> np.ndarray:
        """(n, 3) frame coordinates (r, a, s) -> (n, 3) RAS mm."""
        return np.atleast_2d(np.asarray(ras_in_frame, dtype=float)) @ self.rotation + self.origin

    def to_json(self, decimals: int | None = None) -> dict:
        """{origin, right, anterior, superior} as lists; rounded to `decimals` when given (cement outputs: 6)."""
        if decimals is None:
            return {k: getattr(self, k).tolist() for k in ("origin", "right", "anterior", "superior")}
        return {k: [round(float(x), decimals) for x in getattr(self, k)] for k in ("origin", "right", "anterior", "superior")}


SCANNER_FRAME = VertebraFrame(np.zeros(3), np.array([1.0, 0, 0]), np.array([0, 1.0, 0]), np.array([0, 0, 1.0]))


@dataclass(frozen=True)
class NeedleAngles:
    transverse_deg: float
    sagittal_deg: float


def needle_direction(a, c) -> np.ndarray:
    """Unit vector from skin entry A (or any rear point) to target C."""
    a, c = as_point(a, "A"), as_point(c, "C")
    if np.linalg.norm(c - a) < MIN_PATH_LENGTH_MM:
        raise GeometryError(f"the path is degenerate: its points are less than {MIN_PATH_LENGTH_MM} mm apart")
    return (c - a) / np.linalg.norm(c - a)


def needle_angles(direction, side: str, frame: VertebraFrame = SCANNER_FRAME) -> NeedleAngles:
    """SPEC section 4 angles of a needle direction (skin -> target) in a frame.

    transverse = atan2(m, dA) with m = dR for a left entry and -dR for a right entry
    (positive when converging to the midline); sagittal = atan2(dS, dA) (positive cranially).
    """
    d_r, d_a, d_s = frame.to_local(unit(direction, "needle direction"))
    m = d_r if check_side(side) == "left" else -d_r
    return NeedleAngles(float(np.degrees(np.arctan2(m, d_a))), float(np.degrees(np.arctan2(d_s, d_a))))


def direction_from_angles(transverse_deg: float, sagittal_deg: float, side: str,
                          frame: VertebraFrame = SCANNER_FRAME) -> np.ndarray:
    """Inverse of needle_angles for a forward-pointing needle (dA > 0): unit RAS direction."""
    t, s = np.radians(transverse_deg), np.radians(sagittal_deg)
    m, d_s = np.tan(t), np.tan(s)  # per unit of dA
    d_r = m if check_side(side) == "left" else -m
    local = unit([d_r, 1.0, d_s])
    return local @ frame.rotation


@dataclass(frozen=True)
class PathLengths:
    """AB soft tissue, BC path in bone, AC needle depth (mm); AB and AC are None without A."""

    ab_mm: float | None
    bc_mm: float
    ac_mm: float | None


def path_lengths(a, b, c) -> PathLengths:
    b, c = as_point(b, "B"), as_point(c, "C")
    bc = float(np.linalg.norm(c - b))
    if a is None:
        return PathLengths(None, bc, None)
    a = as_point(a, "A")
    return PathLengths(float(np.linalg.norm(b - a)), bc, float(np.linalg.norm(c - a)))


@dataclass(frozen=True)
class EntryOffsets:
    """A's lateral distance from the midsagittal plane (unsigned) and its cranio-caudal distance from
    the spinous-process tip (signed, positive when A is cranial), both in mm."""

    from_midline_mm: float | None
    from_spinous_tip_mm: float | None


def entry_offsets(a, *, midline_point=None, midline_normal=None, spinous_tip=None,
                  superior_axis=(0.0, 0.0, 1.0)) -> EntryOffsets:
    if a is None:
        return EntryOffsets(None, None)
    a = as_point(a, "A")
    from_midline = None
    if midline_point is not None and midline_normal is not None:
        n = unit(midline_normal, "midsagittal plane normal")
        from_midline = float(abs(np.dot(a - as_point(midline_point, "midline point"), n)))
    from_tip = None
    if spinous_tip is not None:
        from_tip = float(np.dot(a - as_point(spinous_tip, "spinous-process tip"), unit(superior_axis, "superior axis")))
    return EntryOffsets(from_midline, from_tip)


@dataclass(frozen=True, eq=False)
class SkinGrid:
    """A CT-visible skin grid (Xie et al. 2023): origin, column axis u, row axis v (in the skin plane), spacing."""

    origin: np.ndarray
    u_axis: np.ndarray
    v_axis: np.ndarray
    spacing_mm: float

    def __post_init__(self):
        u, v = unit(self.u_axis, "grid column axis"), unit(self.v_axis, "grid row axis")
        if abs(np.dot(u, v)) > 1e-3:
            raise GeometryError("grid axes must be perpendicular")
        if not self.spacing_mm > 0:
            raise GeometryError(f"grid spacing must be positive, got {self.spacing_mm}")
        object.__setattr__(self, "origin", as_point(self.origin, "grid origin"))
        object.__setattr__(self, "u_axis", u)
        object.__setattr__(self, "v_axis", v)


@dataclass(frozen=True)
class GridPosition:
    """Nearest grid node (column along u, row along v) and A's residual offset from it (mm)."""

    column: int
    row: int
    residual_u_mm: float
    residual_v_mm: float
    off_plane_mm: float


def locate_on_grid(a, grid: SkinGrid) -> GridPosition:
    rel = as_point(a, "A") - grid.origin
    u, v = float(np.dot(rel, grid.u_axis)), float(np.dot(rel, grid.v_axis))
    column, row = int(np.round(u / grid.spacing_mm)), int(np.round(v / grid.spacing_mm))
    normal = np.cross(grid.u_axis, grid.v_axis)
    return GridPosition(column, row, u - column * grid.spacing_mm, v - row * grid.spacing_mm,
                        float(np.dot(rel, normal)))


def distance_point_to_line(p, a, c) -> float:
    """Distance (mm) from p to the infinite line through a and c."""
    d = needle_direction(a, c)
    rel = as_point(p) - as_point(a)
    return float(np.linalg.norm(rel - np.dot(rel, d) * d))
