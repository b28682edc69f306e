"""Exceptions raised by the MRML adapter."""

from ..errors import PVPGuideError


class MRMLAdapterError(PVPGuideError):
    """A node, scene or file cannot be turned into library types (or back); the message says why."""


class SceneBundleError(MRMLAdapterError):
    """A .mrb scene bundle cannot be written or read; the message names the file and the problem."""
