"""A run's outputs as one transaction: staged in a hidden folder beside --out, swapped in only when complete.

The output folder holds either the previous complete set or the new complete set, never a mix: every
file is written into `.pvpguide-<name>.<pid>.<random>.tmp/` beside it; on success that folder is
exchanged with the output folder in one atomic rename (Linux renameat2 RENAME_EXCHANGE; elsewhere two
renames, with the previous set restored on the next run if a crash falls between them), and the
previous set, now in the hidden folder, is deleted with every file the new run did not write. A failed
or interrupted run deletes its hidden folder; one killed outright leaves it, and the next run into the
same folder removes it. The set's manifest (plan.json for plan/demo, score.json for score) names every
other file of the set with its SHA-256 in its `files` section.
"""

from __future__ import annotations

import ctypes
import fnmatch
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import PVPGuideError

STAGE_PREFIX = ".pvpguide-"
MANIFEST = "plan.json"
# The file that names a set's other files (`files`: name -> SHA-256), by the command that writes the set.
MANIFESTS = {"plan.json": "pvpguide.plan/", "score.json": "pvpguide.score/", "verify.json": "pvpguide.verify/",
             "outcome.json": "pvpguide.outcome/"}
# Files PVPGuide writes beside a set after its run (report redraws, batch's case marker).
LATER_FILES = {"plan.json": ("report.html", "report.pdf", "batch-case.json"), "score.json": ("batch-case.json",),
               "verify.json": (), "outcome.json": ()}
# Folders written before the manifest listed its files: what those versions wrote.
LEGACY_PATTERNS = {
    "plan.json": ("plan.json", "plan.mrb", "report.html", "report.pdf", "guide_*.stl", "*.png", "batch-case.json",
                  "sample/ct.nrrd", "sample/labels.nrrd", "sample/parts.nrrd", "sample/truth.json"),
    "score.json": ("score.json", "projection_*.png", "conventional_projection_*.png", "batch-case.json"),
    "verify.json": ("verify.json",),
    "outcome.json": ("outcome.json", "outcome.html"),
}
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class OutputFolderError(PVPGuideError):
    """The output folder cannot take this run's files without losing something the user did not ask to replace."""


def sha256_file(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def set_files(folder: Path) -> list:
    """Relative POSIX names of the regular files under folder (hidden staging folders left out), sorted."""
    names = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if relative.parts[0].startswith(STAGE_PREFIX):
            continue
        if path.is_file() or path.is_symlink():
            names.append(relative.as_posix())
    return names


def manifest(folder: Path, exclude=(MANIFEST,)) -> dict:
    """{relative name: SHA-256} of every file of the set except the manifest (plan.json, score.json) itself."""
    return {name: sha256_file(folder / name) for name in set_files(folder) if name not in exclude}


def _recorded_files(folder: Path, kinds=tuple(MANIFESTS)):
    """Names PVPGuide wrote in folder, from its plan.json or score.json (None: no PVPGuide manifest there).

    A manifest's own name, its `files` and the files written beside it later are PVPGuide's; a manifest
    without `files` (an older version) also claims what that version wrote (LEGACY_PATTERNS).
    """
    recorded, patterns = None, []
    for name in kinds:
        schema = MANIFESTS[name]
        try:
            data = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            continue
        if not isinstance(data, dict) or not str(data.get("schema", "")).startswith(schema):
            continue
        recorded = (recorded or set()) | {name} | set(LATER_FILES[name])
        files = data.get("files")
        if isinstance(files, dict):
            recorded |= set(files)
        else:
            patterns.extend(LEGACY_PATTERNS[name])
    return recorded, patterns


def foreign_files(folder: Path, manifest_name: str = MANIFEST) -> list:
    """Files in an existing output folder that this kind of run did not write (so it must not replace them).

    manifest_name: the run's manifest (plan.json for plan/demo, score.json for score); a set of the other
    kind (a plan folder given to score) is not this run's to replace.
    """
    if not folder.exists():
        return []
    names = set_files(folder)
    recorded, patterns = _recorded_files(folder, (manifest_name,))
    if recorded is None:  # no PVPGuide manifest here: only a batch case marker may be ours
        return [name for name in names if name != "batch-case.json"]
    return [name for name in names if name not in recorded
            and not any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stage_name(out: Path) -> str:
    return f"{STAGE_PREFIX}{out.name}."


def remove_stale_stages(out: Path) -> None:
    """Hidden folders of runs into `out` that were killed (their process is gone); restore a set lost mid-swap."""
    parent = out.parent
    if not parent.is_dir():
        return
    for candidate in sorted(parent.glob(_stage_name(out) + "*")):
        parts = candidate.name[len(_stage_name(out)):].split(".")
        if not parts or not parts[0].isdigit() or _pid_alive(int(parts[0])):
            continue
        if parts[-1] == "old" and not out.exists():
            os.rename(candidate, out)  # the fallback swap was cut between its two renames
            continue
        shutil.rmtree(candidate, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux); False when the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(str(a)), _AT_FDCWD, os.fsencode(str(b)), _RENAME_EXCHANGE)
    if result == 0:
        return True
    error = ctypes.get_errno()
    if error in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: file system or kernel without exchange
        return False
    raise OSError(error, os.strerror(error), str(b))


class OutputTransaction:
    """Stage a run's files, then put them in place as one set (see the module docstring).

    with OutputTransaction(out) as stage:  # stage: the folder to write every output into
        ...                                  # leaving the block normally commits; an exception discards
    """

    def __init__(self, out):
        self.requested = Path(out)
        self.out = Path(os.path.realpath(self.requested))  # a symlinked --out: its target is replaced
        self.stage: Path | None = None

    def __enter__(self) -> Path:
        remove_stale_stages(self.out)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.stage = Path(tempfile.mkdtemp(prefix=f"{_stage_name(self.out)}{os.getpid()}.", suffix=".tmp",
                                           dir=self.out.parent))
        return self.stage

    def __exit__(self, kind, value, tb) -> bool:
        try:
            if kind is None:
                self._commit()
        finally:
            if self.stage is not None and self.stage.exists():
                shutil.rmtree(self.stage, ignore_errors=True)
        return False

    def _commit(self) -> None:
        stage = self.stage
        os.chmod(stage, 0o777 & ~_umask())  # mkdtemp makes it private; the output folder gets normal permissions
        if not self.out.exists():
            os.rename(stage, self.out)
            return
        if _exchange(stage, self.out):
            return  # stage now holds the previous set; __exit__ deletes it
        old = self.out.parent / f"{_stage_name(self.out)}{os.getpid()}.{os.urandom(4).hex()}.old"
        os.rename(self.out, old)
        os.rename(stage, self.out)
        shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def check_output_folder(out, inputs=(), manifest_name: str = MANIFEST) -> Path:
    """Refuse an output folder whose replacement would lose something: a file, inputs inside it, foreign files."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputFolderError(f"--out {out} is a file, not a folder; give a folder for the outputs")
    real_out = Path(os.path.realpath(out))
    for given in inputs:
        if given is None:
            continue
        real = Path(os.path.realpath(given))
        if real == real_out or real_out in real.parents:
            raise OutputFolderError(f"the input {given} lies inside --out {out}, whose contents this run replaces; "
                                    "choose another --out (or move the input out of it)")
    foreign = foreign_files(out, manifest_name)
    if foreign:
        shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
        raise OutputFolderError(f"--out {out} holds {len(foreign)} file(s) PVPGuide did not write ({shown}); a run "
                                "replaces the folder's contents: choose a new or empty folder, or move those files")
    return out
