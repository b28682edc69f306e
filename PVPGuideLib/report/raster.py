"""Drawing on RGB pictures (numpy): thick lines, ring markers and text with a dark halo, clipped to the picture."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .font import text_mask


def blend(picture: np.ndarray, mask: np.ndarray, colour, alpha: float = 1.0) -> None:
    """Paint colour over the masked pixels, in place (alpha 1 = opaque)."""
    colour = np.asarray(colour, dtype=float)
    region = picture[mask].astype(float)
    picture[mask] = np.clip(np.rint((1 - alpha) * region + alpha * colour), 0, 255).astype(np.uint8)


def _pixel_grid(shape):
    rows, columns = np.mgrid[0:shape[0], 0:shape[1]]
    return rows + 0.5, columns + 0.5  # pixel centres


def segment_mask(shape, start, end, width: float) -> np.ndarray:
    """(rows, columns) bool: pixels within width/2 of the segment start->end ((column, row) pixel coordinates)."""
    rows, columns = _pixel_grid(shape)
    p = np.stack([columns, rows], axis=-1)
    start, end = np.asarray(start, float), np.asarray(end, float)
    d = end - start
    length_sq = float(d @ d)
    t = np.zeros(shape) if length_sq == 0 else np.clip(((p - start) @ d) / length_sq, 0.0, 1.0)
    nearest = start + t[..., None] * d
    return np.linalg.norm(p - nearest, axis=-1) <= max(width, 1.0) / 2.0


def ring_mask(shape, centre, radius: float, width: float = 2.0) -> np.ndarray:
    rows, columns = _pixel_grid(shape)
    r = np.hypot(columns - centre[0], rows - centre[1])
    return np.abs(r - radius) <= width / 2.0


def disc_mask(shape, centre, radius: float) -> np.ndarray:
    rows, columns = _pixel_grid(shape)
    return np.hypot(columns - centre[0], rows - centre[1]) <= radius


def draw_text(picture: np.ndarray, text: str, top_left, colour, *, scale: int = 2) -> None:
    """Text with a one-pixel dark halo so it reads on bright bone and dark air alike; clipped at the edges."""
    ink = text_mask(text, scale=scale)
    halo = ndimage.binary_dilation(np.pad(ink, 1), iterations=1)
    _paste(picture, halo, (top_left[0] - 1, top_left[1] - 1), (0, 0, 0))
    _paste(picture, ink, top_left, colour)


def text_size(text: str, *, scale: int = 2) -> tuple[int, int]:
    """(width, height) in pixels."""
    ink = text_mask(text, scale=scale)
    return ink.shape[1], ink.shape[0]


def _paste(picture, mask, top_left, colour) -> None:
    column, row = int(round(top_left[0])), int(round(top_left[1]))
    rows, columns = picture.shape[:2]
    r0, c0 = max(row, 0), max(column, 0)
    r1, c1 = min(row + mask.shape[0], rows), min(column + mask.shape[1], columns)
    if r0 >= r1 or c0 >= c1:
        return
    sub = mask[r0 - row:r1 - row, c0 - column:c1 - column]
    target = picture[r0:r1, c0:c1]
    target[sub] = colour
