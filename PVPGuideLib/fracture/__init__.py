"""Fracture measurements (SPEC section 10): body heights, normal heights, height loss, Genant grade, wedge and Cobb."""

from .errors import FractureError
from .heights import BodyHeights, measure_heights
from .measure import FractureMeasurement, measure_fracture
from .neighbours import adjacent_analyses

__all__ = ["BodyHeights", "FractureError", "FractureMeasurement", "adjacent_analyses", "measure_fracture",
           "measure_heights"]
