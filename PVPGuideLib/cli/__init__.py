"""The `pvpguide` command: one sub-command per module in this package."""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import traceback

# Each sub-command module defines NAME, HELP, EPILOG (examples), add_arguments(parser) and run(args) -> int.
SUBCOMMAND_MODULES = ("demo", "plan", "score", "report", "batch", "verify", "outcome")

EXIT_OK = 0
EXIT_INTERNAL_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_CASES_FAILED = 3  # `batch` finished, but at least one case failed (see its summary.csv)

TOP_LEVEL_EPILOG = """examples:
  pvpguide demo                                   # the bundled phantom, planned end to end
  pvpguide plan --ct patient.nrrd --b -28.5,-42,10 --c 6,-8.5,11 --out plan-L1
  pvpguide report plan-L1 --pdf
  pvpguide batch cases.csv --out cohort --jobs 2
  pvpguide COMMAND --help                         # options and examples of one command

Every command takes --quiet (no progress bar) and --json (a machine-readable summary on stdout).
Exit codes: 0 done, 1 internal error (a bug: please report it), 2 bad input (arguments, files),
3 batch finished with failed cases.
Research planning tool: not for clinical use without local validation."""


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="pvpguide",
        description="Plan percutaneous vertebroplasty (PVP) from a CT: points A/B/C, angles, safety, cement, guide plate.",
        epilog=TOP_LEVEL_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"pvpguide {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        module = importlib.import_module(f"{__name__}.{module_name}")
        p = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=module.HELP,
            epilog=module.EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def _join_negative_values(argv: list[str]) -> list[str]:
    """'--b -8,-20,0' -> '--b=-8,-20,0': argparse would take a value starting with '-' for an option."""
    joined: list[str] = []
    for token in argv:
        if joined and joined[-1].startswith("--") and "=" not in joined[-1] and re.match(r"^-\d", token):
            joined[-1] = f"{joined[-1]}={token}"
        else:
            joined.append(token)
    return joined


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(_join_negative_values(argv))
    try:
        return args._run(args)
    except ValueError as error:  # every bad-input error of the library is a ValueError subclass
        print(f"pvpguide: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:  # a file or folder the user named cannot be read or written: not a bug
        print(f"pvpguide: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("pvpguide: interrupted; files already written are complete, the rest were not written", file=sys.stderr)
        return EXIT_INTERNAL_ERROR
    except Exception:  # a bug, not the user's input: show where
        traceback.print_exc()
        print("pvpguide: internal error (please report it with the message above)", file=sys.stderr)
        return EXIT_INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
