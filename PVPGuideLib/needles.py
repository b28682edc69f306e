"""Needle gauges and their outer diameters (SPEC section 5)."""

from __future__ import annotations

NEEDLE_OUTER_DIAMETER_MM = {13: 2.41, 11: 3.05, 10: 3.40, 8: 4.19}
DEFAULT_NEEDLE_GAUGE = 13


def needle_outer_diameter_mm(gauge: int) -> float:
    """Outer diameter of a vertebroplasty needle of the given gauge (G)."""
    try:
        return NEEDLE_OUTER_DIAMETER_MM[int(gauge)]
    except (KeyError, TypeError, ValueError):
        known = ", ".join(f"{g}G" for g in sorted(NEEDLE_OUTER_DIAMETER_MM, reverse=True))
        raise ValueError(f"unknown needle gauge {gauge!r}: choose one of {known}") from None
