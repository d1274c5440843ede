"""compute_features: shape of the result, causality, timing rules, modes."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import talib

from liq_signals import columns as C
from liq_signals.config import ModelConfig
from liq_signals.data.frames import PairFrames
from liq_signals.features.pipeline import compute_features, prepare_inputs

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
    assert len(C.FEATURE_COLUMNS) == len(set(C.FEATURE_COLUMNS)) == 38
    assert C.MAGNET_UP_DIST_ATR == "liq_magnet_up_dist_atr"
    assert C.NEAREST_DOWN_OI_FRAC == "liq_nearest_down_oi_frac"
    custom = C.feature_columns((1.0, 2.5))
    assert "liq_long_below_usd_2p5pct" in custom
    assert C.LONG_BELOW_USD_2PCT not in custom


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
    assert (full[C.MODE] == C.MODE_VOLUME).all()
    assert full[C.COVERAGE].isna().all()
    assert not full[C.STALE].any()


def test_open_interest_is_used_one_candle_after_its_stamp(oi_data) -> None:
    """Changing the OI row stamped at candle k's open leaves candles ≤ k unchanged and
    changes candle k+1 (one-candle lag: docs/architecture.md, timing rules)."""
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
    volume = float(oi_data.candles["volume"].iloc[k])
    assert volume > 0
    metrics = oi_data.metrics.copy()
    row = metrics.index[metrics["date"] == stamp][0]
    # the sample's volume is |net| (no share); a net flow below the volume gives one
    metrics.loc[row, "taker_net_base"] = 0.5 * volume
    changed = feats(oi_data, metrics=metrics)
    pd.testing.assert_frame_equal(changed.iloc[: k + 1], base.iloc[: k + 1])
    later = changed.iloc[k + 1 :][list(C.FEATURE_COLUMNS)]
    assert not later.equals(base.iloc[k + 1 :][list(C.FEATURE_COLUMNS)])


def test_open_interest_gaps_fall_back_to_volume_mode_and_are_flagged(oi_data) -> None:
    out = feats(oi_data)
    lagged = oi_data.candles["date"] - pd.Timedelta(minutes=5)
    have = lagged.isin(set(oi_data.open_interest["date"])).to_numpy()
    mode_oi = (out[C.MODE] == C.MODE_OI).to_numpy()
    np.testing.assert_array_equal(mode_oi, have)
    assert out[C.STALE].to_numpy()[~have].all()
    assert out.loc[mode_oi, C.COVERAGE].notna().all()
    assert out.loc[~mode_oi, C.COVERAGE].isna().all()


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
    assert len(up) > 3000
    assert (up > 0).all()
    assert (up <= 10.0 + 1e-9).all()
    np.testing.assert_allclose(
        out[C.MAGNET_UP_DIST_PCT], (out[C.MAGNET_UP_PRICE] / close - 1) * 100, rtol=1e-12
    )
    down = out[C.MAGNET_DOWN_DIST_PCT].dropna()
    assert (down > 0).all()
    assert (down <= 10.0 + 1e-9).all()
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

    from liq_signals.timeframes import timeframe_seconds

    assert timeframe_seconds(tf) == timeframe_to_seconds(tf)


@pytest.mark.parametrize("tf", ["1M", "5", "m", "0m", "5x"])
def test_unsupported_timeframes_are_rejected(tf) -> None:
    from liq_signals.timeframes import timeframe_seconds

    with pytest.raises(ValueError, match="unsupported timeframe"):
        timeframe_seconds(tf)


def test_tier_file_is_the_one_inside_installed_freqtrade() -> None:
    from importlib import resources

    from liq_signals.data.tiers import tier_file_path

    assert tier_file_path() == resources.files("freqtrade.exchange").joinpath(
        "binance_leverage_tiers.json"
    )


def test_net_taker_flow_not_below_volume_gives_no_tilt(oi_data, caplog) -> None:
    """The embedded 2026-06 sample stores |net taker flow| as volume (none was recorded):
    net/volume is ±1 on every candle, which would saturate the tilt.  Net flow cannot
    exceed gross volume, so such candles get no share — the features equal those
    without a taker series, only ``liq_stale`` (taker row missing) differs."""
    caplog.set_level(logging.INFO)
    prep = prepare_inputs(
        PairFrames(oi_data.candles, open_interest=oi_data.open_interest, metrics=oi_data.metrics),
        pair=PAIR,
    )
    assert np.isnan(prep.inputs.taker_share).all()
    assert "have |taker_net_base| >= volume" in caplog.text
    with_metrics = feats(oi_data)
    without = feats(oi_data, metrics=None)
    numeric = [c for c in C.FEATURE_COLUMNS if c != C.STALE]
    pd.testing.assert_frame_equal(with_metrics[numeric], without[numeric])
    # stale = the lagged taker row is missing (not: the share is unknown)
    lagged = oi_data.candles["date"] - pd.Timedelta(minutes=5)
    net = oi_data.metrics.set_index("date")["taker_net_base"]
    no_row = ~lagged.map(net).notna().to_numpy()
    np.testing.assert_array_equal(
        with_metrics[C.STALE].to_numpy() & ~without[C.STALE].to_numpy(),
        no_row & ~without[C.STALE].to_numpy(),
    )


def test_net_taker_flow_below_gross_volume_tilts(oi_data) -> None:
    """Same sample with a gross volume (4·|net| + 1 BTC): s = (1 + net/volume)/2 exactly."""
    candles = oi_data.candles.copy()
    candles["volume"] = 4.0 * candles["volume"] + 1.0
    prep = prepare_inputs(PairFrames(candles, metrics=oi_data.metrics), pair=PAIR)
    share = prep.inputs.taker_share
    net = oi_data.metrics.set_index("date")["taker_net_base"]
    lagged = candles["date"] - pd.Timedelta(minutes=5)
    vol_prev = np.concatenate([[np.nan], candles["volume"].to_numpy()[:-1]])
    want = 0.5 * (1.0 + lagged.map(net).to_numpy() / vol_prev)
    np.testing.assert_allclose(share, want, rtol=1e-12, equal_nan=True)
    assert np.isfinite(share).sum() > 4000
    assert np.nanmin(share) > 0.37
    assert np.nanmax(share) < 0.63
    tilted = compute_features(candles, pair=PAIR, metrics=oi_data.metrics)
    flat = compute_features(candles, pair=PAIR)
    assert not np.allclose(tilted[C.LONG_BELOW_USD_2PCT], flat[C.LONG_BELOW_USD_2PCT])


def test_distances_in_atr_and_notional_per_open_interest(oi_data) -> None:
    out = feats(oi_data)
    atr = talib.ATR(
        out["high"].to_numpy(), out["low"].to_numpy(), out["close"].to_numpy(), timeperiod=14
    )
    close = out["close"].to_numpy()
    assert np.isnan(out[C.MAGNET_UP_DIST_ATR].to_numpy()[:14]).all()  # ATR warm-up
    np.testing.assert_allclose(
        out[C.MAGNET_UP_DIST_ATR], (out[C.MAGNET_UP_PRICE] - close) / atr, rtol=1e-12
    )
    np.testing.assert_allclose(
        out[C.NEAREST_DOWN_DIST_ATR], (close - out[C.NEAREST_DOWN_PRICE]) / atr, rtol=1e-12
    )
    # dist_atr = dist_pct · close / 100 / ATR: the same distance in another unit
    np.testing.assert_allclose(
        out[C.MAGNET_DOWN_DIST_ATR], out[C.MAGNET_DOWN_DIST_PCT] * close / 100 / atr, rtol=1e-9
    )
    valid = out[C.NEAREST_UP_DIST_ATR].dropna()
    assert len(valid) > 4000
    assert (valid > 0).all()
    # notional / (OI contracts · close), OI as the engine used it (lag 1); NaN in volume mode
    oi = oi_data.open_interest.set_index("date")["open_interest_amount"]
    oi_used = (out["date"] - pd.Timedelta(minutes=5)).map(oi).to_numpy()
    mode_oi = (out[C.MODE] == C.MODE_OI).to_numpy()
    want = np.where(mode_oi, out[C.MAGNET_UP_USD] / (oi_used * close), np.nan)
    np.testing.assert_allclose(out[C.MAGNET_UP_OI_FRAC], want, rtol=1e-12)
    assert out.loc[~mode_oi, C.NEAREST_DOWN_OI_FRAC].isna().all()
    frac = out.loc[mode_oi, C.MAGNET_DOWN_OI_FRAC]
    assert len(frac) > 2500
    assert (frac > 0).all()
    assert (frac < out.loc[mode_oi, C.COVERAGE]).all()


def test_atr_period_comes_from_the_config(oi_data) -> None:
    out = feats(oi_data, config=ModelConfig(atr_period=50))
    assert np.isnan(out[C.MAGNET_UP_DIST_ATR].to_numpy()[:50]).all()
    assert np.isfinite(out[C.MAGNET_UP_DIST_ATR].to_numpy()[50:60]).all()


def test_value_only_open_interest_is_converted_to_contracts(oi_data, caplog) -> None:
    """freqtrade allows open_interest_amount to be all-NaN (or a frame to lack it): the
    contracts are value ÷ the open of the candle starting at the snapshot time."""
    caplog.set_level(logging.INFO)
    oi = oi_data.open_interest
    value_only = oi.drop(columns=["open_interest_amount"])
    out = feats(oi_data, open_interest=value_only)
    # the embedded amounts were made exactly this way (tools/embed_oi_sample.py)
    pd.testing.assert_frame_equal(out, feats(oi_data))
    assert f"derived from open_interest_value / candle open for {len(oi)} rows" in caplog.text
    nan_amount = oi.assign(open_interest_amount=np.nan)
    pd.testing.assert_frame_equal(feats(oi_data, open_interest=nan_amount), out)
    # mixed: only the NaN amounts are derived
    mixed = oi.copy()
    mixed.loc[mixed.index[:100], "open_interest_amount"] = np.nan
    pd.testing.assert_frame_equal(feats(oi_data, open_interest=mixed), out)


def test_value_only_open_interest_with_bad_value_is_dropped_as_missing(oi_data, caplog) -> None:
    """A USD-only row whose value is not > 0 converts to a non-positive amount, which the
    quarantine drops (logged with its row): the same features as a missing row."""
    oi = oi_data.open_interest.assign(open_interest_amount=np.nan)
    bad = oi.copy()
    bad.loc[bad.index[7], "open_interest_value"] = -1.0
    nan = oi.copy()
    nan.loc[nan.index[7], "open_interest_value"] = np.nan
    pd.testing.assert_frame_equal(
        feats(oi_data, open_interest=bad), feats(oi_data, open_interest=nan)
    )
    assert "at row 7 " in caplog.text
