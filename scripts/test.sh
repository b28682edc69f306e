#!/usr/bin/env bash
# The test suite (plain pytest on real MRML from slicer-core). Extra arguments go to pytest.
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
  exit 1
fi
exit "$status"
