"""The one-time hint of :func:`liq_signals.freqtrade.why_no_signal`: when the map cannot
signal on most candles after a strategy's startup, and why.  Tiny hand-made frames; the
real backtest that logs it is ``test_freqtrade_gates.test_backtest_trades_on_embedded_data``.
"""

from __future__ import annotations

import pandas as pd

from liq_signals import columns as C
from liq_signals.freqtrade import why_no_signal


def _features(stale: list[bool]) -> pd.DataFrame:
    dates = pd.date_range("2026-06-07", periods=len(stale), freq="5min", tz="UTC")
    return pd.DataFrame({"date": dates, C.STALE: stale})


def test_a_history_no_longer_than_the_startup_is_named():
    why = why_no_signal(_features([False] * 288), startup=288, timeframe="5m")
    assert why is not None
    assert "the 288 candles on file (1.0 days)" in why
    assert "startup_candle_count 288 (1.0 days)" in why


def test_stale_candles_after_the_startup_are_counted_with_their_span():
    # 10 startup candles (stale ones among them do not count), then 6 stale of 10
    stale = [True] * 10 + [False] * 4 + [True] * 6
    why = why_no_signal(_features(stale), startup=10, timeframe="5m")
    assert why is not None
    assert "can signal on only 4 of the 10 candles after the startup" in why
    assert "6 are stale" in why
    assert "between 2026-06-07 01:10 and 2026-06-07 01:35 UTC" in why


def test_no_hint_when_most_candles_can_signal():
    stale = [True] * 10 + [False] * 5 + [True] * 5  # half can signal: enough
    assert why_no_signal(_features(stale), startup=10, timeframe="5m") is None
