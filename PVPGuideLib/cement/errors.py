"""The one error type of the cement package."""

from __future__ import annotations

from ..errors import PVPGuideError


class CementError(PVPGuideError):
    """Cement prediction or scoring cannot run on the given input; the message says what to fix."""
