"""The capability sections of a trajectory (safety, cement, guide) and any section the report does not know."""

from __future__ import annotations

from .formatting import guess_format
from .html_parts import esc, note, table, value_span, verdict_badge

VERDICT_ORDER = {"pass": 0, "warn": 1, "fail": 2}
PSBCV_VV_THRESHOLD_PERCENT = 13.68  # SPEC section 6 (Gao et al.); plan.json may carry its own


def humanize(key: str) -> str:
    return str(key).replace("_", " ")


def safety_checks(section: dict) -> list[tuple[tuple, dict]]:
    """(path inside the section, check) for every check: a `checks` list or dict, or dict entries with a verdict."""
    checks = section.get("checks", section) if isinstance(section, dict) else section
    if isinstance(checks, list):
        return [(("checks", i), c) for i, c in enumerate(checks) if isinstance(c, dict)]
    prefix = ("checks",) if isinstance(section, dict) and "checks" in section else ()
    return [(prefix + (name,), c) for name, c in checks.items() if isinstance(c, dict) and "verdict" in c]


def overall_verdict(section: dict) -> str | None:
    if isinstance(section, dict) and isinstance(section.get("verdict"), str):
        return section["verdict"]
    verdicts = [str(c.get("verdict", "")).lower() for _, c in safety_checks(section)]
    known = [v for v in verdicts if v in VERDICT_ORDER]
    return max(known, key=VERDICT_ORDER.get) if known else None


def check_name(path: tuple, check: dict) -> str:
    return str(check.get("name") or check.get("check") or path[-1])


def safety_block(data: dict, index: int) -> str:
    section = data["trajectories"][index].get("safety")
    if section is None:
        return note("Safety checks not run.")
    base = ("trajectories", index, "safety")
    rows = []
    for path, check in safety_checks(section):
        limit_key = next((k for k in ("limit_mm", "threshold_mm", "minimum_mm", "required_mm") if k in check), None)
        rows.append([
            esc(humanize(check_name(path, check))),
            value_span(data, base + path + ("distance_mm",), "length") if "distance_mm" in check else "",
            value_span(data, base + path + (limit_key,), "length") if limit_key else "",
            verdict_badge(check.get("verdict")),
            esc(check.get("message") or check.get("detail") or ""),
        ])
    overall = overall_verdict(section)
    head = f"<p>Overall: {verdict_badge(overall)}</p>"
    if not rows:
        return head + note("The safety section holds no checks.")
    shown = {"checks", "verdict"} | {path[0] for path, _ in safety_checks(section)}
    rest = all_values(data, base, section, shown, "Other safety values") if isinstance(section, dict) else ""
    return head + table(rows, header=["check", "distance", "limit", "verdict", ""]) + rest


CEMENT_ROWS = (
    ("bcv_ml", "BCV cement volume", "volume_ml"),
    ("vv_ml", "VV vertebral body volume", "volume_ml"),
    ("fill_percent", "fill (BCV/VV)", "percent"),
    ("psbcv_ml", "PSBCV puncture-side cement", "volume_ml"),
    ("psbcv_vv_percent", "PSBCV/VV", "percent"),
    ("crosses_midline", "crosses the midline", "yes_no"),
    ("endplate_contact", "endplate contact", "text"),
    ("pattern", "pattern", "text"),
)


def cement_block(data: dict, index: int) -> str:
    section = data["trajectories"][index].get("cement")
    if section is None:
        return note("Cement prediction not run.")
    base = ("trajectories", index, "cement")
    rows = [[label, value_span(data, base + (key,), kind)] for key, label, kind in CEMENT_ROWS if key in section]
    if section.get("psbcv_vv_over_threshold") is not None:
        threshold = section.get("psbcv_vv_threshold_percent", PSBCV_VV_THRESHOLD_PERCENT)
        rows.append([f"PSBCV/VV above {esc(threshold)} % (leakage risk)",
                     value_span(data, base + ("psbcv_vv_over_threshold",), "yes_no")])
    score = section.get("distribution_score")
    if isinstance(score, dict):
        rows.append(["distribution score (0-8)", value_span(data, base + ("distribution_score", "total"), "count")
                     + " = AP " + value_span(data, base + ("distribution_score", "ap"), "count")
                     + " + lateral " + value_span(data, base + ("distribution_score", "lateral"), "count")])
    elif score is not None:
        rows.append(["distribution score (0-8)", value_span(data, base + ("distribution_score",), "count")])
    zones = section.get("nine_zones")
    if isinstance(zones, dict) and "c_zone" in zones:
        rows.append(["C's zone (of nine)", value_span(data, base + ("nine_zones", "c_zone"), "text")])
    out = table(rows, header=["cement", ""]) if rows else ""
    if isinstance(zones, dict) and isinstance(zones.get("fractions"), dict):
        out += nine_zones_table(data, base + ("nine_zones", "fractions"), zones["fractions"])
    shown = {key for key, _, _ in CEMENT_ROWS} | {"psbcv_vv_over_threshold", "psbcv_vv_threshold_percent",
                                                   "distribution_score", "nine_zones"}
    return out + all_values(data, base, section, shown, "All cement values")


