"""Testing/conftest.py's CI rules: missing real data fails in CI, slicer-core tests skip only in the Slicer-stack jobs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TESTS = """
import pytest
from conftest import SHARED_DATA

@pytest.mark.skipif(True, reason=f"real CT sample not found at {SHARED_DATA / 'totalseg_example'}")
def test_real_data():
    pass

def test_plain():
    pass
"""


@pytest.fixture
def project(tmp_path):
    """tmp/project/Testing with this conftest, and tmp/shared/data/totalseg_example beside the project."""
    testing = tmp_path / "project" / "Testing"
    testing.mkdir(parents=True)
    shutil.copy(HERE / "conftest.py", testing / "conftest.py")
    (testing / "test_sample.py").write_text(TESTS)
    (testing / "test_planning_session.py").write_text("def test_needs_mrml():\n    pass\n")
    (tmp_path / "shared" / "data" / "totalseg_example").mkdir(parents=True)
    return tmp_path


def _pytest(project: Path, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PVPGUIDE_")}
    environment.update(env)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", "-q", "Testing"],
                          cwd=project / "project", capture_output=True, text=True, env=environment, timeout=120)


def test_a_real_data_skip_is_a_skip_locally_and_a_failure_in_ci(project):
    local = _pytest(project)
    assert local.returncode == 0 and "1 skipped" in local.stdout
    ci = _pytest(project, PVPGUIDE_REQUIRE_SHARED_DATA="1")
    # a skip in setup (skipif) becomes an error, one in the test body a failure: either fails the run
    assert ci.returncode == 1 and "skipped for missing real data" in ci.stdout
    assert "1 error" in ci.stdout or "1 failed" in ci.stdout


def test_missing_shared_data_fails_in_ci(project):
    shutil.rmtree(project / "shared")
    ci = _pytest(project, PVPGUIDE_REQUIRE_SHARED_DATA="1")
    assert ci.returncode != 0 and "PVPGUIDE_REQUIRE_SHARED_DATA=1" in ci.stdout + ci.stderr


def test_slicer_core_tests_skip_only_in_the_slicer_stack_jobs(project):
    full = _pytest(project)
    assert "test_needs_mrml" not in full.stdout and "2 passed" in full.stdout
    job = _pytest(project, PVPGUIDE_SLICER_FREE_JOB="1")
    assert job.returncode == 0 and "1 passed" in job.stdout and "needs slicer-core" in job.stdout
