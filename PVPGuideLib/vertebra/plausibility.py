"""Measured sizes checked against published ones (SPEC section 9), so that a reading a coarse scan or a poor
segmentation distorts is reported in the analysis notes (and the plan's warnings) instead of used silently."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .canal import Canal
from .local_grid import LocalGrid
from .pedicles import Pedicle
from .surfaces import LEVEL

# Transverse pedicle width, mm: (Panjabi 1992, Zindrick 1987 as cited), SPEC section 9.
PEDICLE_WIDTH_MM = {"L1": (8.6, 8.7), "L2": (8.25, 8.9), "L3": (10.15, 10.3), "L4": (14.05, 12.9), "L5": (18.6, 18.0)}
# Endplate width, mm (Panjabi 1992), SPEC section 9.
ENDPLATE_WIDTH_MM = {"L1": 41.2, "L2": 42.6, "L3": 44.1, "L4": 46.6, "L5": 47.3}
# A reading beyond these factors of the published range is reported. Wide enough for individual variation
# and fractures; narrow enough to catch what they are meant to: a transverse process or articular process read
# as pedicle (1.7-2.6 times the width on the 3 mm TotalSegmentator case at L4-L5), or a body missing a part.
PEDICLE_FACTORS = (0.5, 1.6)
BODY_WIDTH_FACTORS = (0.75, 1.3)
# SPEC 5: a measurement outside the published range by more than half caps every safety verdict at warn.
CAUTION_FACTORS = (0.5, 1.5)
# Transverse canal (interpedicular) width T9-L5, mm (Hinck 1966's normal limits, rounded). SPEC section 9 gives
# no canal widths; this range is only used with CAUTION_FACTORS, so it only catches gross misreadings.
CANAL_WIDTH_MM = (15.0, 30.0)
# SPEC 5: left and right pedicle convergence differing by more than this is implausible (a mirror image, give
# or take the rotation of a scoliotic vertebra, which the frame already follows).
MAX_CONVERGENCE_MISMATCH_DEG = 10.0
OTHER = {"left": "right", "right": "left"}


def body_width(grid: LocalGrid, body: np.ndarray, centre_y: float) -> float:
    """Width (mm) along the right axis of the body's outline seen along its superior axis, through its centre."""
    footprint = (body >= LEVEL).any(axis=2)
    row = footprint[:, int(np.argmin(np.abs(grid.axis(1) - centre_y)))]
    inside = np.flatnonzero(row)
    return float((inside[-1] - inside[0] + 1) * grid.step) if inside.size else 0.0


def plausibility_notes(level: str, pedicles: dict[str, Pedicle], width_mm: float, canal: Canal) -> list[str]:
    """Notes for every measurement outside the published range of its level (levels without published sizes
    are not checked) and for a canal that does not hold its own centre line."""
    notes = []
    published = PEDICLE_WIDTH_MM.get(level)
    if published:
        low, high = PEDICLE_FACTORS[0] * min(published), PEDICLE_FACTORS[1] * max(published)
        for side, pedicle in sorted(pedicles.items()):
            if not low <= pedicle.width <= high:
                cause = ("its lateral border probably follows the transverse or articular process (coarse scan or "
                         "segmentation), so B lies lateral to the pedicle's edge and the transverse angle is larger"
                         if pedicle.width > high else "the segmentation probably misses part of it")
                notes.append(f"the {side} pedicle reads {pedicle.width:.1f} mm wide against {min(published):g}-"
                             f"{max(published):g} mm published for {level}: {cause}; check B")
    if level in ENDPLATE_WIDTH_MM:
        reference = ENDPLATE_WIDTH_MM[level]
        if not BODY_WIDTH_FACTORS[0] * reference <= width_mm <= BODY_WIDTH_FACTORS[1] * reference:
            notes.append(f"the vertebral body reads {width_mm:.1f} mm wide against {reference:g} mm published for "
                         f"{level}: check the segmentation of the body")
    if canal.width <= 0.0:
        notes.append("the spinal canal found does not cross its own centre line (an irregular hole): the segmentation "
                     "around the canal is probably poor; check the canal clearance by eye")
    return notes


def _width_plausible(level: str, pedicle: Pedicle) -> bool:
    published = PEDICLE_WIDTH_MM.get(level)
    if not published:
        return True
    return CAUTION_FACTORS[0] * min(published) <= pedicle.width <= CAUTION_FACTORS[1] * max(published)


def consistent_pair(level: str, pedicles: dict[str, Pedicle]) -> bool:
    """Both pedicles of plausible width and their convergences within MAX_CONVERGENCE_MISMATCH_DEG."""
    if len(pedicles) != 2 or not all(_width_plausible(level, p) for p in pedicles.values()):
        return False
    return abs(pedicles["left"].convergence_deg - pedicles["right"].convergence_deg) <= MAX_CONVERGENCE_MISMATCH_DEG


