"""Triangle surface mesh in RAS millimetres, the library's one mesh type."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import PVPGuideError


class MeshError(PVPGuideError):
    """A mesh is empty, degenerate or otherwise unusable."""


@dataclass(frozen=True, eq=False)
class TriangleMesh:
    """vertices : (n, 3) float RAS mm; faces : (m, 3) int vertex indices, counter-clockwise seen from outside."""

    vertices: np.ndarray
    faces: np.ndarray

    def __post_init__(self):
        v = np.ascontiguousarray(self.vertices, dtype=np.float64).reshape(-1, 3)
        f = np.ascontiguousarray(self.faces, dtype=np.int64).reshape(-1, 3)
        if len(f) and (f.min() < 0 or f.max() >= len(v)):
            raise MeshError("mesh faces reference vertices that do not exist")
        object.__setattr__(self, "vertices", v)
        object.__setattr__(self, "faces", f)

    @property
    def is_empty(self) -> bool:
        return len(self.faces) == 0

    def transformed(self, matrix: np.ndarray) -> TriangleMesh:
        """Apply a 4x4 affine; faces are flipped when it mirrors, so normals stay outward."""
        m = np.asarray(matrix, dtype=float)
        v = self.vertices @ m[:3, :3].T + m[:3, 3]
        f = self.faces[:, ::-1] if np.linalg.det(m[:3, :3]) < 0 else self.faces
        return TriangleMesh(v, f.copy())
