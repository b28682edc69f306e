"""Annotations drawn onto a picture with VTK, no render window needed: translucent bands and rings rasterised by
vtkImageCanvasSource2D (supersampled, so their edges are anti-aliased), text by VTK's FreeType text renderer.

Positions are (column, row) pixel coordinates of the picture, continuous, (0, 0) at its top-left corner.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from . import colours

# Bands and rings are drawn at this many sub-pixels per pixel and averaged: a pixel's share of the shape sets its
# blend (anti-aliasing), and positions are kept to a quarter pixel.
SUPERSAMPLING = 4
RING_SEGMENTS = 96
HALO = (0, 0, 0)  # a one-pixel text outline: reads on bright bone and dark air alike
TEXT_DPI = 72  # at 72 dpi a font size in points is a size in pixels


@dataclass(frozen=True)
class Band:
    """A straight band of `width` pixels from start to end (the needle, a scale bar)."""

    start: tuple
    end: tuple
    width: float
    colour: tuple
    opacity: float = 1.0


@dataclass(frozen=True)
class Ring:
    """A circle of `radius` pixels, `width` pixels wide, about centre (a point marker)."""

    centre: tuple
    radius: float
    width: float
    colour: tuple


@dataclass(frozen=True)
class Label:
    """Text at anchor; align 'left' / 'centre' / 'right' and valign 'top' / 'middle' / 'bottom' say which point of
    the text's box sits on the anchor. size : the font's size in pixels."""

    text: str
    anchor: tuple
    colour: tuple = colours.TEXT
    size: int = 16
    align: str = "left"
    valign: str = "top"


def draw_overlay(picture: np.ndarray, *, bands=(), rings=(), labels=()) -> np.ndarray:
    """(rows, columns, 3) uint8: a copy of the picture with the bands, then the rings, then the labels drawn over it.

    Pixels no shape touches keep their values exactly. The same inputs give the same pixels.
    """
    out = np.array(picture, dtype=np.float64)
    if out.ndim != 3 or out.shape[2] != 3:
        raise ValueError(f"a picture must be a (rows, columns, 3) array, got shape {out.shape}")
    rows, columns = out.shape[:2]
    for band in bands:
        _blend(out, _coverage(rows, columns, [_band_segment(band)]), band.colour, band.opacity)
    for ring in rings:
        _blend(out, _coverage(rows, columns, _ring_segments(ring)), ring.colour, 1.0)
    for label in labels:
        ink = _text_coverage(label)
        halo = ndimage.maximum_filter(np.pad(ink, 1), size=3)
        top_left = _text_corner(label, ink.shape)
        _blend(out, _placed(halo, (top_left[0] - 1, top_left[1] - 1), rows, columns), HALO, 1.0)
        _blend(out, _placed(ink, top_left, rows, columns), label.colour, 1.0)
    return np.rint(out).astype(np.uint8)


def _blend(out: np.ndarray, coverage: np.ndarray, colour, opacity: float) -> None:
    weight = (float(opacity) * coverage)[..., None]
    out *= 1.0 - weight
    out += weight * np.asarray(colour, dtype=np.float64)


def _band_segment(band: Band):
    return band.start, band.end, 0.5 * max(float(band.width), 1.0)


def _ring_segments(ring: Ring):
    """The ring as short thick segments along its circle, each reaching a little past its neighbours (no gaps)."""
    angles = np.linspace(0.0, 2.0 * np.pi, RING_SEGMENTS + 1)
    overlap = 0.6 * (angles[1] - angles[0])
    centre = np.asarray(ring.centre, dtype=float)
    segments = []
    for a0, a1 in zip(angles[:-1] - overlap / 2, angles[1:] + overlap / 2):
        start = centre + ring.radius * np.array([np.cos(a0), np.sin(a0)])
        end = centre + ring.radius * np.array([np.cos(a1), np.sin(a1)])
        segments.append((start, end, 0.5 * float(ring.width)))
    return segments


def _coverage(rows: int, columns: int, segments) -> np.ndarray:
    """(rows, columns) float 0-1: each pixel's share of the union of thick segments (start, end, half width)."""
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkImagingSources import vtkImageCanvasSource2D

    s = SUPERSAMPLING
    width, height = columns * s, rows * s
    canvas = vtkImageCanvasSource2D()
    canvas.SetScalarTypeToUnsignedChar()
    canvas.SetNumberOfScalarComponents(1)
    canvas.SetExtent(0, width - 1, 0, height - 1, 0, 0)
    canvas.SetDrawColor(0.0)
    canvas.FillBox(0, width - 1, 0, height - 1)
    canvas.SetDrawColor(255.0)
    for start, end, half_width in segments:
        # sub-pixel centres: picture (column, row) -> canvas index (x, y), y counted up from the bottom row
        (x0, y0), (x1, y1) = ((p[0] * s - 0.5, height - 0.5 - p[1] * s) for p in (start, end))
        canvas.FillTube(int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1)), half_width * s)
    canvas.Update()
    image = canvas.GetOutput()
    mask = vtk_to_numpy(image.GetPointData().GetScalars()).reshape(height, width)[::-1] > 0
    return mask.reshape(rows, s, columns, s).mean(axis=(1, 3))


def _text_coverage(label: Label) -> np.ndarray:
    """(h, w) float 0-1: the text's ink (FreeType's anti-aliased alpha), row 0 at the top."""
    import vtkmodules.vtkRenderingFreeType  # noqa: F401  (registers the FreeType text renderer)
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkCommonDataModel import vtkImageData
    from vtkmodules.vtkRenderingCore import vtkTextProperty, vtkTextRenderer

    style = vtkTextProperty()
    style.SetFontFamilyToArial()  # built into VTK: the same glyphs in Slicer and in a pip install
    style.SetFontSize(int(label.size))
    style.BoldOn()
    style.SetColor(1.0, 1.0, 1.0)
    image, size = vtkImageData(), [0, 0]
    if not label.text or not vtkTextRenderer().RenderString(style, label.text, image, size, TEXT_DPI):
        return np.zeros((0, 0))
    columns, rows, _ = image.GetDimensions()
    rgba = vtk_to_numpy(image.GetPointData().GetScalars()).reshape(rows, columns, -1)
    return rgba[:size[1], :size[0], 3][::-1] / 255.0  # the text fills the image's lower-left size[0] x size[1]


def _text_corner(label: Label, shape) -> tuple[int, int]:
    """(column, row) of the text's top-left pixel for its anchor and alignment."""
    h, w = shape
    dx = {"left": 0.0, "centre": -0.5 * w, "right": -float(w)}[label.align]
    dy = {"top": 0.0, "middle": -0.5 * h, "bottom": -float(h)}[label.valign]
    return int(round(label.anchor[0] + dx)), int(round(label.anchor[1] + dy))


def _placed(ink: np.ndarray, top_left, rows: int, columns: int) -> np.ndarray:
    """(rows, columns) coverage with `ink` pasted at top_left, clipped at the picture's edges."""
    full = np.zeros((rows, columns))
    column, row = top_left
    r0, c0 = max(row, 0), max(column, 0)
    r1, c1 = min(row + ink.shape[0], rows), min(column + ink.shape[1], columns)
    if r0 < r1 and c0 < c1:
        full[r0:r1, c0:c1] = ink[r0 - row:r1 - row, c0 - column:c1 - column]
    return full
