"""The strategy with hourly open interest under its 5m candles (the embedded BTC 2025
datadir holds no 5m OI, only BTC_USDT_USDT-1h-open_interest.feather from 2025-12-04 06:00).

Prefix invariance as in test_no_lookahead, but stricter about the open interest: each
prefix ending at candle k gets only the OI rows *known at k's close* (row T of an hourly
series is the value at T + 1h), not the whole window.  A strategy that used a row one
period early would then see a different value on the prefix than on the full run; the
planted copy in tests/strategy/planted proves the check catches it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from strategy_harness import DATADIR_2025, PAIR, PLANTED, analyse, load_candles, load_strategy

from liq_signals import columns as C

TIMERANGE = "20251205-20251207"
#: Prefix lengths cut from the end of the window (candles): ends at hh:00, hh:20, hh:55.
CUTS = (300, 97, 12, 1)


def _cut_open_interest(strategy, known_until: pd.Timestamp) -> None:
    """Make the strategy's DataProvider return only the OI rows known at ``known_until``
    (row T of a series with period p is known at T + p)."""
    dp = strategy.dp
    original = getattr(dp, "_uncut_get_pair_dataframe", dp.get_pair_dataframe)
    dp._uncut_get_pair_dataframe = original

    def get(pair, timeframe=None, candle_type=""):
        frame = original(pair, timeframe, candle_type=candle_type)
        if str(candle_type) != "open_interest" or not len(frame):
            return frame
        period = pd.Timedelta(timeframe.replace("m", "min"))
        return frame[frame["date"] + period <= known_until].reset_index(drop=True)

    dp.get_pair_dataframe = get


def known_oi_mismatches(strategy, candles: pd.DataFrame) -> dict[str, int]:
    """Columns whose values on a prefix (with the OI known at its last close) differ from
    the full run's same rows: column -> differing rows over CUTS."""
    _cut_open_interest(strategy, candles["date"].iloc[-1] + pd.Timedelta("5min"))
    full = analyse(strategy, candles)
    bad: dict[str, int] = {}
    for cut in CUTS:
        part_c = candles.iloc[:-cut]
        _cut_open_interest(strategy, part_c["date"].iloc[-1] + pd.Timedelta("5min"))
        part = analyse(strategy, part_c)
        ref = full.iloc[: len(part)]
        for column in part.columns:
            a, b = part[column], ref[column]
            if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
                same = np.isclose(
                    a.to_numpy(float), b.to_numpy(float), rtol=1e-9, atol=0.0, equal_nan=True
                )
            else:
                same = (
                    a.astype(object).fillna("<NA>") == b.astype(object).fillna("<NA>")
                ).to_numpy()
            if not same.all():
                bad[column] = bad.get(column, 0) + int((~same).sum())
    return bad


@pytest.fixture(scope="module")
def candles():
    strategy = load_strategy("LiquidationMagnetStrategy", DATADIR_2025, TIMERANGE)
    return load_candles(DATADIR_2025, TIMERANGE, strategy.startup_candle_count)


def test_strategy_finds_the_hourly_file_and_runs_in_oi_mode(candles) -> None:
    strategy = load_strategy("LiquidationMagnetStrategy", DATADIR_2025, TIMERANGE)
    assert strategy._oi_timeframes() == ["5m", "1h"]
    frame = analyse(strategy, candles)
    on = frame["date"] >= "2025-12-05"
    assert (frame.loc[on, C.MODE] == "oi").all()
    assert not frame.loc[on, C.STALE].any()


def test_informative_pairs_declare_both_oi_timeframes() -> None:
    strategy = load_strategy("LiquidationMagnetStrategy", DATADIR_2025, TIMERANGE)
    strategy.config["trading_mode"] = "futures"
    strategy.dp.current_whitelist = lambda: [PAIR]
    declared = strategy.informative_pairs()
    assert (PAIR, "5m", "open_interest") in declared
    assert (PAIR, "1h", "open_interest") in declared


def test_prefix_invariant_with_only_the_known_hourly_rows(candles) -> None:
    strategy = load_strategy("LiquidationMagnetStrategy", DATADIR_2025, TIMERANGE)
    assert len(candles) > max(CUTS) + 300
    assert known_oi_mismatches(strategy, candles) == {}


def test_the_check_catches_hourly_rows_used_one_period_early(candles) -> None:
    strategy = load_strategy("LiquidationMagnetEarlyOI", DATADIR_2025, TIMERANGE, PLANTED)
    bad = known_oi_mismatches(strategy, candles)
    assert bad.get(C.COVERAGE, 0) >= 1
    # the columns that read open interest (the book itself does not here: it only caps)
    assert C.MAGNET_UP_OI_FRAC in bad
