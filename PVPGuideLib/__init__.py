"""PVPGuideLib: pure-Python planning library for percutaneous vertebroplasty (no Slicer imports)."""

__version__ = "0.1.0"
