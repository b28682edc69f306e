"""The summary CSV: one row per trajectory (plan, demo) or per scored vertebra (score), rounded as displayed."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from ..errors import PVPGuideError
from ..io.atomic_io import write_text_atomic
from ..report.findings import plain_warnings
from ..report.formatting import rounded
from ..report.sections_html import check_name, overall_verdict, safety_checks

COLUMNS = (
    "case_id", "command", "status", "reused", "error", "level", "side", "skin_entry",
    "transverse_scanner_deg", "sagittal_scanner_deg", "transverse_vertebra_deg", "sagittal_vertebra_deg",
    "ab_mm", "bc_mm", "ac_mm", "offset_midline_mm", "offset_spinous_tip_mm",
    "safety_verdict", "safety_not_passed",
    "bcv_ml", "vv_ml", "fill_percent", "psbcv_vv_percent", "psbcv_vv_over_threshold", "distribution_score",
    "endplate_contact", "pattern", "guide_stl", "guide_watertight", "guide_min_wall_mm",
    "warnings", "outputs",
)


def _get(data, *keys):
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _yes_no(value):
    return None if value is None else ("yes" if value else "no")


def cement_columns(cement: dict | None) -> dict:
    if not isinstance(cement, dict):
        return {}
    score = cement.get("distribution_score")
    return {
        "bcv_ml": rounded("volume_ml", cement.get("bcv_ml")),
        "vv_ml": rounded("volume_ml", cement.get("vv_ml")),
        "fill_percent": rounded("percent", cement.get("fill_percent")),
        "psbcv_vv_percent": rounded("percent", cement.get("psbcv_vv_percent")),
        "psbcv_vv_over_threshold": _yes_no(cement.get("psbcv_vv_over_threshold")),
        "distribution_score": score.get("total") if isinstance(score, dict) else score,
        "endplate_contact": cement.get("endplate_contact"),
        "pattern": cement.get("pattern"),
    }


def trajectory_row(t: dict) -> dict:
    safety = t.get("safety")
    not_passed = []
    if isinstance(safety, (dict, list)):
        not_passed = [f"{check_name(path, c)}={c.get('verdict')}" for path, c in safety_checks(safety)
                      if str(c.get("verdict", "")).lower() in ("warn", "fail")]
    guide = t.get("guide") if isinstance(t.get("guide"), dict) else {}
    row = {
        "level": t.get("level"), "side": t.get("side"), "skin_entry": t.get("skin_entry"),
        "transverse_scanner_deg": rounded("angle", _get(t, "angles_deg", "scanner", "transverse")),
        "sagittal_scanner_deg": rounded("angle", _get(t, "angles_deg", "scanner", "sagittal")),
        "transverse_vertebra_deg": rounded("angle", _get(t, "angles_deg", "vertebra", "transverse")),
        "sagittal_vertebra_deg": rounded("angle", _get(t, "angles_deg", "vertebra", "sagittal")),
        "ab_mm": rounded("length", _get(t, "lengths_mm", "AB")),
        "bc_mm": rounded("length", _get(t, "lengths_mm", "BC")),
        "ac_mm": rounded("length", _get(t, "lengths_mm", "AC")),
        "offset_midline_mm": rounded("length", _get(t, "entry_offsets_mm", "from_midline")),
        "offset_spinous_tip_mm": rounded("length", _get(t, "entry_offsets_mm", "from_spinous_tip")),
        "safety_verdict": overall_verdict(safety) if safety is not None else "not run",
        "safety_not_passed": ";".join(not_passed),
        "guide_stl": guide.get("stl"),
        "guide_watertight": _yes_no(guide.get("watertight")),
        "guide_min_wall_mm": rounded("length", guide.get("min_wall_mm")),
    }
    row.update(cement_columns(t.get("cement")))  # empty when cement prediction was not run
    return row


def result_rows(command: str, case_dir: Path, labels: dict) -> list[dict]:
    """Rows read back from the case's outputs (plan.json or score.json); raises ValueError when unreadable."""
    name = "score.json" if command == "score" else "plan.json"
    try:
        data = json.loads((case_dir / name).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PVPGuideError(f"cannot read {case_dir / name}: {error}") from None
    if command == "score":
        row = {"level": labels.get("level"), "side": data.get("side") or labels.get("side"),
               **cement_columns(data), "warnings": len(data.get("warnings") or [])}
        return [row]
    warnings = plain_warnings(data)
    rows = []
    for t in data.get("trajectories") or []:
        row = trajectory_row(t)
        prefix = f"{t.get('level') or 'level ?'} {t.get('side')}"
        row["warnings"] = sum(1 for w in warnings if w.startswith(prefix))
        rows.append(row)
    return rows or [{"level": labels.get("level"), "side": labels.get("side")}]


# A spreadsheet runs a cell starting with one of these as a formula (CSV injection): such text gets a leading '.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def csv_safe(value) -> str:
    """The cell as text; text that a spreadsheet would run as a formula is prefixed with ' (numbers are kept)."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def summary_csv_text(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_safe(row.get(k)) for k in COLUMNS})
    return buffer.getvalue()


def write_summary(path, rows: list[dict]) -> None:
    write_text_atomic(path, summary_csv_text(rows))
