"""Skin grid locator on the phantom: found on the skin (spacing, directions, A's crossing and offsets against
the mat's construction), refused when absent or ambiguous; grids given by hand."""

import numpy as np
import pytest
from grid_checks import chord_errors, fraction_outside, last_row_inside, location_errors, skin_points

from PVPGuideLib.grid import GridConvention, GridError, attach_grid, detect_grid, given_grid, grid_from_points
from PVPGuideLib.phantom.build import generate_phantom
from PVPGuideLib.phantom.grid import EllipseDrape, GridLayout, burn_grid, lay_grid_on_phantom
from PVPGuideLib.planning.plan import build_plan, plan_trajectory
from PVPGuideLib.planning.skin import skin_surface

# Grids whose caudal third hangs below the phantom's field of view (S -50 to 47 mm): rows counted from the
# cranial end stay the mat's own numbers.
CASES = {
    "1.5mm-voxels-12mm-grid-turned-15": ((1.5, 1.5, 1.5), dict(spacing_mm=12.0, rotation_deg=-15.0, rows=10, columns=11,
                                                              centre=(4.0, -34.0))),
    "3mm-voxels-20mm-grid-turned+15": ((3.0, 3.0, 3.0), dict(spacing_mm=20.0, rotation_deg=15.0, rows=7, columns=7,
                                                           centre=(-6.0, -30.0))),
    "0.9x2mm-voxels-10mm-grid-turned+8": ((0.9, 0.9, 2.0), dict(spacing_mm=10.0, rotation_deg=8.0, rows=13, columns=13,
                                                              centre=(0.0, -33.0))),
}


@pytest.fixture(scope="module")
def phantoms():
    return {spacing: generate_phantom(spacing=spacing) for spacing, _ in CASES.values()}


@pytest.mark.parametrize("case", sorted(CASES))
def test_grid_found_on_the_phantom_skin(phantoms, case):
    spacing, options = CASES[case]
    layout = GridLayout(**options)
    phantom = lay_grid_on_phantom(phantoms[spacing], layout)
    truth = phantom.truth["skin_grid"]
    assert fraction_outside(phantom.ct, truth) >= 1 / 3 - 0.02  # the case really has a third outside the CT
    grid = detect_grid(phantom.ct)
    assert abs(grid.spacing_mm - layout.spacing_mm) <= 0.3
    assert grid.columns == layout.columns and grid.missing_rows == () and grid.missing_columns == ()
    last_row = grid.rows
    row_error, column_error = chord_errors(grid, truth, last_row_inside(phantom.ct, truth), layout.columns)
    assert row_error <= 1.0 and column_error <= 1.0
    drape = EllipseDrape.from_truth(phantom.truth)
    points, rows, columns = skin_points(layout, drape, 150, rows=(1.0, last_row))
    wrong, along_row, along_column = location_errors(grid, layout, points, rows, columns)
    assert wrong == 0
    assert along_row <= 1.0 and along_column <= 1.0
    assert grid.fit_residual_mm <= max(1.0, 0.5 * max(spacing))


def test_planned_a_on_the_grid(phantoms):
    """A found by planning the phantom's constructed B and C: its crossing and offsets from the mat's truth."""
    layout = GridLayout(spacing_mm=15.0, rotation_deg=10.0, rows=7, columns=11, centre=(0.0, -10.0))
    phantom = lay_grid_on_phantom(phantoms[(1.5, 1.5, 1.5)], layout)
    level = phantom.truth["levels"]["L1"]["plans"]
    skin = skin_surface(phantom.ct)
    trajectories = [plan_trajectory(phantom.ct, skin, b=level[s]["B"], c=level[s]["C"], side=s, level="L1")
                    for s in ("left", "right")]
    plan = attach_grid(build_plan(phantom.ct, skin, trajectories), detect_grid(phantom.ct))
    drape = EllipseDrape.from_truth(phantom.truth)
    for t in plan.trajectories:
        row, column = layout.grid_coordinates(drape.to_flat(t.a))
        found = t.grid_position
        assert (found.row, found.column) == (round(row[0]), round(column[0]))
        assert abs(found.residual_u_mm - (column[0] - found.column) * 15.0) <= 1.0
        assert abs(found.residual_v_mm - (row[0] - found.row) * 15.0) <= 1.0
        assert found.inside_grid
        assert (found.cell_row, found.cell_column) == (int(np.floor(row[0])), int(np.floor(column[0])))


def test_interior_missing_wires_are_counted(phantoms):
    layout = GridLayout(spacing_mm=15.0, rotation_deg=5.0, rows=6, columns=9, centre=(0.0, 0.0),
                        missing_rows=(3,), missing_columns=(5,))
    phantom = lay_grid_on_phantom(phantoms[(1.5, 1.5, 1.5)], layout)
    grid = detect_grid(phantom.ct)
    assert grid.missing_rows == (3,) and grid.missing_columns == (5,)
    assert any("not seen in the CT" in w for w in grid.warnings)
    points, rows, columns = skin_points(layout, EllipseDrape.from_truth(phantom.truth), 100, rows=(1.0, 6.0))
    wrong, along_row, along_column = location_errors(grid, layout, points, rows, columns)
    assert wrong == 0 and along_row <= 1.0 and along_column <= 1.0


