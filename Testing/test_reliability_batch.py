"""Reliability of `pvpguide batch`: CSV-safe summary cells, case ids that would take the folder's own files."""

from __future__ import annotations

import csv
import json

from reliability_helpers import B, C, fmt, small_ct, tree_hashes

from PVPGuideLib.batch.summary import csv_safe
from PVPGuideLib.cli import EXIT_BAD_INPUT, EXIT_CASES_FAILED, main
from PVPGuideLib.io.ct_io import write_volume


def test_csv_safe_neutralises_formulas_and_keeps_numbers():
    for text in ("=HYPERLINK(\"http://x\")", "+1+2", "-cmd", "@SUM(A1)", "\tx"):
        assert csv_safe(text) == "'" + text
    for text in ("-12.5", "+3", "1e-3", "L1", "", "ok"):
        assert csv_safe(text) == text
    assert csv_safe(None) == "" and csv_safe(-4.25) == "-4.25"


def test_batch_summary_cells_ids_and_one_bad_row(tmp_path, capsys):
    write_volume(small_ct(), tmp_path / "ct.nrrd")
    out = tmp_path / "cohort"
    out.mkdir()
    (out / "notes.txt").write_text("the user's notes")
    rows = [
        f'good,plan,ct.nrrd,"{fmt(B)}","{fmt(C)}",left,"=1+2",--no-cement --no-guide',  # formula in a label
        "@evil,plan,ct.nrrd,,,,,",  # invalid id: its error row carries it
        'summary.csv,plan,ct.nrrd,"1,2,3","4,5,6",left,L1,',  # would take the batch's own summary
        'notes.txt,plan,ct.nrrd,"1,2,3","4,5,6",left,L1,',  # would take a file already in the folder
        'cases.csv,plan,ct.nrrd,"1,2,3","4,5,6",left,L1,',  # the cases CSV lies inside --out below
    ]
    cases = out / "cases.csv"
    cases.write_text("case_id,command,ct,b,c,side,level,options\n" + "\n".join(rows) + "\n", encoding="utf-8")
    (out / "ct.nrrd").write_bytes((tmp_path / "ct.nrrd").read_bytes())
    before = tree_hashes(out)
    code = main(["batch", str(cases), "--out", str(out), "--jobs", "1", "--json", "--quiet"])
    summary = json.loads(capsys.readouterr().out)
    assert code == EXIT_CASES_FAILED
    by_id = {row["case_id"]: row for row in summary["rows"]}
    assert by_id["good"]["status"] == "ok"
    for bad in ("summary.csv", "notes.txt", "cases.csv"):
        assert by_id[bad]["status"] == "error" and "another id" in by_id[bad]["error"]
    assert by_id["@evil"]["status"] == "error"
    after = tree_hashes(out)
    assert {k: after[k] for k in before} == before  # the notes, the CSV and the CT are unchanged
    with open(out / "summary.csv", newline="", encoding="utf-8") as stream:
        cells = [cell for row in csv.reader(stream) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@") or (c[:1] == "-" and not c[1:2].isdigit())]
    assert "'=1+2" in cells and "'@evil" in cells


def test_cases_csv_named_summary_in_out_is_refused(tmp_path, capsys):
    out = tmp_path / "cohort"
    out.mkdir()
    cases = out / "summary.csv"
    cases.write_text("case_id,command\nx,demo\n", encoding="utf-8")
    before = cases.read_bytes()
    assert main(["batch", str(cases), "--out", str(out), "--quiet"]) == EXIT_BAD_INPUT
    assert "keep the CSV outside --out" in capsys.readouterr().err
    assert cases.read_bytes() == before
