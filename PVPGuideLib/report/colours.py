"""Colours shared by every picture of the report (RGB 0-255), so A, B, C and the needle look the same everywhere."""

from __future__ import annotations

from ..core.colours import POINT_COLOURS, unit_rgb  # noqa: F401  (re-exported: the pictures use colours.*)

NEEDLE = (255, 225, 80)
BONE = (236, 226, 204)
SKIN = (235, 190, 160)
GUIDE = (100, 165, 245)
TEXT = (255, 255, 255)
BACKGROUND_3D = (28, 32, 40)
