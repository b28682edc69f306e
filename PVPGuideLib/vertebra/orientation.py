"""First guess of a vertebra's axes from its voxels alone (any pose, any CT grid), refined later by analysis."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .errors import VertebraError
from .masks import FULL_CONNECTIVITY, VertebraMasks, depth_in_mask

# Without a body label the body's core is the vertebra deeper than this fraction of its deepest voxel:
# only the body is that thick (pedicles and processes are at most half as thick as the body is high).
CORE_FRACTION = 0.5
# The first guess of the superior axis is kept within this angle of the scanner's S axis (the poses of issue 4
# reach 25 degrees about every axis, about 36 degrees all together).
MAX_TILT_DEG = 50.0


def body_core(masks: VertebraMasks) -> np.ndarray:
    """(K, J, I) bool: the body itself when given, else the deep core of the vertebra holding its deepest voxel."""
    if masks.body is not None:
        return masks.body
    depth = depth_in_mask(masks.vertebra, masks.spacing_kji)
    pieces, _ = ndimage.label(depth >= CORE_FRACTION * depth.max(), structure=FULL_CONNECTIVITY)
    deepest = np.unravel_index(int(np.argmax(depth)), depth.shape)
    return pieces == pieces[deepest]


def initial_axes(masks: VertebraMasks) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(origin, rotation) first guess: rows right, anterior, superior in RAS; origin = body (core) centroid.

    superior: the body's shortest principal axis (a body is wider and deeper than it is high, even when
    fractured) among those within MAX_TILT_DEG of the scanner's S axis, signed towards the patient's head (RAS
    is patient-fixed); anterior: from the rest of the
    vertebra (the posterior elements dominate it) to the body, orthogonalised.
    Returns (origin, rotation, body points).
    """
    core = body_core(masks)
    body_points = masks.points_ras(core)
    rest = masks.vertebra & ~core
    if len(body_points) < 10 or not rest.any():
        raise VertebraError("the vertebra shows no separate body and posterior elements; give a whole vertebra "
                            "(body, pedicles, lamina and processes)")
    centre = body_points.mean(axis=0)
    centred = body_points - centre
    _, vectors = np.linalg.eigh(centred.T @ centred)  # ascending: the shortest axis first
    # Patients lie along the scanner's S axis: a superior axis tilted more than MAX_TILT_DEG from it is a body
    # of unusual shape (a cleft, a crush), so the shortest axis among those within MAX_TILT_DEG is taken.
    near_s = [k for k in range(3) if abs(vectors[2, k]) >= np.cos(np.radians(MAX_TILT_DEG))]
    k = near_s[0] if near_s else int(np.argmax(np.abs(vectors[2])))
    superior = vectors[:, k] if vectors[2, k] >= 0 else -vectors[:, k]
    towards_body = centre - masks.points_ras(rest).mean(axis=0)
    anterior = towards_body - np.dot(towards_body, superior) * superior
    if np.linalg.norm(anterior) < 1.0:
        raise VertebraError("the posterior elements are not behind the body along any axial direction; check the "
                            "segmentation")
    anterior /= np.linalg.norm(anterior)
    right = np.cross(anterior, superior)
    return centre, np.array([right, anterior, superior]), body_points
