"""Find a skin grid locator on a CT: wire voxels on the skin, the skin under them, two wire families, names."""

from __future__ import annotations

import numpy as np

from ..core.volume import CTVolume
from .candidates import wire_voxels
from .errors import GridError
from .families import SPACING_RANGE_MM, dithered, family_normals, lattice, wire_offsets
from .fit import fit_lattice
from .model import GridConvention, GridLocator
from .surface import fit_patch

# Fewer wire voxels than this on the skin: no grid.
MIN_WIRE_VOXELS = 60
# The rows must run within this angle (degrees) of left-right on the skin, else rows and columns are ambiguous.
MAX_NAMING_ANGLE_DEG = 30.0
# Rows and columns of a square grid have one spacing: they may differ by this fraction at most.
MAX_SPACING_MISMATCH = 0.05
# The grid must lie on the back: its skin normal within this angle (degrees) of posterior.
MAX_BACK_ANGLE_DEG = 60.0
POSTERIOR = np.array([0.0, -1.0, 0.0])
MIN_SPACING_MM = SPACING_RANGE_MM[0]
# Wire cut by the CT's edge this far (in spacings) before the first row or column: more grid lies outside.
BEYOND_FIRST_LINE = 0.3
# Wires (not cut by the CT's edge) going on this far past the first row or column: that edge wire is missing.
OVERHANG = 0.5


def detect_grid(ct: CTVolume, *, convention: GridConvention | None = None) -> GridLocator:
    """The grid on the skin of the back, named by `convention`; GridError when there is none or it is ambiguous."""
    convention = convention or GridConvention()
    wires = wire_voxels(ct)
    if len(wires.on_skin) < MIN_WIRE_VOXELS:
        raise GridError(_no_grid_message(wires))
    patch = fit_patch(wires.on_skin, wires.outward)
    back_angle = np.degrees(np.arccos(np.clip(patch.normal @ POSTERIOR, -1.0, 1.0)))
    if back_angle > MAX_BACK_ANGLE_DEG:
        raise GridError(f"the dense structure on the skin faces {back_angle:.0f} degrees away from posterior: it is not a "
                        "grid on the back; give the grid by hand")
    flat, height = patch.flatten(wires.on_skin)
    voxel = wires.voxel_mm
    angles = family_normals(dithered(flat, voxel), bin_mm=max(1.0, voxel))
    smooth = max(0.5, 0.5 * voxel)
    families = []
    for angle, what in zip(angles, ("wires of one family", "wires of the other family")):
        normal = np.array([np.cos(np.radians(angle)), np.sin(np.radians(angle))])
        offsets = wire_offsets(flat @ normal, smooth, separation_mm=max(MIN_SPACING_MM / 2, 1.5 * voxel))
        families.append(lattice(offsets, what))
    spacings = [f[1] for f in families]
    if abs(spacings[0] - spacings[1]) > MAX_SPACING_MISMATCH * min(spacings):
        raise GridError(f"the two wire families are {spacings[0]:.1f} and {spacings[1]:.1f} mm apart: not one square grid "
                        "(two grids?); give the grid by hand")
    # The second family was found near perpendicular; express its offsets along the fit's (rotated) normal.
    second = np.radians(angles[0]) + np.pi / 2
    sign = 1.0 if np.cos(np.radians(angles[1]) - second) > 0 else -1.0
    fit = fit_lattice(flat, angles[0], (families[0][0], sign * families[1][0]), float(np.mean(spacings)),
                      (families[0][2], sign * families[1][2]), tolerance_mm=min(np.mean(spacings) / 3, max(1.5, 0.9 * voxel)))
    limit = max(1.0, 0.5 * voxel)
    if fit.rms_mm > limit:
        raise GridError(f"the wires fit one grid only to {fit.rms_mm:.2f} mm RMS (limit {limit:.2f} mm): two overlapping "
                        "or deformed grids; give the grid by hand")
    seen = [np.unique(np.asarray(families[0][2])), np.unique(sign * np.asarray(families[1][2]))]
    return _named(patch, flat, wires, fit, seen, height, convention)


