"""The ``liq-signals`` command.

Each sub-command lives in its own module under :mod:`liq_signals.commands` exposing
``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``.  Modules are
imported only when their command runs, so a slow import (freqtrade, numba, plotly) never
delays ``liq-signals --help`` or an unrelated command.

Errors are reported here, once for every command: a :class:`~liq_signals.errors.LiqSignalsError`
becomes one line ``liq-signals COMMAND: error: MESSAGE`` on stderr and the exit code of
:func:`liq_signals.errors.exit_code` (2 bad arguments or configuration, 1 bad data or a
failed run); any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from liq_signals.errors import LiqSignalsError, exit_code

# command name -> module under liq_signals.commands
COMMANDS: dict[str, str] = {
    "heatmap": "heatmap",
    "offline": "offline",
    "features": "features",
    "snapshot": "snapshot",
    "import-binance-metrics": "import_binance_metrics",
    "record-liquidations": "record_liquidations",
    "validate": "validate",
    "calibrate": "calibrate",
    "install-strategies": "install_strategies",
    "study": "study",
}


def _load(module: str):  # noqa: ANN202 - returns a module
    return importlib.import_module(f"liq_signals.commands.{module}")


def _version() -> str:
    """``liq-signals X (freqtrade Y)``: the installed distribution's version (the package's
    own when run from a checkout), and freqtrade's as its metadata states it (no import)."""
    from importlib.metadata import PackageNotFoundError, version

    from liq_signals import __version__

    try:
        freqtrade = version("freqtrade")
    except PackageNotFoundError:
        freqtrade = "not installed"
    return f"liq-signals {__version__} (freqtrade {freqtrade})"


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="liq-signals",
        description="Liquidation maps rebuilt from public exchange data, for freqtrade.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("-V", "--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    wanted = next((a for a in argv if a in COMMANDS), None)
    for name, module in COMMANDS.items():
        if name == wanted:
            mod = _load(module)
            p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
            mod.add_arguments(p)
            p.set_defaults(_run=mod.run)
        else:
            sub.add_parser(name, help=f"see `liq-signals {name} --help`", add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    args._argv = argv  # the command line as typed, for reports that quote it
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args._run(args))
    except LiqSignalsError as exc:
        return report_error(args.command, exc, verbose=args.verbose)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `liq-signals snapshot … | head`: the reader left; that is not an error.
        sys.stderr.close()
        return 0


def report_error(command: str, exc: LiqSignalsError, *, verbose: bool = False) -> int:
    """Print ``exc`` as argparse prints a usage error (one line, no traceback) and return
    its exit code; ``--verbose`` adds the traceback for a bug report."""
    if verbose:
        logging.getLogger(__name__).debug("%s failed", command, exc_info=exc)
    message = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    print(f"liq-signals {command}: error: {message or type(exc).__name__}", file=sys.stderr)
    return exit_code(exc)


if __name__ == "__main__":
    sys.exit(main())
