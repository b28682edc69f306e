"""Writing a plan's outputs as one set: staged beside --out, swapped in when complete (output_set.py)."""

from __future__ import annotations

from pathlib import Path

from ..core.display import plan_summary_lines
from ..io.atomic_io import write_json_atomic
from ..io.output_set import OutputTransaction, manifest
from ..io.output_set import check_output_folder as _check_folder
from ..io.plan_json import plan_to_json
from ..planning.plan import Plan
from .common import print_json, say, warn

# Transactions opened by check_output_folder: stage folder -> transaction. The command writes into the
# stage; write_and_summarise commits it; the CLI discards whatever is still open when a run fails.
_OPEN: dict = {}


def check_output_folder(out_dir, protected_paths=()) -> Path:
    """Check --out (no input inside it, no file PVPGuide did not write) and return the folder to write into.

    The returned folder is a hidden staging folder beside --out; write_and_summarise puts its files in
    place as one set, and a failed run leaves --out as it was.
    """
    out = _check_folder(out_dir, protected_paths)
    transaction = OutputTransaction(out)
    stage = transaction.__enter__()
    _OPEN[stage] = transaction
    return stage


def discard_open_outputs() -> None:
    """Delete the staging folders of a run that did not finish (called by the CLI whatever happened)."""
    while _OPEN:
        _, transaction = _OPEN.popitem()
        transaction.__exit__(RuntimeError, None, None)


def commit_outputs(stage: Path) -> Path:
    """Put the staged set in place; returns the output folder as the user named it."""
    transaction = _OPEN.pop(Path(stage))
    transaction.__exit__(None, None, None)
    return transaction.requested


def shown_path(text: str, stage: Path) -> str:
    """Text mentioning the staging folder, with the output folder the user named instead."""
    transaction = _OPEN.get(Path(stage))
    return text if transaction is None else text.replace(str(stage), str(transaction.requested))


def ct_path_for_plan(ct_path: str, stage: Path) -> str:
    """The CT path as plan.json records it: relative to the plan folder (report reads it from there).

    An absolute path or a path to a file of the set (demo's sample/ct.nrrd) is kept; a relative path given
    on the command line (relative to the working folder) becomes relative to the output folder.
    """
    import os

    if Path(ct_path).is_absolute() or (Path(stage) / ct_path).exists():
        return ct_path  # as given: an absolute path, or a file of the set
    transaction = _OPEN.get(Path(stage))
    folder = transaction.out if transaction is not None else Path(stage)
    return Path(os.path.relpath(os.path.abspath(ct_path), os.path.realpath(folder))).as_posix()


def _write_cement_pictures(plan: Plan, out: Path) -> Plan:
    """The plan with AP and lateral projections of each predicted cement written and named in its cement section."""
    from ..cement import write_projection_pngs
    from ..planning.plan_cement import cement_file_prefix

    trajectories = []
    for t in plan.trajectories:
        scores = t.artifacts.get("cement_scores")
        if scores is not None:
            paths = write_projection_pngs(scores, out, prefix=cement_file_prefix(t))
            projections = {view: path.name for view, path in sorted(paths.items())}
            t = t.with_sections(cement={**t.sections["cement"], "projections": projections})
        trajectories.append(t)
    return plan.with_trajectories(trajectories)


def write_plan_outputs(plan: Plan, out_dir, *, ct_path: str | None, progress=None, extra_scene_nodes=None,
                       report: bool = True, pdf: bool = False, vertebra_meshes=None, case_id: str | None = None) -> dict:
    """Write plan.json, plan.mrb and report.html (pdf=True: also report.pdf when Chromium is installed).

    Returns the plan.json content. The report comes before plan.json so that plan.json's `files` section
    names every other file of the folder with its SHA-256 (plan.json last: its presence marks a whole set).
    """
    from ..mrml.plan_scene import save_plan_scene  # the MRML adapter loads Slicer's libraries: only when saving

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plan = _write_cement_pictures(plan, out)
    data = plan_to_json(plan, ct_path=ct_path)
    data["outputs"] = {"plan_json": "plan.json", "scene": "plan.mrb"}
    if report:
        data["outputs"]["report"] = "report.html"
    if progress:
        progress(0.8, "writing the Slicer scene (plan.mrb)")
    save_plan_scene(plan, data, out / "plan.mrb")
    if report:
        from ..report import write_report

        if progress:
            progress(0.9, "drawing the report (report.html)")
        written = write_report(data, out / "report.html", plan=plan, vertebra_meshes=vertebra_meshes, case_id=case_id,
                               pdf=pdf, guide_meshes=plan.artifacts.get("guide_meshes"), base_dir=out)
        for problem in written.problems:
            warn(f"report: {problem}")
    data["files"] = manifest(out)
    write_json_atomic(out / "plan.json", data)
    return data


def write_and_summarise(args, plan: Plan, out: Path, steps, *, ct_path: str, written: str) -> int:
    """The last step of `plan` and `demo`: write the outputs, put them in place, then warnings and a summary."""
    steps.start("writing outputs")
    data = write_plan_outputs(plan, out, ct_path=ct_path_for_plan(ct_path, out))
    messages = [shown_path(w, out) for w in plan.warnings]
    written = shown_path(written, out)
    if Path(out) in _OPEN:
        commit_outputs(out)
    steps.done()
    for w in messages:
        warn(w)
    if args.json:
        print_json(data)
    else:
        say(args, "\n".join(plan_summary_lines(plan, data)))
        say(args, f"wrote {written}")
    return 0
