"""Guide plates for a whole plan (what `pvpguide plan/demo` call): the phantom planned on both sides of L1."""

import json

import numpy as np
from guide_print_checks import require_slicer
from guide_synthetic import assert_printable
from phantom_truth import landmarks_from_truth

from PVPGuideLib.guide import plan_guides, read_stl
from PVPGuideLib.phantom.build import generate_phantom
from PVPGuideLib.planning.plan import build_plan, plan_trajectory
from PVPGuideLib.planning.plan_guide import add_guide_plates
from PVPGuideLib.planning.skin import skin_surface


def test_plan_gets_one_bilateral_plate_and_a_json_ready_section(tmp_path):
    phantom = generate_phantom()
    skin = skin_surface(phantom.ct)
    level = phantom.truth["levels"]["L1"]
    trajectories = [plan_trajectory(phantom.ct, skin, b=level["plans"][side]["B"], c=level["plans"][side]["C"],
                                    side=side, level="L1", landmarks=landmarks_from_truth(level))
                    for side in ("left", "right")]
    plan = build_plan(phantom.ct, skin, trajectories, needle_gauge=11)
    (result, section), = plan_guides(plan, tmp_path)
    assert section["stl"] == "guide_L1_bilateral.stl" and section["passes"], section["warnings"]
    assert json.loads(json.dumps(section)) == section  # plain JSON types only
    assert [s["needle_gauge"] for s in section["sleeves"]] == [11, 11]
    mesh = read_stl(tmp_path / section["stl"]).mesh
    assert_printable(mesh)
    assert np.array_equal(mesh.vertices, result.mesh.vertices)
    # Without the skin entry A there is no plate, and the section says why.
    missing = build_plan(phantom.ct, skin, [trajectories[0].__class__(**{**trajectories[0].__dict__, "a": None})],
                         needle_gauge=11)
    (nothing, failed), = plan_guides(missing, tmp_path / "none")
    assert nothing is None and failed["stl"] is None and "missing" in failed["error"]


def test_plan_time_plate_gets_printer_estimates(tmp_path):
    """With slicing on, the plan's guide section carries PrusaSlicer's estimate for the default profile; off, it says
    "not sliced" and still suggests an orientation."""
    require_slicer()
    phantom = generate_phantom()
    skin = skin_surface(phantom.ct)
    level = phantom.truth["levels"]["L1"]
    trajectory = plan_trajectory(phantom.ct, skin, b=level["plans"]["left"]["B"], c=level["plans"]["left"]["C"],
                                 side="left", level="L1", landmarks=landmarks_from_truth(level))
    sliced = build_plan(phantom.ct, skin, [trajectory], needle_gauge=11)
    sliced = add_guide_plates(sliced, tmp_path / "on", slicing=True)
    printed = sliced.trajectories[0].sections["guide"]["print"]
    assert printed["sliced"] is True and printed["slicer"] == "PrusaSlicer", printed
    # A solid PLA plate of a few cm3 prints in minutes to hours, never in no time.
    assert printed["print_time_s"] > 60 and printed["filament_mm"] > 0, printed
    unsliced = build_plan(phantom.ct, skin, [trajectory], needle_gauge=11)
    unsliced = add_guide_plates(unsliced, tmp_path / "off", slicing=False)
    off = unsliced.trajectories[0].sections["guide"]["print"]
    assert off["sliced"] is False and "not sliced" in off["message"] and off["orientation"] == printed["orientation"]
