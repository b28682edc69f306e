"""The grid locator's bad-input error."""

from __future__ import annotations

from ..errors import PVPGuideError


class GridError(PVPGuideError):
    """No skin grid, an ambiguous one, or a grid given with unusable numbers."""
