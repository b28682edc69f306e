"""A trajectory from plan.json as geometry for pictures: A, B, C, needle direction and the reference axes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class PathGeometry:
    """Points in RAS mm (a is None without a skin entry); right/anterior/superior are the vertebra frame's
    axes when the plan has one, else the scanner's; origin is the frame origin (vertebral body centre) or C."""

    level: str
    side: str
    a: np.ndarray | None
    b: np.ndarray
    c: np.ndarray
    right: np.ndarray
    anterior: np.ndarray
    superior: np.ndarray
    origin: np.ndarray
    has_vertebra_frame: bool

    @property
    def start(self) -> np.ndarray:
        """Where the drawn needle starts: A, or B when A was not found."""
        return self.a if self.a is not None else self.b

    @property
    def direction(self) -> np.ndarray:
        """Unit needle direction, skin to target."""
        d = self.c - self.start
        return d / np.linalg.norm(d)

    @property
    def points(self) -> dict:
        named = {"A": self.a, "B": self.b, "C": self.c}
        return {name: p for name, p in named.items() if p is not None}

    @property
    def title(self) -> str:
        return f"{self.level or 'level ?'} {self.side}"


def _vector(value):
    return None if value is None else np.asarray(value, dtype=float).reshape(3)


def path_geometry(trajectory: dict) -> PathGeometry:
    """From one entry of plan.json's `trajectories`."""
    points = trajectory.get("points") or {}
    b, c = _vector(points.get("B")), _vector(points.get("C"))
    if b is None or c is None:
        raise ValueError("a trajectory in plan.json has no B or C point; the report cannot draw it")
    frame = trajectory.get("vertebra_frame")
    if frame:
        right, anterior, superior = (_vector(frame[k]) for k in ("right", "anterior", "superior"))
        origin = _vector(frame["origin"])
    else:
        right, anterior, superior = np.eye(3)
        origin = c
    return PathGeometry(str(trajectory.get("level") or ""), str(trajectory.get("side") or ""), _vector(points.get("A")),
                        b, c, right, anterior, superior, origin, bool(frame))
