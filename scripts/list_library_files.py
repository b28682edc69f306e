"""Rewrite the file list in PVPGuideLib/CMakeLists.txt from the .py files on disk (run after adding a file)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CMAKE = ROOT / "PVPGuideLib" / "CMakeLists.txt"

files = sorted(p.relative_to(CMAKE.parent).as_posix() for p in CMAKE.parent.rglob("*.py"))
listing = "set(PVPGuideLib_PYTHON_SCRIPTS\n" + "".join(f"  {f}\n" for f in files) + "  )"
text = CMAKE.read_text(encoding="utf-8")
text = re.sub(r"set\(PVPGuideLib_PYTHON_SCRIPTS\s.*?\)", lambda _: listing, text, count=1, flags=re.S)
CMAKE.write_text(text, encoding="utf-8")
print(f"{len(files)} files listed in {CMAKE.relative_to(ROOT)}")
