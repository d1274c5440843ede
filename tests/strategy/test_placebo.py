"""The placebo harness (tools/placebo): only the map's timing changes, nothing else.

* the 0-day placebo goes through the placebo's whole code path and trades exactly like
  the strategy (a real freqtrade backtest, open interest from the datadir);
* the N-day placebo's map at ``t`` is, value for value, the map the strategy itself
  computes when run N days earlier (candles and open interest translated, same warm-up);
* its rows do not change when later candles are cut off (no look-ahead, no wrap-around);
* a shift the datadir cannot serve is refused instead of trading a cold map.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
from strategy_harness import (
    DATADIR_2025,
    REPO,
    STRATEGIES,
    analyse,
    backtest_stats,
    dump,
    load_candles,
    load_strategy,
)

PLACEBO_DIR = REPO / "tools" / "placebo"
#: BTC in OI mode from 2025-12-04 (hourly open interest): the 10-day placebo's span too.
WINDOW = "20260110-20260114"
WINDOW_10_DAYS_EARLIER = "20251231-20260104"


def _map_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The map's own columns (the ``liq_term_*`` ones also read the current price)."""
    return frame[[c for c in frame.columns if c.startswith("liq_") and "term" not in c]]


def _placebo(days: int, timerange: str, datadir: Path = DATADIR_2025):
    return load_strategy(f"LiquidationMagnetPlacebo{days}", datadir, timerange, PLACEBO_DIR)


@pytest.mark.freqtrade
def test_zero_day_placebo_trades_exactly_like_the_strategy(offline, tmp_path: Path) -> None:
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    for source in [*STRATEGIES.glob("*.py"), *PLACEBO_DIR.glob("*.py")]:
        shutil.copy2(source, strategies / source.name)
    out = tmp_path / "bt"
    out.mkdir()
    names = ["LiquidationMagnetStrategy", "LiquidationMagnetPlacebo0"]

    result = offline(
        [
            "backtesting",
            "--strategy-list",
            *names,
            "--strategy-path",
            str(strategies),
            "--timerange",
            "20260105-20260205",  # BTC in OI mode (hourly open interest)
            "--export",
            "trades",
            "--backtest-directory",
            str(out),
            "--cache",
            "none",
        ],
        DATADIR_2025,
    )

    assert result.ok, result.output[-4000:]
    stats = backtest_stats(out)
    keys = ("pair", "open_date", "close_date", "open_rate", "close_rate", "is_short")
    strategy, placebo = (
        [{k: t[k] for k in (*keys, "exit_reason")} for t in stats[n]["trades"]] for n in names
    )
    assert len(strategy) >= 3, dump(stats[names[0]]["trades"])
    assert placebo == strategy


def test_shifted_placebo_map_is_the_strategy_map_of_n_days_earlier() -> None:
    placebo = _placebo(10, WINDOW)
    earlier = load_strategy("LiquidationMagnetStrategy", DATADIR_2025, WINDOW_10_DAYS_EARLIER)
    now = analyse(placebo, load_candles(DATADIR_2025, WINDOW, placebo.startup_candle_count))
    then = analyse(earlier, load_candles(DATADIR_2025, WINDOW_10_DAYS_EARLIER, 2304))

    moved = _map_columns(then).set_index(then["date"] + pd.Timedelta(days=10))
    mine = _map_columns(now).set_index(now["date"])
    assert len(mine) == len(moved) > 2000
    assert (mine["liq_mode"] == "oi").mean() > 0.5  # open interest translated with the candles
    pd.testing.assert_frame_equal(mine, moved, check_names=False, check_index_type=False)
    # and not the strategy's own map of the same candles
    own = load_strategy("LiquidationMagnetStrategy", DATADIR_2025, WINDOW)
    same_time = _map_columns(analyse(own, load_candles(DATADIR_2025, WINDOW, 2304)))
    diff = (
        same_time["liq_nearest_up_dist_pct"].to_numpy()
        != mine["liq_nearest_up_dist_pct"].to_numpy()
    )
    assert diff.mean() > 0.9


def test_placebo_rows_do_not_change_when_later_candles_are_cut() -> None:
    placebo = _placebo(20, WINDOW)
    candles = load_candles(DATADIR_2025, WINDOW, placebo.startup_candle_count)
    cut = len(candles) - 600  # two days before the end

    full = analyse(placebo, candles)
    short = analyse(_placebo(20, WINDOW), candles.iloc[:cut].copy())

    columns = [c for c in full.columns if c.startswith("liq_")]
    pd.testing.assert_frame_equal(short[columns], full[columns].iloc[:cut])
    assert full["liq_term_pull_excess"].iloc[:cut].notna().sum() > 1000


def test_a_shift_the_datadir_cannot_serve_is_refused() -> None:
    # the 2025 datadir starts 2024-12-31: 170 + 8 days before 2025-04-01 are not on file
    placebo = _placebo(170, "20250401-20250405")
    candles = load_candles(DATADIR_2025, "20250401-20250405", placebo.startup_candle_count)

    with pytest.raises(Exception, match=r"170 days before .* datadir starts at 2024-12-31"):
        analyse(placebo, candles)


def test_one_placebo_class_per_walk_forward_shift() -> None:
    spec = importlib.util.spec_from_file_location("compare", REPO / "tools" / "compare.py")
    compare = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("compare", compare)
    spec.loader.exec_module(compare)
    module = sys.modules.get("LiquidationMagnetPlacebo")
    if module is None:
        _placebo(0, WINDOW)  # the resolver imports the file
        module = sys.modules.get("LiquidationMagnetPlacebo")
    source = (PLACEBO_DIR / "LiquidationMagnetPlacebo.py").read_text()

    assert compare.SHIFTS == tuple(sorted(compare.SHIFTS))
    assert len(compare.SHIFTS) >= 12
    assert compare.SHIFTS[0] == 10
    assert compare.SHIFTS[-1] >= 170
    for days in (0, *compare.SHIFTS):
        assert f"class LiquidationMagnetPlacebo{days}(LiquidationMagnetPlacebo):" in source
        assert f"    SHIFT_DAYS = {days}\n" in source
    if module is not None:
        assert tuple(module.SHIFTS_DAYS) == compare.SHIFTS
