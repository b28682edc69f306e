"""Import every PVPGuideLib module (the Slicer-stack jobs: Python 3.9/3.12 rules, each Slicer's numpy/scipy/vtk)."""

import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

names = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
               for p in (ROOT / "PVPGuideLib").rglob("*.py") if p.name != "__main__.py")  # __main__ runs the CLI
failed = []
for name in names:
    try:
        importlib.import_module(name)
    except Exception as error:  # noqa: BLE001  every failure is listed, then the job fails
        failed.append(f"{name}: {type(error).__name__}: {error}")
for line in failed:
    print(f"pvpguide: cannot import {line}", file=sys.stderr)
print(f"pvpguide: imported {len(names) - len(failed)} of {len(names)} PVPGuideLib modules on Python "
      f"{sys.version.split()[0]}", file=sys.stderr)
sys.exit(1 if failed else 0)
