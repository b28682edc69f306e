"""`pvpguide plan --grid ...` end to end on the phantom with a grid on its back: plan.json, summary, report
picture, the grid in plan.mrb; a grid given by hand; a CT without a grid refused with exit code 2."""

import json
import zipfile

import numpy as np
import pytest

from PVPGuideLib.cli import EXIT_BAD_INPUT, main
from PVPGuideLib.grid import given_grid
from PVPGuideLib.io.ct_io import write_volume
from PVPGuideLib.phantom.build import generate_phantom
from PVPGuideLib.phantom.grid import EllipseDrape, GridLayout

LAYOUT = GridLayout(spacing_mm=15.0, rotation_deg=-8.0, rows=7, columns=11, centre=(0.0, -5.0))


def _fmt(p):
    return ",".join(f"{x:.6f}" for x in p)


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    plain = generate_phantom(spacing=(1.5, 1.5, 1.5))
    phantom = generate_phantom(spacing=(1.5, 1.5, 1.5), skin_grid=LAYOUT)  # the phantom's own option
    folder = tmp_path_factory.mktemp("grid")
    write_volume(phantom.ct, folder / "ct.nrrd")
    write_volume(plain.ct, folder / "plain.nrrd")
    return folder, phantom


def _plan(case, tmp_path, *extra):
    folder, phantom = case
    plans = phantom.truth["levels"]["L1"]["plans"]["left"]
    out = tmp_path / "out"
    code = main(["plan", "--ct", str(folder / "ct.nrrd"), "--b", _fmt(plans["B"]), "--c", _fmt(plans["C"]),
                 "--level", "L1", "--side", "left", "--no-cement", "--no-guide", "--out", str(out), *extra])
    return code, out


def test_grid_auto(case, tmp_path, capsys):
    code, out = _plan(case, tmp_path, "--grid", "auto")
    assert code == 0
    data = json.loads((out / "plan.json").read_text())
    grid, (t,) = data["grid"], data["trajectories"]
    assert grid["source"] == "detected" and abs(grid["spacing_mm"] - 15.0) <= 0.3
    assert grid["convention"] == {"rows_from": "cranial", "columns_from": "left", "first_index": 1}
    position = t["grid_position"]
    row, column = LAYOUT.grid_coordinates(EllipseDrape.from_truth(case[1].truth).to_flat(t["points"]["A"]))
    assert (position["row"], position["column"]) == (round(row[0]), round(column[0]))
    assert abs(position["offset_along_row_mm"] - (column[0] - position["column"]) * 15.0) <= 1.0
    assert abs(position["offset_along_column_mm"] - (row[0] - position["row"]) * 15.0) <= 1.0
    assert position["cell"] == {"row": int(np.floor(row[0])), "column": int(np.floor(column[0]))}
    printed = capsys.readouterr().out
    assert f"A on the skin grid: row {position['row']}, column {position['column']}" in printed
    report = (out / "report.html").read_text()
    assert 'alt="A on the skin grid"' in report
    with zipfile.ZipFile(out / "plan.mrb") as bundle:
        names = " ".join(bundle.namelist())
    for number in range(1, grid["rows"] + 1):
        assert f"Grid row {number}" in names
    assert f"Grid column {LAYOUT.columns}" in names


def test_grid_given_by_hand(case, tmp_path):
    origin, row_point, column_point = [-60.0, -90.0, 40.0], [60.0, -90.0, 40.0], [-60.0, -90.0, -40.0]
    code, out = _plan(case, tmp_path, "--grid-origin", _fmt(origin), "--grid-row-point", _fmt(row_point),
                      "--grid-col-point", _fmt(column_point), "--grid-spacing", "12.5", "--grid-first-index", "0")
    assert code == 0
    data = json.loads((out / "plan.json").read_text())
    (t,) = data["trajectories"]
    assert data["grid"]["source"] == "given" and data["grid"]["rows"] is None
    a = np.array(t["points"]["A"])
    # The plane through the origin spanned by +R (columns) and -S (rows), numbered from 0.
    assert t["grid_position"]["column"] == round((a[0] + 60.0) / 12.5)
    assert t["grid_position"]["row"] == round((40.0 - a[2]) / 12.5)
    expected = given_grid(origin, [1, 0, 0], [0, 0, -1], 12.5).locate(a)
    assert t["grid_position"]["offset_along_row_mm"] == pytest.approx(expected.residual_u_mm, abs=1e-6)


@pytest.mark.parametrize("extra, message", [
    (["--grid", "auto"], "no grid found"),
    (["--grid-origin", "0,0,0", "--grid-spacing", "10"], "--grid-row-dir or --grid-row-point"),
    (["--grid", "auto", "--grid-spacing", "10"], "leave out --grid-spacing"),
])
def test_grid_bad_input(case, tmp_path, capsys, extra, message):
    folder, phantom = case
    plans = phantom.truth["levels"]["L1"]["plans"]["left"]
    code = main(["plan", "--ct", str(folder / "plain.nrrd"), "--b", _fmt(plans["B"]), "--c", _fmt(plans["C"]),
                 "--no-cement", "--no-guide", "--out", str(tmp_path / "out"), *extra])
    assert code == EXIT_BAD_INPUT
    assert message in capsys.readouterr().err
