"""Argument parsing and output helpers shared by the sub-commands."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from ..core.needles import NEEDLE_OUTER_DIAMETER_MM
from ..core.progress import no_progress, terminal_progress_bar


def ras_point(text: str) -> np.ndarray:
    """argparse type: 'R,A,S' in mm."""
    try:
        values = [float(x) for x in text.replace(" ", "").split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected R,A,S in mm (three numbers), got {text!r}") from None
    if len(values) != 3 or not all(np.isfinite(values)):
        raise argparse.ArgumentTypeError(f"expected R,A,S in mm (three finite numbers), got {text!r}")
    return np.array(values)


def add_needle_gauge(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--needle-gauge", type=int, default=13, choices=sorted(NEEDLE_OUTER_DIAMETER_MM),
                        help="needle gauge G (13G = 2.41 mm outer diameter; default 13)")


def add_output_options(parser: argparse.ArgumentParser, default_out: str) -> None:
    parser.add_argument("--out", default=default_out, help=f"output folder (default {default_out})")
    add_summary_options(parser)


def add_summary_options(parser: argparse.ArgumentParser) -> None:
    """--json and --quiet, the same for every sub-command."""
    parser.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")
    parser.add_argument("--quiet", action="store_true", help="print only warnings and errors (no progress bar)")


def progress_for(args):
    return no_progress if getattr(args, "quiet", False) else terminal_progress_bar()


def say(args, text: str) -> None:
    """Human-readable output; silenced by --quiet and by --json (stdout then carries JSON only)."""
    if not getattr(args, "quiet", False) and not getattr(args, "json", False):
        print(text)


def warn(text: str) -> None:
    print(f"pvpguide: warning: {text}", file=sys.stderr)


def print_json(obj) -> None:
    print(json.dumps(obj, indent=2, sort_keys=True))


def check_posterior_entry(b, c) -> None:
    """Refuse B anterior to C: a transpedicular needle enters from the back, so B and C were swapped."""
    from ..errors import PVPGuideError

    if float(b[1]) > float(c[1]):
        raise PVPGuideError(
            f"B ({', '.join(f'{x:.1f}' for x in b)}) lies anterior to C ({', '.join(f'{x:.1f}' for x in c)}) "
            "(larger A in RAS): the needle would come from the abdomen. B is the bony entry at the back of the "
            "pedicle, C the target in the body: swap --b and --c"
        )
