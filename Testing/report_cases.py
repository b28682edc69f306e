"""Plans for the report tests: a real plan on an analytic CT, plus capability sections shaped as plan.json holds them."""

import copy

import numpy as np
from synthetic import cylinder_ct, rotation_matrix

from PVPGuideLib.core.geometry import SkinGrid, VertebraFrame
from PVPGuideLib.io.plan_json import plan_to_json
from PVPGuideLib.planning.plan import VertebraLandmarks, build_plan, plan_trajectory
from PVPGuideLib.planning.skin import skin_surface

CENTRE = np.array([10.0, -20.0, 50.0])
B = CENTRE + [-8.0, -20.0, 0.0]
C = CENTRE + [4.0, 6.0, 3.0]


def cylinder_plan():
    """(plan, plan.json dict) of one left trajectory with a tilted vertebra frame and a skin grid."""
    ct = cylinder_ct(radius=60.0, centre=CENTRE, direction=rotation_matrix(0, 0, 15), spacing=(1.0, 1.0, 2.0))
    skin = skin_surface(ct)
    axes = rotation_matrix(4, -3, 6)
    frame = VertebraFrame.from_axes(origin=CENTRE, right=axes[:, 0], anterior=axes[:, 1], superior=axes[:, 2])
    landmarks = VertebraLandmarks(frame=frame, midline_point=CENTRE, midline_normal=axes[:, 0],
                                  spinous_tip=CENTRE + [0.0, -45.0, -4.0])
    grid = SkinGrid(origin=CENTRE + [0.0, -60.0, 0.0], u_axis=[1.0, 0, 0], v_axis=[0, 0, 1.0], spacing_mm=10.0)
    trajectory = plan_trajectory(ct, skin, b=B, c=C, side="left", level="L1", landmarks=landmarks, grid=grid)
    plan = build_plan(ct, skin, [trajectory], needle_gauge=11, grid=grid)
    return plan, plan_to_json(plan, ct_path="cylinder.nrrd")


def with_sections(data: dict) -> dict:
    """The plan with safety, cement and guide sections (keys as their capabilities document) and an unknown one."""
    data = copy.deepcopy(data)
    t = data["trajectories"][0]
    t["safety"] = {
        "verdict": "fail",
        "checks": {
            "canal_clearance": {"distance_mm": 4.26, "limit_mm": 2.0, "verdict": "pass"},
            "medial_pedicle_wall": {"distance_mm": 0.84, "limit_mm": 1.0, "verdict": "fail",
                                    "message": "the needle grazes the medial wall"},
            "anterior_cortex": {"distance_mm": 5.04, "verdict": "pass"},
            "superior_endplate": {"distance_mm": 2.96, "verdict": "warn"},
        },
        "needle_radius_mm": 1.525,
    }
    t["cement"] = {
        "side": "left", "bcv_ml": 4.5012, "vv_ml": 25.3071, "fill_percent": 17.786, "psbcv_ml": 3.6481,
        "psbcv_vv_percent": 14.415, "psbcv_vv_threshold_percent": 13.68, "psbcv_vv_over_threshold": True,
        "crosses_midline": True,
        "distribution_score": {"ap": 3, "lateral": 4, "total": 7, "coverage_threshold": 0.333333,
                               "ap_quadrants": {"superior_left": 0.51}},
        "endplate_contact": "superior", "pattern": "central",
        "nine_zones": {"c_zone": "anterior_right", "fractions": {
            f"{r}_{c}": 1 / 9 for r in ("anterior", "middle", "posterior") for c in ("left", "central", "right")}},
        "planned_volume_ml": 4.5,
    }
    t["guide"] = {"stl": "guide_L1_left.stl", "coordinate_system": "LPS", "watertight": True, "volume_mm3": 20123.46,
                  "min_wall_mm": 1.94, "min_wall_floor_mm": 1.5}
    t["proposal"] = {"distance_to_canal_mm": 6.349, "candidates": 12, "rule": "largest clearance"}
    data["cohort_note"] = {"site": "test", "follow_up_deg": 1.25}
    return data
