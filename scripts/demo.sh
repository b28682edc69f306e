#!/usr/bin/env bash
# The main job on the bundled sample: generate the anatomical phantom, plan L1 from the left, write the outputs.
# Usage: bash scripts/demo.sh [--out DIR]   (default output folder: pvpguide-demo/)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/venv.sh"
exec "$root/.venv/bin/pvpguide" demo "$@"
