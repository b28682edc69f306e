"""Needle gauges and their outer diameters (SPEC section 5)."""

from __future__ import annotations

# 15G (1.83 mm) for narrow thoracic pedicles (SPEC 5).
NEEDLE_OUTER_DIAMETER_MM = {15: 1.83, 13: 2.41, 11: 3.05, 10: 3.40, 8: 4.19}
DEFAULT_NEEDLE_GAUGE = 13


def needle_outer_diameter_mm(gauge: int) -> float:
    """Outer diameter of a vertebroplasty needle of the given gauge (G)."""
    try:
        return NEEDLE_OUTER_DIAMETER_MM[int(gauge)]
    except (KeyError, TypeError, ValueError):
        known = ", ".join(f"{g}G" for g in sorted(NEEDLE_OUTER_DIAMETER_MM, reverse=True))
        raise ValueError(f"unknown needle gauge {gauge!r}: choose one of {known}") from None


def thinner_gauges(gauge: int) -> list[int]:
    """The known gauges thinner than `gauge`, thickest first (the order a gauge fallback tries them)."""
    diameter = needle_outer_diameter_mm(gauge)
    return sorted((g for g, d in NEEDLE_OUTER_DIAMETER_MM.items() if d < diameter),
                  key=lambda g: NEEDLE_OUTER_DIAMETER_MM[g], reverse=True)
