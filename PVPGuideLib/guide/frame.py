"""The plate frame: u lateral, v superior, w outward from the skin, origin at the skin entry (RAS mm)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import GuideError


@dataclass(frozen=True, eq=False)
class PlateFrame:
    """Right-handed orthonormal frame (u x v = w); local coordinates are (u, v, w) in mm.

    The skin around the entry is a height field over the (u, v) plane: w is the mean outward skin normal.
    """

    origin: np.ndarray
    u: np.ndarray
    v: np.ndarray
    w: np.ndarray

    @classmethod
    def from_normal(cls, *, origin, outward, superior) -> PlateFrame:
        w = np.asarray(outward, dtype=float)
        w = w / np.linalg.norm(w)
        s = np.asarray(superior, dtype=float)
        s = s / np.linalg.norm(s)
        v = s - np.dot(s, w) * w
        if np.linalg.norm(v) < 0.3:  # within ~17 degrees of the skin normal: no usable superior direction
            raise GuideError("frame", "the superior axis is nearly perpendicular to the skin at the entry point; "
                                      "check frame_superior (it should run along the spine)")
        v = v / np.linalg.norm(v)
        return cls(np.asarray(origin, dtype=float).copy(), np.cross(v, w), v, w)

    @property
    def rotation(self) -> np.ndarray:
        """(3, 3) rows u, v, w: multiplies a RAS vector into local components."""
        return np.array([self.u, self.v, self.w])

    def to_local(self, points) -> np.ndarray:
        return (np.asarray(points, dtype=float) - self.origin) @ self.rotation.T

    def vectors_to_local(self, vectors) -> np.ndarray:
        return np.asarray(vectors, dtype=float) @ self.rotation.T

    def to_world(self, points) -> np.ndarray:
        return np.asarray(points, dtype=float) @ self.rotation + self.origin

    @property
    def local_to_world(self) -> np.ndarray:
        """(4, 4) affine taking local (u, v, w) to RAS."""
        m = np.eye(4)
        m[:3, :3] = self.rotation.T
        m[:3, 3] = self.origin
        return m
