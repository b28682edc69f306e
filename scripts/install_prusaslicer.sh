#!/usr/bin/env bash
# Install PrusaSlicer and admesh from Debian's packages: the guide tests slice every plate they build
# (Testing/test_guide_*.py) and check its STL with admesh. Idempotent: does nothing when both are on
# PATH. Needs root (CI containers run as root); without root it says so and exits 0, and the slicer
# checks then skip with that reason (unless PVPGUIDE_REQUIRE_SLICER=1, when they fail).
set -euo pipefail
if command -v prusa-slicer >/dev/null 2>&1 && command -v admesh >/dev/null 2>&1; then
  echo "pvpguide: prusa-slicer and admesh already installed" >&2
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "pvpguide: not root, so PrusaSlicer is not installed; the slicer checks will skip" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Captured first: with pipefail, `grep -q` closing the pipe early would fail the pipeline.
policy="$(apt-cache policy prusa-slicer)"
if ! grep -q 'Candidate: [0-9]' <<<"$policy"; then
  echo "pvpguide: no 'prusa-slicer' package in this system's apt sources; the slicer checks will skip" >&2
  exit 0
fi
apt-get install -y -qq --no-install-recommends prusa-slicer admesh >/dev/null
echo "pvpguide: installed prusa-slicer and admesh" >&2