def plausibility_cautions(level: str, pedicles: dict[str, Pedicle], canal: Canal, canal_envelope_mm: float) -> list[str]:
    """SPEC section 5's implausible measurements that every path of the vertebra depends on (the canal, the pair
    of pedicles read against each other), each capping every safety verdict at warn (with the reason)."""
    cautions = []
    low, high = CANAL_WIDTH_MM[0] * CAUTION_FACTORS[0], CANAL_WIDTH_MM[1] * CAUTION_FACTORS[1]
    for what, width in (("narrowest", canal.width), ("widest (with the lateral recesses)", canal_envelope_mm)):
        if not low <= width <= high:
            cautions.append(f"spinal canal {width:.1f} mm wide at its {what}, more than half outside the "
                            f"{CANAL_WIDTH_MM[0]:g}-{CANAL_WIDTH_MM[1]:g} mm published")
    if canal.closing_mm > 0:
        cautions.append(f"the spinal canal was found only after closing gaps of {canal.closing_mm:g} mm in the ring "
                        "around it: its borders are uncertain")
    if len(pedicles) == 2:
        mismatch = abs(pedicles["left"].convergence_deg - pedicles["right"].convergence_deg)
        if mismatch > MAX_CONVERGENCE_MISMATCH_DEG:
            cautions.append(f"left and right pedicle convergence differ by {mismatch:.0f} degrees (left "
                            f"{pedicles['left'].convergence_deg:.0f}, right {pedicles['right'].convergence_deg:.0f}; "
                            f"more than {MAX_CONVERGENCE_MISMATCH_DEG:g} is implausible)")
    return cautions


def pedicle_cautions(level: str, pedicles: dict[str, Pedicle]) -> dict[str, list[str]]:
    """SPEC section 5's implausible pedicle widths, per side. A pedicle's width and borders enter the checks of the
    paths through it (medial wall, B on the pedicle) and only the position of the other side's C, which is checked
    on its own (across the midline, in the body); so each caps the verdicts of the paths entering on its side."""
    published = PEDICLE_WIDTH_MM.get(level)
    cautions = {}
    for side, pedicle in sorted(pedicles.items()):
        if published and not _width_plausible(level, pedicle):
            cautions[side] = [f"{side} pedicle {pedicle.width:.1f} mm wide, more than half outside the "
                              f"{min(published):g}-{max(published):g} mm published for {level}"]
    return cautions


def mirror_pedicle(pedicle: Pedicle, midline_x: float) -> Pedicle:
    """The pedicle reflected about the midsagittal plane x = midline_x: the other side's pedicle."""
    side = OTHER[pedicle.side]
    return replace(pedicle, side=side, slope=-pedicle.slope, medial_offset=2.0 * midline_x - pedicle.medial_offset,
                   lateral_offset=2.0 * midline_x - pedicle.lateral_offset,
                   method=f"mirrored from the {pedicle.side} pedicle")


@dataclass(frozen=True)
class Mirrored:
    """Why a pedicle was replaced by the other side's mirror image, and whether the side kept is known to be the
    better reading (the replaced one was not traced or its width is implausible) or only taken to be (a
    convergence mismatch of two plausible widths: either side may be the wrong one)."""

    note: str
    kept_side_sure: bool


def mirrored_if_unreliable(level: str, pedicles: dict[str, Pedicle], failures: dict[str, str],
                           midline_x: float) -> tuple[dict[str, Pedicle], dict[str, Mirrored]]:
    """Replace an unreliable pedicle by the other one mirrored about the midsagittal plane, and say so.

    Unreliable: not traced at all; or, when left and right disagree (widths or convergence), the side whose
    width is implausible, else the side traced from fewer border points (the other side's borders were
    followed over more of the pedicle, so they are the better reading). Returns the pedicles and, per replaced
    side, what was done and why.
    """
    mirrored = {}
    for side, error in failures.items():
        pedicles = {**pedicles, side: mirror_pedicle(pedicles[OTHER[side]], midline_x)}
        mirrored[side] = Mirrored(f"{side} pedicle not traced ({error}); mirrored from the {OTHER[side]} pedicle "
                                  "about the midsagittal plane", True)
    if failures or len(pedicles) != 2:
        return pedicles, mirrored
    left, right = pedicles["left"], pedicles["right"]
    plausible = {side: _width_plausible(level, p) for side, p in pedicles.items()}
    mismatch = abs(left.convergence_deg - right.convergence_deg) > MAX_CONVERGENCE_MISMATCH_DEG
    if plausible["left"] != plausible["right"]:
        bad = "left" if not plausible["left"] else "right"
        reason, sure = f"its width {pedicles[bad].width:.1f} mm is implausible for {level}", True
    elif mismatch:
        points = {side: p.medial_points + p.lateral_points for side, p in pedicles.items()}
        bad = "left" if points["left"] < points["right"] else "right"
        reason, sure = (f"its convergence {pedicles[bad].convergence_deg:.0f} degrees disagrees with the "
                        f"{OTHER[bad]} side's {pedicles[OTHER[bad]].convergence_deg:.0f} and its borders were traced "
                        f"from fewer points ({points[bad]} against {points[OTHER[bad]]})"), False
    else:
        return pedicles, mirrored
    pedicles = {**pedicles, bad: mirror_pedicle(pedicles[OTHER[bad]], midline_x)}
    mirrored[bad] = Mirrored(f"{bad} pedicle unreliable ({reason}); mirrored from the {OTHER[bad]} pedicle about the "
                             "midsagittal plane", sure)
    return pedicles, mirrored
