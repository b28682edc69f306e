"""The Slicer extension ships every Python file: the CMake lists match the files on disk."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _listed(cmake_file: Path, variable: str) -> set[str]:
    text = cmake_file.read_text(encoding="utf-8")
    match = re.search(rf"set\({variable}\s+(.*?)\)", text, re.S)
    assert match, f"{cmake_file} has no set({variable} ...)"
    names = {line.split("#")[0].strip() for line in match.group(1).splitlines()}
    return {n.replace("${MODULE_NAME}", "PVPGuide") for n in names if n}


def test_library_files_listed_in_cmake():
    on_disk = {p.relative_to(ROOT / "PVPGuideLib").as_posix() for p in (ROOT / "PVPGuideLib").rglob("*.py")}
    listed = _listed(ROOT / "PVPGuideLib" / "CMakeLists.txt", "PVPGuideLib_PYTHON_SCRIPTS")
    assert on_disk - listed == set(), "shipped .py files missing from PVPGuideLib/CMakeLists.txt"
    assert listed - on_disk == set(), "PVPGuideLib/CMakeLists.txt lists files that do not exist"


def test_module_files_listed_in_cmake():
    module_dir = ROOT / "PVPGuide"
    on_disk = {p.relative_to(module_dir).as_posix() for p in module_dir.glob("*.py")}
    listed = _listed(module_dir / "CMakeLists.txt", "MODULE_PYTHON_SCRIPTS")
    assert on_disk == listed
    resources = {p.relative_to(module_dir).as_posix() for p in (module_dir / "Resources").rglob("*") if p.is_file()}
    assert resources == _listed(module_dir / "CMakeLists.txt", "MODULE_PYTHON_RESOURCES")


def test_extension_metadata():
    text = (ROOT / "CMakeLists.txt").read_text(encoding="utf-8")
    for key in ("EXTENSION_HOMEPAGE", "EXTENSION_CATEGORY", "EXTENSION_CONTRIBUTORS", "EXTENSION_DESCRIPTION",
                "EXTENSION_ICONURL", "EXTENSION_SCREENSHOTURLS"):
        assert re.search(rf'set\({key} "[^"]+"\)', text), f"{key} missing or empty"
    assert 'set(EXTENSION_DEPENDS "NA")' in text
    assert "add_subdirectory(PVPGuide)" in text and "add_subdirectory(PVPGuideLib)" in text
    module = (ROOT / "PVPGuide" / "CMakeLists.txt").read_text(encoding="utf-8")
    assert "WITH_GENERIC_TESTS" in module and "slicer_add_python_unittest" in module


def test_library_never_imports_slicer_outside_the_adapter():
    pattern = re.compile(r"^\s*(import|from)\s+(slicer|qt|ctk)\b", re.M)
    offenders = [p.relative_to(ROOT).as_posix() for p in (ROOT / "PVPGuideLib").rglob("*.py")
                 if "mrml" not in p.relative_to(ROOT / "PVPGuideLib").parts and pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
    importers = [p.relative_to(ROOT).as_posix() for p in (ROOT / "PVPGuideLib").rglob("*.py")
                 if p.parts[-2] not in ("mrml", "cli", "testing") and re.search(r"\bmrml\b", p.read_text(encoding="utf-8"))
                 and re.search(r"^\s*from\s+\.+mrml|^\s*import\s+PVPGuideLib\.mrml", p.read_text(encoding="utf-8"), re.M)]
    # testing/ holds the scenarios the self-test and pytest run on real MRML
    assert importers == [], "only the CLI and the test scenarios may import the MRML adapter"
