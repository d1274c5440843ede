"""Fixtures of the strategy tests (helpers live in strategy_harness.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from strategy_harness import CONFIG_BACKTEST, PAIR

from liq_signals.offline.runner import DATA_COMMANDS


@pytest.fixture
def offline(freqtrade_offline):
    """``run(args, datadir)``: the shared ``freqtrade_offline`` runner (tests/conftest.py)
    with ``user_data/config_backtest.json`` unless ``args`` brings its own config, and
    a 15-minute limit.  Commands that read candles run on BTC/USDT:USDT only unless
    ``args`` names ``--pairs``: the configs list every shipped pair (BTC, ETH, SOL), but the
    OI sample datadir holds BTC only and the gates were sized for one pair."""

    def run(args: Sequence[str], datadir: Path, timeout: float = 900):
        args = list(args)
        if "--config" not in args and "-c" not in args:
            args += ["--config", str(CONFIG_BACKTEST)]
        if args and args[0] in DATA_COMMANDS and "--pairs" not in args and "-p" not in args:
            args += ["--pairs", PAIR]
        return freqtrade_offline(args, datadir=datadir, timeout=timeout)

    return run
