"""Slicer scene bundles (.mrb): atomic, deterministic writing and validated reading."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from ..io.atomic_io import atomic_path
from ._vtk import captured_vtk_output, slicer_module
from .errors import SceneBundleError
from .scene import SceneHandle, new_scene, scene_of

# Fixed zip metadata so the same scene gives the same bytes (zip's epoch; rw-r--r-- / rwxr-xr-x)
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644 << 16
_DIR_MODE = (0o040755 << 16) | 0x10


def _error_texts(messages, vtk_messages) -> list[str]:
    """Error texts of a vtkMRMLMessageCollection, else the captured VTK errors (less readable)."""
    from vtkmodules.vtkCommonCore import vtkCommand

    texts = [
        messages.GetNthMessageText(n)
        for n in range(messages.GetNumberOfMessages())
        if messages.GetNthMessageType(n) == vtkCommand.ErrorEvent
    ]
    return texts or [m for m in vtk_messages if m.startswith("ERROR")]


def _summary(texts: list[str], work_folder: str, limit: int = 2) -> str:
    """The first errors, without C++ source locations and with temporary paths made relative."""
    cleaned = []
    for text in texts[:limit]:
        text = re.sub(r"\s*\[[^\[\]]*\.(cxx|h|txx), line \d+[^\[\]]*\]\s*$", "", text)
        cleaned.append(text.replace(work_folder + os.sep, "").replace(work_folder, "").strip())
    more = f" (and {len(texts) - limit} more errors)" if len(texts) > limit else ""
    return "; ".join(cleaned) + more


def _zip_directory(folder: Path, stream) -> None:
    """Zip `folder` as `<folder name>/...` (Slicer's layout), entries sorted, metadata fixed."""
    root = folder.parent
    paths = sorted(folder.rglob("*"), key=lambda p: p.relative_to(root).as_posix())
    with zipfile.ZipFile(stream, "w") as archive:
        for path in [folder, *paths]:
            name = path.relative_to(root).as_posix()
            if path.is_dir():
                info = zipfile.ZipInfo(name + "/", _ZIP_DATE)
                info.external_attr = _DIR_MODE
                archive.writestr(info, b"")
            else:
                info = zipfile.ZipInfo(name, _ZIP_DATE)
                info.external_attr = _FILE_MODE
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3
                info.file_size = path.stat().st_size  # lets zipfile pick zip64 for CTs over 2 GiB
                # streamed, so a large CT is never held in memory twice
                with path.open("rb") as source, archive.open(info, "w") as target:
                    shutil.copyfileobj(source, target, 1 << 20)


def _existing_ancestor(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def save_scene_bundle(scene_or_handle: SceneHandle | object, mrb_path) -> Path:
    """Write the scene to `mrb_path` (.mrb) and return its absolute path.

    The bundle folder is assembled in a temporary folder, zipped to a temporary file beside the
    target and renamed over it (PVPGuideLib.io.atomic_io), so a failure never leaves a half-written
    .mrb and no other file in the folder is touched; missing parent folders are created.
    `scene_or_handle` is a SceneHandle or, inside Slicer, `slicer.mrmlScene`.
    Raises SceneBundleError naming the file and the problem.
    """
    scene = scene_of(scene_or_handle)
    path = Path(mrb_path).expanduser().absolute()
    if path.suffix.lower() != ".mrb":
        raise SceneBundleError(f"cannot save '{path}': a Slicer scene bundle file name must end in .mrb")
    if path.is_dir():
        raise SceneBundleError(f"cannot save '{path}': a folder of that name exists")
    existing = _existing_ancestor(path.parent)
    # checked before the (slow) scene write so the user learns it at once
    if not existing.is_dir():
        raise SceneBundleError(f"cannot save '{path}': '{existing}' is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise SceneBundleError(f"cannot save '{path}': the folder '{existing}' is not writable; choose another folder")

    with tempfile.TemporaryDirectory(prefix="pvpguide-mrb-") as work:
        bundle_dir = Path(work) / path.stem  # the folder name becomes the scene (.mrml) name
        bundle_dir.mkdir()
        messages = slicer_module().vtkMRMLMessageCollection()
        with captured_vtk_output() as vtk_messages:
            saved = scene.SaveSceneToSlicerDataBundleDirectory(str(bundle_dir), None, messages)
        errors = _error_texts(messages, vtk_messages)
        if not saved or errors:
            reason = _summary(errors, work) or "Slicer could not write the scene"
            raise SceneBundleError(f"cannot save '{path}': {reason}")
        try:
            with atomic_path(path) as partial, open(partial, "wb") as stream:
                _zip_directory(bundle_dir, stream)
        except OSError as exc:  # the bundle is read from our own temporary folder: the target is at fault
            raise SceneBundleError(
                f"cannot save '{path}': writing in '{path.parent}' failed ({exc.strerror or exc}); choose another folder"
            ) from exc
    return path


def _check_unpacked_size(path: Path, archive: zipfile.ZipFile) -> None:
    """Refuse a bundle that would unpack to more than the reading limits allow (read_limits.py)."""
    from ..io.read_limits import current_limits

    limits = current_limits()
    declared = sum(max(0, info.file_size) for info in archive.infolist())
    if declared > limits.max_bytes:
        raise SceneBundleError(f"cannot open '{path}': it unpacks to {declared / 2**20:.0f} MiB, more than the limit of "
                               f"{limits.max_volume_mb:g} MiB; raise it with --max-volume-mb if the bundle is genuine")
    size = max(1, path.stat().st_size)
    if declared > limits.max_expansion * size and declared > (1 << 20):
        raise SceneBundleError(f"cannot open '{path}': {size} bytes unpack to {declared} bytes ({declared / size:.0f} "
                               f"times, more than {limits.max_expansion:g}); a scene bundle does not compress that much. "
                               "Raise --max-expansion if the bundle is genuine")


_STORAGE_ATTRIBUTE = re.compile(r"""\b(fileName|fileListMember\d*)\s*=\s*["']([^"']*)["']""")


def _check_storage_paths(path: Path, scene_file: Path, unpack_root: Path) -> None:
    """Every file a storage node names must lie inside the bundle (no absolute path, no '..' out of it)."""
    from urllib.parse import unquote

    text = scene_file.read_text(encoding="utf-8", errors="replace")
    root = unpack_root.resolve()
    for _, raw in _STORAGE_ATTRIBUTE.findall(text):
        name = unquote(raw.replace("&amp;", "&"))
        if not name:
            continue
        target = Path(name) if os.path.isabs(name) else scene_file.parent / name
        resolved = Path(os.path.realpath(target))
        if os.path.isabs(name) or (resolved != root and root not in resolved.parents):
            raise SceneBundleError(f"cannot open '{path}': a storage node names '{name}', outside the bundle; "
                                   "a scene bundle may only read its own files")


def _main_scene_member(path: Path, archive: zipfile.ZipFile) -> str:
    """Check every member (size, readable, CRC, safe name) and return the .mrml closest to the root."""
    _check_unpacked_size(path, archive)
    try:
        damaged = archive.testzip()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise SceneBundleError(f"cannot open '{path}': the bundle is damaged ({exc})") from exc
    if damaged is not None:
        raise SceneBundleError(f"cannot open '{path}': the bundle is damaged (member '{damaged}' fails its checksum)")
    names = archive.namelist()
    for name in names:
        member = PurePosixPath(name)
        if member.is_absolute() or ".." in member.parts or ":" in name or "\\" in name:
            raise SceneBundleError(f"cannot open '{path}': unsafe path '{name}' in the bundle")
    scenes = [n for n in names if n.lower().endswith(".mrml")]
    if not scenes:
        raise SceneBundleError(f"cannot open '{path}': it contains no .mrml scene file, so it is not a Slicer scene bundle")
    # like Slicer: the scene nearest the root is the main one (deeper ones belong to sequences)
    return min(scenes, key=lambda n: (len(PurePosixPath(n).parts), n))


def _relocate_storage_file_names(scene, unpack_root: Path, mrb_path: Path) -> None:
    """Point the scene at the .mrb's folder, as Slicer does, since the unpacked files are deleted."""
    scene_root = Path(scene.GetRootDirectory())
    for n in range(scene.GetNumberOfNodesByClass("vtkMRMLStorageNode")):
        storage = scene.GetNthNodeByClass(n, "vtkMRMLStorageNode")
        names = [storage.GetFileName()] + [storage.GetNthFileName(i) for i in range(storage.GetNumberOfFileNames())]
        relative = [
            os.path.relpath(name, scene_root) if name and Path(name).is_relative_to(unpack_root) else name for name in names
        ]
        storage.ResetFileNameList()
        storage.SetFileName(relative[0])
        for name in relative[1:]:
            storage.AddFileName(name)
    scene.SetURL(str(mrb_path.with_suffix(".mrml")))
    scene.SetRootDirectory(str(mrb_path.parent))
    # the data now live only in memory: saving the scene must write every node again
    scene.SetStorableNodesModifiedSinceRead()


def load_scene_bundle(mrb_path) -> SceneHandle:
    """Read a .mrb into a new scene (see new_scene) and return its handle.

    Raises SceneBundleError naming the file when it is missing, not a zip archive, damaged,
    holds no scene, or Slicer reports an error while reading a node.
    """
    path = Path(mrb_path).expanduser().absolute()
    if not path.exists():
        raise SceneBundleError(f"cannot open '{path}': no such file")
    if path.is_dir():
        raise SceneBundleError(f"cannot open '{path}': it is a folder, not a .mrb file")
    if not path.is_file():
        raise SceneBundleError(f"cannot open '{path}': it is not a regular file (a pipe or device); give a .mrb file")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise SceneBundleError(
            f"cannot open '{path}': it is not a valid zip archive (another kind of file, or truncated), "
            "so it is not a Slicer scene bundle"
        ) from exc
    except OSError as exc:
        raise SceneBundleError(f"cannot open '{path}': {exc.strerror or exc}") from exc

    with archive, tempfile.TemporaryDirectory(prefix="pvpguide-mrb-") as work:
        main_scene = _main_scene_member(path, archive)
        try:
            archive.extractall(work)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise SceneBundleError(f"cannot open '{path}': the bundle cannot be unpacked ({exc})") from exc
        unpack_root = Path(work)
        scene_file = unpack_root / main_scene
        _check_storage_paths(path, scene_file, unpack_root)
        handle = new_scene()
        scene = handle.scene
        scene.SetURL(str(scene_file))
        scene.SetRootDirectory(str(scene_file.parent))
        messages = slicer_module().vtkMRMLMessageCollection()
        with captured_vtk_output() as vtk_messages:
            imported = scene.Import(messages)
        errors = _error_texts(messages, vtk_messages)
        if not imported or errors:
            reason = _summary(errors, work) or "Slicer could not read the scene"
            raise SceneBundleError(f"cannot open '{path}': {reason}")
        _relocate_storage_file_names(scene, unpack_root, path)
    return handle
