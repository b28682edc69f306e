"""Skipping finished cases: a completion marker in each case folder holding the hash of the case's inputs.

A case that failed is marked too (with its message): unchanged inputs would fail the same way, so a re-run
reports the stored error instead of repeating the work, unless --retry-failed asks for another try. Fixing an
input (a new file, a changed row) changes the hash, and the case runs again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .. import __version__
from ..io.atomic_io import write_json_atomic
from .cases import BatchCase

MARKER_NAME = "batch-case.json"
MARKER_SCHEMA = "pvpguide.batch-case/1"
# The file each command's success leaves behind; the case is finished only when it is there.
MAIN_OUTPUT = {"plan": "plan.json", "demo": "plan.json", "score": "score.json"}


def _stat_entry(path: Path) -> list:
    """Size and modification time (content hashing would read whole CTs and DICOM series on every run)."""
    try:
        if path.is_dir():
            return sorted([str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns]
                          for p in path.rglob("*") if p.is_file())
        stat = path.stat()
        return [stat.st_size, stat.st_mtime_ns]
    except OSError:
        return ["missing"]


def inputs_hash(case: BatchCase) -> str:
    """Changes when the row, an input file or folder, or the PVPGuide version changes."""
    record = {
        "version": __version__,
        "command": case.command,
        "arguments": list(case.arguments),
        "labels": case.labels,
        "inputs": {p: _stat_entry(Path(p)) for p in case.input_paths},
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode("utf-8")).hexdigest()


def finished_marker(case: BatchCase, case_dir: Path, digest: str) -> dict | None:
    """The case's marker when it matches these inputs (and, for a success, the main output is still there)."""
    try:
        marker = json.loads((case_dir / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if marker.get("schema") != MARKER_SCHEMA or marker.get("inputs_hash") != digest:
        return None
    if marker.get("status") == "ok" and not (case_dir / MAIN_OUTPUT[case.command]).is_file():
        return None
    return marker


def mark_finished(case: BatchCase, case_dir: Path, digest: str, seconds: float, *, error: str | None = None) -> None:
    write_json_atomic(case_dir / MARKER_NAME, {
        "schema": MARKER_SCHEMA,
        "case_id": case.case_id,
        "command": case.command,
        "arguments": list(case.arguments),
        "inputs_hash": digest,
        "status": "ok" if error is None else "error",
        "error": error,
        "seconds": round(seconds, 1),
    })
