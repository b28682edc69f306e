"""The one error type of vertebra input and analysis: a ValueError whose message says what to do."""

from __future__ import annotations

from ..errors import PVPGuideError


class VertebraError(PVPGuideError):
    """A vertebra cannot be found, cleaned or analysed from the given inputs."""
