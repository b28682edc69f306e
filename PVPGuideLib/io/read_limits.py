"""Limits on what PVPGuide agrees to read: voxel sizes, decompressed sizes (docs/cli.md, "Accepted inputs").

Defaults suit clinical CTs; a user who knows better overrides them with the `pvpguide` options
--voxel-size-range, --max-volume-mb and --max-expansion (which set the environment variables below, so
batch workers and the Slicer module see the same values).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import PVPGuideError

ENV_VOXEL_RANGE = "PVPGUIDE_VOXEL_SIZE_RANGE_MM"
ENV_MAX_MB = "PVPGUIDE_MAX_VOLUME_MB"
ENV_MAX_EXPANSION = "PVPGUIDE_MAX_EXPANSION"

# Clinical CT voxels: 0.2-1.5 mm in plane, 0.5-10 mm between slices; outside 0.05-12 mm it is no usable CT
# (or the header's units are wrong, e.g. cm or um).
DEFAULT_VOXEL_RANGE_MM = (0.05, 12.0)
# A 512 x 512 x 2000 int16 CT is 1000 MiB; twice that leaves room and still stops a decompression bomb.
DEFAULT_MAX_VOLUME_MB = 2048.0
# Compressed CTs shrink 1.2-10 times (noise does not compress); 100 times is a file of almost one value.
DEFAULT_MAX_EXPANSION = 100.0


@dataclass(frozen=True)
class ReadLimits:
    voxel_range_mm: tuple = DEFAULT_VOXEL_RANGE_MM
    max_volume_mb: float = DEFAULT_MAX_VOLUME_MB
    max_expansion: float = DEFAULT_MAX_EXPANSION

    @property
    def max_bytes(self) -> int:
        return int(self.max_volume_mb * 1024 * 1024)


def parse_voxel_range(text: str) -> tuple:
    """'MIN,MAX' in mm -> (min, max); PVPGuideError when not 0 < MIN < MAX."""
    try:
        low, high = (float(x) for x in str(text).replace(" ", "").split(","))
    except ValueError:
        raise PVPGuideError(f"voxel size range must be MIN,MAX in mm (e.g. 0.05,12), got {text!r}") from None
    if not (0 < low < high < float("inf")):
        raise PVPGuideError(f"voxel size range must satisfy 0 < MIN < MAX, got {text!r}")
    return (low, high)


def _positive(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (value > 0 and value != float("inf")):
        raise PVPGuideError(f"{name} must be a positive number, got {text!r}")
    return value


def current_limits() -> ReadLimits:
    """The defaults, overridden by the environment variables when set."""
    env = os.environ
    return ReadLimits(
        voxel_range_mm=parse_voxel_range(env[ENV_VOXEL_RANGE]) if env.get(ENV_VOXEL_RANGE) else DEFAULT_VOXEL_RANGE_MM,
        max_volume_mb=_positive(ENV_MAX_MB, env[ENV_MAX_MB]) if env.get(ENV_MAX_MB) else DEFAULT_MAX_VOLUME_MB,
        max_expansion=(_positive(ENV_MAX_EXPANSION, env[ENV_MAX_EXPANSION]) if env.get(ENV_MAX_EXPANSION)
                       else DEFAULT_MAX_EXPANSION),
    )
