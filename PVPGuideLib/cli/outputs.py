"""Writing a plan's outputs (plan.json, plan.mrb, report.html) into the output folder, each file atomically."""

from __future__ import annotations

from pathlib import Path

from ..atomic_io import write_json_atomic
from ..display import plan_summary_lines
from ..errors import PVPGuideError
from ..plan import Plan
from ..plan_json import plan_to_json
from .common import print_json, say, warn


def check_output_folder(out_dir, protected_paths=()) -> Path:
    """The output folder (created only when outputs are written); refuses to write over the user's inputs."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise PVPGuideError(f"--out {out} is a file, not a folder; give a folder for the outputs")
    for name in ("plan.json", "plan.mrb", "report.html"):
        for protected in protected_paths:
            if protected is not None and Path(protected).resolve() == (out / name).resolve():
                raise PVPGuideError(f"the output {out / name} would overwrite the input {protected}; choose another --out")
    return out


def _write_cement_pictures(plan: Plan, out: Path) -> None:
    """AP and lateral projections of each predicted cement, named in the trajectory's cement section."""
    from ..cement import write_projection_pngs
    from ..plan_cement import cement_file_prefix

    for t in plan.trajectories:
        scores = t.artifacts.get("cement_scores")
        if scores is None:
            continue
        paths = write_projection_pngs(scores, out, prefix=cement_file_prefix(t))
        t.sections["cement"]["projections"] = {view: path.name for view, path in sorted(paths.items())}


def write_plan_outputs(plan: Plan, out_dir, *, ct_path: str | None, progress=None, extra_scene_nodes=None,
                       report: bool = True, pdf: bool = False, vertebra_meshes=None, case_id: str | None = None) -> dict:
    """Write plan.json, plan.mrb and report.html (pdf=True: also report.pdf when Chromium is installed).

    Returns the plan.json content. The report comes last so it shows every file written before it
    (e.g. guide STLs named in plan.json); pictures that fail are listed in the report, not fatal.
    """
    from ..mrml.plan_scene import save_plan_scene  # the MRML adapter loads Slicer's libraries: only when saving

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _write_cement_pictures(plan, out)
    data = plan_to_json(plan, ct_path=ct_path)
    data["outputs"] = {"plan_json": "plan.json", "scene": "plan.mrb"}
    if report:
        data["outputs"]["report"] = "report.html"
    if progress:
        progress(0.8, "writing the Slicer scene (plan.mrb)")
    save_plan_scene(plan, data, out / "plan.mrb")
    write_json_atomic(out / "plan.json", data)
    if report:
        from ..report import write_report

        if progress:
            progress(0.9, "drawing the report (report.html)")
        written = write_report(data, out / "report.html", plan=plan, vertebra_meshes=vertebra_meshes, case_id=case_id,
                               pdf=pdf, guide_meshes=plan.artifacts.get("guide_meshes"), base_dir=out)
        for problem in written.problems:
            warn(f"report: {problem}")
    return data


def write_and_summarise(args, plan: Plan, out: Path, steps, *, ct_path: str, written: str) -> int:
    """The last step of `plan` and `demo`: write the outputs, then warnings and a summary (or --json)."""
    steps.start("writing outputs")
    data = write_plan_outputs(plan, out, ct_path=ct_path)
    steps.done()
    for w in plan.warnings:
        warn(w)
    if args.json:
        print_json(data)
    else:
        say(args, "\n".join(plan_summary_lines(plan, data)))
        say(args, f"wrote {written}")
    return 0
