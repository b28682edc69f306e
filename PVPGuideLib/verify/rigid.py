"""Rigid transforms as 4x4 RAS matrices: building, applying, and converting SimpleITK's LPS transforms."""

from __future__ import annotations

import numpy as np

LPS = np.diag([-1.0, -1.0, 1.0])


def rigid_matrix(rotation_deg=(0.0, 0.0, 0.0), translation_mm=(0.0, 0.0, 0.0), centre=(0.0, 0.0, 0.0)) -> np.ndarray:
    """4x4 RAS: rotation about R, then A, then S (degrees, about `centre`), then a translation (mm)."""
    from ..phantom.build import pose_rotation

    rotation = pose_rotation(rotation_deg)
    centre = np.asarray(centre, float)
    m = np.eye(4)
    m[:3, :3] = rotation
    m[:3, 3] = centre - rotation @ centre + np.asarray(translation_mm, float)
    return m


def apply_points(matrix: np.ndarray, points) -> np.ndarray:
    """(n, 3) or (3,) RAS points through a 4x4."""
    p = np.asarray(points, float)
    return p @ matrix[:3, :3].T + matrix[:3, 3]


def apply_vectors(matrix: np.ndarray, vectors) -> np.ndarray:
    return np.asarray(vectors, float) @ matrix[:3, :3].T


def rotation_angle_deg(matrix: np.ndarray) -> float:
    """Angle (degrees) of a 4x4's rotation part."""
    return float(np.degrees(np.arccos(np.clip((np.trace(matrix[:3, :3]) - 1.0) / 2.0, -1.0, 1.0))))


def matrix_from_sitk(transform) -> np.ndarray:
    """4x4 RAS of a SimpleITK rigid/affine transform (which maps LPS points: fixed -> moving)."""
    a = np.asarray(transform.GetMatrix(), float).reshape(3, 3)
    c = np.asarray(transform.GetCenter(), float)
    t = np.asarray(transform.GetTranslation(), float)
    lps = np.eye(4)
    lps[:3, :3] = a
    lps[:3, 3] = c + t - a @ c
    flip = np.eye(4)
    flip[:3, :3] = LPS
    return flip @ lps @ flip


def sitk_from_matrix(matrix: np.ndarray):
    """SimpleITK AffineTransform (LPS) of a 4x4 RAS matrix."""
    import SimpleITK as sitk

    flip = np.eye(4)
    flip[:3, :3] = LPS
    lps = flip @ matrix @ flip
    transform = sitk.AffineTransform(3)
    transform.SetMatrix(tuple(float(x) for x in lps[:3, :3].ravel()))
    transform.SetTranslation(tuple(float(x) for x in lps[:3, 3]))
    return transform
