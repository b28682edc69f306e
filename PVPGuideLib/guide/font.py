"""A small stroke font for engraving labels: each glyph is a few line strokes on a 4 x 6 unit cell."""

from __future__ import annotations

import numpy as np

from ..core.compat import strict_zip
from .booleans import _manifold3d

CELL_WIDTH = 4.0
CELL_HEIGHT = 6.0

# Polylines per glyph, (x, y) in cell units, y up. Designed for engraving: strokes at least 3 units
# apart where they run side by side, so the material between them stays printable.
_GLYPHS: dict[str, list[list[tuple[float, float]]]] = {
    "0": [[(0, 0), (4, 0), (4, 6), (0, 6), (0, 0)], [(0, 0), (4, 6)]],
    "1": [[(2, 0), (2, 6), (0.8, 4.8)]],
    "2": [[(0, 6), (4, 6), (4, 3), (0, 3), (0, 0), (4, 0)]],
    "3": [[(0, 6), (4, 6), (4, 0), (0, 0)], [(1, 3), (4, 3)]],
    "4": [[(0, 6), (0, 3), (4, 3)], [(4, 6), (4, 0)]],
    "5": [[(4, 6), (0, 6), (0, 3), (4, 3), (4, 0), (0, 0)]],
    "6": [[(4, 6), (0, 6), (0, 0), (4, 0), (4, 3), (0, 3)]],
    "7": [[(0, 6), (4, 6), (4, 0)]],
    "8": [[(0, 0), (4, 0), (4, 6), (0, 6), (0, 0)], [(0, 3), (4, 3)]],
    "9": [[(4, 3), (0, 3), (0, 6), (4, 6), (4, 0), (0, 0)]],
    "A": [[(0, 0), (0, 6), (4, 6), (4, 0)], [(0, 3), (4, 3)]],
    "B": [[(0, 0), (0, 6), (3, 6), (3, 3), (4, 3), (4, 0), (0, 0)], [(0, 3), (3, 3)]],
    "C": [[(4, 6), (0, 6), (0, 0), (4, 0)]],
    "D": [[(0, 0), (0, 6), (2.5, 6), (4, 4.5), (4, 1.5), (2.5, 0), (0, 0)]],
    "E": [[(4, 6), (0, 6), (0, 0), (4, 0)], [(0, 3), (3, 3)]],
    "F": [[(4, 6), (0, 6), (0, 0)], [(0, 3), (3, 3)]],
    "G": [[(4, 6), (0, 6), (0, 0), (4, 0), (4, 3), (2, 3)]],
    "H": [[(0, 0), (0, 6)], [(4, 0), (4, 6)], [(0, 3), (4, 3)]],
    "I": [[(2, 0), (2, 6)], [(1, 0), (3, 0)], [(1, 6), (3, 6)]],
    "J": [[(4, 6), (4, 0), (0, 0), (0, 2)]],
    "K": [[(0, 0), (0, 6)], [(4, 6), (0, 3), (4, 0)]],
    "L": [[(0, 6), (0, 0), (4, 0)]],
    "M": [[(0, 0), (0, 6), (2, 3), (4, 6), (4, 0)]],
    "N": [[(0, 0), (0, 6), (4, 0), (4, 6)]],
    "O": [[(0, 0), (4, 0), (4, 6), (0, 6), (0, 0)]],
    "P": [[(0, 0), (0, 6), (4, 6), (4, 3), (0, 3)]],
    "Q": [[(0, 0), (4, 0), (4, 6), (0, 6), (0, 0)], [(2.5, 1.5), (4, 0)]],
    "R": [[(0, 0), (0, 6), (4, 6), (4, 3), (0, 3)], [(1.5, 3), (4, 0)]],
    "S": [[(4, 6), (0, 6), (0, 3), (4, 3), (4, 0), (0, 0)]],
    "T": [[(0, 6), (4, 6)], [(2, 6), (2, 0)]],
    "U": [[(0, 6), (0, 0), (4, 0), (4, 6)]],
    "V": [[(0, 6), (2, 0), (4, 6)]],
    "W": [[(0, 6), (0, 0), (2, 2), (4, 0), (4, 6)]],
    "X": [[(0, 0), (4, 6)], [(0, 6), (4, 0)]],
    "Y": [[(0, 6), (2, 3), (4, 6)], [(2, 3), (2, 0)]],
    "Z": [[(0, 6), (4, 6), (0, 0), (4, 0)]],
    "-": [[(0.5, 3), (3.5, 3)]],
    "_": [[(0, 0), (4, 0)]],
    ".": [[(1.8, 0), (2.2, 0)]],
    " ": [],
}


def label_text(text: str) -> str:
    """Upper-case text restricted to the font's characters (others become '-'), one line."""
    return "".join(ch if ch in _GLYPHS else "-" for ch in str(text).upper().replace("\n", " "))


def text_outline(text: str, *, height_mm: float, stroke_mm: float, gap_mm: float):
    """CrossSection of the engraved text and its (width, height) in mm; lines split at newlines.

    The text box spans (0, 0)..(width, height), first line on top, x along the baseline, y up. Gaps
    narrower than gap_mm between strokes are filled (a morphological closing), so no ridge of material
    narrower than gap_mm is left standing between engraved strokes.
    """
    m3d = _manifold3d()
    unit = height_mm / CELL_HEIGHT
    advance = CELL_WIDTH * unit + stroke_mm + gap_mm
    pitch = height_mm + stroke_mm + gap_mm
    lines = [label_text(line) for line in str(text).split("\n")]
    pieces = []
    for row, line in enumerate(lines):
        baseline = (len(lines) - 1 - row) * pitch
        for n, ch in enumerate(line):
            for stroke in _GLYPHS[ch]:
                pts = np.asarray(stroke, dtype=float) * unit + [n * advance, baseline]
                for p, q in strict_zip(pts[:-1], pts[1:]):
                    pieces.append(_stroke(m3d, p, q, stroke_mm))
    if not pieces:
        return m3d.CrossSection(), (0.0, 0.0)
    joined = m3d.CrossSection.batch_boolean(pieces, m3d.OpType.Add)
    closed = joined.offset(0.5 * gap_mm, m3d.JoinType.Round, 2.0, 24).offset(-0.5 * gap_mm, m3d.JoinType.Round, 2.0, 24)
    closed = closed.simplify(1e-3)  # offsets leave near-duplicate points: they would become slivers in 3D
    width = max(len(line) for line in lines) * advance - gap_mm
    height = len(lines) * pitch - gap_mm
    return closed.translate((0.5 * stroke_mm, 0.5 * stroke_mm)), (width, height)


def _stroke(m3d, p, q, width):
    """Rectangle of the given width around segment p-q, with square ends extended by half the width."""
    d = q - p
    length = float(np.hypot(*d))
    d = d / length if length > 0 else np.array([1.0, 0.0])
    n = np.array([-d[1], d[0]]) * 0.5 * width
    e = d * 0.5 * width
    corners = [p - e - n, q + e - n, q + e + n, p - e + n]
    return m3d.CrossSection([np.asarray(corners)])
