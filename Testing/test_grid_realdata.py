"""Skin grid locator on the real 3 mm CT (TotalSegmentator sample) with a grid burnt onto its back. The scan
holds only about 8 mm of air behind the back (the table is cropped), so a grid off the skin is tested on the
phantom (test_grid.py). Skipped when ../shared/data/totalseg_example is absent."""

from pathlib import Path

import pytest
from grid_burn import SkinHeightDrape
from grid_checks import chord_errors, fraction_outside, last_row_inside, location_errors, skin_points

from PVPGuideLib.grid import GridError, detect_grid
from PVPGuideLib.phantom.grid import GridLayout, burn_grid

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "totalseg_example"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"real CT sample folder {DATA} is absent")
# The scan starts at S 94 mm; the grids' centres sit so that their caudal third hangs below it.
CASES = {
    "15mm-turned+15": dict(spacing_mm=15.0, rotation_deg=15.0, rows=9, columns=9, centre=(0.0, -2.0)),
    "10mm-turned-12": dict(spacing_mm=10.0, rotation_deg=-12.0, rows=12, columns=13, centre=(5.0, -4.0)),
    "20mm-turned+5": dict(spacing_mm=20.0, rotation_deg=5.0, rows=7, columns=7, centre=(-5.0, -2.0)),
}


@pytest.fixture(scope="module")
def real():
    from PVPGuideLib.io.ct_io import read_ct

    ct = read_ct(DATA / "ct_T11_S1_3mm.nii.gz")
    # Flat (0, 0) on the back's midline (the body's centre in R) at S 114 mm.
    return ct, SkinHeightDrape(ct, centre_r=5.0, centre_s=114.0)


@pytest.mark.parametrize("case", sorted(CASES))
def test_burnt_grid_found_on_the_real_ct(real, case):
    ct, drape = real
    layout = GridLayout(**CASES[case])
    burnt, truth = burn_grid(ct, layout, drape)
    assert fraction_outside(burnt, truth) >= 1 / 3 - 0.02
    grid = detect_grid(burnt)
    assert abs(grid.spacing_mm - layout.spacing_mm) <= 0.3
    assert grid.columns == layout.columns
    row_error, column_error = chord_errors(grid, truth, last_row_inside(burnt, truth), layout.columns)
    assert row_error <= 1.0 and column_error <= 1.0
    points, rows, columns = skin_points(layout, drape, 150, rows=(1.0, grid.rows))
    wrong, along_row, along_column = location_errors(grid, layout, points, rows, columns)
    assert wrong == 0
    assert along_row <= 1.0 and along_column <= 1.0


def test_real_ct_without_grid_is_refused(real):
    with pytest.raises(GridError, match="no grid"):
        detect_grid(real[0])


def test_real_ct_missing_first_column_is_refused(real):
    ct, drape = real
    layout = GridLayout(spacing_mm=15.0, rotation_deg=7.0, rows=6, columns=9, centre=(0.0, 60.0), missing_columns=(1,))
    burnt, _ = burn_grid(ct, layout, drape)
    with pytest.raises(GridError, match="missing in the CT"):
        detect_grid(burnt)
