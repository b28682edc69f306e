"""The error type of the intra-operative check: bad input, with its measure and what to do."""

from __future__ import annotations

from ..errors import PVPGuideError


class VerifyError(PVPGuideError):
    """An intra-operative CT that cannot be registered to the plan, or whose needle cannot be found."""
