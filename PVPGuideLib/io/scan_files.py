"""Safe, bounded reading of volume files before SimpleITK sees them.

SimpleITK reads a truncated .nii.gz as zeros, blocks forever on a FIFO and follows a detached header
anywhere on the disk; these checks run first: regular files only, data files inside the header's
folder, the compressed payload complete (gzip CRC) and no larger than the limits.
"""

from __future__ import annotations

import bz2
import gzip
import os
import re
import stat
import struct
import zlib
from pathlib import Path

from ..errors import PVPGuideError

CHUNK = 1 << 20
MAX_HEADER_BYTES = 1 << 20  # an NRRD or MetaImage text header is a few hundred bytes


class CTReadError(PVPGuideError):
    """The file or folder cannot be read as a CT (or label map)."""


class ScanFileError(CTReadError):
    """A scan file is unsafe or incomplete: not a regular file, outside its folder, truncated or too large."""


def resolved(path, what: str = "file") -> Path:
    """The path with symlinks followed; refuses symlink loops and missing paths with a clear message."""
    path = Path(path)
    try:
        real = path.resolve(strict=True)
    except RuntimeError:  # Python < 3.13 reports a symlink loop this way
        raise ScanFileError(f"{path}: the {what} is a symbolic link loop; point it at the real file") from None
    except FileNotFoundError:
        raise ScanFileError(f"{path}: no such {what} (or a symbolic link to nothing); check the path") from None
    except OSError as error:
        if error.errno == 40:  # ELOOP
            raise ScanFileError(f"{path}: the {what} is a symbolic link loop; point it at the real file") from None
        raise ScanFileError(f"{path}: the {what} cannot be opened ({error.strerror or error}); check the path "
                            "and its permissions") from None
    return real


def require_regular_file(path, what: str = "file") -> Path:
    """A regular file (never a FIFO, device or socket, which would block or never end); its resolved path."""
    real = resolved(path, what)
    mode = os.stat(real).st_mode
    if stat.S_ISDIR(mode):
        raise ScanFileError(f"{path}: the {what} is a folder; give a file")
    if not stat.S_ISREG(mode):
        raise ScanFileError(f"{path}: the {what} is not a regular file (a pipe, device or socket); PVPGuide reads "
                            "only ordinary files: copy the data into a file first")
    return real


def require_inside(folder: Path, name: str, header: Path) -> Path:
    """A data file named by a detached header: relative, inside the header's folder, a regular file."""
    if not name or os.path.isabs(name) or name.startswith("~"):
        raise ScanFileError(f"{header}: its data file {name!r} is not a relative path in the header's folder; "
                            "a detached header may only name a file beside it (or below it)")
    real_folder = folder.resolve()
    target = require_regular_file(folder / name, "data file")
    if real_folder != target.parent and real_folder not in target.parents:
        raise ScanFileError(f"{header}: its data file {name!r} lies outside the header's folder {folder}; "
                            "keep the header and its data together")
    return target


def _count_stream(chunks, decompress, limit: int, path: Path, what: str) -> int:
    """Decompressed byte count of a stream, stopping past `limit`; truncation or a bad CRC raises."""
    total = 0
    try:
        for chunk in chunks:
            total += len(decompress(chunk))
            if total > limit:
                break
    except (OSError, EOFError, zlib.error, ValueError) as error:
        raise ScanFileError(f"{path}: the {what} data are corrupt ({error}); the file is damaged: copy it again "
                            "from the source") from None
    return total


def _chunks(stream):
    while True:
        block = stream.read(CHUNK)
        if not block:
            return
        yield block


def _gzip_size(stream, limit: int, path: Path) -> int:
    """Bytes of a (possibly multi-member) gzip stream; truncation and CRC errors raise ScanFileError."""
    reader = gzip.GzipFile(fileobj=stream, mode="rb")
    return _count_stream(_chunks(reader), lambda chunk: chunk, limit, path, "compressed")


