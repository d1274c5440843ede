"""LiquidationMagnetStrategy vs BaselineStrategy: backtest and hyperopt-epoch cost.

    .venv/bin/python bench/bench_strategy.py [--timerange 20250901-20260219] [--repeat 3]

Both strategies are timed in the same process, on the same loaded candles (embedded 2025
window, BTC/USDT:USDT 5m), inside freqtrade's own ``Backtesting`` object wired to the
loopback emulator:

* **backtest** = ``advise_all_indicators`` (the liquidation map is rebuilt here) + the
  ``Backtesting.backtest`` loop with its callbacks -- what ``freqtrade backtesting``
  spends per strategy after loading data.  Target: ratio <= 1.5.
* **hyperopt epoch** = ``Backtesting.backtest`` on the already-analysed frames (signals +
  loop + callbacks), which is what ``freqtrade hyperopt`` repeats per epoch (indicators
  are computed once).  Target: ratio <= 1.2.

Each figure is the best of ``--repeat`` runs.  One line per figure, ratios liq/baseline.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STRATEGIES = ("BaselineStrategy", "LiquidationMagnetStrategy")
DATADIR = REPO / "user_data" / "data" / "binance"


def _backtesting(timerange: str, overlay: Path, userdir: Path):
    from freqtrade.commands.optimize_commands import setup_optimize_configuration
    from freqtrade.enums import RunMode
    from freqtrade.optimize.backtesting import Backtesting

    config = setup_optimize_configuration(
        {
            "config": [str(REPO / "user_data" / "config_backtest.json"), str(overlay)],
            "strategy_list": list(STRATEGIES),
            "strategy_path": str(REPO / "strategies"),
            "datadir": str(DATADIR),
            "timerange": timerange,
            "user_data_dir": str(userdir),
            "export": "none",
        },
        RunMode.BACKTEST,
    )
    return Backtesting(config)


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def _frames(analysed: dict) -> dict:
    """Fresh copies of the analysed frames (backtest() consumes its input dict)."""
    return {k: v.copy() for k, v in analysed.items() if k != "_dates"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timerange", default="20250901-20260219")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    from freqtrade.data.converter import trim_dataframes
    from freqtrade.data.history import get_timerange
    from freqtrade.persistence import FtNoDBContext

    from liq_signals.offline.emulator import Emulator
    from liq_signals.offline.overlay import build_overlay

    with tempfile.TemporaryDirectory(dir=REPO / "user_data") as tmp, Emulator(DATADIR) as emu:
        overlay = Path(tmp) / "overlay.json"
        overlay.write_text(json.dumps(build_overlay(emu.url)))
        (Path(tmp) / "ud").mkdir()
        bt = _backtesting(args.timerange, overlay, Path(tmp) / "ud")
        data, timerange = bt.load_bt_data()
        backtest_s: dict[str, float] = {}
        epoch_s: dict[str, float] = {}
        trades: dict[str, int] = {}
        with FtNoDBContext(bt.timeframe):
            for strategy in bt.strategylist:
                name = strategy.get_strategy_name()
                analysed: dict = {}

                def full_backtest(strategy=strategy, analysed=analysed, name=name) -> None:
                    # as Backtesting.backtest_one_strategy: indicators, then the loop on the
                    # untrimmed frames between the trimmed frames' dates
                    bt._set_strategy(strategy)
                    analysed.clear()
                    analysed.update(strategy.advise_all_indicators(data))
                    start, end = get_timerange(
                        trim_dataframes(analysed, timerange, bt.required_startup)
                    )
                    analysed["_dates"] = (start, end)
                    result = bt.backtest(_frames(analysed), start, end)
                    trades[name] = len(result["results"])

                def epoch(analysed=analysed) -> None:
                    # hyperopt hands backtest() the cached analysed frames each epoch
                    bt.backtest(_frames(analysed), *analysed["_dates"])

                backtest_s[name] = _best(full_backtest, args.repeat)
                epoch_s[name] = _best(epoch, args.repeat)

    base, liq = STRATEGIES
    candles = sum(len(df) for df in data.values())
    print(
        f"window {args.timerange}: {candles} candles, trades baseline {trades[base]}, "
        f"liquidation {trades[liq]}"
    )
    print(f"backtest seconds: baseline {backtest_s[base]:.2f}, liquidation {backtest_s[liq]:.2f}")
    print(
        f"backtest ratio liquidation/baseline: {backtest_s[liq] / backtest_s[base]:.2f} "
        "(target <= 1.5)"
    )
    print(f"hyperopt epoch seconds: baseline {epoch_s[base]:.2f}, liquidation {epoch_s[liq]:.2f}")
    print(
        f"hyperopt epoch ratio liquidation/baseline: {epoch_s[liq] / epoch_s[base]:.2f} "
        "(target <= 1.2)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
