"""Ground-truth body heights and angles of the phantom's vertebrae, from its construction (phantom_shapes)."""

import math

import numpy as np
from scipy.optimize import brentq

from PVPGuideLib.phantom.build import shapes

# SPEC section 10 read at the centres of the thirds of the depth, in front of the posterior wall (stated here, not
# imported, so a change of the program's positions shows as a failure).
THIRD_CENTRES = {"anterior": 5.0 / 6.0, "middle": 0.5, "posterior": 1.0 / 6.0}


def _vertebra(name: str, parameters: dict):
    fractions = [parameters.get(k, 0.0) for k in ("wedge_fraction", "biconcave_fraction", "crush_fraction")]
    return {v.name: v for v in shapes.build_spine(*fractions)}[name]


def truth_heights(phantom_truth: dict, name: str) -> dict:
    """AVH, MVH, PVH by SPEC section 10 on the exact shapes: lines along the truth frame's superior axis at the
    centres of the thirds of the depth (the mid-height surface's crossings of the posterior and anterior walls,
    along the anterior axis), cut by the body's exact inferior and superior endplate surfaces."""
    v = _vertebra(name, phantom_truth["parameters"])
    rotation = np.asarray(phantom_truth["pose"]["rotation"], float)
    frame = phantom_truth["levels"][name]["frame"]
    anterior, superior = (rotation.T @ np.asarray(frame[k], float) for k in ("anterior", "superior"))
    origin = np.array([0.0, 0.0, v.z_mid(0.0)])
    d = v.spec.depth
    # The mid-sagittal section lies between y = -d/2 (posterior wall) and y = +d/2 (the anterior outline's front),
    # below z = z_superior(y, x) and above z = z_inferior(x, y).
    wall = np.array([0.0, -0.5 * d, v.z_mid(-0.5 * d)])
    front = np.array([0.0, 0.5 * d, v.z_mid(0.5 * d)])
    y_wall, y_front = (wall - origin) @ anterior, (front - origin) @ anterior
    heights = {}
    for key, fraction in THIRD_CENTRES.items():
        start = origin + (y_wall + fraction * (y_front - y_wall)) * anterior
        def above_top(t, start=start):
            p = start + t * superior
            return p[2] - v.z_superior(p[1], p[0])

        def above_bottom(t, start=start):
            p = start + t * superior
            return p[2] - v.z_inferior(p[0], p[1])

        heights[key] = brentq(above_top, -40.0, 40.0, xtol=1e-9) - brentq(above_bottom, -40.0, 40.0, xtol=1e-9)
    return heights


def truth_wedge_deg(parameters: dict, name: str = "L1") -> float:
    """The angle between the tilted superior endplate and the inferior one (a dent is symmetric: no tilt)."""
    return math.degrees(math.atan(_vertebra(name, parameters).wedge_slope))
