"""Binary STL in millimetres, LPS by default (the coordinate system named in the header), written atomically."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..core.mesh import TriangleMesh
from ..io.atomic_io import write_bytes_atomic
from .errors import GuideError
from .topology import merge_identical_vertices

COORDINATE_SYSTEMS = ("LPS", "RAS")
# RAS <-> LPS: negate R and A. A rotation (determinant +1), so faces keep their orientation.
_RAS_TO_LPS = np.array([-1.0, -1.0, 1.0])
_RECORD = np.dtype([("normal", "<f4", 3), ("vertices", "<f4", (3, 3)), ("attribute", "<u2")])


@dataclass(frozen=True, eq=False)
class StlMesh:
    """A mesh read from STL: vertices merged where bit-identical, converted to RAS."""

    mesh: TriangleMesh
    coordinate_system: str
    header: str


def stl_bytes(mesh: TriangleMesh, *, coordinate_system: str = "LPS", title: str = "PVPGuide guide plate") -> bytes:
    """Binary STL of a RAS mesh, coordinates in coordinate_system, which the 80-byte header names.

    The header carries `SPACE=LPS` (or RAS), the text 3D Slicer looks for to read the file in the right
    coordinate system, and `UNITS=mm`. It never starts with 'solid' (that marks ASCII STL).
    """
    if coordinate_system not in COORDINATE_SYSTEMS:
        raise GuideError("stl", f"coordinate_system must be 'LPS' or 'RAS', got {coordinate_system!r}")
    if mesh.is_empty:
        raise GuideError("stl", "the mesh is empty: nothing to write")
    header = f"{title} SPACE={coordinate_system} UNITS=mm".encode("ascii", "replace")[:80].ljust(80, b" ")
    if header.lower().startswith(b"solid"):
        header = (b"PVPGuide " + header)[:80]
    v = mesh.vertices * (_RAS_TO_LPS if coordinate_system == "LPS" else 1.0)
    tri = v.astype(np.float32)[mesh.faces]
    normal = np.cross((tri[:, 1] - tri[:, 0]).astype(np.float64), (tri[:, 2] - tri[:, 0]).astype(np.float64))
    length = np.linalg.norm(normal, axis=1, keepdims=True)
    normal = np.divide(normal, length, out=np.zeros_like(normal), where=length > 0)
    records = np.zeros(len(tri), dtype=_RECORD)
    records["normal"] = normal
    records["vertices"] = tri
    return header + np.uint32(len(tri)).tobytes() + records.tobytes()


def write_stl(path, mesh: TriangleMesh, *, coordinate_system: str = "LPS", title: str = "PVPGuide guide plate") -> None:
    """Write atomically: readers never see half a file, and a failure leaves any old file intact."""
    write_bytes_atomic(path, stl_bytes(mesh, coordinate_system=coordinate_system, title=title))


def read_stl(path, *, coordinate_system: str | None = None) -> StlMesh:
    """Read a binary STL the way a printer's slicer does: bit-identical vertices are merged.

    The coordinate system comes from the header's SPACE= entry unless given; files without one are
    taken as LPS (3D Slicer's default). The returned mesh is in RAS.
    """
    with open(path, "rb") as handle:
        data = handle.read()
    if len(data) < 84:
        raise GuideError("stl", f"{path} is too short to be a binary STL")
    header = data[:80].decode("ascii", "replace")
    count = int(np.frombuffer(data, "<u4", 1, 80)[0])
    if len(data) < 84 + count * _RECORD.itemsize:
        raise GuideError("stl", f"{path} is truncated: the header promises {count} triangles")
    records = np.frombuffer(data, _RECORD, count, 84)
    if coordinate_system is None:
        found = re.search(r"SPACE=(RAS|LPS)", header)
        coordinate_system = found.group(1) if found else "LPS"
    # The sign flip LPS -> RAS is exact in float32, so merging after it merges exactly the same vertices.
    corners = records["vertices"].reshape(-1, 3) * np.float32(1.0)
    if coordinate_system == "LPS":
        corners = corners * _RAS_TO_LPS.astype(np.float32)
    vertices, faces = merge_identical_vertices(corners, np.arange(len(corners)).reshape(-1, 3))
    return StlMesh(TriangleMesh(vertices.astype(np.float64), faces), coordinate_system, header.rstrip())
