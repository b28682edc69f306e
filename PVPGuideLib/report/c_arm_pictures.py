"""Report pictures of SPEC section 10: the simulated C-arm views and the fracture's mid-sagittal section."""

from __future__ import annotations

from pathlib import Path

from .html_parts import esc


def c_arm_pictures(data: dict, t: dict, base_dir: Path | None, add) -> None:
    """Call add(name, png, alt=, caption=) for the PNG files named in t['c_arm'] and the level's fracture section."""
    files = []
    for view, name in sorted(((t.get("c_arm") or {}).get("pictures") or {}).items()):
        title = "true AP" if view == "ap" else "true lateral"
        files.append((f"c_arm_{view}", name, f"Simulated C-arm, {title}: planned needle yellow (ring at C); dot at "
                      "the posterior-wall crossing (green: still lateral to the pedicle's medial wall, magenta on "
                      "the AP view; red: crossed); predicted cement blue."))
    picture = ((data.get("fracture") or {}).get(t.get("level") or "0") or {}).get("picture")
    if picture:
        files.append(("fracture", picture, "Mid-sagittal section: anterior (red), middle (yellow) and posterior (blue)"
                      " heights in mm; the neighbours' heights thinner."))
    for key, name, caption in files:
        path = Path(name)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if path.is_file():
            add(key, path.read_bytes(), alt=caption.split(":")[0], caption=esc(caption))
