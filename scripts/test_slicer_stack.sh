#!/usr/bin/env bash
# One Slicer-stack CI job: a venv with the Python and packages a 3D Slicer version bundles (no slicer-core);
# imports every PVPGuideLib module, then runs the tests that need no slicer-core (those that do are skipped with
# a reason, see Testing/conftest.py). Usage: bash scripts/test_slicer_stack.sh 5.6|5.10 [pytest arguments]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="$1"
shift
case "$version" in
  5.6) want_python=3.9.18 ;;
  5.10) want_python=3.12.1 ;;
  *) echo "pvpguide: unknown Slicer stack '$version' (5.6 or 5.10)" >&2; exit 2 ;;
esac
requirements="$root/Testing/requirements-slicer-$version.txt"
python="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")/versions/$want_python/bin/python"
if [ ! -x "$python" ]; then
  echo "pvpguide: Python $want_python (Slicer $version's stack) not found at $python; install it with: pyenv install $want_python" >&2
  # CI (.ci/run) requires the job; a developer machine without pyenv only gets the warning.
  if [ "${PVPGUIDE_REQUIRE_SLICER_STACKS:-0}" = "1" ]; then exit 1; fi
  exit 0
fi
venv="$root/.venv-slicer-$version"
# Re-use the venv while the interpreter and the pinned requirements are unchanged (a stamp holds their hash).
stamp="$venv/.pvpguide-requirements"
want="$( (echo "$python"; cat "$requirements") | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "pvpguide: creating $venv with Python $want_python and Slicer $version's packages" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  echo "$want" > "$stamp"
fi
cd "$root"
echo "pvpguide: Slicer $version stack ($("$venv/bin/python" --version)): importing every PVPGuideLib module" >&2
PYTHONPATH="$root" "$venv/bin/python" scripts/import_all_modules.py
echo "pvpguide: Slicer $version stack: library tests without slicer-core" >&2
status=0
PYTHONPATH="$root" PVPGUIDE_SLICER_FREE_JOB=1 "$venv/bin/python" -m pytest -p no:cacheprovider "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pvpguide: pytest collected no tests on the Slicer $version stack; that is a failure" >&2
  exit 1
fi
exit "$status"
