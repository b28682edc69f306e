"""An independent safety check of a needle path, straight from a vertebra label mask.

Shares no code with PVPGuideLib's vertebra analysis, safety or proposal modules (only CTVolume, for the grid):
- superior axis: from the centroid of the level below to the centroid of the level above (the spine's own
  course), or to/from the one neighbour there is;
- canal: in slices perpendicular to that axis, sampled from the mask by nearest voxel on a 0.4 mm raster,
  the hole the bone encloses around the canal's centre; where the ring is open, the union of the holes of
  the closed slices (the canal cannot be narrower there than it was seen elsewhere);
- anterior axis: canal centre -> centroid of the vertebra (the body dominates its volume); right = A x S;
  body = the vertebra in front of the canal; midsagittal plane through the body's centroid, normal right;
- in bone: share of B->C whose nearest voxel is in the mask.
Figures: canal clearance (axis to canal, minus the needle radius), C across the midline (positive on the
side opposite the entry), percent of B->C in bone. unsafe = clearance < 0 or in bone < 95 % or C on the
entry side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from PVPGuideLib.core.compat import strict_zip

PIXEL_MM = 0.4
HALF_FIELD_MM = 45.0
MIN_HOLE_MM2 = 40.0
HEIGHT_STEP_MM = 0.5


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


def _points(volume, mask) -> np.ndarray:
    k, j, i = np.nonzero(mask)
    ijk = np.stack([i, j, k, np.ones_like(i)], axis=1).astype(float)
    return (ijk @ volume.ijk_to_ras.T)[:, :3]


@dataclass
class Level:
    """One vertebra as the checker sees it."""

    labels: object  # CTVolume of labels
    label: int
    superior: np.ndarray
    anterior: np.ndarray
    right: np.ndarray
    canal_centre: np.ndarray
    body_centre: np.ndarray
    envelope: np.ndarray  # (n, n) bool raster of the widest canal, in (right, anterior) around canal_centre
    cache: dict

    def _raster(self, height: float) -> np.ndarray:
        """(n, n) bool: the mask in the slice `height` mm along the superior axis from the canal centre."""
        axis = np.arange(-HALF_FIELD_MM, HALF_FIELD_MM + 1e-9, PIXEL_MM)
        uu, vv = np.meshgrid(axis, axis, indexing="ij")
        ras = (self.canal_centre + height * self.superior + uu[..., None] * self.right
               + vv[..., None] * self.anterior).reshape(-1, 3)
        inverse = np.linalg.inv(self.labels.ijk_to_ras)
        ijk = np.rint(ras @ inverse[:3, :3].T + inverse[:3, 3]).astype(int)
        shape = np.array(self.labels.voxels.shape[::-1])
        inside = np.all((ijk >= 0) & (ijk < shape), axis=1)
        values = np.zeros(len(ras), dtype=bool)
        i, j, k = ijk[inside].T
        values[inside] = self.labels.voxels[k, j, i] == self.label
        return values.reshape(uu.shape)

    def canal_at(self, height: float) -> np.ndarray:
        key = round(height / HEIGHT_STEP_MM)
        if key not in self.cache:
            hole = _canal_hole(self._raster(key * HEIGHT_STEP_MM))
            canal = self.envelope if hole is None else hole  # an open ring: the widest canal seen
            distance = ndimage.distance_transform_edt(~canal, sampling=PIXEL_MM) - 0.5 * PIXEL_MM
            self.cache[key] = distance
        return self.cache[key]


def _canal_hole(solid: np.ndarray) -> np.ndarray | None:
    """The enclosed hole holding the raster's centre (the canal centre), or None when the ring is open there."""
    labels, count = ndimage.label(ndimage.binary_fill_holes(solid) & ~solid)
    centre = solid.shape[0] // 2
    near = labels[centre - 5:centre + 6, centre - 5:centre + 6]
    ids = np.unique(near[near > 0])
    if not ids.size:
        return None
    hole = np.isin(labels, ids)
    return hole if hole.sum() * PIXEL_MM**2 >= MIN_HOLE_MM2 else None


