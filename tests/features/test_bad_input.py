"""Bad input is rejected at the boundary with a message naming pair, source and row, or
quarantined row by row (open interest, mark, sidecar); extreme but valid input never
crashes the kernel (hypothesis)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liq_signals import columns as C
from liq_signals.data.boundary import LiqInputError
from liq_signals.features.pipeline import compute_features

PAIR = "ETH/USDT:USDT"
OI = "open_interest_amount"
TAKER = "taker_buy_sell_ratio"


def candles(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 2000 * np.exp(np.cumsum(rng.normal(0, 0.003, n)))
    openp = np.concatenate([[2000.0], close[:-1]])
    return pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=n, freq="5min", tz="UTC"),
            "open": openp,
            "high": np.maximum(openp, close) * 1.002,
            "low": np.minimum(openp, close) * 0.998,
            "close": close,
            "volume": rng.gamma(2.0, 100.0, n),
        }
    )


def oi_frame(c: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": c["date"],
            "open_interest_amount": np.linspace(1e5, 1.1e5, len(c)),
            "open_interest_value": np.nan,  # contracts only (as Bybit linear files)
        }
    )


def with_value(df: pd.DataFrame, row: int, col: str, value) -> pd.DataFrame:
    df = df.copy()
    df.loc[row, col] = value
    return df


CASES = {
    "empty": (lambda c: c.iloc[:0], {}, "no candles"),
    "missing column": (lambda c: c.drop(columns=["volume"]), {}, "missing column"),
    "nan close": (lambda c: with_value(c, 17, "close", np.nan), {}, "row 17"),
    "zero price": (lambda c: with_value(c, 3, "low", 0.0), {}, "row 3"),
    "high below low": (lambda c: with_value(c, 5, "high", 1.0), {}, "row 5"),
    "negative volume": (lambda c: with_value(c, 8, "volume", -1.0), {}, "row 8"),
    "duplicate date": (
        lambda c: with_value(c, 9, "date", c["date"].iloc[8]),
        {},
        "duplicate date at row 9",
    ),
    "unsorted": (
        lambda c: c.iloc[[0, 2, 1, 3]].reset_index(drop=True),
        {},
        "unsorted date at row 2",
    ),
    "naive dates": (lambda c: c.assign(date=c["date"].dt.tz_localize(None)), {}, "timezone-naive"),
    "close above high": (
        lambda c: with_value(c, 14, "close", c["high"].iloc[14] * 1.01),
        {},
        "close .* outside .* at row 14 ",
    ),
    "open below low": (
        lambda c: with_value(c, 6, "open", c["low"].iloc[6] * 0.99),
        {},
        "open .* outside .* at row 6 ",
    ),
    "x1000 spike": (
        lambda c: c.assign(
            **{
                k: np.where(c.index == 25, c[k] * 1000, c[k])
                for k in ("open", "high", "low", "close")
            }
        ),
        {},
        "open=.* at row 25 .* beyond 10× the median",
    ),
    "text column": (lambda c: c.assign(close=c["close"].astype(str)), {}, "'close' has dtype"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_candles_raise_naming_pair_and_row(name) -> None:
    make, kw, match = CASES[name]
    with pytest.raises(LiqInputError, match=match) as err:
        compute_features(make(candles()), pair=PAIR, **kw)
    assert PAIR in str(err.value)
    assert "[candles]" in str(err.value)


@pytest.mark.parametrize(
    ("value", "row"), [(0.0, 4), (-5.0, 11), (np.inf, 2), (1.05e8, 20), (1e2, 30)]
)
def test_bad_open_interest_row_is_dropped_and_costs_one_stale_candle(value, row, caplog) -> None:
    """Zero, negative, infinite or ×1000 / ÷1000 open interest: the row reads as missing
    (exactly as a NaN row), only the candle reading it (lag 1) is stale, logged with the
    row.  Before, the whole frame was rejected (the dry-run blind for days)."""
    caplog.set_level(logging.INFO)
    c = candles()
    oi = oi_frame(c)
    out = compute_features(c, pair=PAIR, open_interest=with_value(oi, row, OI, value))
    assert np.flatnonzero(out[C.STALE].to_numpy()).tolist() == [row + 1]
    missing = compute_features(c, pair=PAIR, open_interest=with_value(oi, row, OI, np.nan))
    pd.testing.assert_frame_equal(out, missing)
    assert f"{OI}={value!r} at row {row} " in caplog.text
    assert "dropped" in caplog.text


def test_growth_within_the_jump_multiple_is_kept() -> None:
    """The jump rule reads the median of the past rows only: a steady +20 % per row (3.3×
    the median of the 12 rows before) is a trend, not a spike."""
    from liq_signals.data.boundary import implausible_jumps

    steady = 1e5 * 1.2 ** np.arange(40)
    assert not implausible_jumps(steady).any()
    spike = steady.copy()
    spike[30] *= 1000
    assert np.flatnonzero(implausible_jumps(spike)).tolist() == [30]
    # causal: row 30's answer does not depend on later rows
    assert implausible_jumps(spike[:31])[30]


def test_nan_and_short_open_interest_become_flagged_volume_mode(caplog) -> None:
    caplog.set_level(logging.INFO)
    c = candles()
    oi = with_value(oi_frame(c), 20, "open_interest_amount", np.nan).iloc[:30]
    out = compute_features(c, pair=PAIR, open_interest=oi)
    mode = out[C.MODE].to_numpy()
    # lag 1: candle k uses OI stamped k−1 (OI mode wherever that value is known)
    assert (mode[[0, 21]] == C.MODE_VOLUME).all()
    assert (mode[[1, 2, 20, 22]] == C.MODE_OI).all()
    assert (mode[31:] == C.MODE_VOLUME).all()
    assert out[C.STALE].to_numpy()[[21, 31, 39]].all()
    assert not out[C.STALE].iloc[22]
    # candle 0 comes before the series' first value is known: volume mode, not an outage
    assert not out[C.STALE].iloc[0]
    assert "volume mode" in caplog.text


def test_bad_mark_and_metrics_rows_are_dropped_as_missing(caplog) -> None:
    """A bad mark row reads as a missing one (trade high/low for that candle); a bad taker
    ratio as a missing one (no tilt, stale) — each logged with its row."""
    c = candles()
    mark = c[["date", "high", "low"]].copy()
    for row, col, value in ((6, "low", np.nan), (9, "high", mark["high"].iloc[9] * 1000)):
        bad = with_value(mark, row, col, value)
        nan = with_value(with_value(mark, row, "high", np.nan), row, "low", np.nan)
        pd.testing.assert_frame_equal(
            compute_features(c, pair=PAIR, mark=bad), compute_features(c, pair=PAIR, mark=nan)
        )
        assert f"at row {row} " in caplog.text
    metrics = pd.DataFrame({"date": c["date"], "taker_buy_sell_ratio": 1.0})
    for value in (-0.5, np.inf, 1000.0):
        out = compute_features(c, pair=PAIR, metrics=with_value(metrics, 12, TAKER, value))
        ref = compute_features(c, pair=PAIR, metrics=with_value(metrics, 12, TAKER, np.nan))
        pd.testing.assert_frame_equal(out, ref)
        # candle 0 has no sidecar row before it (lag 1); 13 reads the dropped row
        assert np.flatnonzero(out[C.STALE].to_numpy()).tolist() == [0, 13]


def test_not_a_dataframe_is_an_error() -> None:
    with pytest.raises(LiqInputError, match="DataFrame"):
        compute_features(np.zeros((3, 6)), pair=PAIR)  # type: ignore[arg-type]


def test_pair_without_tiers_still_computes_with_default_tiers(caplog) -> None:
    out = compute_features(candles(), pair="NOPE/USDT:USDT")
    assert out[C.LONG_BELOW_USD_10PCT].iloc[-1] > 0
    assert "default tier table" in caplog.text


@st.composite
def extreme_frames(draw):
    n = draw(st.integers(1, 60))
    scale = draw(st.sampled_from([1e-7, 1e-3, 1.0, 1e4, 1e7]))
    # valid: never a tenfold move against the past closes' median (the boundary's jump
    # rule), so at most e^(12·0.1) drift and a 50 % wick
    steps = draw(st.lists(st.floats(-0.1, 0.1), min_size=n, max_size=n))
    wick = draw(st.lists(st.floats(0.0, 0.5), min_size=n, max_size=n))
    vol = draw(st.lists(st.one_of(st.just(0.0), st.floats(0.0, 1e9)), min_size=n, max_size=n))
    gaps = draw(st.lists(st.sampled_from([1, 1, 1, 2, 500]), min_size=n, max_size=n))
    close = scale * np.exp(np.cumsum(steps))
    w = np.asarray(wick)
    c = pd.DataFrame(
        {
            "date": pd.to_datetime(1_700_000_000 + 300 * np.cumsum(gaps), unit="s", utc=True),
            "open": close,
            "high": close * (1 + w),
            "low": close * (1 - w) + 0.0,
            "close": close,
            "volume": np.asarray(vol),
        }
    )
    c["low"] = np.minimum(c["low"], c["close"])
    oi_vals = draw(
        st.lists(st.one_of(st.just(np.nan), st.floats(1e-3, 1e9)), min_size=n, max_size=n)
    )
    oi = pd.DataFrame({"date": c["date"], "open_interest_amount": oi_vals})
    return c, oi


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extreme_frames())
def test_extreme_valid_input_gives_finite_features(frames) -> None:
    c, oi = frames
    out = compute_features(c, pair="BTC/USDT:USDT", open_interest=oi)
    for col in (
        C.LONG_SWEPT_USD,
        C.SHORT_SWEPT_USD,
        C.SHORT_ABOVE_USD_10PCT,
        C.LONG_BELOW_USD_10PCT,
        C.IMBALANCE_LOG_5PCT,
        C.CASCADE_UP_USD_PER_PCT,
        C.SWEPT_SHORT_USD_RECENT,
    ):
        v = out[col].to_numpy(dtype=float)
        assert np.isfinite(v).all(), col
        if col != C.IMBALANCE_LOG_5PCT:
            assert (v >= 0).all(), col
    cov = out[C.COVERAGE].to_numpy(dtype=float)
    assert (cov[np.isfinite(cov)] <= 1 + 1e-9).all()


@settings(max_examples=60, deadline=None)
@given(
    col=st.sampled_from(["open", "high", "low", "close", "volume"]),
    value=st.sampled_from([np.nan, -1.0, np.inf, -np.inf]),
    row=st.integers(0, 39),
)
def test_any_bad_value_is_rejected_at_the_boundary(col, value, row) -> None:
    c = with_value(candles(), row, col, value)
    with pytest.raises(LiqInputError, match=f"row {row}"):
        compute_features(c, pair=PAIR)


def test_an_open_interest_frame_without_any_value_is_an_outage_not_a_late_start() -> None:
    """Rows that hold no value at all (an outage covering the whole window) keep every
    candle from the first row's lag on stale; candles before an OI series' first value
    (a late start) are volume mode but not stale."""
    c = candles()
    empty = oi_frame(c).assign(open_interest_amount=np.nan)
    if "open_interest_value" in empty:
        empty["open_interest_value"] = np.nan
    out = compute_features(c, pair=PAIR, open_interest=empty)
    assert not out[C.STALE].iloc[0]
    assert out[C.STALE].iloc[1:].all()
    late = oi_frame(c).iloc[10:]
    out = compute_features(c, pair=PAIR, open_interest=late)
    assert not out[C.STALE].any()
    assert (out[C.MODE].iloc[:11] == C.MODE_VOLUME).all()
    assert (out[C.MODE].iloc[11:] == C.MODE_OI).all()
