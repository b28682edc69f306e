"""The command line as a tool: help with examples everywhere, exit codes, --quiet, --json, progress on stderr."""

import importlib
import json

import pytest
from report_cases import cylinder_plan

from PVPGuideLib.cli import EXIT_BAD_INPUT, EXIT_INTERNAL_ERROR, SUBCOMMAND_MODULES, build_parser, main
from PVPGuideLib.io.atomic_io import write_json_atomic
from PVPGuideLib.io.ct_io import write_volume


@pytest.mark.parametrize("module_name", SUBCOMMAND_MODULES)
def test_every_command_has_help_with_examples(module_name, capsys):
    module = importlib.import_module(f"PVPGuideLib.cli.{module_name}")
    with pytest.raises(SystemExit) as stop:
        main([module.NAME, "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text and f"pvpguide {module.NAME}" in text.split("examples:", 1)[1]
    parser = next(a for a in build_parser()._actions if a.dest == "command").choices[module.NAME]
    options = {s for a in parser._actions for s in a.option_strings}
    assert {"--json", "--quiet"} <= options
    for action in parser._actions:
        assert action.help, f"{module.NAME}: {action.dest} has no help text"


def test_top_level_help_and_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text and "Exit codes" in text
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("pvpguide ")


@pytest.mark.parametrize("argv", [["plan"], ["batch"], ["report"], ["plan", "--ct", "x", "--b", "1,2", "--c", "1,2,3"]])
def test_usage_errors_are_bad_input(argv, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == EXIT_BAD_INPUT
    assert "error:" in capsys.readouterr().err


def test_bad_input_and_internal_error_differ(tmp_path, capsys, monkeypatch):
    assert main(["report", str(tmp_path / "nothing")]) == EXIT_BAD_INPUT
    assert "no plan.json" in capsys.readouterr().err

    def broken(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(importlib.import_module("PVPGuideLib.cli.report"), "run", broken)
    assert main(["report", str(tmp_path)]) == EXIT_INTERNAL_ERROR
    err = capsys.readouterr().err
    assert "RuntimeError: a bug" in err and "internal error" in err


@pytest.fixture(scope="module")
def plan_folder(tmp_path_factory):
    """plan.json and its CT, as `pvpguide plan` leaves them (without the scene)."""
    plan, data = cylinder_plan()
    folder = tmp_path_factory.mktemp("plan")
    write_volume(plan.ct, folder / "cylinder.nrrd")
    write_json_atomic(folder / "plan.json", data)
    return folder


def test_json_summary_is_all_of_stdout_and_quiet_is_silent(plan_folder, capsys):
    assert main(["report", str(plan_folder), "--json", "--quiet", "--out", str(plan_folder / "r.html")]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["report"].endswith("r.html") and summary["pdf"] is None and summary["problems"] == []
    assert captured.err == ""


def test_progress_bar_on_stderr_and_text_on_stdout(plan_folder, capsys):
    assert main(["report", str(plan_folder / "plan.json")]) == 0
    captured = capsys.readouterr()
    assert "[##" in captured.err and "100%" in captured.err and "drawing the report" in captured.err
    assert captured.out.startswith("wrote ") and (plan_folder / "report.html").is_file()
