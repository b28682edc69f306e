"""A plan folder as the input of report, verify and outcome: its validated plan.json and the plan's own CT."""

from __future__ import annotations

from pathlib import Path

from ..errors import PVPGuideError


def plan_json_path(given) -> Path:
    """plan.json in the folder given (or the file itself); a clear error when there is none."""
    path = Path(given)
    path = path / "plan.json" if path.is_dir() else path
    if not path.exists():
        raise PVPGuideError(f"no plan.json at {path}: give a folder written by 'pvpguide plan' or 'pvpguide demo'")
    return path


def read_plan_json(path: Path) -> dict:
    """plan.json, its size, nesting and schema checked (io/plan_json.py)."""
    from ..io.plan_json import read_plan_json as read_validated

    return read_validated(path)


def check_ct_matches_plan(ct, data: dict, path: Path) -> None:
    """Refuse a CT that is not the plan's: recorded size, spacing, direction and voxel hash must agree."""
    import numpy as np

    from ..io.plan_json import voxels_sha256

    recorded = data.get("ct") or {}
    problems = []
    if recorded.get("size") is not None and [int(n) for n in recorded["size"]] != [int(n) for n in ct.shape_ijk]:
        problems.append(f"size {list(ct.shape_ijk)} instead of {recorded['size']}")
    if recorded.get("spacing") is not None and not np.allclose(ct.spacing, recorded["spacing"], atol=1e-4):
        problems.append(f"spacing {np.round(ct.spacing, 4).tolist()} instead of {recorded['spacing']}")
    if recorded.get("ijk_to_ras") is not None and not np.allclose(ct.ijk_to_ras, recorded["ijk_to_ras"], atol=1e-3):
        problems.append("another position or direction (ijk_to_ras)")
    if not problems and recorded.get("voxels_sha256") and recorded["voxels_sha256"] != voxels_sha256(ct.voxels):
        problems.append("other voxel values (content hash differs)")
    if problems:
        raise PVPGuideError(f"the CT {path} is not the scan this plan was made on: {'; '.join(problems)}; "
                            "put the plan's CT back at the path plan.json records (relative to the plan folder)")


def plan_ct_path(data: dict, base_dir: Path) -> tuple:
    """(path, None) of the plan's CT, or (None, reason) when plan.json names none or it is not there.

    A relative CT path is relative to the plan folder, never the working folder.
    """
    recorded = (data.get("ct") or {}).get("path")
    if not recorded:
        return None, "plan.json records no CT path"
    recorded = Path(recorded)
    path = recorded if recorded.is_absolute() else base_dir / recorded
    if not path.exists():
        return None, f"the CT {recorded} named in plan.json is not there (looked in {path})"
    return path, None


def read_plan_ct(data: dict, base_dir: Path):
    """The plan's own CT (checked against plan.json), or a clear error saying where it was looked for."""
    from ..io.ct_io import read_ct

    path, reason = plan_ct_path(data, base_dir)
    if path is None:
        raise PVPGuideError(f"{reason}; this command needs the planning CT")
    ct = read_ct(path)
    check_ct_matches_plan(ct, data, path)
    return ct
