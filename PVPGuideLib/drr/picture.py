"""Simulated C-arm pictures: a DRR with the planned needle, the classic checkpoint and the predicted cement drawn."""

from __future__ import annotations

import numpy as np

from ..report.overlay import Band, Label, Ring, draw_overlay
from .project import DRR

NEEDLE_COLOUR = (255, 200, 0)
CEMENT_COLOUR = (80, 160, 255)
CHECK_COLOURS = {True: (60, 220, 60), False: (255, 60, 60)}
MEDIAL_COLOUR = (255, 120, 255)


def drr_rgb(drr: DRR, *, b=None, c=None, a=None, checkpoint=None, cement: DRR | None = None) -> np.ndarray:
    """(rows, columns, 3) uint8: the DRR (bone bright), the needle A/B -> C, the checkpoint and the cement (tinted).

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
    if cement is not None:
        covered = cement.line_integral > 0.5
        picture[covered] = np.rint(0.55 * picture[covered] + 0.45 * np.asarray(CEMENT_COLOUR)).astype(np.uint8)
    bands, rings = [], []
    if b is not None and c is not None:
        start = a if a is not None else b
        p, q = drr.pixel_of([start, c])
        bands.append(Band(tuple(p), tuple(q), 3.0, NEEDLE_COLOUR))
        rings.append(Ring(tuple(q), 5.0, 2.0, NEEDLE_COLOUR))
    if checkpoint is not None:
        wall = drr.pixel_of(checkpoint.wall_point)[0]
        rings.append(Ring(tuple(wall), 2.5, 5.0, CHECK_COLOURS[checkpoint.passes]))  # a filled dot
        if drr.view == "ap":
            medial = drr.pixel_of(checkpoint.medial_point)[0]
            bands.append(Band((medial[0], medial[1] - 12), (medial[0], medial[1] + 12), 2.0, MEDIAL_COLOUR))
    title = "true AP" if drr.view == "ap" else "true lateral"
    return draw_overlay(picture, bands=bands, rings=rings, labels=[Label(title, (4, 4), (255, 255, 255))])
