"""The skin grid locator (Xie et al. 2023): find it on the CT or take it by hand, and give A by row and column."""

from .detect import detect_grid
from .errors import GridError
from .model import GridConvention, GridLocation, GridLocator, given_grid, grid_from_points
from .plan_hook import attach_grid

__all__ = ["GridConvention", "GridError", "GridLocation", "GridLocator", "attach_grid", "detect_grid",
           "given_grid", "grid_from_points"]
