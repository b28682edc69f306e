"""Test set-up: make the test helpers in this folder importable."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def phantom():
    """The phantom the module's scenarios run on (PVPGuideLib.mrml.scenarios.scenario_phantom)."""
    from PVPGuideLib.mrml import scenarios

    return scenarios.scenario_phantom()


@pytest.fixture
def scene():
    """A new real MRML scene (slicer-core) with the markups and segmentations logics attached."""
    from PVPGuideLib.mrml.scene import new_scene

    return new_scene()