def level_geometry(labels, label: int, above: int | None, below: int | None) -> Level:
    """The checker's frame and canal for one vertebra of a label map (CTVolume); above / below: neighbour labels."""
    voxels = labels.voxels
    mine = _points(labels, voxels == label)
    centroid = mine.mean(axis=0)
    ups = [_points(labels, voxels == n).mean(axis=0) if n is not None and (voxels == n).any() else None
           for n in (above, below)]
    if ups[0] is not None and ups[1] is not None:
        superior = _unit(ups[0] - ups[1])
    elif ups[0] is not None:
        superior = _unit(ups[0] - centroid)
    else:
        superior = _unit(centroid - ups[1])
    # A first in-plane basis; the canal is the largest hole near the vertebra's mid-height.
    trial = np.array([1.0, 0.0, 0.0]) if abs(superior[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    u = _unit(trial - (trial @ superior) * superior)
    v = np.cross(superior, u)
    probe = Level(labels, label, superior, v, u, centroid, centroid, np.zeros((1, 1), bool), {})
    best = None
    for height in np.arange(-10.0, 10.01, 1.0):
        solid = probe._raster(height)
        holes, count = ndimage.label(ndimage.binary_fill_holes(solid) & ~solid)
        if not count:
            continue
        sizes = np.bincount(holes.ravel())[1:]
        n = int(np.argmax(sizes)) + 1
        if sizes[n - 1] * PIXEL_MM**2 >= MIN_HOLE_MM2 and (best is None or sizes[n - 1] > best[0]):
            axis = np.arange(-HALF_FIELD_MM, HALF_FIELD_MM + 1e-9, PIXEL_MM)
            iu, iv = np.nonzero(holes == n)
            best = (sizes[n - 1], centroid + height * superior + axis[iu].mean() * u + axis[iv].mean() * v)
    if best is None:
        raise ValueError(f"checker: no canal found in label {label}")
    canal_centre = best[1]
    towards = centroid - canal_centre
    anterior = _unit(towards - (towards @ superior) * superior)
    right = np.cross(anterior, superior)
    level = Level(labels, label, superior, anterior, right, canal_centre, centroid, np.zeros((1, 1), bool), {})
    holes = [h for h in (_canal_hole(level._raster(z)) for z in np.arange(-15.0, 15.01, 1.0)) if h is not None]
    if not holes:
        raise ValueError(f"checker: the ring around the canal of label {label} is nowhere closed")
    level.envelope = np.any(holes, axis=0)
    axis = np.arange(-HALF_FIELD_MM, HALF_FIELD_MM + 1e-9, PIXEL_MM)
    back = axis[np.nonzero(level.envelope)[1]].max()
    in_front = (mine - canal_centre) @ anterior > back + 2.0
    level.body_centre = mine[in_front].mean(axis=0)
    return level


def check_path(level: Level, b, c, side: str, radius: float, a=None) -> dict:
    """The checker's figures for a path (A->)B->C of a needle of `radius` mm entering on `side`."""
    b, c = np.asarray(b, float), np.asarray(c, float)
    start = b if a is None else np.asarray(a, float)
    n = max(2, int(np.linalg.norm(c - start) / 0.25) + 1)
    path = start + np.linspace(0.0, 1.0, n)[:, None] * (c - start)
    local = path - level.canal_centre
    heights, us, vs = local @ level.superior, local @ level.right, local @ level.anterior
    clearance = np.inf
    for h, u, v in strict_zip(heights, us, vs):
        if abs(u) > HALF_FIELD_MM - 1 or abs(v) > HALF_FIELD_MM - 1:
            continue  # farther than the raster from the canal: not the closest point
        distance = level.canal_at(h)
        i = int(round((u + HALF_FIELD_MM) / PIXEL_MM))
        j = int(round((v + HALF_FIELD_MM) / PIXEL_MM))
        clearance = min(clearance, float(distance[i, j]))
    clearance -= radius
    towards_other = 1.0 if side == "left" else -1.0
    across = float(towards_other * ((c - level.body_centre) @ level.right))
    m = max(2, int(np.linalg.norm(c - b) / 0.1) + 1)
    segment = b + np.linspace(0.0, 1.0, m)[:, None] * (c - b)
    inverse = np.linalg.inv(level.labels.ijk_to_ras)
    ijk = np.rint(segment @ inverse[:3, :3].T + inverse[:3, 3]).astype(int)
    shape = np.array(level.labels.voxels.shape[::-1])
    inside = np.all((ijk >= 0) & (ijk < shape), axis=1)
    in_bone = np.zeros(m, dtype=bool)
    i, j, k = ijk[inside].T
    in_bone[inside] = level.labels.voxels[k, j, i] == level.label
    percent = float(100.0 * in_bone.mean())
    unsafe = clearance < 0.0 or percent < 95.0 or across < 0.0
    return {"canal_mm": clearance, "across_mm": across, "in_bone_percent": percent, "unsafe": unsafe}
