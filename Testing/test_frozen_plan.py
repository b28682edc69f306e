"""Plan and Trajectory are frozen all the way: their sections and artifacts cannot change in place; with_* copy."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from synthetic import cylinder_ct
from tolerances import ROUND_TRIP_MM

from PVPGuideLib.io.plan_json import plan_to_json, read_plan_json
from PVPGuideLib.planning.plan import build_plan, plan_trajectory
from PVPGuideLib.planning.skin import skin_surface

B, C = np.array([-8.0, -20.0, 0.0]), np.array([4.0, 6.0, 3.0])  # inside the cylinder, C in its bone cube


@pytest.fixture(scope="module")
def plan():
    ct = cylinder_ct(radius=40.0, half_size=(50.0, 50.0, 20.0))
    skin = skin_surface(ct)
    return build_plan(ct, skin, [plan_trajectory(ct, skin, b=B, c=C, level="L1")])


def _fields(plan):
    t = plan.trajectories[0]
    return {"trajectory.sections": t.sections, "trajectory.artifacts": t.artifacts,
            "plan.sections": plan.sections, "plan.artifacts": plan.artifacts}


@pytest.mark.parametrize("name", ["trajectory.sections", "trajectory.artifacts", "plan.sections", "plan.artifacts"])
def test_sections_and_artifacts_cannot_change_in_place(plan, name):
    attached = plan.with_sections(vertebrae={}).with_artifacts(guide_meshes={}).with_trajectories(
        [plan.trajectories[0].with_sections(safety={}).with_artifacts(drr={})])
    mapping = _fields(attached)[name]
    key = next(iter(mapping))
    with pytest.raises(TypeError):
        mapping["cement"] = {}
    with pytest.raises(TypeError):
        del mapping[key]
    for method, args in (("update", ({"cement": {}},)), ("setdefault", ("cement", {})), ("pop", (key,)),
                         ("clear", ())):
        with pytest.raises(AttributeError):
            getattr(mapping, method)(*args)
    assert list(mapping) == [key]


def test_the_plan_keeps_a_copy_of_what_it_was_given(plan):
    """Changing the dict a plan was built from does not reach the plan (the read-only view is over a copy)."""
    given = {"vertebrae": {"L1": {}}}
    built = dataclasses.replace(plan, sections=given)
    given["fracture"] = {}
    assert list(built.sections) == ["vertebrae"]


def test_sequences_and_attributes_are_frozen(plan):
    t = plan.trajectories[0]
    with pytest.raises(AttributeError):
        plan.trajectories.append(t)
    with pytest.raises(AttributeError):
        plan.warnings.append("x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.sections = {}
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.artifacts = {}
    listed = dataclasses.replace(plan, trajectories=[t], warnings=["w"])
    assert isinstance(listed.trajectories, tuple) and listed.warnings == ("w",)


def test_with_sections_returns_a_new_trajectory_and_leaves_the_original(plan):
    t = plan.trajectories[0]
    safety = {"verdict": "pass"}
    safe = t.with_sections(safety=safety)
    assert safe is not t and dict(safe.sections) == {"safety": safety} and dict(t.sections) == {}
    both = safe.with_sections(cement={"volume_ml": 4.5}).with_artifacts(cement_mask="mask")
    assert list(both.sections) == ["safety", "cement"] and dict(both.artifacts) == {"cement_mask": "mask"}
    assert list(safe.sections) == ["safety"] and dict(safe.artifacts) == {}
    # A section attached again keeps its place (plan.json's key order), with the new content.
    again = both.with_sections(safety={"verdict": "warn"})
    assert list(again.sections) == ["safety", "cement"] and again.sections["safety"] == {"verdict": "warn"}
    assert both.sections["safety"] == {"verdict": "pass"}
    # Everything else is the same measurement.
    assert again.b is t.b and again.c is t.c and again.a is t.a and again.lengths is t.lengths


def test_plan_with_functions_return_new_plans_and_leave_the_original(plan):
    t = plan.trajectories[0]
    changed = (plan.with_sections(proposal={"side_request": "auto"}).with_artifacts(vertebra_labels=("ct", {}))
               .with_trajectories([t.with_sections(safety={})]).with_warnings(["a new warning"]))
    assert dict(changed.sections) == {"proposal": {"side_request": "auto"}}
    assert dict(changed.artifacts) == {"vertebra_labels": ("ct", {})}
    assert changed.warnings == plan.warnings + ("a new warning",)
    assert list(changed.trajectories[0].sections) == ["safety"]
    assert dict(plan.sections) == {} and dict(plan.artifacts) == {} and dict(t.sections) == {}
    assert plan.trajectories == (t,) and "a new warning" not in plan.warnings
    assert changed.ct is plan.ct and changed.skin is plan.skin


def test_plan_json_round_trip_keeps_points_and_sections(plan, tmp_path):
    """plan.json written from a frozen plan reads back with A, B, C within a nanometre and the sections whole."""
    safety = {"verdict": "pass", "checks": {"spinal_canal": {"distance_mm": 1.0 / 3.0, "verdict": "pass"}}}
    cement = {"volume_ml": 4.5, "C": [0.1, 0.2, 0.3]}
    t = plan.trajectories[0].with_sections(safety=safety, cement=cement)
    attached = plan.with_trajectories([t]).with_sections(vertebrae={"L1": {"level": "L1"}})
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan_to_json(attached), allow_nan=False), encoding="utf-8")
    data = read_plan_json(path)
    written = data["trajectories"][0]
    assert t.a is not None  # the cylinder's skin is met on the way out from C through B
    for name, expected in (("A", t.a), ("B", B), ("C", C)):
        assert np.max(np.abs(np.array(written["points"][name]) - expected)) <= ROUND_TRIP_MM, name
    assert list(written)[-3:] == ["warnings", "safety", "cement"]  # sections after the measurements, in order
    assert written["safety"] == safety and written["cement"] == cement
    assert data["vertebrae"] == {"L1": {"level": "L1"}} and list(data)[-1] == "vertebrae"
