"""OS errors reworded for people: the user's file or folder and what to do, never a temp name or a bare errno."""

from __future__ import annotations

import errno
import re
from pathlib import Path

# What to do, by errno; the default names the path and the system's reason in words.
_ADVICE = {
    errno.ENOSPC: "the disk is full: free some space or choose another --out folder",
    errno.EDQUOT: "the disk quota is exhausted: free some space or choose another --out folder",
    errno.EACCES: "permission denied: choose a folder you may write to (or fix the permissions)",
    errno.EPERM: "the operation is not permitted there: choose another folder",
    errno.EROFS: "the file system is read-only: choose another --out folder",
    errno.ENOENT: "it does not exist: check the path",
    errno.ENOTDIR: "a part of the path is a file, not a folder: check the path",
    errno.EISDIR: "it is a folder where a file was expected: check the path",
    errno.ELOOP: "it is a symbolic link loop: point the link at the real file",
    errno.ENAMETOOLONG: "the path is too long: choose a shorter folder name",
    errno.EMFILE: "too many files are open: close other programs and try again",
}
# Names this program gives its temporary folders (output_set.py: .pvpguide-<out name>.<pid>.<random>.tmp)
# and files (atomic_io.py: .<stem>.<random>.tmp<suffix>).
_STAGE = re.compile(r"^\.pvpguide-(?P<name>.+)\.\d+\.[^.]+\.(tmp|old)$")
_TEMP_FILE = re.compile(r"^\..*\.tmp")


def user_path(path) -> str:
    """The path as the user knows it: a staging folder becomes the output folder; a temporary file its folder."""
    if path is None:
        return ""
    shown = []
    for part in Path(str(path)).parts:
        stage = _STAGE.match(part)
        if stage:
            shown.append(stage.group("name"))
        elif _TEMP_FILE.match(part):
            break
        else:
            shown.append(part)
    return str(Path(*shown)) if shown else "."


def os_error_message(error: OSError) -> str:
    """'<path>: <what happened and what to do>' for an OSError about the user's files."""
    where = user_path(error.filename) or "a file"
    if error.filename2:
        where += f" -> {user_path(error.filename2)}"
    advice = _ADVICE.get(error.errno)
    if advice is None:
        reason = (error.strerror or str(error) or "unknown reason").rstrip(".").lower()
        advice = f"{reason}: check the path, its permissions and the free disk space"
    return f"{where}: {advice}"
