"""Harness of the strategy tests: load a strategy in-process, read backtest results.

In-process loading uses freqtrade's own configuration, resolver and DataProvider in
backtest mode (what ``freqtrade backtesting`` builds), so the strategy reads open interest
and the metrics sidecar exactly as it does in a real run.  Whole freqtrade commands go
through :func:`liq_signals.offline.runner.run_freqtrade` (the loopback emulator).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[2]
STRATEGIES = REPO / "strategies"
PLANTED = Path(__file__).resolve().parent / "planted"
CONFIG_BACKTEST = REPO / "user_data" / "config_backtest.json"
CONFIG_HYPEROPT = REPO / "user_data" / "config_hyperopt.json"
DATADIR_2025 = REPO / "user_data" / "data" / "binance"
DATADIR_OI = REPO / "user_data" / "data" / "binance-oi-2026-06"
PAIR = "BTC/USDT:USDT"


def load_strategy(name: str, datadir: Path, timerange: str, strategy_path: Path = STRATEGIES):
    """A strategy wired to a backtest-mode DataProvider over ``datadir``.

    :param name: strategy class name
    :param datadir: freqtrade exchange datadir
    :param timerange: the run's timerange (the DataProvider loads extra series over it,
        extended by the startup candles, as in a backtest)
    :param strategy_path: folder holding the strategy file
    :return: the strategy instance (``strategy.dp`` set)
    """
    from freqtrade.configuration import Configuration
    from freqtrade.data.dataprovider import DataProvider
    from freqtrade.enums import RunMode
    from freqtrade.resolvers import StrategyResolver

    args = {
        "config": [str(CONFIG_BACKTEST)],
        "strategy": name,
        "strategy_path": str(strategy_path),
        "datadir": str(datadir),
        "timerange": timerange,
    }
    config = Configuration(args, RunMode.BACKTEST).get_config()
    config.setdefault("dataformat_ohlcv", "feather")  # set by Backtesting's schema defaults
    strategy = StrategyResolver.load_strategy(config)
    strategy.dp = DataProvider(config, None)
    return strategy


def load_candles(datadir: Path, timerange: str, startup: int) -> pd.DataFrame:
    """The 5m futures candles of ``timerange`` plus ``startup`` candles before it."""
    from freqtrade.configuration import TimeRange
    from freqtrade.data.history import load_pair_history
    from freqtrade.enums import CandleType

    tr = TimeRange.parse_timerange(timerange)
    tr.subtract_start(300 * startup)
    return load_pair_history(
        pair=PAIR,
        timeframe="5m",
        datadir=Path(datadir),
        timerange=tr,
        candle_type=CandleType.FUTURES,
        data_format="feather",
    )


def analyse(strategy, candles: pd.DataFrame) -> pd.DataFrame:
    """populate_indicators + entry + exit, as freqtrade chains them."""
    meta = {"pair": PAIR}
    frame = strategy.advise_indicators(candles.copy(), meta)
    frame = strategy.advise_entry(frame, meta)
    return strategy.advise_exit(frame, meta)


def backtest_stats(result_dir: Path) -> dict[str, dict]:
    """Per-strategy stats of the backtest result in ``result_dir`` (freqtrade's JSON)."""
    from freqtrade.data.btanalysis import load_backtest_stats

    return load_backtest_stats(result_dir)["strategy"]


def dump(obj: object) -> str:
    return json.dumps(obj, indent=1, default=str)[:4000]
