"""Vertebra level names in spinal order, and the levels the module plans (light: read at Slicer start)."""

from __future__ import annotations

# Cranial to caudal: C1 ... C7, T1 ... T12, L1 ... L5, S1.
SPINE_LEVELS = tuple(f"C{n}" for n in range(1, 8)) + tuple(f"T{n}" for n in range(1, 13)) + tuple(
    f"L{n}" for n in range(1, 6)) + ("S1",)
# Where vertebroplasty is planned here: the thoracic and lumbar vertebrae (the module's level choices).
PLANNED_LEVELS = tuple(name for name in SPINE_LEVELS if name[0] in "TL")
