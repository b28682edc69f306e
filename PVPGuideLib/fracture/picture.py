"""The mid-sagittal section of a vertebra with its measured heights drawn (AVH, MVH, PVH), as an RGB picture."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..report.overlay import Band, Label, draw_overlay
from .heights import HEIGHT_NAMES, BodyHeights

PIXEL_MM = 0.5
# Pictures are enlarged this many times (nearest) before drawing, so lines and numbers stay legible.
ZOOM = 3
HALF_SIZE_MM = 40.0
HU_WINDOW = (-200.0, 1300.0)
HEIGHT_COLOURS = {"anterior": (255, 90, 90), "middle": (255, 220, 0), "posterior": (80, 200, 255)}


def mid_sagittal_rgb(ct, analysis, heights: BodyHeights, *, extra_heights=()) -> np.ndarray:
    """(rows, columns, 3) uint8: the CT on the vertebra's mid-sagittal plane (anterior to the right, superior up,
    PIXEL_MM pixels, centred on the body), each height as a coloured segment labelled in mm.

    extra_heights : further BodyHeights (the vertebrae above and below) drawn the same way, thinner.
    """
    n = int(round(2 * HALF_SIZE_MM / PIXEL_MM))
    offsets = (np.arange(n) + 0.5) * PIXEL_MM - HALF_SIZE_MM
    x0, y0, z0 = analysis.body.centre
    yy, zz = np.meshgrid(offsets + y0, -offsets + z0)  # rows: superior at the top
    local = np.stack([np.full(yy.shape, x0), yy, zz], axis=-1).reshape(-1, 3)
    ijk = ct.ras_to_ijk_points(analysis.to_ras(local))
    values = ndimage.map_coordinates(np.asarray(ct.voxels, np.float32), ijk[:, ::-1].T, order=1, cval=-1000.0)
    grey = np.clip((values.reshape(n, n) - HU_WINDOW[0]) / (HU_WINDOW[1] - HU_WINDOW[0]), 0.0, 1.0)
    grey = np.kron(grey, np.ones((ZOOM, ZOOM)))
    picture = np.repeat(np.rint(255 * grey)[..., None], 3, axis=2).astype(np.uint8)

    def pixel(point_ras):
        p = analysis.to_local(point_ras)[0]
        return ZOOM * np.array([(p[1] - y0 + HALF_SIZE_MM) / PIXEL_MM, (z0 - p[2] + HALF_SIZE_MM) / PIXEL_MM])

    bands, labels = [], []
    for other in extra_heights:
        for name in HEIGHT_NAMES:
            bottom, top = other.segments_ras[name]
            bands.append(Band(tuple(pixel(bottom)), tuple(pixel(top)), 1.5, HEIGHT_COLOURS[name]))
    for name in HEIGHT_NAMES:
        bottom, top = heights.segments_ras[name]
        p, q = pixel(bottom), pixel(top)
        bands.append(Band(tuple(p), tuple(q), 3.0, HEIGHT_COLOURS[name]))
        labels.append(Label(f"{heights.heights_mm[name]:.1f}", (q[0], q[1] - 6), HEIGHT_COLOURS[name], align="centre",
                            valign="bottom"))
    return draw_overlay(picture, bands=bands, labels=labels)