def nine_zones_table(data: dict, base: tuple, fractions: dict) -> str:
    rows = []
    for row in ("anterior", "middle", "posterior"):
        cells = []
        for column in ("left", "central", "right"):
            name = f"{row}_{column}"
            cells.append(value_span(data, base + (name,), "number") if name in fractions else "")
        rows.append([row] + cells)
    return table(rows, header=["cement fraction per zone", "left", "central", "right"], css_class="numbers zones")


GUIDE_ROWS = (
    ("stl", "STL file", "text"),
    ("coordinate_system", "STL coordinates", "text"),
    ("watertight", "watertight", "yes_no"),
    ("volume_mm3", "volume", "volume_mm3"),
    ("min_wall_mm", "minimum wall", "length"),
)


def guide_block(data: dict, index: int) -> str:
    section = data["trajectories"][index].get("guide")
    if section is None:
        return note("Guide plate not designed.")
    base = ("trajectories", index, "guide")
    rows = [[label, value_span(data, base + (key,), kind)] for key, label, kind in GUIDE_ROWS if key in section]
    out = table(rows, header=["guide plate", ""]) if rows else note("The guide section holds no properties.")
    if isinstance(section.get("print"), dict):
        out += note(print_summary(section["print"]), "print")
    return out + all_values(data, base, section, {key for key, _, _ in GUIDE_ROWS}, "All guide values")


def print_summary(printing: dict) -> str:
    """One sentence: PrusaSlicer's estimate for the plate (or 'not sliced') and the suggested orientation."""
    where = f"print {printing.get('orientation', '?')} (fewest supports)"
    if not printing.get("sliced"):
        return f"{printing.get('message') or 'not sliced'}; suggested orientation: {where}."
    grams = printing.get("filament_g")
    return (f"PrusaSlicer ({printing.get('profile')}): {printing.get('print_time')}, "
            f"{printing.get('filament_cm3')} cm3 of filament" + (f" ({grams} g)" if grams else "") + f"; {where}.")


def generic_rows(data: dict, base: tuple, value, label: str = "", depth: int = 0) -> list:
    """Key/value rows of any JSON value (nested dicts flattened with ' / '), formats guessed from key suffixes."""
    if isinstance(value, dict) and depth < 4:
        rows = []
        for key in sorted(value):
            sub_label = f"{label} / {humanize(key)}" if label else humanize(key)
            rows.extend(generic_rows(data, base + (key,), value[key], sub_label, depth + 1))
        return rows
    key = str(base[-1]) if base else ""
    kind = guess_format(key, value)
    if isinstance(value, (list, dict)) and kind != "point":
        return [[esc(label), f'<span class="raw">{esc(_compact(value))}</span>']]
    return [[esc(label), value_span(data, base, kind)]]


def _compact(value) -> str:
    import json

    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 300 else text[:297] + "..."


def all_values(data: dict, base: tuple, section: dict, shown: set, title: str) -> str:
    """The section's remaining keys in a collapsed block, so nothing plan.json holds is left out."""
    rest = {k: v for k, v in section.items() if k not in shown}
    if not rest:
        return ""
    rows = []
    for key in sorted(rest):
        rows.extend(generic_rows(data, base + (key,), rest[key], humanize(key), 1))
    return f"<details><summary>{esc(title)}</summary>" + table(rows, header=["", ""], css_class="numbers generic") + \
        "</details>"


def generic_block(data: dict, base: tuple, value) -> str:
    rows = generic_rows(data, base, value)
    return table(rows, header=["", ""], css_class="numbers generic") if rows else note("(empty)")
