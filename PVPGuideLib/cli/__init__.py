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
Exit codes: 0 done, 1 internal error (a bug: please report it; --debug shows the traceback), 2 bad
input (arguments, files), 3 batch finished with failed cases, 130 interrupted (Ctrl-C), 143 terminated.
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
        add_limit_options(p)
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


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM


class Terminated(BaseException):
    """SIGTERM turned into an exception, so that a run's temporary folder is cleaned up as on Ctrl-C."""


_RECEIVED: list = []  # signals that arrived during this run (an import may wrap their exception in another)


def _on_sigterm(signum, frame):
    _RECEIVED.append(signum)
    raise Terminated()


def _on_sigint(signum, frame):
    _RECEIVED.append(signum)
    raise KeyboardInterrupt()


def add_limit_options(parser) -> None:
    """Reading limits (read_limits.py), the same for every sub-command; they set the environment variables."""
    group = parser.add_argument_group("reading limits (docs/cli.md, 'Accepted inputs')")
    group.add_argument("--voxel-size-range", metavar="MIN,MAX",
                       help="accepted CT voxel sizes in mm (default 0.05,12); widen it only when the header is right")
    group.add_argument("--max-volume-mb", type=float, metavar="MB",
                       help="largest volume read, after decompression (default 2048 MiB)")
    group.add_argument("--max-expansion", type=float, metavar="RATIO",
                       help="largest ratio of a compressed CT's voxel bytes to its file size (default 100)")
    group.add_argument("--debug", action="store_true", help="on an internal error, print the full traceback")


def _apply_limit_options(args) -> None:
    import os

    from ..io.read_limits import ENV_MAX_EXPANSION, ENV_MAX_MB, ENV_VOXEL_RANGE, current_limits, parse_voxel_range

    if getattr(args, "voxel_size_range", None):
        low, high = parse_voxel_range(args.voxel_size_range)
        os.environ[ENV_VOXEL_RANGE] = f"{low!r},{high!r}"
    for name, env in (("max_volume_mb", ENV_MAX_MB), ("max_expansion", ENV_MAX_EXPANSION)):
        value = getattr(args, name, None)
        if value is not None:
            os.environ[env] = repr(value)
    current_limits()  # a bad value in the environment is reported now, as bad input


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


def main(argv=None) -> int:
    import os
    import signal

    from ..errors import PVPGuideError
    from ..io.read_limits import ENV_MAX_EXPANSION, ENV_MAX_MB, ENV_VOXEL_RANGE
    from .messages import os_error_message

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    saved_env = {name: os.environ.get(name) for name in (ENV_VOXEL_RANGE, ENV_MAX_MB, ENV_MAX_EXPANSION)}
    _RECEIVED.clear()
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        previous_int = signal.signal(signal.SIGINT, _on_sigint)
    except ValueError:  # not the main thread (e.g. a test runner's worker): keep the defaults
        previous = previous_int = None
    try:
        args = build_parser().parse_args(_join_negative_values(argv))
        _apply_limit_options(args)
        return args._run(args)
    except PVPGuideError as error:  # bad input: the message names the problem and what to do
        print(f"pvpguide: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:  # a file or folder the user named cannot be read or written: not a bug
        print(f"pvpguide: error: {os_error_message(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("pvpguide: interrupted; the output folder holds the previous complete set of files (nothing of this "
              "run was kept)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("pvpguide: terminated; the output folder holds the previous complete set of files", file=sys.stderr)
        return EXIT_TERMINATED
    except RecursionError:
        print("pvpguide: error: an input is nested too deeply to read (a damaged or hostile file)", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as error:  # a bug, not the user's input
        if _RECEIVED:  # an interrupt arrived inside an import or C code, which reported it as another error
            interrupted = _RECEIVED[-1] == signal.SIGINT
            print(f"pvpguide: {'interrupted' if interrupted else 'terminated'}; the output folder holds the previous "
                  "complete set of files", file=sys.stderr)
            return EXIT_INTERRUPTED if interrupted else EXIT_TERMINATED
        if debug:
            traceback.print_exc()
        print(f"pvpguide: internal error: {_first_line(error)}", file=sys.stderr)
        print("pvpguide: this is a bug, not your input: run again with --debug and report the traceback",
              file=sys.stderr)
        return EXIT_INTERNAL_ERROR
    finally:
        outputs = sys.modules.get(f"{__name__}.outputs")
        if outputs is not None:
            outputs.discard_open_outputs()  # a run that did not finish leaves --out as it was
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, previous_int)
        for name, value in saved_env.items():  # the options hold for this run only (main may run in-process)
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def console_main() -> int:
    """The installed command: after an interrupt, leave at once (VTK's exit handlers may crash mid-import)."""
    import os

    code = main()
    if code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(console_main())
