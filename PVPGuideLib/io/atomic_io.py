"""Atomic file output: write beside the target, then rename, so no reader sees half a file."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target, *, suffix: str | None = None):
    """Yield a temporary path in the target's folder; on success it replaces the target.

    Tools that insist on a file name (SimpleITK, VTK writers, zip) write to the yielded path.
    On any error the temporary file is removed and the target is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    suffix = suffix if suffix is not None else "".join(target.suffixes)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{suffix}", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; the result gets normal permissions
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_bytes_atomic(target, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(target, text: str) -> None:
    write_bytes_atomic(target, text.encode("utf-8"))


def write_json_atomic(target, obj) -> None:
    """Deterministic JSON: sorted keys, fixed indentation, full float precision, trailing newline."""
    write_text_atomic(target, json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n")
