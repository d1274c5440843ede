"""Shared fixtures: repository paths, the network guard, and offline freqtrade runs.

Network guard: nothing in the suite may reach a host other than 127.0.0.1/localhost.
The guard (tests/netguard/netguard.py) is installed in this process as soon as this file
is imported, and in every child Python process through tests/netguard/sitecustomize.py
(``PYTHONPATH`` + ``LIQ_SIGNALS_NETGUARD=<log>`` are exported for the whole session).
Refused attempts raise in the caller and are logged; the session fails if the log is not
empty at the end, even when the caller swallowed the error.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import ModuleType

import pytest

from tests.netguard import netguard

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO / "tests" / "testdata"
DATADIR_2025 = REPO / "user_data" / "data" / "binance"
DATADIR_2023 = REPO / "user_data" / "data" / "binance-2023"
DATADIR_OI = REPO / "user_data" / "data" / "binance-oi-2026-06"
NETGUARD_DIR = REPO / "tests" / "netguard"
STRATEGIES = REPO / "strategies"

netguard.install(None)  # refuse from the very first import; the log comes with the session


def import_strategy(name: str, folder: Path = STRATEGIES) -> ModuleType:
    """Import the strategy file ``folder/name.py`` as freqtrade's resolver does.

    freqtrade makes a strategy's folder importable only while it loads the file, which is
    what lets ``LiquidationMagnetStrategy`` import ``BaselineStrategy`` beside it; this
    uses freqtrade's own context manager so tests see the same imports as the bot.
    """
    from freqtrade.resolvers.iresolver import PathModifier

    with PathModifier(folder):
        return importlib.import_module(name)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session", autouse=True)
def network_guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Log file of refused connections (this process and all children); must stay empty."""
    log = tmp_path_factory.getbasetemp() / "netguard.log"
    log.touch()
    netguard.set_logfile(log)
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", netguard.ENV_VAR)}
    os.environ[netguard.ENV_VAR] = str(log)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(NETGUARD_DIR), saved["PYTHONPATH"]) if p
    )
    yield log
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    attempts = log.read_text(encoding="utf-8")
    if attempts.strip():
        pytest.fail(
            "network guard: the suite tried to reach non-loopback hosts:\n" + attempts,
            pytrace=False,
        )


FreqtradeRunner = Callable[..., "object"]


@pytest.fixture
def freqtrade_offline(tmp_path: Path) -> FreqtradeRunner:
    """Run a real freqtrade command against the loopback emulator.

    ``freqtrade_offline(["backtesting", "--strategy", "BaselineStrategy", ...],
    datadir=DATADIR_2025, configs=["user_data/config_backtest.json"])`` returns a
    :class:`liq_signals.offline.runner.Result` (``returncode``, ``output``, ``errors``).
    Runs from the repository root with ``--user-data-dir`` in ``tmp_path`` (results and
    logs stay out of the repo) unless ``args`` already set one; with that user dir, and no
    ``datadir`` given as argument or in ``args``, the emulator serves the repository's
    ``user_data/data/binance`` (freqtrade's default would be the empty
    ``<tmp_path>/user_data/data/binance``).  Other keyword arguments
    go to :func:`liq_signals.offline.runner.run_freqtrade` (``replay_start``, ``speed``,
    ``emulator``, ``timeout`` — default 300 s).
    """
    from liq_signals.offline.runner import run_freqtrade

    def run(args: Sequence[str], **kwargs: object) -> object:
        args = list(args)
        if "--user-data-dir" not in args and "--userdir" not in args and args:
            uddir = tmp_path / "user_data"
            uddir.mkdir(exist_ok=True)
            args += ["--user-data-dir", str(uddir)]
            if not {"-d", "--datadir", "--data-dir"} & set(args):
                kwargs.setdefault("datadir", DATADIR_2025)
        kwargs.setdefault("timeout", 300)
        kwargs.setdefault("cwd", REPO)
        kwargs.setdefault("overlay_dir", tmp_path / "overlay")
        return run_freqtrade(args, **kwargs)  # type: ignore[arg-type]

    return run
