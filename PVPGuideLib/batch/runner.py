"""Running the cases in parallel worker processes; a failing case becomes an error row, never a stopped batch."""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from .cases import BatchCase
from .state import finished_marker, inputs_hash, mark_finished
from .summary import COLUMNS, result_rows, write_summary

SUMMARY_NAME = "summary.csv"


@dataclass(frozen=True)
class BatchResult:
    rows: list  # summary rows (every column of summary.COLUMNS, None when empty), in CSV order
    ran: int
    reused: int
    failed: int
    summary_csv: Path


def run_case_in_worker(command: str, arguments: tuple, case_dir: str) -> tuple[int, str, float]:
    """In a worker process: `pvpguide <command> ... --out case_dir --quiet`; (exit code, stderr, seconds)."""
    from ..cli import main

    started = time.monotonic()
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main([command, *arguments, f"--out={case_dir}", "--quiet"])
        except SystemExit as stop:  # argparse rejects a value from the CSV: bad input
            code = stop.code if isinstance(stop.code, int) else 2
    return code, errors.getvalue(), time.monotonic() - started


def error_message(code: int, stderr: str) -> str:
    """One clear line from the sub-command's stderr."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("pvpguide: error:"):
            return line[len("pvpguide: error:"):].strip()
        if ": error: " in line and line.startswith("pvpguide"):  # argparse: 'pvpguide plan: error: ...'
            return line.split(": error: ", 1)[1].strip()
    if code == 1:
        exception = next((line for line in reversed(lines) if not line.startswith("pvpguide:")), "")
        return f"internal error: {exception}" if exception else "internal error"
    return lines[-1] if lines else f"exit code {code}"


def _base_row(case: BatchCase, **fields) -> dict:
    return {"case_id": case.case_id, "command": case.command, "outputs": f"{case.case_id}/", **case.labels, **fields}


def _error_rows(case: BatchCase, message: str, *, reused: bool = False) -> list[dict]:
    return [_base_row(case, status="error", reused="yes" if reused else "no", error=message)]


def _ok_rows(case: BatchCase, case_dir: Path, reused: bool) -> list[dict]:
    return [{**_base_row(case), **row, "status": "ok", "reused": "yes" if reused else "no", "error": ""}
            for row in result_rows(case.command, case_dir, case.labels)]


def names_taken_in(out_dir: Path, cases, extra_inputs=()) -> dict:
    """{lower-case name: what it is} of the output folder's entries a case folder must not take over:
    summary.csv, any file there, and any input (a case's CT, the cases CSV) lying inside the folder."""
    import os

    taken = {SUMMARY_NAME.lower(): "the batch's summary.csv"}
    for entry in out_dir.iterdir():
        if not entry.is_dir() or entry.is_symlink():
            taken.setdefault(entry.name.lower(), f"the file {entry.name}")
    real_out = Path(os.path.realpath(out_dir))
    inputs = [p for case in cases for p in case.input_paths] + [str(p) for p in extra_inputs]
    for given in inputs:
        real = Path(os.path.realpath(given))
        if real_out in real.parents:
            top = real.relative_to(real_out).parts[0]
            taken[top.lower()] = f"the input {given}"
    return taken


def run_batch(cases: list[BatchCase], out_dir, *, jobs: int = 2, retry_failed: bool = False,
              progress=None, extra_inputs=()) -> BatchResult:
    """Run every case not yet finished, `jobs` at a time, then write OUT/summary.csv (one row per trajectory).

    A case finished before with the same inputs is reused (its rows read back, reused=yes); one that failed
    before keeps its stored error unless retry_failed.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows_by_case: dict[int, list] = {}
    pending, reused = [], 0
    taken = names_taken_in(out_dir, cases, extra_inputs)
    for index, case in enumerate(cases):
        if case.error:
            rows_by_case[index] = _error_rows(case, case.error)
            continue
        clash = taken.get(case.case_id.lower())
        if clash:
            rows_by_case[index] = _error_rows(case, f"case_id {case.case_id!r} names {clash} in the output folder "
                                                    f"{out_dir}; give the case another id")
            continue
        case_dir = out_dir / case.case_id
        digest = inputs_hash(case)
        marker = finished_marker(case, case_dir, digest)
        if marker is not None and marker.get("status") == "error" and not retry_failed:
            rows_by_case[index] = _error_rows(case, str(marker.get("error")), reused=True)
            reused += 1
            continue
        if marker is not None and marker.get("status") == "ok":
            try:
                rows_by_case[index] = _ok_rows(case, case_dir, reused=True)
                reused += 1
                continue
            except ValueError:
                pass  # outputs unreadable: run the case again
        pending.append((index, case, case_dir, digest))

    done = 0
    total = len(pending)
    if progress and total:
        progress(0.0, f"running {total} case(s), {jobs} at a time")
    if pending:
        context = multiprocessing.get_context("spawn")  # fresh interpreters: no inherited VTK/OpenGL state
        with ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=context) as pool:
            futures = {pool.submit(run_case_in_worker, case.command, case.arguments, str(case_dir)):
                       (index, case, case_dir, digest) for index, case, case_dir, digest in pending}
            for future in as_completed(futures):
                index, case, case_dir, digest = futures[future]
                try:
                    code, stderr, seconds = future.result()
                except BrokenProcessPool:
                    rows_by_case[index] = _error_rows(case, "the worker process stopped unexpectedly (crash or out of "
                                                            "memory); re-run the batch to retry this case")
                except Exception as error:  # one case never fails the batch
                    rows_by_case[index] = _error_rows(case, f"the case could not run ({type(error).__name__}: {error})")
                else:
                    rows_by_case[index] = _finish(case, case_dir, digest, code, stderr, seconds)
                done += 1
                if progress:
                    progress(done / total, f"{case.case_id}: {rows_by_case[index][0]['status']}")

    rows = [{key: row.get(key) for key in COLUMNS} for index in sorted(rows_by_case) for row in rows_by_case[index]]
    failed = sum(1 for index in rows_by_case if rows_by_case[index][0]["status"] == "error")
    summary = out_dir / SUMMARY_NAME
    write_summary(summary, rows)
    return BatchResult(rows, ran=total, reused=reused, failed=failed, summary_csv=summary)


def _finish(case: BatchCase, case_dir: Path, digest: str, code: int, stderr: str, seconds: float) -> list[dict]:
    if code != 0:
        message = error_message(code, stderr)
        _mark(case, case_dir, digest, seconds, error=message)
        return _error_rows(case, message)
    try:
        rows = _ok_rows(case, case_dir, reused=False)
    except ValueError as error:
        return _error_rows(case, str(error))
    problem = _mark(case, case_dir, digest, seconds)
    return rows if problem is None else _error_rows(case, problem)


def _mark(case: BatchCase, case_dir: Path, digest: str, seconds: float, error: str | None = None) -> str | None:
    """Write the case's marker; a folder that cannot take it becomes the case's error, not the batch's."""
    from ..cli.messages import os_error_message

    try:
        mark_finished(case, case_dir, digest, seconds, error=error)
    except OSError as failure:
        return f"cannot record the case's result: {os_error_message(failure)}"
    return None
