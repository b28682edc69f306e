"""The planning report: self-contained report.html (optional PDF) with numbers and offscreen-rendered pictures."""

from .pictures import ReportInputs
from .writer import ReportFiles, write_report

__all__ = ["ReportFiles", "ReportInputs", "write_report"]