def _zlib_size(stream, limit: int, path: Path) -> int:
    d = zlib.decompressobj()
    total = _count_stream(_chunks(stream), d.decompress, limit, path, "compressed")
    if total <= limit and not d.eof:
        raise ScanFileError(f"{path}: the compressed data end early (the file is truncated); copy it again")
    return total


def _bz2_size(stream, limit: int, path: Path) -> int:
    d = bz2.BZ2Decompressor()
    total = _count_stream(_chunks(stream), d.decompress, limit, path, "compressed")
    if total <= limit and not d.eof:
        raise ScanFileError(f"{path}: the compressed data end early (the file is truncated); copy it again")
    return total


def _text_header(stream, path: Path, end) -> tuple[list, int]:
    """Header lines read until `end(line)` is true (inclusive); (lines, byte offset after them)."""
    lines, offset = [], 0
    while offset < MAX_HEADER_BYTES:
        raw = stream.readline(MAX_HEADER_BYTES)
        if not raw:
            break
        offset += len(raw)
        line = raw.decode("latin-1").rstrip("\r\n")
        lines.append(line)
        if end(line):
            return lines, offset
    raise ScanFileError(f"{path}: cannot be read as an image (its text header has no end); give NRRD, NIfTI, "
                        "MHA or a DICOM folder")


def _nrrd_fields(lines) -> dict:
    fields = {}
    for line in lines[1:]:
        if line.startswith("#") or ":" not in line:
            continue
        key, _, value = line.partition(":")
        fields[key.strip().lower()] = value.lstrip("=").strip()
    return fields


def check_detached_data_file(path: Path) -> Path | None:
    """The data file a detached NRRD/MetaImage header names, checked (relative, inside, regular); None if attached."""
    name = path.name.lower()
    if not name.endswith((".nrrd", ".nhdr", ".mha", ".mhd")):
        return None
    with open(path, "rb") as stream:
        if name.endswith((".nrrd", ".nhdr")):
            fields = _nrrd_fields(_text_header(stream, path, lambda line: line.strip() == "")[0])
            data_file = fields.get("data file") or fields.get("datafile")
        else:
            lines = _text_header(stream, path, lambda line: line.replace(" ", "").lower().startswith("elementdatafile="))[0]
            data_file = lines[-1].partition("=")[2].strip()
            data_file = None if data_file.upper() == "LOCAL" else data_file
    if not data_file:
        return None
    if data_file.upper().startswith("LIST") or "%" in data_file or " " in data_file.strip():
        raise ScanFileError(f"{path}: a detached header naming several data files is not supported; "
                            "save the volume as a single file")
    return require_inside(path.parent, data_file, path)


def payload_check(path: Path, expected_bytes: int, limit: int, max_expansion: float | None) -> None:
    """Refuse a volume file whose voxel data are incomplete, corrupt or larger than `limit` bytes.

    expected_bytes : size of the voxel data announced by the header (SimpleITK's image information).
    max_expansion : the largest accepted ratio of voxel bytes to compressed bytes (None: no ratio check).
    """
    if expected_bytes > limit:
        raise ScanFileError(f"{path}: the image holds {expected_bytes / 2**20:.0f} MiB of voxels, more than the "
                            f"limit of {limit / 2**20:.0f} MiB; raise it with --max-volume-mb if the file is genuine")
    name = path.name.lower()
    size = path.stat().st_size
    with open(path, "rb") as stream:
        if name.endswith((".nii.gz", ".nii")):
            compressed, data = _nifti(stream, path, name.endswith(".gz"), expected_bytes, limit)
        elif name.endswith((".nrrd", ".nhdr")):
            compressed, data = _nrrd(stream, path, expected_bytes, limit)
        elif name.endswith((".mha", ".mhd")):
            compressed, data = _metaimage(stream, path, expected_bytes, limit)
        else:
            return
    if data > limit:
        raise ScanFileError(f"{path}: the data expand to more than {limit / 2**20:.0f} MiB; raise the limit with "
                            "--max-volume-mb if the file is genuine")
    if data < expected_bytes:
        raise ScanFileError(f"{path}: the file is truncated: its header announces {expected_bytes} bytes of voxels but "
                            f"only {max(data, 0)} are there; copy it again from the source")
    if compressed and max_expansion is not None and expected_bytes > max_expansion * max(size, 1):
        raise ScanFileError(f"{path}: {size} compressed bytes expand to {expected_bytes} bytes of voxels "
                            f"({expected_bytes / max(size, 1):.0f} times, more than {max_expansion:g}); a CT does not "
                            "compress that much. Raise --max-expansion if the file is genuine")


