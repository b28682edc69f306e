"""Slicer imports PVPGuide/PVPGuide.py at every start: its library imports stay light (no scipy, no scenarios)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TREE = ast.parse((ROOT / "PVPGuide" / "PVPGuide.py").read_text(encoding="utf-8"))
HEAVY = ("scipy", "SimpleITK", "trimesh", "manifold3d", "PVPGuideLib.testing", "PVPGuideLib.cement", "PVPGuideLib.planning.skin",
         "PVPGuideLib.planning.plan", "PVPGuideLib.mrml.planning_logic")


def test_module_level_library_imports_load_nothing_heavy():
    modules = [n.module for n in TREE.body if isinstance(n, ast.ImportFrom) and n.module.startswith("PVPGuideLib")]
    assert "PVPGuideLib.mrml.planning_fields" in modules
    script = "import sys\n" + "".join(f"import {m}\n" for m in modules) + (
        f"print(sorted(h for h in {HEAVY!r} if h in sys.modules))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]", f"imported at Slicer start: {run.stdout}"


def test_light_field_constants_equal_the_library_ones():
    from PVPGuideLib.cement.plan_section import DEFAULT_PLANNED_VOLUME_ML
    from PVPGuideLib.guide.stl import COORDINATE_SYSTEMS
    from PVPGuideLib.mrml import planning_fields
    from PVPGuideLib.planning.skin import SKIN_THRESHOLD_HU

    assert planning_fields.SKIN_THRESHOLD_HU == SKIN_THRESHOLD_HU
    assert planning_fields.DEFAULT_PLANNED_VOLUME_ML == DEFAULT_PLANNED_VOLUME_ML
    assert planning_fields.COORDINATE_SYSTEMS == COORDINATE_SYSTEMS
