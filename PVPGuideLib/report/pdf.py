"""Optional PDF of the report, printed by headless Chromium when it is installed (skipped cleanly otherwise)."""

from __future__ import annotations

from pathlib import Path

from ..io.atomic_io import atomic_path
from .chromium import find_chromium, run_headless


def write_report_pdf(html_path, pdf_path=None) -> Path | None:
    """Print report.html to PDF beside it (or at pdf_path); None when no Chromium is installed."""
    html_path = Path(html_path).resolve()
    pdf_path = Path(pdf_path) if pdf_path is not None else html_path.with_suffix(".pdf")
    if find_chromium() is None:
        return None
    with atomic_path(pdf_path) as tmp:
        run_headless(["--no-pdf-header-footer", f"--print-to-pdf={tmp}", html_path.as_uri()])
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise RuntimeError("Chromium wrote no PDF")
    return pdf_path
