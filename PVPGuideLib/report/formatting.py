"""How each number is shown in the report: the one rounding of display.py, plus volumes, percentages and flags.

Every number cell carries its plan.json key (a JSON pointer) and its format, so a test (or a reader) can check
that what is shown is the stored value with this rounding.
"""

from __future__ import annotations

from ..core import display

# Decimals per kind of number, shared by the report and the batch summary CSV; angles, lengths, cement volumes
# and percentages follow display.py (0.1 degree, 0.1 mm, 0.01 ml, 0.1 %), which the module's panel uses too.
DECIMALS = {"angle": 1, "length": 1, "volume_ml": display.VOLUME_ML_DECIMALS, "percent": display.PERCENT_DECIMALS,
            "volume_mm3": 0}


def rounded(kind: str, value):
    """The number as shown, without its unit (for CSV); None stays None."""
    if value is None or isinstance(value, bool) or kind not in DECIMALS:
        return value
    return round(float(value), DECIMALS[kind])


def _volume_mm3(v) -> str:
    return f"{v:.{DECIMALS['volume_mm3']}f} mm³"


def _yes_no(v) -> str:
    return "yes" if v else "no"


def _number(v) -> str:
    return str(v) if isinstance(v, int) else f"{v:.2f}"


def _voxels(v) -> str:
    return " × ".join(str(int(n)) for n in v) + " voxels"


def _spacing(v) -> str:
    return " × ".join(f"{x:.3f}" for x in v) + " mm"  # voxel sizes like 0.977 mm must not read as 1.0


FORMATS = {
    "angle": display.format_angle,  # 0.1 degree
    "length": display.format_length,  # 0.1 mm
    "point": lambda p: display.format_point(p) + " mm",  # R, A, S each to 0.1 mm
    "volume_ml": display.format_volume_ml,  # 0.01 ml
    "percent": display.format_percent,  # 0.1 %
    "volume_mm3": _volume_mm3,
    "yes_no": _yes_no,
    "count": lambda v: str(int(v)),
    "number": _number,
    "voxels": _voxels,
    "spacing": _spacing,
    "gauge": lambda v: f"{int(v)}G",
    "hu": lambda v: f"{v:.0f} HU",
    "catalog_mm": lambda v: f"{v:.2f} mm",  # a maker's nominal size (13G = 2.41 mm), shown as catalogued
    "text": str,
}


def format_value(kind: str, value) -> str:
    """The text shown for a plan.json value; 'n/a' for a missing (null) one."""
    if value is None:
        return "n/a"
    return FORMATS[kind](value)


# keys of unknown sections that hold a RAS position in mm (directions and other vectors are shown as raw JSON)
POINT_KEY_ENDINGS = ("_ras", "point", "centre", "center", "origin", "tip")


def guess_format(key: str, value) -> str:
    """Format of a value in a section the report does not know, from its key's unit suffix (plan.json's convention)."""
    if isinstance(value, bool):
        return "yes_no"
    if isinstance(value, str):
        return "text"
    if (isinstance(value, list) and len(value) == 3 and all(isinstance(x, (int, float)) for x in value)
            and key.endswith(POINT_KEY_ENDINGS)):
        return "point"
    if not isinstance(value, (int, float)):
        return "text"
    for suffix, kind in (("_deg", "angle"), ("_mm3", "volume_mm3"), ("_mm", "length"), ("_ml", "volume_ml"),
                         ("_percent", "percent")):
        if key.endswith(suffix):
            return kind
    return "count" if isinstance(value, int) else "number"


def pointer(*parts) -> str:
    """JSON pointer (RFC 6901) of a value in plan.json, e.g. /trajectories/0/angles_deg/scanner/transverse."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def resolve(data, json_pointer: str):
    """The value at a JSON pointer."""
    value = data
    for raw in json_pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value
