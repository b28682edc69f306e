"""Ground-truth body heights and angles of the phantom's vertebrae, from its construction (phantom_shapes)."""

import math

import numpy as np

from PVPGuideLib import phantom_shapes as shapes
from PVPGuideLib.fracture.heights import THIRD_CENTRES


def _vertebra(name: str, wedge_fraction: float):
    return {v.name: v for v in shapes.build_spine(wedge_fraction)}[name]


def truth_heights(phantom_truth: dict, name: str) -> dict:
    """AVH, MVH, PVH by SPEC section 10 on the exact shapes: lines along the truth frame's superior axis at the
    centres of the thirds of the depth (the mid-height surface's crossings of the posterior and anterior walls,
    along the anterior axis), cut by the body's inferior plane and its (tilted) superior plane."""
    v = _vertebra(name, phantom_truth["parameters"]["wedge_fraction"] if name == "L1" else 0.0)
    rotation = np.asarray(phantom_truth["pose"]["rotation"], float)
    frame = phantom_truth["levels"][name]["frame"]
    anterior, superior = (rotation.T @ np.asarray(frame[k], float) for k in ("anterior", "superior"))
    origin = np.array([0.0, 0.0, v.z_mid(0.0)])
    d, k, yp = v.spec.depth, v.wedge_slope, v.posterior_y
    # The mid-sagittal section is the trapezoid between y = -d/2 (posterior wall) and y = +d/2 (the anterior
    # outline's front), z = z_inferior and the superior plane z = z_superior(y).
    wall = np.array([0.0, -0.5 * d, v.z_mid(-0.5 * d)])
    front = np.array([0.0, 0.5 * d, v.z_mid(0.5 * d)])
    y_wall, y_front = (wall - origin) @ anterior, (front - origin) @ anterior
    heights = {}
    for key, fraction in THIRD_CENTRES.items():
        start = origin + (y_wall + fraction * (y_front - y_wall)) * anterior
        t_bottom = (v.z_inferior - start[2]) / superior[2]
        t_top = (0.5 * v.spec.height - k * (start[1] - yp) - start[2]) / (superior[2] + k * superior[1])
        heights[key] = t_top - t_bottom
    return heights


def truth_wedge_deg(wedge_fraction: float, name: str = "L1") -> float:
    """The angle between the tilted superior endplate and the flat inferior one."""
    return math.degrees(math.atan(_vertebra(name, wedge_fraction).wedge_slope))
