"""The Extensions Index entry (docs/PVPGuide.json) agrees with the top-level CMakeLists.txt and the files it names."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
ENTRY = ROOT / "docs" / "PVPGuide.json"
# Keys allowed by Slicer's catalog entry schema (Schemas/slicer-extension-catalog-entry-schema-v1.0.x.json,
# "additionalProperties": false); homepage, icon, screenshots and description live in CMakeLists.txt.
SCHEMA_KEYS = {"$schema", "category", "scm_url", "scm_revision", "scm_type", "build_dependencies",
               "dicom_support_rule", "build_subdirectory", "enabled", "tier"}
# A sample of ExtensionsIndex/scripts/check_description_files.py ACCEPTED_EXTENSION_CATEGORIES that fit this
# extension; "Surgical Planning" (the old value) is not among the accepted ones.
ACCEPTED_CATEGORIES = {"Planning", "IGT", "Osteotomy Planning", "Printing", "Quantification", "Segmentation"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def cmake_set(name: str) -> str:
    """The value of set(NAME "...") in the top-level CMakeLists.txt."""
    text = (ROOT / "CMakeLists.txt").read_text(encoding="utf-8")
    match = re.search(r'set\s*\(\s*' + name + r'\s+"([^"]*)"\s*\)', text)
    assert match, f"{name} is not set in CMakeLists.txt"
    return match.group(1)


def repo_file(url: str) -> Path:
    """The file in this repository that a raw.githubusercontent.com/<owner>/<repo>/main/<path> URL serves."""
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.netloc == "raw.githubusercontent.com", url
    owner, repo, branch, *path = parts.path.strip("/").split("/")
    assert (owner, repo) == github_repo() and branch == json.loads(ENTRY.read_text())["scm_revision"], url
    return ROOT.joinpath(*path)


def github_repo() -> tuple[str, str]:
    """(owner, repository) of EXTENSION_HOMEPAGE."""
    parts = urlsplit(cmake_set("EXTENSION_HOMEPAGE"))
    assert parts.netloc == "github.com"
    owner, repo = parts.path.strip("/").split("/")[:2]
    return owner, repo


def test_entry_has_only_schema_keys_and_lf_line_endings():
    raw = ENTRY.read_bytes()
    assert b"\r" not in raw  # the index's checker rejects CR/CRLF
    entry = json.loads(raw)
    assert set(entry) <= SCHEMA_KEYS and {"$schema", "category", "scm_url"} <= set(entry)
    assert entry["$schema"].startswith("https://raw.githubusercontent.com/Slicer/Slicer/main/Schemas/")
    assert isinstance(entry["tier"], int) and 1 <= entry["tier"] <= 5


def test_entry_matches_cmake_name_category_homepage_and_dependencies():
    text = (ROOT / "CMakeLists.txt").read_text(encoding="utf-8")
    entry = json.loads(ENTRY.read_text())
    # The index file is named after the project; the project name must not start with "Slicer", the repository must.
    project = re.search(r"project\s*\(\s*([^\s)]+)", text, re.IGNORECASE).group(1)
    assert ENTRY.stem == project and not project.lower().startswith("slicer")
    assert entry["category"] == cmake_set("EXTENSION_CATEGORY") and entry["category"] in ACCEPTED_CATEGORIES
    owner, repo = github_repo()
    assert repo.startswith("Slicer")
    assert entry["scm_url"] == f"https://github.com/{owner}/{repo}.git"
    depends = cmake_set("EXTENSION_DEPENDS")
    assert entry["build_dependencies"] == ([] if depends == "NA" else depends.split())
    description = cmake_set("EXTENSION_DESCRIPTION")
    assert 50 <= len(description) and "not for clinical use" in description


def test_icon_and_screenshots_exist_at_the_urls_cmake_names():
    icon = repo_file(cmake_set("EXTENSION_ICONURL"))
    assert icon.is_file() and icon.read_bytes()[:8] == PNG_MAGIC
    screenshots = cmake_set("EXTENSION_SCREENSHOTURLS").split()
    assert screenshots
    for url in screenshots:
        path = repo_file(url)
        assert path.is_file(), f"{url} names {path.relative_to(ROOT)}, which is not in the repository"
        assert path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 10_000  # a real picture, not a stub


def test_license_file_is_apache_2():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text  # the full text, not a one-line notice
