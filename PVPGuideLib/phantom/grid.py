"""A skin grid locator laid on a CT's skin (the phantom's, or any drape), burnt into the voxels, with its truth.

The grid is a flexible mat: in its own flat coordinates crossing (row r, column c) (rows from the cranial
end, columns from the patient's left, both from 1) lies at
    centre + Rot(rotation) @ ((c - (columns + 1) / 2) * spacing, -(r - (rows + 1) / 2) * spacing)
where the flat axes are s (along the skin towards the patient's right) and t (towards cranial) and Rot
turns s towards t (a turn about the anterior axis seen from behind). A drape maps flat (s, t) to points on
the skin without stretching; each wire's axis lies one wire radius (plus `lift_mm`) outside the skin.
Every voxel the wire axis passes through is set to `wire_hu` (so a wire is at least one voxel thick on
coarse scans), and so is every voxel whose centre lies within the wire's radius.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from ..core.volume import CTVolume
from ..errors import PVPGuideError
from . import shapes

SAMPLE_STEP_MM = 0.1


class GridLayoutError(PVPGuideError):
    """A grid layout option is out of range."""


@dataclass(frozen=True)
class GridLayout:
    """The mat: spacing and wire diameter (mm), rows x columns, turn (degrees), centre (s, t mm), wires left out."""

    spacing_mm: float = 15.0
    wire_diameter_mm: float = 1.0
    rows: int = 9
    columns: int = 9
    rotation_deg: float = 0.0
    centre: tuple = (0.0, 0.0)
    missing_rows: tuple = ()
    missing_columns: tuple = ()
    wire_hu: float = 2000.0
    lift_mm: float = 0.0

    def __post_init__(self):
        if not 2.0 <= self.spacing_mm <= 60.0:
            raise GridLayoutError(f"grid spacing must be 2-60 mm, got {self.spacing_mm!r}")
        if not 0.1 <= self.wire_diameter_mm <= 5.0:
            raise GridLayoutError(f"wire diameter must be 0.1-5 mm, got {self.wire_diameter_mm!r}")
        if self.rows < 2 or self.columns < 2:
            raise GridLayoutError("a grid needs at least 2 rows and 2 columns")
        if abs(self.rotation_deg) > 45.0:
            raise GridLayoutError(f"grid rotation must be within +-45 degrees, got {self.rotation_deg!r}")

    def flat_crossing(self, row, column) -> np.ndarray:
        """(..., 2) flat (s, t) of crossing (row, column), real numbers allowed."""
        a = math.radians(self.rotation_deg)
        x = (np.asarray(column, float) - (self.columns + 1) / 2) * self.spacing_mm
        y = -(np.asarray(row, float) - (self.rows + 1) / 2) * self.spacing_mm
        return np.stack([self.centre[0] + math.cos(a) * x - math.sin(a) * y,
                         self.centre[1] + math.sin(a) * x + math.cos(a) * y], axis=-1)

    def grid_coordinates(self, flat) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) as real numbers of flat (s, t) points."""
        a = math.radians(self.rotation_deg)
        rel = np.atleast_2d(flat) - np.asarray(self.centre, float)
        x = math.cos(a) * rel[:, 0] + math.sin(a) * rel[:, 1]
        y = -math.sin(a) * rel[:, 0] + math.cos(a) * rel[:, 1]
        return (self.rows + 1) / 2 - y / self.spacing_mm, (self.columns + 1) / 2 + x / self.spacing_mm

    def to_json(self) -> dict:
        return {"spacing_mm": self.spacing_mm, "wire_diameter_mm": self.wire_diameter_mm, "rows": self.rows,
                "columns": self.columns, "rotation_deg": self.rotation_deg, "centre": list(self.centre),
                "missing_rows": list(self.missing_rows), "missing_columns": list(self.missing_columns),
                "wire_hu": self.wire_hu, "lift_mm": self.lift_mm}


