"""write_report: the one entry point (CLI, module Export, scripts) that turns a plan into report.html (+ PDF)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..io.atomic_io import write_text_atomic
from .bone import segmentation_meshes
from .page import report_html
from .pdf import write_report_pdf
from .pictures import ReportInputs


@dataclass(frozen=True, eq=False)
class ReportFiles:
    html: Path
    pdf: Path | None
    problems: tuple  # pictures that could not be drawn (also listed in the report's warnings)
    pictures: dict  # trajectory index -> {picture name: PNG bytes}


def write_report(plan_json: dict, html_path, *, plan=None, ct=None, skin_mesh=None, guide_meshes=None,
                 vertebra_meshes=None, base_dir=None, case_id: str | None = None, created: str | None = None,
                 pdf: bool = False, progress=None) -> ReportFiles:
    """Write a self-contained report.html (atomically) from plan.json's content.

    plan : the PVPGuideLib.planning.plan.Plan, when at hand: its CT and skin are drawn (ct / skin_mesh override them).
    guide_meshes : {(level, side): TriangleMesh in RAS}; default: the STL files named in plan.json.
    vertebra_meshes : {level: TriangleMesh in RAS}; default: the plan's segmentation (smoothed), else a bone
    iso-surface of the CT around the target.
    base_dir : folder that plan.json's file names are relative to (default: the report's folder).
    created : a time stamp to print (none by default, so the same plan gives the same bytes).
    pdf : also print report.pdf with headless Chromium when installed (ReportFiles.pdf is None otherwise).
    """
    html_path = Path(html_path)
    if ct is None and plan is not None:
        ct = plan.ct
    if vertebra_meshes is None and plan is not None:
        vertebra_meshes = segmentation_meshes(plan)  # the vertebra drawn from its segmentation when there is one
    if skin_mesh is None and plan is not None and plan.skin is not None:
        skin_mesh = plan.skin.mesh
    inputs = ReportInputs(ct=ct, skin_mesh=skin_mesh, guide_meshes=dict(guide_meshes or {}),
                          vertebra_meshes=dict(vertebra_meshes or {}),
                          base_dir=Path(base_dir) if base_dir is not None else html_path.parent)
    text, pictures = report_html(plan_json, inputs, case_id=case_id, created=created, progress=progress)
    write_text_atomic(html_path, text)
    pdf_path = write_report_pdf(html_path) if pdf else None
    problems = tuple(p for index in sorted(pictures) for p in pictures[index].problems)
    return ReportFiles(html_path, pdf_path, problems, {i: dict(p.pngs) for i, p in pictures.items()})