def _nifti(stream, path: Path, gz: bool, expected: int, limit: int) -> tuple[bool, int]:
    first = stream.read(CHUNK)
    header = zlib.decompressobj(31).decompress(first, 600) if gz else first[:600]
    if len(header) < 348:
        raise ScanFileError(f"{path}: the NIfTI header is incomplete; the file is truncated or not NIfTI")
    offset = 352
    for endian in "<>":
        size = struct.unpack(endian + "i", header[:4])[0]
        if size == 348:
            offset = int(struct.unpack(endian + "f", header[108:112])[0])
        elif size == 540 and len(header) >= 176:
            offset = int(struct.unpack(endian + "q", header[168:176])[0])
    if gz:
        stream.seek(0)
        return True, _gzip_size(stream, limit + offset, path) - offset
    return False, path.stat().st_size - offset


def _nrrd(stream, path: Path, expected: int, limit: int) -> tuple[bool, int]:
    lines, offset = _text_header(stream, path, lambda line: line.strip() == "")
    fields = _nrrd_fields(lines)
    encoding = fields.get("encoding", "raw").lower()
    data_file = fields.get("data file") or fields.get("datafile")
    if data_file:
        if data_file.upper().startswith("LIST") or re.search(r"%\d*d", data_file) or " " in data_file.strip():
            raise ScanFileError(f"{path}: a detached header naming several data files is not supported; "
                                "save the volume as a single .nrrd")
        target = require_inside(path.parent, data_file, path)
        with open(target, "rb") as data_stream:
            return _encoded_size(data_stream, target, encoding, 0, limit)
    return _encoded_size(stream, path, encoding, offset, limit)


def _encoded_size(stream, path: Path, encoding: str, offset: int, limit: int) -> tuple[bool, int]:
    if encoding in ("gzip", "gz"):
        return True, _gzip_size(stream, limit, path)
    if encoding in ("bzip2", "bz2"):
        return True, _bz2_size(stream, limit, path)
    if encoding == "raw":
        return False, path.stat().st_size - offset
    return False, 1 << 62  # text encodings: SimpleITK itself refuses a short file


def _metaimage(stream, path: Path, expected: int, limit: int) -> tuple[bool, int]:
    lines, offset = _text_header(stream, path, lambda line: line.replace(" ", "").lower().startswith("elementdatafile="))
    fields = {}
    for line in lines:
        key, _, value = line.partition("=")
        fields[key.strip().lower()] = value.strip()
    compressed = fields.get("compresseddata", "false").lower() == "true"
    data_file = fields.get("elementdatafile", "LOCAL")
    if data_file.upper() != "LOCAL":
        if data_file.upper().startswith("LIST") or "%" in data_file or " " in data_file:
            raise ScanFileError(f"{path}: a MetaImage header naming several data files is not supported")
        target = require_inside(path.parent, data_file, path)
        with open(target, "rb") as data_stream:
            return (True, _zlib_size(data_stream, limit, target)) if compressed else (False, target.stat().st_size)
    if compressed:
        return True, _zlib_size(stream, limit, path)
    return False, path.stat().st_size - offset
