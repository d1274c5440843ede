"""``liq-signals install-strategies``: copy the shipped strategies into a user directory.

The strategies ship inside the package (``liq_signals/strategies`` in a wheel, the
repository's ``strategies/`` in a checkout), so they can also be used in place with
``freqtrade ... --strategy-path "$(liq-signals install-strategies --print-path)"``.
"""

from __future__ import annotations

import argparse
import logging
import shutil
from pathlib import Path

from liq_signals.errors import ConfigError, InputError

HELP = "copy the shipped freqtrade strategies into USERDIR/strategies (or print where they are)"

logger = logging.getLogger(__name__)


def shipped_strategies_dir() -> Path:
    """The folder of the shipped strategy files: the package's ``strategies`` when
    installed from a wheel, the checkout's ``strategies/`` otherwise.

    :raise InputError: neither exists (a broken install)
    """
    package = Path(__file__).resolve().parent.parent
    for folder in (package / "strategies", package.parent / "strategies"):
        if any(folder.glob("*Strategy.py")):
            return folder
    raise InputError(f"no shipped strategies next to {package}: reinstall liq-signals")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--userdir",
        "--user-data-dir",
        dest="userdir",
        type=Path,
        default=Path("user_data"),
        help="freqtrade user data directory; files go to USERDIR/strategies (default: %(default)s)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite strategy files that differ")
    parser.add_argument(
        "--print-path",
        action="store_true",
        help="only print the folder of the shipped strategies (for --strategy-path)",
    )


def run(args: argparse.Namespace) -> int:
    """Copy every shipped strategy file; an existing identical file is left as is, a
    different one only with ``--force`` (a user's edits are never overwritten silently).

    :raise ConfigError: a file differs and ``--force`` was not given (nothing is copied)
    """
    source = shipped_strategies_dir()
    if args.print_path:
        print(source)
        return 0
    target: Path = args.userdir / "strategies"
    files = sorted(source.glob("*.py"))
    differ = [
        f.name
        for f in files
        if (target / f.name).exists() and (target / f.name).read_bytes() != f.read_bytes()
    ]
    if differ and not args.force:
        raise ConfigError(
            f"{target}: {', '.join(differ)} already exist with other contents; "
            "--force overwrites them"
        )
    target.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copyfile(f, target / f.name)
    print(
        f"copied {', '.join(f.stem for f in files)} to {target}; run e.g. "
        f"freqtrade backtesting --userdir {args.userdir} --strategy LiquidationMagnetStrategy"
    )
    return 0
