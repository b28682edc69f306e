"""Simulated AP and lateral projection pictures (PNG): body outline, cement and the quadrant grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage

from ..io.atomic_io import write_bytes_atomic
from ..report.png import png_bytes
from .distribution import COVERAGE_THRESHOLD, Projection

# colours (RGB): dark background, grey body (green-grey in quadrants that score), cement in white,
# body outline in yellow, quadrant grid in cyan
BACKGROUND = (0, 0, 0)
BODY = (90, 90, 90)
BODY_SCORING = (70, 120, 70)
CEMENT = (255, 255, 255)
OUTLINE = (255, 200, 0)
GRID = (0, 200, 255)
DEFAULT_SCALE = 3  # screen pixels per projection sample (samples are 0.5 mm: 6 pixels per mm)


def projection_rgb(projection: Projection, *, scale: int = DEFAULT_SCALE) -> np.ndarray:
    """(rows, columns, 3) uint8 picture, row 0 at the top (superior).

    AP view as a radiograph is read: the patient's right on the picture's left. Lateral view facing
    the picture's left: anterior on the left. Quadrant lines cross at the body silhouette's centroid.
    """
    # (u, v) arrays -> (row, column): rows run from superior down, columns from high u (right/anterior) to low
    body = projection.body.T[::-1, ::-1]
    cement = projection.cement.T[::-1, ::-1]
    picture = np.zeros(body.shape + (3,), dtype=np.uint8)
    picture[:] = BACKGROUND
    picture[body] = BODY
    picture[body & _scoring_area(projection).T[::-1, ::-1]] = BODY_SCORING
    picture[cement] = CEMENT
    picture = np.repeat(np.repeat(picture, scale, axis=0), scale, axis=1)
    big_body = np.repeat(np.repeat(body, scale, axis=0), scale, axis=1)
    outline = big_body & ~ndimage.binary_erosion(big_body, border_value=0)
    picture[outline] = OUTLINE
    rows, columns = np.nonzero(big_body)
    centre_row, centre_column = _centre_pixel(projection, scale, body.shape)
    picture[rows.min():rows.max() + 1, centre_column] = GRID
    picture[centre_row, columns.min():columns.max() + 1] = GRID
    return picture


def projection_png_bytes(projection: Projection, *, scale: int = DEFAULT_SCALE) -> bytes:
    """PNG file content; the same projection always gives the same bytes."""
    return png_bytes(projection_rgb(projection, scale=scale))


def write_projection_pngs(scores, out_dir, *, prefix: str = "", scale: int = DEFAULT_SCALE) -> dict:
    """Write <prefix>projection_ap.png and <prefix>projection_lateral.png atomically; returns view -> path."""
    out = Path(out_dir)
    paths = {}
    for projection in (scores.ap, scores.lateral):
        path = out / f"{prefix}projection_{projection.view}.png"
        write_bytes_atomic(path, projection_png_bytes(projection, scale=scale))
        paths[projection.view] = path
    return paths


def _scoring_area(projection: Projection) -> np.ndarray:
    """(nu, nv) bool: samples in quadrants that score (same quadrant rule as distribution.project)."""
    uu, vv = np.meshgrid(projection.u_mm, projection.v_mm, indexing="ij")
    upper, high = vv >= projection.centre[1], uu >= projection.centre[0]
    area = np.zeros(uu.shape, dtype=bool)
    for name, value in projection.coverage.items():
        if value > COVERAGE_THRESHOLD:
            vertical, horizontal = name.split("_", 1)
            area |= (upper == (vertical == "superior")) & (high == (horizontal in ("right", "anterior")))
    return area


def _centre_pixel(projection: Projection, scale: int, shape) -> tuple[int, int]:
    step = float(projection.u_mm[1] - projection.u_mm[0]) if len(projection.u_mm) > 1 else 1.0
    u_index = (projection.centre[0] - projection.u_mm[0]) / step
    v_index = (projection.centre[1] - projection.v_mm[0]) / step
    column = (shape[1] - 1 - u_index + 0.5) * scale
    row = (shape[0] - 1 - v_index + 0.5) * scale
    return int(np.clip(round(row), 0, shape[0] * scale - 1)), int(np.clip(round(column), 0, shape[1] * scale - 1))
