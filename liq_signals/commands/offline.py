"""``liq-signals offline [options] -- <freqtrade args…>``: any freqtrade command, offline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from liq_signals.errors import ConfigError
from liq_signals.paths import DEFAULT_DATADIR

HELP = "run a freqtrade command against the loopback Binance emulator (no internet)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--datadir",
        type=Path,
        default=None,
        help="datadir the emulator serves (default: the one freqtrade reads: its "
        "-d/--datadir, else USERDIR/data/binance; for download-data, whose datadir is its "
        f"destination and must differ, {DEFAULT_DATADIR})",
    )
    parser.add_argument(
        "--replay-start", default=None, help="replay clock start, ISO UTC (default: real time)"
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="replay seconds per wall second (e.g. 60)"
    )
    parser.add_argument("--port", type=int, default=0, help="emulator port (default: any)")
    parser.add_argument(
        "freqtrade_args",
        nargs=argparse.REMAINDER,
        help="-- then the freqtrade command line, e.g. -- backtesting ...",
    )


def run(args: argparse.Namespace) -> int:
    """Run freqtrade offline and return its exit status unchanged (the runner answers 1
    itself, on stderr, when the datadir lacks what the command needs, and 2 when the
    command would write into the served datadir)."""
    from liq_signals.offline.runner import run_freqtrade

    ft_args = list(args.freqtrade_args)
    if ft_args and ft_args[0] == "--":
        ft_args = ft_args[1:]
    if not ft_args:
        raise ConfigError(
            "give the freqtrade command after --, e.g. liq-signals offline -- backtesting "
            "--config user_data/config_backtest.json --strategy BaselineStrategy"
        )
    result = run_freqtrade(
        ft_args,
        datadir=args.datadir,
        replay_start=args.replay_start,
        speed=args.speed,
        port=args.port,
        echo=sys.stdout,
    )
    return result.returncode
