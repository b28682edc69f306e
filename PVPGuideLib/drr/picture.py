"""Simulated C-arm pictures: a DRR with the planned needle, the classic checkpoint and the predicted cement drawn."""

from __future__ import annotations

import numpy as np

from ..report.raster import blend, disc_mask, draw_text, ring_mask, segment_mask
from .project import DRR

NEEDLE_COLOUR = (255, 200, 0)
CEMENT_COLOUR = (80, 160, 255)
CHECK_COLOURS = {True: (60, 220, 60), False: (255, 60, 60)}
MEDIAL_COLOUR = (255, 120, 255)


def drr_rgb(drr: DRR, *, b=None, c=None, a=None, checkpoint=None, cement: DRR | None = None) -> np.ndarray:
    """(rows, columns, 3) uint8: the DRR (bone bright), the needle A/B -> C, the checkpoint and the cement's outline.

    On the lateral view the checkpoint is the posterior-wall crossing; on the AP view also the pedicle's medial
    wall at that depth, in green when the path is still lateral to it there and red when it has crossed it.
    """
    # The line integral is what a fluoroscope's log image shows; windowed on the pixels the CT covers (rays that
    # miss it are 0), so bone stands out from the soft tissue whatever the body's thickness.
    shown = drr.line_integral
    covered = shown[shown > 0]
    low, high = np.percentile(covered, [2.0, 99.8]) if covered.size else (0.0, 1.0)
    grey = np.clip((shown - low) / max(high - low, 1e-6), 0.0, 1.0)
    picture = np.repeat(np.rint(255 * grey)[..., None], 3, axis=2).astype(np.uint8)
    shape = picture.shape[:2]
    if cement is not None:
        blend(picture, cement.line_integral > 0.5, CEMENT_COLOUR, alpha=0.45)
    if b is not None and c is not None:
        start = a if a is not None else b
        p, q = drr.pixel_of([start, c])
        blend(picture, segment_mask(shape, p, q, 3.0), NEEDLE_COLOUR)
        blend(picture, ring_mask(shape, q, 5.0), NEEDLE_COLOUR)
    if checkpoint is not None:
        colour = CHECK_COLOURS[checkpoint.passes]
        wall = drr.pixel_of(checkpoint.wall_point)[0]
        blend(picture, disc_mask(shape, wall, 4.0), colour)
        if drr.view == "ap":
            medial = drr.pixel_of(checkpoint.medial_point)[0]
            blend(picture, segment_mask(shape, medial - (0, 12), medial + (0, 12), 2.0), MEDIAL_COLOUR)
    # The picture font has few glyphs (the report draws more with VTK): "AP" and "L" (lateral).
    draw_text(picture, "AP" if drr.view == "ap" else "L", (4, 4), (255, 255, 255))
    return picture
