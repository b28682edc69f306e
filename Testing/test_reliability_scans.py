"""Reliability: damaged or hostile scans are refused (exit 2, a clear message), never planned, never changed."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from reliability_helpers import DATA, fmt, needs_real_data, plan_argv, run_cli, small_ct, tree_hashes, write_dicom_slices

from PVPGuideLib.io.ct_io import read_ct, write_volume
from PVPGuideLib.io.read_limits import ENV_VOXEL_RANGE


@pytest.fixture(scope="module")
def ct_nrrd(tmp_path_factory):
    path = tmp_path_factory.mktemp("ct") / "ct.nrrd"
    write_volume(small_ct(), path)
    return path


def _refused(argv, capsys, inputs, out, *patterns):
    """Run, and assert: exit 2, every pattern in the message, inputs unchanged, no output folder made."""
    before = tree_hashes(*inputs)
    code, err = run_cli(argv, capsys)
    assert code == 2, err
    for pattern in patterns:
        assert pattern in err, err
    assert "Traceback" not in err and "[Errno" not in err
    assert tree_hashes(*inputs) == before
    assert not Path(out).exists()
    assert not list(Path(out).parent.glob(".pvpguide-*"))
    return err


def _volume_file(tmp_path, suffix):
    path = tmp_path / f"ct{suffix}"
    write_volume(small_ct(), path)
    return path


@pytest.mark.parametrize("fraction", [0.5, 0.9])
def test_truncated_nifti_gz_is_refused(tmp_path, capsys, fraction):
    whole = _volume_file(tmp_path, ".nii.gz").read_bytes()
    cut = tmp_path / "cut.nii.gz"
    cut.write_bytes(whole[: int(len(whole) * fraction)])
    _refused(plan_argv(cut, tmp_path / "out"), capsys, [cut], tmp_path / "out", "cut.nii.gz", "damaged")


def test_corrupt_gzip_data_is_refused(tmp_path, capsys):
    data = bytearray(_volume_file(tmp_path, ".nii.gz").read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(64)  # the deflate stream or its CRC no longer agrees
    bad = tmp_path / "bad.nii.gz"
    bad.write_bytes(bytes(data))
    _refused(plan_argv(bad, tmp_path / "out"), capsys, [bad], tmp_path / "out", "bad.nii.gz")


@pytest.mark.parametrize("suffix", [".nii", ".mha"])
def test_truncated_raw_volume_is_refused(tmp_path, capsys, suffix):
    path = tmp_path / f"raw{suffix}"
    sitk.WriteImage(sitk.GetImageFromArray(small_ct().voxels), str(path), False)  # uncompressed
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 5000])
    _refused(plan_argv(path, tmp_path / "out"), capsys, [path], tmp_path / "out", "truncated")


@needs_real_data
@pytest.mark.parametrize("fraction", [0.5, 0.9])
def test_truncated_real_ct_is_refused(tmp_path, capsys, fraction):
    whole = (DATA / "ct_T11_S1_3mm.nii.gz").read_bytes()
    cut = tmp_path / "ct.nii.gz"
    cut.write_bytes(whole[: int(len(whole) * fraction)])
    _refused(plan_argv(cut, tmp_path / "out"), capsys, [cut], tmp_path / "out", "damaged")


def _dicom_copy(tmp_path, keep=None, twice=False) -> Path:
    folder = tmp_path / "dicom"
    folder.mkdir()
    files = sorted((DATA / "dicom_T11_T12").iterdir())
    for k, f in enumerate(files):
        if keep is None or keep(k):
            shutil.copy(f, folder / f.name)
            if twice:
                shutil.copy(f, folder / (f.name + ".copy"))
    return folder


@needs_real_data
def test_dicom_missing_slice_is_refused(tmp_path, capsys):
    folder = _dicom_copy(tmp_path, keep=lambda k: k != 9)
    err = _refused(plan_argv(folder, tmp_path / "out"), capsys, [folder], tmp_path / "out", "missing", "4.000 mm")
    assert "2.000 mm" in err  # the series' own spacing is named


@needs_real_data
def test_dicom_every_slice_twice_is_refused(tmp_path, capsys):
    folder = _dicom_copy(tmp_path, twice=True)
    _refused(plan_argv(folder, tmp_path / "out"), capsys, [folder], tmp_path / "out", "present twice")


@needs_real_data
def test_dicom_corrupt_slice_is_refused(tmp_path, capsys):
    folder = _dicom_copy(tmp_path)
    victim = sorted(folder.iterdir())[7]
    victim.write_bytes(victim.read_bytes()[:300])  # header cut: GDCM skips it, the series has a hole
    _refused(plan_argv(folder, tmp_path / "out"), capsys, [folder], tmp_path / "out", victim.name)


def test_dicom_unevenly_spaced_slices_are_refused(tmp_path, capsys):
    folder = tmp_path / "uneven"
    write_dicom_slices(folder, [0.0, 2.0, 4.0, 6.5, 8.5, 10.5])
    _refused(plan_argv(folder, tmp_path / "out"), capsys, [folder], tmp_path / "out", "unevenly spaced", "2.500 mm")


def test_dicom_even_slices_read_with_their_spacing(tmp_path):
    folder = tmp_path / "even"
    write_dicom_slices(folder, [0.0, 2.5, 5.0, 7.5])
    assert np.isclose(read_ct(folder).spacing[2], 2.5)


def _float_ct(tmp_path, poison):
    ct = small_ct()
    voxels = ct.voxels.astype(np.float32)
    poison(voxels)
    path = tmp_path / "float.nrrd"
    from PVPGuideLib.io.ct_io import sitk_image_from_volume

    sitk.WriteImage(sitk_image_from_volume(ct.with_voxels(voxels)), str(path), False)  # raw: no expansion limit
    return path


@pytest.mark.parametrize("poison", [lambda v: v.__setitem__((slice(10, 12),), np.nan),
                                    lambda v: v.__setitem__((0, 0, 0), np.inf),
                                    lambda v: v.fill(np.nan)], ids=["nan-slab", "one-inf", "all-nan"])
def test_non_finite_voxels_are_refused(tmp_path, capsys, poison, recwarn):
    path = _float_ct(tmp_path, poison)
    _refused(plan_argv(path, tmp_path / "out"), capsys, [path], tmp_path / "out", "not finite")
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def _nrrd_with_directions(tmp_path, directions: str, name="odd.nrrd") -> Path:
    """A raw NRRD written by hand, so its header says exactly what the test needs."""
    voxels = small_ct().voxels
    k, j, i = voxels.shape
    header = (f"NRRD0004\ntype: short\ndimension: 3\nspace: left-posterior-superior\nsizes: {i} {j} {k}\n"
              f"space directions: {directions}\nkinds: domain domain domain\nendian: little\nencoding: raw\n"
              "space origin: (0,0,0)\n\n")
    path = tmp_path / name
    path.write_bytes(header.encode("ascii") + voxels.astype("<i2").tobytes())
    return path


def test_sheared_direction_is_refused(tmp_path, capsys):
    path = _nrrd_with_directions(tmp_path, "(1,0,0) (0.5,1,0) (0,0,2)")  # j axis leans 26.6 deg onto i
    _refused(plan_argv(path, tmp_path / "out"), capsys, [path], tmp_path / "out", "not orthogonal")


def test_implausible_voxel_size_is_refused_and_can_be_overridden(tmp_path, capsys, monkeypatch):
    path = _nrrd_with_directions(tmp_path, "(50,0,0) (0,50,0) (0,0,50)")
    _refused(plan_argv(path, tmp_path / "out"), capsys, [path], tmp_path / "out", "50 x 50 x 50 mm",
             "0.05-12 mm", "--voxel-size-range")
    monkeypatch.setenv(ENV_VOXEL_RANGE, "0.05,60")  # what --voxel-size-range 0.05,60 sets
    assert np.allclose(read_ct(path).spacing, 50.0)


def test_voxel_size_range_option_is_applied(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(ENV_VOXEL_RANGE, raising=False)
    path = _nrrd_with_directions(tmp_path, "(1,0,0) (0,1,0) (0,0,2)")
    code, err = run_cli(plan_argv(path, tmp_path / "out", "--voxel-size-range", "1.5,3"), capsys)
    assert code == 2 and "1.5-3 mm" in err
    monkeypatch.delenv(ENV_VOXEL_RANGE, raising=False)


def test_decompression_bomb_is_refused(tmp_path, capsys):
    # 280^3 int16 of one value: 42 MiB of voxels in a file of about 50 KiB
    image = sitk.Image([280, 280, 280], sitk.sitkInt16)
    path = tmp_path / "bomb.nii.gz"
    sitk.WriteImage(image, str(path), True)
    ratio = 280 ** 3 * 2 / path.stat().st_size
    assert ratio > 100
    _refused(plan_argv(path, tmp_path / "out"), capsys, [path], tmp_path / "out", "times", "--max-expansion")


def test_volume_size_limit_is_configurable(tmp_path, capsys, ct_nrrd):
    _refused(plan_argv(ct_nrrd, tmp_path / "out", "--max-volume-mb", "0.5"), capsys, [ct_nrrd], tmp_path / "out",
             "more than the limit of 0 MiB", "--max-volume-mb")
    os.environ.pop("PVPGUIDE_MAX_VOLUME_MB", None)


def test_fifo_as_ct_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "ct.nrrd"
    os.mkfifo(fifo)
    result = subprocess.run([sys.executable, "-m", "PVPGuideLib.cli", *map(str, plan_argv(fifo, tmp_path / "out"))],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "not a regular file" in result.stderr


def test_symlink_loop_is_refused(tmp_path, capsys):
    loop = tmp_path / "a.nrrd"
    os.symlink(tmp_path / "b.nrrd", loop)
    os.symlink(loop, tmp_path / "b.nrrd")
    code, err = run_cli(plan_argv(loop, tmp_path / "out"), capsys)
    assert code == 2 and "symbolic link loop" in err and "Traceback" not in err


@pytest.mark.parametrize("data_file", ["ABSOLUTE", "../outside.raw"])
def test_detached_header_outside_its_folder_is_refused(tmp_path, capsys, data_file):
    voxels = small_ct().voxels
    outside = tmp_path / "outside.raw"
    outside.write_bytes(voxels.astype("<i2").tobytes())
    folder = tmp_path / "scan"
    folder.mkdir()
    k, j, i = voxels.shape
    name = str(outside) if data_file == "ABSOLUTE" else data_file
    header = folder / "ct.nhdr"
    header.write_text(f"NRRD0004\ntype: short\ndimension: 3\nsizes: {i} {j} {k}\nspacings: 1 1 2\nendian: little\n"
                      f"encoding: raw\ndata file: {name}\n\n")
    _refused(plan_argv(header, tmp_path / "out"), capsys, [header, outside], tmp_path / "out", "ct.nhdr")


def test_b_and_c_swapped_is_refused(tmp_path, capsys, ct_nrrd):
    from reliability_helpers import B, C

    argv = ["plan", "--ct", ct_nrrd, "--b", fmt(C), "--c", fmt(B), "--out", tmp_path / "out", "--quiet"]
    _refused(argv, capsys, [ct_nrrd], tmp_path / "out", "anterior", "swap --b and --c")


# ---- label maps that disagree with the CT ------------------------------------------------------------------


def _flip_superior_header(source: Path, target: Path) -> None:
    """The same label voxels with the superior axis reversed in the header, over the same extent."""
    image = sitk.ReadImage(str(source))
    direction = np.array(image.GetDirection()).reshape(3, 3)
    origin = np.array(image.GetOrigin())
    k_axis = direction[:, 2] * image.GetSpacing()[2]
    flipped = direction.copy()
    flipped[:, 2] = -direction[:, 2]
    image.SetDirection(tuple(flipped.ravel()))
    image.SetOrigin(tuple(origin + k_axis * (image.GetSize()[2] - 1)))  # first slice now at the old last one
    sitk.WriteImage(image, str(target), True)


@needs_real_data
def test_label_map_with_reversed_superior_axis_is_refused(tmp_path, capsys):
    labels = tmp_path / "labels_flipped.nii.gz"
    _flip_superior_header(DATA / "labels_T11_S1_3mm.nii.gz", labels)
    ct = DATA / "ct_T11_S1_3mm.nii.gz"
    argv = ["plan", "--ct", ct, "--segmentation", labels, "--label", "31", "--out", tmp_path / "out", "--quiet"]
    _refused(argv, capsys, [labels, ct], tmp_path / "out", "labels_flipped.nii.gz", "header")


@needs_real_data
def test_label_map_of_another_position_is_refused(tmp_path, capsys):
    # The labels moved 100 mm anteriorly in the header (LPS origin: P decreases): L2 lands in the abdomen.
    image = sitk.ReadImage(str(DATA / "labels_T11_S1_3mm.nii.gz"))
    origin = np.array(image.GetOrigin())
    image.SetOrigin(tuple(origin - [0.0, 100.0, 0.0]))
    image.SetDirection(image.GetDirection())
    shifted = tmp_path / "labels_shifted.nii.gz"
    arr = sitk.GetArrayFromImage(image)
    out_image = sitk.GetImageFromArray(arr)
    out_image.CopyInformation(image)
    sitk.WriteImage(out_image, str(shifted), True)
    ct = DATA / "ct_T11_S1_3mm.nii.gz"
    argv = ["plan", "--ct", ct, "--segmentation", shifted, "--label", "30", "--out", tmp_path / "out", "--quiet"]
    _refused(argv, capsys, [shifted, ct], tmp_path / "out", "does not lie on the CT's bone")


def test_label_levels_out_of_anatomical_order_are_refused(tmp_path, capsys):
    from PVPGuideLib.phantom.build import generate_phantom

    phantom = generate_phantom(seed=0)
    ct_path, labels_path = tmp_path / "ct.nrrd", tmp_path / "labels.nrrd"
    write_volume(phantom.ct, ct_path)
    # The phantom's T12 and L2 swapped (its vertebrae sit along +S): L1 stays on its bone, the order breaks.
    voxels = phantom.labels.voxels.copy()
    t12, l2 = voxels == 32, voxels == 30
    voxels[t12], voxels[l2] = 30, 32
    write_volume(phantom.labels.with_voxels(voxels), labels_path)
    argv = ["plan", "--ct", ct_path, "--segmentation", labels_path, "--label", "31", "--out", tmp_path / "out",
            "--quiet"]
    _refused(argv, capsys, [ct_path, labels_path], tmp_path / "out", "L1 lies below L2", "superior axis")


def test_gzip_helper_reads_what_gzip_wrote(tmp_path):
    # The truncation check counts what gzip itself wrote: a whole file is not refused.
    path = _volume_file(tmp_path, ".nii.gz")
    with gzip.open(path) as stream:
        assert len(stream.read()) >= small_ct().voxels.nbytes
    assert read_ct(path).voxels.shape == small_ct().voxels.shape