class EllipseDrape:
    """The phantom's back: the torso's elliptic cylinder, s = arc length from the back's midline, t = anatomical S."""

    def __init__(self, rotation=None, translation=None):
        self.rotation = np.eye(3) if rotation is None else np.asarray(rotation, float)
        self.translation = np.zeros(3) if translation is None else np.asarray(translation, float)
        self.a, self.b, self.yc = shapes.TORSO_HALF_WIDTH, shapes.TORSO_HALF_DEPTH, shapes.TORSO_CENTRE_Y
        phi = np.linspace(-np.pi / 2, np.pi / 2, 200001)
        speed = np.hypot(self.a * np.cos(phi), self.b * np.sin(phi))
        arc = np.concatenate([[0.0], np.cumsum(0.5 * (speed[1:] + speed[:-1]) * np.diff(phi))])
        self._phi, self._arc = phi, arc - np.interp(0.0, phi, arc)

    @classmethod
    def from_truth(cls, truth: dict) -> EllipseDrape:
        return cls(truth["pose"]["rotation"], truth["pose"]["translation"])

    def skin(self, flat) -> tuple[np.ndarray, np.ndarray]:
        """(n, 3) RAS skin points and outward unit normals at flat (s, t) points."""
        flat = np.atleast_2d(flat)
        phi = np.interp(flat[:, 0], self._arc, self._phi)
        x, y = self.a * np.sin(phi), self.yc - self.b * np.cos(phi)
        local = np.stack([x, y, flat[:, 1]], axis=1)
        normal = np.stack([x / self.a**2, (y - self.yc) / self.b**2, np.zeros_like(x)], axis=1)
        normal /= np.linalg.norm(normal, axis=1, keepdims=True)
        return local @ self.rotation.T + self.translation, normal @ self.rotation.T

    def to_flat(self, ras) -> np.ndarray:
        """(n, 2) flat (s, t) of RAS points on (or near) the back's skin."""
        local = (np.atleast_2d(ras) - self.translation) @ self.rotation
        phi = np.arctan2(local[:, 0] / self.a, -(local[:, 1] - self.yc) / self.b)
        return np.stack([np.interp(phi, self._phi, self._arc), local[:, 2]], axis=1)


def wire_axes(layout: GridLayout, drape) -> list:
    """[(kind, number, (n, 3) RAS axis points)] of every wire present, sampled every SAMPLE_STEP_MM."""
    lift = 0.5 * layout.wire_diameter_mm + layout.lift_mm
    wires = []
    for kind, count, other, missing in (("row", layout.rows, layout.columns, layout.missing_rows),
                                        ("column", layout.columns, layout.rows, layout.missing_columns)):
        t = np.linspace(1.0, other, int(np.ceil((other - 1) * layout.spacing_mm / SAMPLE_STEP_MM)) + 1)
        for number in range(1, count + 1):
            if number in missing:
                continue
            flat = layout.flat_crossing(number, t) if kind == "row" else layout.flat_crossing(t, number)
            points, normals = drape.skin(flat)
            wires.append((kind, number, points + lift * normals))
    return wires


def burn_grid(ct: CTVolume, layout: GridLayout, drape) -> tuple[CTVolume, dict]:
    """The CT with the grid's wires burnt in (wire_hu), and the truth (JSON-ready)."""
    axes = np.concatenate([points for _, _, points in wire_axes(layout, drape)])
    ijk = ct.ras_to_ijk_points(axes)
    shape = np.array(ct.shape_ijk)
    inside = np.all((ijk > -0.5) & (ijk < shape - 0.5), axis=1)
    voxels = np.array(ct.voxels, copy=True)
    if inside.any():
        axes, ijk = axes[inside], ijk[inside]
        reach = np.ceil(0.5 * layout.wire_diameter_mm / ct.spacing).astype(int)
        base = np.unique(np.rint(ijk).astype(int), axis=0)
        offsets = np.stack(np.meshgrid(*[np.arange(-r, r + 1) for r in reach], indexing="ij"), -1).reshape(-1, 3)
        near = np.unique((base[:, None, :] + offsets[None]).reshape(-1, 3), axis=0)
        near = near[np.all((near >= 0) & (near < shape), axis=1)]
        distance, _ = cKDTree(axes).query(ct.ijk_to_ras_points(near))
        # The voxels the axis passes through, and those whose centre lies within the wire's radius.
        marked = np.concatenate([base, near[distance <= 0.5 * layout.wire_diameter_mm]])
        i, j, k = marked.T
        voxels[k, j, i] = np.maximum(voxels[k, j, i], layout.wire_hu).astype(voxels.dtype)
    return ct.with_voxels(voxels), grid_truth(layout, drape)


def grid_truth(layout: GridLayout, drape) -> dict:
    """Crossings on the skin, and the row / column directions on the skin at crossing (1, 1) (RAS)."""
    rows, columns = np.meshgrid(np.arange(1, layout.rows + 1), np.arange(1, layout.columns + 1), indexing="ij")
    crossings, _ = drape.skin(layout.flat_crossing(rows.ravel(), columns.ravel()))
    e = 0.01
    ends, _ = drape.skin(layout.flat_crossing(np.array([1, 1, 1 - e, 1 + e]), np.array([1 - e, 1 + e, 1, 1])))
    along_row = (ends[1] - ends[0]) / np.linalg.norm(ends[1] - ends[0])
    along_column = (ends[3] - ends[2]) / np.linalg.norm(ends[3] - ends[2])
    return {"layout": layout.to_json(), "crossings": crossings.reshape(layout.rows, layout.columns, 3).tolist(),
            "along_row": along_row.tolist(), "along_column": along_column.tolist()}


def lay_grid_on_phantom(phantom, layout: GridLayout):
    """The phantom with a grid on its back (ct replaced) and the grid's truth under truth['skin_grid']."""
    from dataclasses import replace

    ct, truth = burn_grid(phantom.ct, layout, EllipseDrape.from_truth(phantom.truth))
    return replace(phantom, ct=ct, truth={**phantom.truth, "skin_grid": truth})
