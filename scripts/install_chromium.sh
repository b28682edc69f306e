#!/usr/bin/env bash
# Install headless Chromium from Debian's packages for the report's browser test (Testing/test_report_browser.py).
# Idempotent: does nothing when a Chromium is already on PATH. Needs root (CI containers run as root);
# without root and without Chromium it says so and exits 0, and the browser test then skips with that reason.
set -euo pipefail
for name in chromium chromium-browser google-chrome; do
  if command -v "$name" >/dev/null 2>&1; then
    echo "pvpguide: $name already installed: $("$name" --version 2>/dev/null || true)" >&2
    exit 0
  fi
done
if [ "$(id -u)" -ne 0 ]; then
  echo "pvpguide: not root, so Chromium is not installed; the browser test will skip" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Captured first: with pipefail, `grep -q` closing the pipe early would fail the pipeline.
policy="$(apt-cache policy chromium)"
if ! grep -q 'Candidate: [0-9]' <<<"$policy"; then
  echo "pvpguide: no 'chromium' package in this system's apt sources; the browser test will skip" >&2
  exit 0
fi
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "pvpguide: installed $(chromium --version)" >&2
