"""The cases CSV: one row per case, its columns turned into the sub-command's options (docs/cli.md)."""

from __future__ import annotations

import argparse
import csv
import importlib
import importlib.util
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import PVPGuideError

COMMANDS = ("plan", "score", "demo")
# Never passed to the sub-command: who the case is, what to run, free-form extras and notes.
META_COLUMNS = ("case_id", "command", "options", "notes")
# Passed only when the command takes them; otherwise kept as a label for the summary (e.g. score has no --level).
LABEL_COLUMNS = ("level", "side")
# Relative paths in these columns are relative to the CSV file's folder.
PATH_COLUMNS = ("ct", "segmentation", "body_segmentation")
# Set by the batch itself for every case.
BATCH_OWNED = ("out", "json", "quiet")
CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class CasesError(PVPGuideError):
    """The cases CSV as a whole is unusable (a single bad row becomes an error row instead)."""


@dataclass(frozen=True)
class BatchCase:
    """One row: the arguments for `pvpguide <command>` (without --out), or the reason it cannot run."""

    row_number: int
    case_id: str
    command: str
    arguments: tuple = ()
    labels: dict = field(default_factory=dict)  # level / side as written in the CSV
    input_paths: tuple = ()  # files and folders the case reads (their sizes and times go into the inputs hash)
    error: str | None = None


def command_options(command: str) -> set[str]:
    """The long options a sub-command accepts, read from its own argument definitions."""
    module = importlib.import_module(f"PVPGuideLib.cli.{command}")
    parser = argparse.ArgumentParser(add_help=False)
    module.add_arguments(parser)
    return {s for action in parser._actions for s in action.option_strings if s.startswith("--")}


def _case_from_row(number: int, row: dict, base_dir: Path, options_by_command: dict) -> BatchCase:
    case_id = (row.get("case_id") or "").strip()
    command = (row.get("command") or "plan").strip().lower()
    labels = {k: (row.get(k) or "").strip() for k in LABEL_COLUMNS if (row.get(k) or "").strip()}
    if not CASE_ID.match(case_id):
        return BatchCase(number, case_id or f"row{number}", command, labels=labels,
                         error=f"row {number}: case_id {case_id!r} must be letters, digits, '.', '_' or '-' "
                               "(it names the case's output folder)")
    if command not in options_by_command:
        return BatchCase(number, case_id, command, labels=labels,
                         error=f"unknown command {command!r}: use one of {', '.join(sorted(options_by_command))}")
    accepted = options_by_command[command]
    arguments, paths, misplaced = [], [], []
    for column, raw in row.items():
        if column is None or column in META_COLUMNS:
            continue
        value = (raw or "").strip()
        if not value:
            continue
        option = "--" + column.replace("_", "-")
        if option not in accepted or column in BATCH_OWNED:
            if column not in LABEL_COLUMNS:
                misplaced.append(column)
            continue
        if column in PATH_COLUMNS:
            path = Path(value).expanduser()
            path = path if path.is_absolute() else base_dir / path
            paths.append(str(path))
            value = str(path)
        arguments.append(f"{option}={value}")  # '=' keeps values such as '-8,-20,0' from reading as options
    if misplaced:
        return BatchCase(number, case_id, command, labels=labels,
                         error=f"column(s) {', '.join(misplaced)} do not apply to '{command}'; leave them empty")
    try:
        arguments.extend(shlex.split(row.get("options") or ""))
    except ValueError as error:
        return BatchCase(number, case_id, command, labels=labels, error=f"options column: {error}")
    return BatchCase(number, case_id, command, tuple(arguments), labels, tuple(paths))


def read_cases(csv_path) -> list[BatchCase]:
    """All rows of the CSV; rows that cannot run carry their error. Raises CasesError for an unusable file."""
    csv_path = Path(csv_path)
    try:
        text = csv_path.read_text(encoding="utf-8-sig")  # spreadsheets often save a byte-order mark
    except (OSError, UnicodeDecodeError) as error:
        raise CasesError(f"cannot read the cases CSV {csv_path}: {error}") from None
    reader = csv.DictReader(line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    if not reader.fieldnames or "case_id" not in [f.strip() for f in reader.fieldnames]:
        raise CasesError(f"{csv_path} needs a header row with at least a case_id column (see docs/cli.md)")
    rows = [{(k or "").strip() or None: v for k, v in row.items()} for row in reader]
    known = set(META_COLUMNS) | set(LABEL_COLUMNS)
    options_by_command = {c: command_options(c) for c in COMMANDS if _exists(c)}
    for options in options_by_command.values():
        known |= {o[2:].replace("-", "_") for o in options} - set(BATCH_OWNED)
    unknown = sorted({k for row in rows for k in row if k is not None and k not in known})
    if unknown:
        raise CasesError(f"unknown column(s) {', '.join(unknown)} in {csv_path}; columns are listed in docs/cli.md")
    if not rows:
        raise CasesError(f"{csv_path} holds no cases")
    cases, seen = [], set()
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        case = _case_from_row(number, row, csv_path.parent, options_by_command)
        if case.error is None and case.case_id in seen:
            case = BatchCase(number, case.case_id, case.command, labels=case.labels,
                             error=f"case_id {case.case_id!r} appears twice; each case needs its own")
        seen.add(case.case_id)
        cases.append(case)
    return cases


def _exists(command: str) -> bool:
    return importlib.util.find_spec(f"PVPGuideLib.cli.{command}") is not None