@pytest.mark.parametrize("missing", [{"missing_rows": (1,)}, {"missing_columns": (1,)}])
def test_missing_first_wire_is_refused(phantoms, missing):
    """Without the first row (column) every number would shift by one: refused, never a wrong crossing."""
    layout = GridLayout(spacing_mm=15.0, rotation_deg=-6.0, rows=6, columns=9, centre=(0.0, 0.0), **missing)
    phantom = lay_grid_on_phantom(phantoms[(1.5, 1.5, 1.5)], layout)
    with pytest.raises(GridError, match="missing in the CT"):
        detect_grid(phantom.ct)


def test_grid_cut_at_the_cranial_end_warns(phantoms):
    # Row 5 lies at S 35 mm, row 4 beyond the CT's top (47 mm): the columns run 12 mm on past row 5 to the edge.
    layout = GridLayout(spacing_mm=15.0, rotation_deg=0.0, rows=8, columns=9, centre=(0.0, 42.5))
    phantom = lay_grid_on_phantom(phantoms[(1.5, 1.5, 1.5)], layout)
    grid = detect_grid(phantom.ct)
    assert any("runs out of the CT on the cranial side" in w for w in grid.warnings)


def test_no_grid(phantoms):
    with pytest.raises(GridError, match="no grid found"):
        detect_grid(phantoms[(1.5, 1.5, 1.5)].ct)


def test_grid_off_the_skin_is_refused(phantoms):
    """A grid 8 mm behind the back (on a support; the phantom holds 10 mm of air) is not on the skin."""
    phantom = phantoms[(1.5, 1.5, 1.5)]
    layout = GridLayout(spacing_mm=15.0, rows=5, columns=9, centre=(0.0, 0.0), lift_mm=8.0)
    ct, _ = burn_grid(phantom.ct, layout, EllipseDrape.from_truth(phantom.truth))
    with pytest.raises(GridError, match="away from it"):
        detect_grid(ct)


# (Two equal grids shifted by exactly half a spacing make one grid of half the spacing: every crossing exists.)
@pytest.mark.parametrize("second", [dict(rotation_deg=20.0), dict(centre=(4.0, 4.0)), dict(spacing_mm=11.0)],
                         ids=["turned", "shifted", "other-spacing"])
def test_two_overlapping_grids_are_refused(phantoms, second):
    phantom = phantoms[(1.5, 1.5, 1.5)]
    drape = EllipseDrape.from_truth(phantom.truth)
    base = dict(spacing_mm=15.0, rows=6, columns=9, centre=(0.0, 0.0))
    ct, _ = burn_grid(phantom.ct, GridLayout(**base), drape)
    ct, _ = burn_grid(ct, GridLayout(**{**base, **second}), drape)
    with pytest.raises(GridError):
        detect_grid(ct)


def test_given_grid_locates_on_its_plane():
    """A hand-given grid: A = origin + 2.3 spacings along the row + 4.8 along the column (+ 3 mm off the plane)."""
    row_dir, column_dir = np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, -1.0])
    grid = given_grid([10.0, -90.0, 40.0], row_dir, column_dir, 15.0)
    a = np.array([10.0, -90.0, 40.0]) + 2.3 * 15 * row_dir + 4.8 * 15 * column_dir + np.array([0.0, -3.0, 0.0])
    found = grid.locate(a)
    assert (found.row, found.column) == (1 + 5, 1 + 2)
    assert found.residual_u_mm == pytest.approx(0.3 * 15, abs=1e-9)
    assert found.residual_v_mm == pytest.approx(-0.2 * 15, abs=1e-9)
    assert abs(found.off_plane_mm) == pytest.approx(3.0, abs=1e-9)
    assert (found.cell_row, found.cell_column) == (5, 3)
    assert found.inside_grid is None
    same = grid_from_points([10.0, -90.0, 40.0], [50.0, -90.0, 40.0], [10.0, -90.0, -20.0], 15.0)
    assert same.locate(a) == found
    zero_based = given_grid([10.0, -90.0, 40.0], row_dir, column_dir, 15.0, convention=GridConvention(first_index=0))
    assert (zero_based.locate(a).row, zero_based.locate(a).column) == (5, 2)


@pytest.mark.parametrize("args, match", [
    (([0, 0, 0], [1, 0, 0], [0.3, 0, 1], 15.0), "perpendicular"),
    (([0, 0, 0], [1, 0, 0], [0, 0, 1], 0.0), "positive"),
    (([0, 0, 0], [0, 0, 0], [0, 0, 1], 15.0), "zero length"),
])
def test_given_grid_refuses_bad_numbers(args, match):
    with pytest.raises(ValueError, match=match):
        given_grid(*args)
