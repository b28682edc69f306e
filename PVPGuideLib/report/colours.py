"""Colours shared by every picture of the report (RGB 0-255), so A, B, C and the needle look the same everywhere."""

POINT_COLOURS = {"A": (70, 200, 90), "B": (255, 160, 40), "C": (235, 70, 70)}
NEEDLE = (255, 225, 80)
BONE = (236, 226, 204)
SKIN = (235, 190, 160)
GUIDE = (100, 165, 245)
TEXT = (255, 255, 255)
BACKGROUND_3D = (28, 32, 40)


def unit_rgb(colour) -> tuple[float, float, float]:
    """VTK wants colours in 0-1."""
    return tuple(c / 255.0 for c in colour)
