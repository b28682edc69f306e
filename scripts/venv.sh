#!/usr/bin/env bash
# Create or refresh the project's virtual environment at .venv/ and install PVPGuide into it.
# Sourced by demo.sh and test.sh; usable alone: bash scripts/venv.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
if [ ! -x "$root/.venv/bin/python" ]; then
  echo "pvpguide: creating the virtual environment $root/.venv" >&2
  "$python" -m venv "$root/.venv"
fi
# Re-install only when the package definition changed since the last install (a stamp holds its hash).
stamp="$root/.venv/.pvpguide-installed"
want="$(sha256sum "$root/pyproject.toml" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "pvpguide: installing PVPGuide and its dependencies into .venv (first time: a few minutes)" >&2
  "$root/.venv/bin/python" -m pip install --quiet --upgrade pip
  "$root/.venv/bin/python" -m pip install --quiet -e "$root[test]"
  echo "$want" > "$stamp"
fi
