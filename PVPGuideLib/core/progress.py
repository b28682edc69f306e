"""Progress reporting for long steps: a callback the library calls, rendered by the CLI or the Slicer module."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Protocol


class ProgressCallback(Protocol):
    def __call__(self, fraction: float, message: str) -> None: ...


def no_progress(fraction: float, message: str) -> None:
    """The default: report nothing."""


class Steps:
    """Splits a job into named steps and reports each start as a fraction of the whole."""

    def __init__(self, names: list[str], progress: ProgressCallback | None = None):
        self.names = list(names)
        self.progress = progress or no_progress
        self.index = 0

    def start(self, name: str) -> None:
        if name not in self.names:
            raise KeyError(f"unknown step {name!r}")
        self.index = self.names.index(name)
        self.progress(self.index / len(self.names), name)

    def done(self) -> None:
        self.progress(1.0, "done")


def terminal_progress_bar(stream=None, *, width: int = 30) -> Callable[[float, str], None]:
    """A text progress bar on stderr: redrawn in place on a terminal, one line per step otherwise."""
    stream = stream or sys.stderr
    started = time.monotonic()
    interactive = hasattr(stream, "isatty") and stream.isatty()

    def report(fraction: float, message: str) -> None:
        filled = int(round(width * max(0.0, min(1.0, fraction))))
        line = f"[{'#' * filled}{'.' * (width - filled)}] {100 * fraction:3.0f}% {message} ({time.monotonic() - started:.1f} s)"
        if interactive:
            stream.write("\r\033[K" + line + ("\n" if fraction >= 1.0 else ""))
        else:
            stream.write(line + "\n")
        stream.flush()

    return report
