"""compute_features: shape of the result, causality, timing rules, modes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liq_signals import columns as C
from liq_signals.engine.config import ModelConfig
from liq_signals.features import compute_features

PAIR = "BTC/USDT:USDT"


def feats(d, candles=None, **kw):
    c = d.candles if candles is None else candles
    args = dict(open_interest=d.open_interest, metrics=d.metrics)
    args.update(kw)
    return compute_features(c, pair=PAIR, **args)


def test_result_is_a_copy_with_index_columns_and_all_features(oi_data) -> None:
    candles = oi_data.candles.copy()
    candles.index = candles.index + 1000  # a non-default index must survive
    before = candles.copy()
    out = feats(oi_data, candles)
    pd.testing.assert_frame_equal(candles, before)  # input untouched
    assert out.index.equals(candles.index)
    assert list(out.columns) == list(candles.columns) + list(C.FEATURE_COLUMNS)
    pd.testing.assert_frame_equal(out[candles.columns], candles)
    assert set(out[C.MODE]) == {C.MODE_OI, C.MODE_VOLUME}
    assert out[C.STALE].dtype == bool


def test_column_names_match_the_contract() -> None:
    assert C.SHORT_ABOVE_USD_5PCT == "liq_short_above_usd_5pct"
    assert C.IMBALANCE_LOG_10PCT == "liq_imbalance_log_10pct"
    assert len(C.FEATURE_COLUMNS) == len(set(C.FEATURE_COLUMNS)) == 30
    custom = C.feature_columns((1.0, 2.5))
    assert "liq_long_below_usd_2p5pct" in custom and C.LONG_BELOW_USD_2PCT not in custom


@pytest.mark.parametrize("k", [5, 700, 2500, 4000])
def test_prefix_invariance_with_open_interest_and_metrics(oi_data, k) -> None:
    """Features of candle k are identical on data[:k+1] and on the whole history."""
    full = feats(oi_data)
    part = feats(oi_data, oi_data.candles.iloc[: k + 1])
    pd.testing.assert_frame_equal(part, full.iloc[: k + 1])


def test_prefix_invariance_in_volume_mode(data_2023) -> None:
    candles = data_2023.candles.iloc[:20_000]
    full = compute_features(candles, pair=PAIR)
    for k in (0, 9_999, 15_123):
        pd.testing.assert_frame_equal(
            compute_features(candles.iloc[: k + 1], pair=PAIR), full.iloc[: k + 1]
        )
    assert (full[C.MODE] == C.MODE_VOLUME).all() and full[C.COVERAGE].isna().all()
    assert not full[C.STALE].any()


def test_open_interest_is_used_one_candle_after_its_stamp(oi_data) -> None:
    """Changing the OI row stamped at candle k's open leaves candles ≤ k unchanged and
    changes candle k+1 (DESIGN §6: one-candle lag)."""
    base = feats(oi_data)
    k = int(np.flatnonzero((base[C.MODE] == C.MODE_OI).to_numpy())[500])
    stamp = oi_data.candles["date"].iloc[k]
    oi = oi_data.open_interest.copy()
    row = oi.index[oi["date"] == stamp][0]
    oi.loc[row, "open_interest_amount"] *= 1.05
    changed = feats(oi_data, open_interest=oi)
    pd.testing.assert_frame_equal(changed.iloc[: k + 1], base.iloc[: k + 1])
    assert not changed.iloc[k + 1].equals(base.iloc[k + 1])


def test_metrics_are_used_one_candle_after_their_stamp(oi_data) -> None:
    base = feats(oi_data)
    k = 3000
    stamp = oi_data.candles["date"].iloc[k]
    metrics = oi_data.metrics.copy()
    row = metrics.index[metrics["date"] == stamp][0]
    metrics.loc[row, "taker_net_base"] = -metrics.loc[row, "taker_net_base"] + 1.0
    changed = feats(oi_data, metrics=metrics)
    pd.testing.assert_frame_equal(changed.iloc[: k + 1], base.iloc[: k + 1])
    later = changed.iloc[k + 1 :][list(C.FEATURE_COLUMNS)]
    assert not later.equals(base.iloc[k + 1 :][list(C.FEATURE_COLUMNS)])


def test_open_interest_gaps_fall_back_to_volume_mode_and_are_flagged(oi_data) -> None:
    out = feats(oi_data)
    lagged = oi_data.candles["date"] - pd.Timedelta(minutes=5)
    have = lagged.isin(set(oi_data.open_interest["date"])).to_numpy()
    prev_have = np.concatenate([[False], have[:-1]])
    mode_oi = (out[C.MODE] == C.MODE_OI).to_numpy()
    np.testing.assert_array_equal(mode_oi, have & prev_have)
    assert out[C.STALE].to_numpy()[~have].all()
    assert out.loc[mode_oi, C.COVERAGE].notna().all() and out.loc[~mode_oi, C.COVERAGE].isna().all()


def test_same_timeframe_mark_candles_drive_the_sweeps(oi_data) -> None:
    """Mark lows below the trade lows sweep more longs; coarser mark candles are ignored."""
    candles = oi_data.candles
    mark = candles[["date", "open", "high", "low", "close"]].copy()
    mark["low"] = mark["low"] * 0.995
    base = compute_features(candles, pair=PAIR)
    with_mark = compute_features(candles, pair=PAIR, mark=mark)
    assert with_mark[C.LONG_SWEPT_USD].sum() > 1.2 * base[C.LONG_SWEPT_USD].sum()
    hourly = mark.iloc[::12].reset_index(drop=True)
    pd.testing.assert_frame_equal(compute_features(candles, pair=PAIR, mark=hourly), base)


def test_features_have_the_documented_meaning(oi_data) -> None:
    out = feats(oi_data)
    close = out["close"]
    up = out[C.MAGNET_UP_DIST_PCT].dropna()
    assert len(up) > 3000 and (up > 0).all() and (up <= 10.0 + 1e-9).all()
    np.testing.assert_allclose(
        out[C.MAGNET_UP_DIST_PCT], (out[C.MAGNET_UP_PRICE] / close - 1) * 100, rtol=1e-12
    )
    down = out[C.MAGNET_DOWN_DIST_PCT].dropna()
    assert (down > 0).all() and (down <= 10.0 + 1e-9).all()
    assert (out[C.SHORT_ABOVE_USD_2PCT] <= out[C.SHORT_ABOVE_USD_5PCT]).all()
    assert (out[C.LONG_BELOW_USD_5PCT] <= out[C.LONG_BELOW_USD_10PCT]).all()
    assert (out[C.MAGNET_UP_USD] <= out[C.SHORT_ABOVE_USD_10PCT] * (1 + 1e-12)).all()
    assert (out[C.MAGNET_UP_USD] >= out[C.NEAREST_UP_USD]).all()
    np.testing.assert_allclose(
        out[C.IMBALANCE_LOG_2PCT],
        np.log((out[C.SHORT_ABOVE_USD_2PCT] + 1.0) / (out[C.LONG_BELOW_USD_2PCT] + 1.0)),
    )
    recent = out[C.LONG_SWEPT_USD].rolling(12, min_periods=1).sum()
    np.testing.assert_allclose(out[C.SWEPT_LONG_USD_RECENT], recent, rtol=1e-9, atol=1e-6)


def test_custom_bands_give_custom_columns(oi_data) -> None:
    cfg = ModelConfig(bands_pct=(1.0, 3.0))
    out = feats(oi_data, config=cfg)
    assert set(C.feature_columns((1.0, 3.0))) <= set(out.columns)
    assert C.SHORT_ABOVE_USD_2PCT not in out.columns


def test_longer_history_changes_values_but_not_their_causality(data_2023) -> None:
    """The book built from the first candle on file: starting later gives other values."""
    c = data_2023.candles.iloc[:3000]
    a = compute_features(c, pair=PAIR)
    b = compute_features(c.iloc[1000:], pair=PAIR)
    assert not np.allclose(a[C.LONG_BELOW_USD_10PCT].iloc[-1], b[C.LONG_BELOW_USD_10PCT].iloc[-1])


@pytest.mark.parametrize(
    "tf", ["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d", "3d", "1w"]
)
def test_timeframe_parsing_agrees_with_freqtrade(tf) -> None:
    from freqtrade.exchange import timeframe_to_seconds

    from liq_signals.features import timeframe_seconds

    assert timeframe_seconds(tf) == timeframe_to_seconds(tf)


@pytest.mark.parametrize("tf", ["1M", "5", "m", "0m", "5x"])
def test_unsupported_timeframes_are_rejected(tf) -> None:
    from liq_signals.features import timeframe_seconds

    with pytest.raises(ValueError, match="unsupported timeframe"):
        timeframe_seconds(tf)


def test_tier_file_is_the_one_inside_installed_freqtrade() -> None:
    from importlib import resources

    from liq_signals.data.tiers import tier_file_path

    assert tier_file_path() == resources.files("freqtrade.exchange").joinpath(
        "binance_leverage_tiers.json"
    )
