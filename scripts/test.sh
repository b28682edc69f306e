#!/usr/bin/env bash
# The test suite: the full suite (plain pytest on real MRML from slicer-core) on the development stack, then the
# library tests that need no slicer-core on the Python and packages 3D Slicer 5.6/5.8 and 5.10 bundle
# (scripts/test_slicer_stack.sh), beside the full suite. Extra arguments go to the full suite's pytest.
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
# The two Slicer-stack jobs run beside the full suite, all three at once (on two cores the three share them, which
# ends sooner than the stacks one after the other beside the suite): their output is kept in a log per stack and
# shown when they end.
logs="$(mktemp -d)"
stacks=""
if [ "${PVPGUIDE_SLICER_STACKS:-1}" != "0" ]; then
  for stack in 5.6 5.10; do
    (
      # -x: these jobs look for incompatibilities; the first one is enough to fail the run.
      job=0
      bash "$root/scripts/test_slicer_stack.sh" "$stack" -x -q > "$logs/$stack.log" 2>&1 || job=$?
      echo "$job" > "$logs/$stack.status"
    ) &
    stacks="$stacks $!"
  done
fi
"$root/.venv/bin/python" -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pvpguide: pytest collected no tests; that is a failure, not a pass" >&2
  status=1
fi
if [ -n "$stacks" ]; then
  for job in $stacks; do wait "$job" || true; done
  for stack in 5.6 5.10; do
    echo "==== Slicer $stack stack job ====" >&2
    cat "$logs/$stack.log" >&2 || true
    if [ "$(cat "$logs/$stack.status" 2>/dev/null || echo 1)" != "0" ]; then
      echo "pvpguide: the Slicer $stack stack job failed" >&2
      status=1
    fi
  done
fi
rm -rf "$logs"
exit "$status"
