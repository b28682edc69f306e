"""The one error type of the guide plate, naming the build step that failed."""

from __future__ import annotations

from ..errors import PVPGuideError


class GuideError(PVPGuideError):
    """A guide-plate step could not be done; `step` names it (e.g. 'base', 'boolean: cut bores')."""

    def __init__(self, step: str, message: str):
        self.step = step
        super().__init__(f"guide plate, step '{step}': {message}")
