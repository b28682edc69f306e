"""The colours of points A, B and C (RGB 0-255): one source for the report's pictures and the Slicer scene."""

from __future__ import annotations

POINT_COLOURS = {"A": (70, 200, 90), "B": (255, 160, 40), "C": (235, 70, 70)}


def unit_rgb(colour) -> tuple:
    """RGB 0-255 -> 0-1 (VTK's and MRML's colour scale)."""
    return tuple(channel / 255.0 for channel in colour)
