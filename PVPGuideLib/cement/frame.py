"""Vertebra frame for cement work: accept any frame-like input, or derive one from the segmentation."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import ndimage

from ..core.geometry import VertebraFrame
from .errors import CementError
from .masks import body_mask_on_grid
from .sampling import FrameGrid, column_surfaces

_ORTHONORMAL_TOLERANCE = 1e-3


def as_vertebra_frame(frame) -> VertebraFrame:
    """Accept a VertebraFrame, any object with origin/right/anterior/superior attributes
    (e.g. PVPGuideLib.core.geometry.VertebraFrame), a mapping with those keys (plan.json, phantom truth)
    or a sequence (origin, right, anterior, superior)."""
    names = ("origin", "right", "anterior", "superior")
    if isinstance(frame, Mapping) and all(name in frame for name in names):
        parts = [frame[name] for name in names]
    elif all(hasattr(frame, name) for name in names):
        parts = [getattr(frame, name) for name in names]
    else:
        try:
            parts = list(frame)
        except TypeError:
            parts = []
        if len(parts) != 4:
            raise CementError("a vertebra frame needs origin, right, anterior and superior (RAS)")
    origin, right, anterior, superior = (np.asarray(p, dtype=float).reshape(3) for p in parts)
    axes = np.stack([right, anterior, superior])
    if not np.all(np.isfinite(axes)) or not np.all(np.isfinite(origin)):
        raise CementError("the vertebra frame has non-finite values")
    if not np.allclose(axes @ axes.T, np.eye(3), atol=_ORTHONORMAL_TOLERANCE):
        raise CementError("the vertebra frame's right, anterior and superior axes must be orthonormal")
    if np.dot(np.cross(right, anterior), superior) < 0:
        raise CementError("the vertebra frame must be right-handed (right x anterior = superior)")
    return VertebraFrame(origin, right, anterior, superior)  # as given: checked, not re-normalised


def frame_from_segmentation(ct, body_mask, posterior_mask=None, *, iterations: int = 3) -> VertebraFrame:
    """Vertebra frame (SPEC section 4) from masks on the CT grid, for when no planned frame exists
    (post-operative scoring).

    superior = normal of the mid-endplate plane: start from the body's principal axis nearest the
    patient's S axis, then repeatedly fit a plane to the body's upper and to its lower surface (seen
    along the current superior axis; columns less than a tenth of the outline's largest inset from its
    edge, the rounded rim, are left out) and take the mean of their normals.
    anterior = from the posterior elements' centroid (they ring the canal) to the body centroid when
    a posterior mask is given, else the body's principal axis nearest A; orthogonalised.
    origin = body centroid. Signs follow RAS, which is patient-fixed whatever the table position.
    """
    body = body_mask_on_grid(ct, body_mask, needed_for="segment the vertebral body first")
    points = ct.ijk_to_ras_points(np.argwhere(body)[:, ::-1])
    centroid = points.mean(axis=0)
    centred = points - centroid
    _, vectors = np.linalg.eigh(centred.T @ centred / len(points))
    superior = vectors[:, int(np.argmax(np.abs(vectors[2])))]
    posterior = None if posterior_mask is None else np.asarray(posterior_mask, dtype=bool)
    if posterior is not None and posterior.any():
        if posterior.shape != body.shape:
            raise CementError("posterior-element mask and body mask shapes differ")
        towards_body = centroid - ct.ijk_to_ras_points(np.argwhere(posterior)[:, ::-1]).mean(axis=0)
    else:
        towards_body = vectors[:, int(np.argmax(np.abs(vectors[1])))]
        towards_body = towards_body if towards_body[1] >= 0 else -towards_body
    superior = superior if superior[2] >= 0 else -superior
    step = float(min(1.0, np.linalg.norm(ct.ijk_to_ras[:3, :3], axis=0).min()))
    for _ in range(iterations):
        axes = _orthonormal(centroid, superior, towards_body)
        superior = _endplate_normal(axes, body, ct.ijk_to_ras, points, step)
    return _orthonormal(centroid, superior, towards_body)


def _orthonormal(origin, superior, towards_body) -> VertebraFrame:
    superior = superior / np.linalg.norm(superior)
    anterior = towards_body - (towards_body @ superior) * superior
    if np.linalg.norm(anterior) < 1e-6:
        raise CementError("the body and the posterior elements line up along the superior axis: check the masks")
    anterior /= np.linalg.norm(anterior)
    return VertebraFrame(origin, np.cross(anterior, superior), anterior, superior)


def _endplate_normal(axes: VertebraFrame, body, ijk_to_ras, points, step) -> np.ndarray:
    """Mean normal (RAS) of planes fitted to the body's upper and lower surfaces seen along axes.superior."""
    grid = FrameGrid.covering(axes, axes.to_frame(points), step=step, margin=2.0 * step)
    sampled = grid.sample(body, ijk_to_ras)
    footprint = sampled.any(axis=2)
    top, bottom = column_surfaces(grid, sampled, footprint)
    # the rim is rounded: fit the inner part of the outline only
    inner = ndimage.distance_transform_edt(footprint) * step
    inner = footprint & (inner >= 0.1 * inner.max())
    r, a = np.meshgrid(grid.coordinates(0), grid.coordinates(1), indexing="ij")
    design = np.stack([r[inner], a[inner], np.ones(int(inner.sum()))], axis=1)
    normal = np.zeros(3)
    for surface in (top, bottom):
        (slope_r, slope_a, _), *_ = np.linalg.lstsq(design, surface[inner], rcond=None)
        n = np.array([-slope_r, -slope_a, 1.0])
        normal += n / np.linalg.norm(n)
    return axes.rotation.T @ (normal / np.linalg.norm(normal))
