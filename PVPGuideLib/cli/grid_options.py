"""`pvpguide plan` options for the skin grid locator: found on the CT (--grid auto) or given by hand."""

from __future__ import annotations

from .common import ras_point

GRID_HELP = """skin grid locator (docs/grid-locator.md): --grid auto finds a CT-visible grid on the skin of the back;
or give it by hand: --grid-origin (crossing row 1, column 1), the direction along the rows (--grid-row-dir, or a
point along row 1 --grid-row-point) and along the columns (--grid-col-dir / --grid-col-point), and --grid-spacing.
A is then also given as the nearest crossing (row, column), its offsets on the skin and its cell."""


def add_grid_options(parser) -> None:
    group = parser.add_argument_group("skin grid locator", GRID_HELP)
    group.add_argument("--grid", choices=("none", "auto"), default="none",
                       help="auto: find the grid's wires on the CT (default none, unless the --grid-* numbers are given)")
    group.add_argument("--grid-origin", type=ras_point, metavar="R,A,S", help="crossing of the first row and column")
    group.add_argument("--grid-row-dir", type=ras_point, metavar="R,A,S",
                       help="direction along the rows, towards higher column numbers")
    group.add_argument("--grid-col-dir", type=ras_point, metavar="R,A,S",
                       help="direction along the columns, towards higher row numbers")
    group.add_argument("--grid-row-point", type=ras_point, metavar="R,A,S", help="a point along the first row")
    group.add_argument("--grid-col-point", type=ras_point, metavar="R,A,S", help="a point along the first column")
    group.add_argument("--grid-spacing", type=float, metavar="MM", help="distance between neighbouring wires (mm)")
    group.add_argument("--grid-rows-from", choices=("cranial", "caudal"), default="cranial",
                       help="found grids: rows are numbered from this end (default cranial)")
    group.add_argument("--grid-columns-from", choices=("left", "right"), default="left",
                       help="found grids: columns are numbered from the patient's left or right (default left)")
    group.add_argument("--grid-first-index", type=int, default=1, metavar="N", help="number of the first row and column "
                       "(default 1)")


def wants_grid(args) -> bool:
    return args.grid == "auto" or any(getattr(args, name) is not None for name in _GIVEN)


_GIVEN = ("grid_origin", "grid_row_dir", "grid_col_dir", "grid_row_point", "grid_col_point", "grid_spacing")


def grid_from_args(args, ct):
    """The GridLocator the options ask for (None without any), found on the CT or built from the numbers."""
    from ..grid import GridConvention, GridError, detect_grid, given_grid

    if not wants_grid(args):
        return None
    convention = GridConvention(args.grid_rows_from, args.grid_columns_from, args.grid_first_index)
    given = [name for name in _GIVEN if getattr(args, name) is not None]
    if args.grid == "auto":
        if given:
            named = ", ".join("--" + n.replace("_", "-") for n in given)
            raise GridError(f"--grid auto finds the grid on the CT: leave out {named}")
        return detect_grid(ct, convention=convention)
    if args.grid_origin is None or args.grid_spacing is None:
        raise GridError("a grid given by hand needs --grid-origin and --grid-spacing, with --grid-row-dir (or "
                        "--grid-row-point) and --grid-col-dir (or --grid-col-point); or use --grid auto")
    row = _direction(args.grid_row_dir, args.grid_row_point, args.grid_origin, "row")
    column = _direction(args.grid_col_dir, args.grid_col_point, args.grid_origin, "col")
    return given_grid(args.grid_origin, row, column, args.grid_spacing, convention=convention)


def _direction(direction, point, origin, kind: str):
    from ..grid import GridError

    if (direction is None) == (point is None):
        raise GridError(f"give one of --grid-{kind}-dir or --grid-{kind}-point")
    return direction if direction is not None else point - origin
