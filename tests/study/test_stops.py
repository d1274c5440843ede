"""The stop study (liq_signals.study.stops): the trade arithmetic, and that it can tell a map
that knows where price turns from one that does not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liq_signals import columns as C
from liq_signals.study.stops import StopSettings, shifted_distances, simulate, stop_study, survives


def test_a_long_is_stopped_at_its_stop_and_a_short_runs_to_the_horizon() -> None:
    close = np.array([100.0, 100.5, 99.5, 101.0, 102.0])
    low = np.array([99.9, 100.0, 98.9, 100.5, 101.5])
    high = np.array([100.1, 100.8, 99.9, 101.2, 102.5])
    entries = np.array([0, 0])
    short = np.array([False, True])

    stopped, pnl = simulate(high, low, close, entries, short, np.array([1.0, 3.0]), horizon=4)

    assert stopped.tolist() == [True, False]  # the low 98.9 reaches 99.0; 102.5 < 103
    assert pnl[0] == pytest.approx(-1.0)  # out at the stop, not at the low
    assert pnl[1] == pytest.approx(-2.0)  # short from 100, out at the close 102


def _frame(days: int = 90, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = days * 288
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    wick = np.abs(rng.normal(0, 0.001, n))
    return pd.DataFrame(
        {
            "date": pd.date_range("2025-01-01", periods=n, freq="5min", tz="UTC"),
            "open": close,
            "high": close * (1 + wick),
            "low": close * (1 - wick),
            "close": close,
            C.STALE: False,
        }
    )


def _knowing_map(frame: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Nearest clusters placed just beyond the worst price of the next ``horizon`` candles
    (look-ahead on purpose: a map that knows where price turns), at least 0.4 % away."""
    low = frame["low"][::-1].rolling(horizon, min_periods=1).min()[::-1].shift(-1)
    high = frame["high"][::-1].rolling(horizon, min_periods=1).max()[::-1].shift(-1)
    out = frame.copy()
    out[C.NEAREST_DOWN_DIST_PCT] = np.maximum(100 * (1 - low / frame["close"]), 0.4) + 0.05
    out[C.NEAREST_UP_DIST_PCT] = np.maximum(100 * (high / frame["close"] - 1), 0.4) + 0.05
    return out


def test_a_map_that_knows_where_price_turns_is_stopped_less_and_survives() -> None:
    settings = StopSettings(every=48, horizon=288, buffer_atr=0.0, shifts_days=(10, 20))
    frame = _knowing_map(_frame(), settings.horizon)

    result = stop_study(frame, settings, replicates=200)

    assert result["entries"] > 500
    assert result["arms"]["map"]["stopped"]["value"] == 0.0
    assert result["arms"]["map"]["stop_pct"] == pytest.approx(result["arms"]["ATR"]["stop_pct"])
    for other in ("ATR", "placebo"):
        assert result["differences"][f"map - {other}"]["stopped"]["high"] < -0.1
    assert survives(result)


def test_a_map_of_random_distances_does_not_survive() -> None:
    settings = StopSettings(every=48, horizon=288, buffer_atr=0.0, shifts_days=(10, 20))
    frame = _frame(seed=2)
    rng = np.random.default_rng(3)
    frame[C.NEAREST_DOWN_DIST_PCT] = rng.uniform(0.5, 4.0, len(frame))
    frame[C.NEAREST_UP_DIST_PCT] = rng.uniform(0.5, 4.0, len(frame))

    result = stop_study(frame, settings, replicates=200)

    d = result["differences"]["map - placebo"]["stopped"]
    assert d["low"] <= 0 <= d["high"]
    assert not survives(result)


def test_placebo_distances_come_from_earlier_rows_only() -> None:
    frame = _frame(days=30)
    frame[C.NEAREST_DOWN_DIST_PCT] = np.arange(len(frame), dtype=float)
    frame[C.NEAREST_UP_DIST_PCT] = np.arange(len(frame), dtype=float)

    down, _up = shifted_distances(frame, 10)

    assert np.isnan(down[: 10 * 288]).all()  # no wrap-around: nothing before the file
    assert down[10 * 288 :] == pytest.approx(np.arange(len(frame) - 10 * 288))
