"""The error type of fracture measurements: bad input, with what to do."""

from __future__ import annotations

from ..errors import PVPGuideError


class FractureError(PVPGuideError):
    """A vertebra's heights or angles cannot be measured from the given inputs."""
