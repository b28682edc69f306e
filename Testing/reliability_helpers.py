"""Shared pieces of the reliability suite: hashes of inputs, running the CLI, a small plannable CT."""

from __future__ import annotations

import hashlib
import json
import locale
import shutil
from pathlib import Path

import numpy as np
import pytest
from synthetic import cylinder_ct

from PVPGuideLib.cli import main

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "totalseg_example"
needs_real_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"real CT sample folder {DATA} is absent")

CENTRE = np.array([10.0, -20.0, 50.0])
B = CENTRE + [-8.0, -20.0, 0.0]  # posterior of C (smaller A), as a transpedicular entry is
C = CENTRE + [4.0, 6.0, 3.0]


def fmt(p) -> str:
    return ",".join(f"{x:.6f}" for x in p)


def small_ct():
    """The analytic cylinder CT of test_cli_plan (soft tissue, a bone cube at CENTRE)."""
    return cylinder_ct(radius=60.0, centre=CENTRE, spacing=(1.0, 1.0, 2.0))


def tree_hashes(*paths) -> dict:
    """{path: SHA-256} of every regular file under the given files/folders (symlinks not followed)."""
    hashes = {}
    for root in paths:
        root = Path(root)
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
        for f in files:
            hashes[str(f)] = hashlib.sha256(f.read_bytes()).hexdigest()
    return hashes


def run_cli(argv, capsys) -> tuple[int, str]:
    """Exit code and stderr of `pvpguide ARGV` run in this process."""
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def plan_argv(ct_path, out, *extra) -> list:
    return ["plan", "--ct", ct_path, "--b", fmt(B), "--c", fmt(C), "--no-cement", "--no-guide", "--out", out,
            "--quiet", *extra]


def check_set(folder: Path, manifest: str = "plan.json") -> dict:
    """Assert the folder holds one complete set: its manifest names every other file with its SHA-256."""
    data = json.loads((folder / manifest).read_text(encoding="utf-8"))
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert files - {manifest} == set(data["files"]), f"{folder}: files {sorted(files)} vs {sorted(data['files'])}"
    for name, digest in data["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    return data


def write_score_inputs(folder: Path) -> dict:
    """A post-operative CT (cement ball in a box vertebra, cement_cases.Vertebra) with its label maps.

    Returns the input paths and C (the cement ball's centre, RAS), for `pvpguide score`.
    """
    from cement_cases import Vertebra

    from PVPGuideLib.io.ct_io import write_volume

    v = Vertebra(spacing=(1.5, 1.5, 1.5))
    hu = v.ct.voxels.copy()
    tip = v.to_ras((-6.0, 4.0, 0.0))
    hu[v.inside_ball((-6.0, 4.0, 0.0), 6.0) & v.body] = 2500
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"ct": folder / "postop.nii.gz", "segmentation": folder / "labels.nii.gz",
             "body": folder / "parts.nii.gz"}
    write_volume(v.ct.with_voxels(hu), paths["ct"])
    write_volume(v.ct.with_voxels(((v.body | v.posterior) * 31).astype(np.uint8)), paths["segmentation"])
    write_volume(v.ct.with_voxels(v.body.astype(np.uint8)), paths["body"])
    return {**paths, "tip": tip}


def score_argv(inputs: dict, out, *extra, side="right") -> list:
    return ["score", "--ct", inputs["ct"], "--segmentation", inputs["segmentation"], "--label", "31", "--side", side,
            "--body-segmentation", inputs["body"], "--out", out, "--quiet", *extra]


def leftovers(folder: Path) -> list:
    """Hidden staging folders of PVPGuide beside the output folder."""
    return sorted(p.name for p in folder.parent.glob(".pvpguide-*"))


def write_dicom_slices(folder: Path, positions, name_of=lambda k: f"s{k:03d}.dcm") -> None:
    """Small CT slices (air and bone, 8x8) at the given positions along S, one series."""
    import SimpleITK as sitk

    saved = locale.setlocale(locale.LC_ALL)  # GDCM switches the C locale; put it back
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for k, z in enumerate(positions):
            pixels = np.full((8, 8), -1000, np.int16)
            pixels[2:6, 2:6] = 700
            image = sitk.GetImageFromArray(pixels)
            for tag, value in {
                "0008|0060": "CT", "0020|000d": "1.2.826.0.1.3680043.2.1125.7", "0020|000e": "1.2.826.0.1.3680043.2.1125.8",
                "0020|0013": str(k + 1), "0020|0032": f"0\\0\\{z}", "0020|0037": "1\\0\\0\\0\\1\\0", "0028|0030": "1\\1",
            }.items():
                image.SetMetaData(tag, value)
            writer = sitk.ImageFileWriter()
            writer.KeepOriginalImageUIDOn()
            writer.SetFileName(str(folder / name_of(k)))
            writer.Execute(image)
    finally:
        locale.setlocale(locale.LC_ALL, saved)


def plan_folder(root: Path) -> Path:
    """A small CT at root/ct.nrrd and a plan of it at root/plan (paths relative to root, as a user has them)."""
    from PVPGuideLib.io.ct_io import write_volume

    write_volume(small_ct(), root / "ct.nrrd")
    assert main([str(a) for a in plan_argv(root / "ct.nrrd", root / "plan")]) == 0
    return root


def copy_plan(planned: Path, tmp_path: Path) -> Path:
    """A private copy of plan_folder's CT and plan under tmp_path, plan.json naming the CT relative to the plan."""
    shutil.copy(planned / "ct.nrrd", tmp_path / "ct.nrrd")
    shutil.copytree(planned / "plan", tmp_path / "plan")
    data = json.loads((tmp_path / "plan" / "plan.json").read_text())
    data["ct"]["path"] = "../ct.nrrd"
    (tmp_path / "plan" / "plan.json").write_text(json.dumps(data))
    return tmp_path / "plan"
