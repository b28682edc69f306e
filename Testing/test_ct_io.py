"""Reading CTs: LPS->RAS geometry from the file header, every format, and clear errors for bad input."""

import locale
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from synthetic import cylinder_ct, rotation_matrix

from PVPGuideLib.io.ct_io import CTReadError, read_ct, read_labelmap, write_volume

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "totalseg_example"
needs_real_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"real CT sample folder {DATA} is absent")


@pytest.mark.parametrize("suffix", [".nrrd", ".nii.gz", ".mha"])
def test_round_trip_keeps_oblique_geometry(tmp_path, suffix):
    ct = cylinder_ct(radius=20.0, half_size=(25.0, 25.0, 10.0), direction=rotation_matrix(10, 20, -30),
                     spacing=(0.7, 0.9, 1.5), centre=(5.0, -7.0, 30.0))
    path = tmp_path / f"ct{suffix}"
    write_volume(ct, path)
    back = read_ct(path)
    assert np.allclose(back.ijk_to_ras, ct.ijk_to_ras, atol=1e-4)
    assert np.array_equal(back.voxels, ct.voxels)


def test_sitk_lps_header_becomes_ras(tmp_path):
    # A file whose LPS origin is (10, 20, 30) with LPS direction identity: RAS origin (-10, -20, 30),
    # and the i axis points to patient left (RAS -R).
    image = sitk.GetImageFromArray(np.full((4, 5, 6), -1000, np.int16))
    image[0, 0, 0] = 500
    image.SetOrigin((10.0, 20.0, 30.0))
    image.SetSpacing((2.0, 3.0, 4.0))
    path = tmp_path / "lps.nrrd"
    sitk.WriteImage(image, str(path))
    ct = read_ct(path)
    assert np.allclose(ct.origin, [-10.0, -20.0, 30.0])
    assert np.allclose(ct.ijk_to_ras_points([1, 1, 1])[0], [-12.0, -23.0, 34.0])
    assert ct.voxels.shape == (4, 5, 6)


@needs_real_data
def test_real_nifti_and_dicom_geometry():
    ct = read_ct(DATA / "ct_T11_S1_3mm.nii.gz")
    # Header: LPS origin (177.956, -11.319, 94.302), LPS direction diag(-1, -1, 1), spacing 3 mm.
    assert np.allclose(ct.ijk_to_ras[:3, :3], np.diag([3.0, 3.0, 3.0]))
    assert np.allclose(ct.origin, [-177.956329, 11.319000, 94.301758], atol=1e-4)
    dicom = read_ct(DATA / "dicom_T11_T12")
    assert dicom.shape_ijk == (512, 512, 20)
    assert np.allclose(dicom.spacing, [0.9765625, 0.9765625, 2.0])
    labels = read_labelmap(DATA / "labels_dicom_T11_T12.nii.gz", dicom)
    # The label file stores its rows flipped (another direction matrix): resampled onto the DICOM grid,
    # T12 must sit on bone.
    t12 = labels.voxels == 32
    assert t12.sum() > 10000
    assert np.median(dicom.voxels[t12]) > 100


def test_missing_file(tmp_path):
    with pytest.raises(CTReadError, match="no such file"):
        read_ct(tmp_path / "absent.nrrd")


def test_unreadable_file(tmp_path):
    path = tmp_path / "notes.nrrd"
    path.write_text("this is not an image\n")
    with pytest.raises(CTReadError, match="cannot be read as an image"):
        read_ct(path)


def test_label_map_is_not_a_ct(tmp_path):
    labels = sitk.GetImageFromArray(np.zeros((5, 6, 7), np.uint8) + 3)
    path = tmp_path / "labels.nii.gz"
    sitk.WriteImage(labels, str(path))
    with pytest.raises(CTReadError, match="do not look like a CT"):
        read_ct(path)


def test_2d_image_is_not_a_ct(tmp_path):
    path = tmp_path / "slice.mha"
    sitk.WriteImage(sitk.GetImageFromArray(np.array([[-1000, 500], [0, 100]], np.int16)), str(path))
    with pytest.raises(CTReadError, match="3D volume"):
        read_ct(path)


def _write_dicom_series(folder: Path, series_uid: str, hu_offset: int):
    # GDCM's DICOM writer switches the process's C locale to "C", which would make Python's default
    # text encoding ASCII for every later test; put it back afterwards.
    saved_locale = locale.setlocale(locale.LC_ALL)
    try:
        _write_dicom_slices(folder, series_uid, hu_offset)
    finally:
        locale.setlocale(locale.LC_ALL, saved_locale)


def _write_dicom_slices(folder: Path, series_uid: str, hu_offset: int):
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(3):
        image = sitk.GetImageFromArray(np.arange(16, dtype=np.int16).reshape(4, 4) * 100 - 1000 + hu_offset)
        image.SetSpacing((1.0, 1.0))
        for tag, value in {
            "0008|0060": "CT",
            "0020|000d": "1.2.826.0.1.3680043.2.1125.1",
            "0020|000e": series_uid,
            "0020|0013": str(k + 1),
            "0020|0032": f"0\\0\\{2.0 * k}",
            "0020|0037": "1\\0\\0\\0\\1\\0",
            "0028|0030": "1\\1",
        }.items():
            image.SetMetaData(tag, value)
        writer = sitk.ImageFileWriter()
        writer.KeepOriginalImageUIDOn()
        writer.SetFileName(str(folder / f"{series_uid[-3:]}_{k}.dcm"))
        writer.Execute(image)


def test_dicom_folder_with_two_series(tmp_path):
    _write_dicom_series(tmp_path / "mixed", "1.2.826.0.1.3680043.2.1125.2.101", 0)
    _write_dicom_series(tmp_path / "mixed", "1.2.826.0.1.3680043.2.1125.2.202", 50)
    with pytest.raises(CTReadError, match="2 DICOM series"):
        read_ct(tmp_path / "mixed")


def test_dicom_folder_with_one_series_reads(tmp_path):
    _write_dicom_series(tmp_path / "one", "1.2.826.0.1.3680043.2.1125.2.101", 0)
    ct = read_ct(tmp_path / "one")
    assert ct.shape_ijk == (4, 4, 3)
    assert np.allclose(ct.spacing, [1.0, 1.0, 2.0])


def test_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CTReadError, match="no DICOM series"):
        read_ct(tmp_path)
