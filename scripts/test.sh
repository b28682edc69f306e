#!/usr/bin/env bash
# The test suite: the full suite (plain pytest on real MRML from slicer-core) on the development stack, then the
# library tests that need no slicer-core on the Python and packages 3D Slicer 5.6/5.8 and 5.10 bundle
# (scripts/test_slicer_stack.sh). Extra arguments go to the full suite's pytest.
# PVPGUIDE_SLICER_STACKS=0 skips the Slicer-stack jobs (quick local runs).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/venv.sh"
# The report's browser test needs headless Chromium (Debian's package; skipped with a reason when it cannot be had).
bash "$root/scripts/install_chromium.sh"
# The guide tests slice every plate with PrusaSlicer and check its STL with admesh (Debian packages).
bash "$root/scripts/install_prusaslicer.sh"
cd "$root"
status=0
"$root/.venv/bin/python" -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pvpguide: pytest collected no tests; that is a failure, not a pass" >&2
  status=1
fi
if [ "${PVPGUIDE_SLICER_STACKS:-1}" != "0" ]; then
  for stack in 5.6 5.10; do
    # -x: these jobs look for incompatibilities; the first one is enough to fail the run.
    bash "$root/scripts/test_slicer_stack.sh" "$stack" -x -q || status=1
  done
fi
exit "$status"
