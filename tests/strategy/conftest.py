"""Fixtures of the strategy tests (helpers live in strategy_harness.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from strategy_harness import CONFIG_BACKTEST


@pytest.fixture
def offline(freqtrade_offline):
    """``run(args, datadir)``: the shared ``freqtrade_offline`` runner (tests/conftest.py)
    with ``user_data/config_backtest.json`` unless ``args`` brings its own config, and
    a 15-minute limit."""

    def run(args: Sequence[str], datadir: Path, timeout: float = 900):
        args = list(args)
        if "--config" not in args and "-c" not in args:
            args += ["--config", str(CONFIG_BACKTEST)]
        return freqtrade_offline(args, datadir=datadir, timeout=timeout)

    return run