def _named(patch, flat, wires, fit, seen, height, convention: GridConvention) -> GridLocator:
    """Decide rows and columns, orient the numbering, and build the locator."""
    centre = np.median(flat, axis=0)
    normals = fit.normals.copy()
    lines = np.stack([[-n[1], n[0]] for n in normals])
    along = [patch.tangent(centre, d) for d in lines]
    right_on_skin = np.array([1.0, 0.0, 0.0]) - (patch.normal @ [1.0, 0.0, 0.0]) * patch.normal
    right_on_skin /= np.linalg.norm(right_on_skin)
    row_family = int(np.argmax([abs(a @ right_on_skin) for a in along]))
    turn = np.degrees(np.arccos(min(1.0, abs(along[row_family] @ right_on_skin))))
    if turn > MAX_NAMING_ANGLE_DEG:
        raise GridError(f"the grid is turned {turn:.0f} degrees on the skin: which wires are rows and which are columns "
                        f"is ambiguous beyond {MAX_NAMING_ANGLE_DEG:g} degrees; lay it straighter or give it by hand")
    steps, origins, indices = [], [], []
    for family, direction in ((row_family, convention.row_direction), (1 - row_family, convention.column_direction)):
        n, o, k = normals[family], fit.origins[family], np.asarray(seen[family])
        if patch.tangent(centre, n) @ direction < 0:
            n, o, k = -n, -o, -k
        steps.append(n)
        origins.append(o + k.min() * fit.spacing)
        indices.append(k - k.min())
    flat_origin = np.linalg.solve(np.stack(steps), np.array(origins))
    first = convention.first_index
    counts = [int(k.max()) + 1 for k in indices]
    missing = [tuple(first + int(i) for i in sorted(set(range(c)) - set(int(x) for x in k)))
               for c, k in zip(counts, indices)]
    warnings = []
    for kind, numbers in zip(("row", "column"), missing):
        if numbers:
            warnings.append(f"{kind}(s) {', '.join(str(n) for n in numbers)} not seen in the CT (a missing or "
                            f"broken wire); numbering counts them as present")
    tolerance = min(fit.spacing / 3, max(1.5, 0.9 * wires.voxel_mm))
    warnings.extend(_edge_checks(flat - flat_origin, wires.touches_border, steps, fit.spacing, tolerance, convention))
    return GridLocator(patch, flat_origin, steps[0], steps[1], fit.spacing, convention, "detected", counts[0], counts[1],
                       missing[0], missing[1], fit.rms_mm, fit.max_mm, float(np.sqrt(np.mean(height**2))),
                       fit.points_used, tuple(warnings))


def _edge_checks(rel, border, steps, spacing: float, tolerance: float, convention: GridConvention) -> list:
    """Wires that go on before the first row (column): cut by the CT's edge (a warning: numbering starts inside
    the scan) or not (the edge wire itself is missing: numbering would shift, so refuse)."""
    warnings = []
    first = convention.first_index
    for axis, kind, side in ((0, "row", f"the {convention.rows_from} side"),
                             (1, "column", f"the patient's {convention.columns_from}")):
        before = rel @ steps[axis] / spacing
        across = rel @ steps[1 - axis] / spacing
        # Only points on the other family's wires count (a stray dense voxel beside the grid is not a wire).
        on_wire = (np.abs(across - np.rint(across)) * spacing <= tolerance) & (np.rint(across) >= 0)
        before = np.where(on_wire, before, np.inf)
        if np.any(before[border] < -BEYOND_FIRST_LINE):
            warnings.append(f"the grid runs out of the CT on {side}: {kind} {first} is the first {kind} inside the "
                            f"scan, maybe not the grid's first wire; count from the same {kind}")
        elif np.any(before < -OVERHANG):
            raise GridError(f"wires run {-before.min() * spacing:.0f} mm past the first {kind} on {side} without a "
                            f"{kind} wire at their end: the grid's edge {kind} is missing in the CT (or its wires "
                            "overhang), so the numbering is ambiguous; give the grid by hand")
    return warnings


def _no_grid_message(wires) -> str:
    far = wires.off_skin
    if len(far) >= MIN_WIRE_VOXELS:
        gap = float(np.median(wires.off_skin_gap_mm))
        return (f"no grid on the skin: {len(wires.on_skin)} dense voxels lie on the skin, but {len(far)} lie a median "
                f"{gap:.0f} mm away from it (e.g. a grid or rails on the table, not on the patient); lay the grid on the "
                "skin of the back before the CT, or give it by hand")
    return ("no grid found: no thin dense structure (wires above 300 HU) lies on the skin of the back; scan with the "
            "grid on the skin, or give the grid by hand (origin, directions, spacing)")
