"""Headless Chromium, when installed: the optional PDF and the browser test use it; nothing else needs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# No network, no first-run work, no crash reporter: the browser only renders the local file.
HEADLESS_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--no-default-browser-check", "--hide-scrollbars",
)


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable ($PVPGUIDE_CHROMIUM first), or None."""
    override = os.environ.get("PVPGUIDE_CHROMIUM")
    if override:
        return shutil.which(override) or (override if os.access(override, os.X_OK) else None)
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def run_headless(arguments, *, timeout_s: float = 90.0) -> subprocess.CompletedProcess:
    """Run headless Chromium with a throw-away profile; raises RuntimeError when absent or failing."""
    binary = find_chromium()
    if binary is None:
        raise RuntimeError("Chromium is not installed (scripts/install_chromium.sh installs it on Debian)")
    with tempfile.TemporaryDirectory(prefix="pvpguide-chromium-") as profile:
        command = [binary, *HEADLESS_FLAGS, f"--user-data-dir={profile}", *arguments]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    if result.returncode != 0:
        tail = (result.stderr or "").strip().splitlines()[-3:]
        raise RuntimeError(f"Chromium failed (exit {result.returncode}): {' | '.join(tail)}")
    return result
