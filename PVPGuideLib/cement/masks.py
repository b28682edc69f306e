"""Checking the masks the cement functions take: on the CT's grid, and (for the body) present and not empty."""

from __future__ import annotations

import numpy as np

from .errors import CementError


def mask_on_grid(mask, shape, name: str) -> np.ndarray:
    """(K, J, I) bool copy-free view of a mask that must lie on a grid of `shape`."""
    array = np.asarray(mask)
    if array.shape != tuple(shape):
        raise CementError(f"{name} mask shape {array.shape} differs from the CT's {tuple(shape)}")
    return array.astype(bool, copy=False)


def body_mask_on_grid(ct, body_mask, *, needed_for: str) -> np.ndarray:
    """The vertebral body mask as bool on the CT grid; clear errors when it is missing or empty."""
    if body_mask is None:
        raise CementError(f"no vertebral body mask given: {needed_for}")
    body = mask_on_grid(body_mask, ct.voxels.shape, "body")
    if not body.any():
        raise CementError("the vertebral body mask is empty: check the label number and the segmentation")
    return body
