"""Tiny hand-computed cases of the book's per-candle steps (docs/model.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liq_signals.config import ModelConfig
from liq_signals.data.tiers import load_tiers
from liq_signals.engine import book as B
from liq_signals.engine.kernel import Out
from liq_signals.engine.leverage import (
    build_leverage_mix,
    liquidation_ratio_long,
    liquidation_ratio_short,
)
from tests.engine.helpers import BTC_TIER1, inputs_from_rows, params, symmetric

NO_DECAY = 1e9  # hours: decay factor ≈ 1 over a test's few candles
T0 = 1_700_000_000


def one_leverage(lev: float, **kw) -> ModelConfig:
    return symmetric(leverage_min=lev, leverage_max=lev, leverage_count=1, **kw)


def test_long_at_100x_liquidates_about_0p6_pct_below_entry_with_btc_tiers() -> None:
    mmr, cum, _ = load_tiers("BTC/USDT:USDT").lookup(10_000)
    # hand: 1 − 0.99/0.996 = 0.006024…, short: 1.01/1.004 − 1 = 0.005976…
    assert 1 - liquidation_ratio_long(100, mmr, cum, 10_000) == pytest.approx(0.0060241, abs=1e-7)
    assert liquidation_ratio_short(100, mmr, cum, 10_000) - 1 == pytest.approx(0.0059761, abs=1e-7)


def test_one_cohort_is_opened_then_swept_at_its_liquidation_price() -> None:
    cfg = one_leverage(10.0, participation=1.0, decay_half_life_hours=NO_DECAY)
    rows = [
        dict(t=T0, high=101, low=99, close=100, typical=100.0, volume=2.0),
        dict(t=T0 + 300, high=101, low=90.5, close=95, volume=0.0),  # above 90.36: survives
        dict(t=T0 + 600, high=96, low=90.2, close=91, volume=0.0),  # crosses it: swept
    ]
    _, out = B.run(inputs_from_rows(rows), params(cfg))
    liq_long = 100 * 0.9 / 0.996  # 90.3614…, docs/model.md with m=0.004, cum=0
    k = round(math.log(liq_long) / cfg.grid_step)
    assert out[:, Out.OPENED_Q].tolist() == [2.0, 0.0, 0.0]
    assert out[:, Out.LONG_SWEPT_Q] == pytest.approx([0, 0, 2.0], rel=1e-9)
    assert out[2, Out.LONG_SWEPT_USD] == pytest.approx(2.0 * math.exp(k * cfg.grid_step), rel=1e-9)
    assert abs(math.exp(k * cfg.grid_step) / liq_long - 1) <= cfg.grid_step / 2 + 1e-12
    assert out[2, Out.LONG_TOTAL_Q] == pytest.approx(0.0, abs=1e-12)
    # the short side (liq at 100·1.1/1.004 = 109.56) is untouched and still 2 contracts
    assert out[2, Out.SHORT_TOTAL_Q] == pytest.approx(2.0, rel=1e-9)
    assert out[:, Out.SHORT_SWEPT_Q].sum() == 0.0
    # while it lived, it was the magnet below: price ≈ 90.36, 2·90.36 USD
    assert out[0, Out.MAGNET_DOWN_PRICE] == pytest.approx(liq_long, rel=1e-3)
    assert out[0, Out.MAGNET_DOWN_USD] == pytest.approx(2 * liq_long, rel=1e-3)


def test_short_cohort_is_swept_when_high_reaches_it() -> None:
    cfg = one_leverage(20.0, participation=1.0, decay_half_life_hours=NO_DECAY)
    liq_short = 100 * 1.05 / 1.004  # 104.58
    rows = [
        dict(t=T0, high=100.5, low=99.5, close=100, typical=100.0, volume=1.0),
        dict(t=T0 + 300, high=104.5, low=100, close=104, volume=0.0),
        dict(t=T0 + 600, high=104.7, low=104, close=104.6, volume=0.0),
    ]
    _, out = B.run(inputs_from_rows(rows), params(cfg))
    assert out[:, Out.SHORT_SWEPT_Q] == pytest.approx([0, 0, 1.0])
    assert out[1, Out.NEAREST_UP_PRICE] == pytest.approx(liq_short, rel=1e-3)
    assert out[1, Out.NEAREST_UP_USD] == pytest.approx(liq_short, rel=1e-3)


@pytest.mark.parametrize("reconcile", [1.0, 0.5, 0.0])
def test_a_new_oi_row_rescales_both_books_by_the_unexplained_change(reconcile: float) -> None:
    """Opens come from volume in OI mode too; a new row rescales by 1 + κ·gap/OI."""
    cfg = symmetric(
        leverage_count=4, participation=1.0, decay_half_life_hours=NO_DECAY, oi_reconcile=reconcile
    )
    rows = [
        dict(t=T0, high=101, low=99, close=100, volume=100.0, oi=1000.0),  # first row: anchor
        dict(t=T0 + 300, high=100.2, low=99.8, close=100, volume=0.0, oi=1000.0),  # held
        dict(t=T0 + 600, high=100.2, low=99.8, close=100, volume=0.0, oi=1050.0),  # new row
    ]
    state1, out1 = B.run(inputs_from_rows(rows[:2]), params(cfg))
    state2, out2 = B.advance(state1, inputs_from_rows(rows[2:]), params(cfg))
    assert out1[:, Out.MODE_OI].tolist() == [1.0, 1.0]
    assert out1[:, Out.OPENED_Q].tolist() == [100.0, 0.0]
    assert out1[:, Out.LONG_CLOSED_Q].tolist() == [0.0, 0.0]  # no new row, nothing reconciled
    # OI rose 50 while the model opened 100: 50 closes it did not see, gap = −50
    kept = 100.0 * (1 - reconcile * 50 / 1050)
    assert out2[0, Out.LONG_CLOSED_Q] == pytest.approx(100.0 - kept, rel=1e-9, abs=1e-12)
    assert out2[0, Out.SHORT_CLOSED_Q] == pytest.approx(100.0 - kept, rel=1e-9, abs=1e-12)
    assert out2[0, Out.LONG_TOTAL_Q] == pytest.approx(kept, rel=1e-9)
    _, l1, s1 = state1.books()
    _, l2, s2 = state2.books()
    np.testing.assert_allclose(l2, l1 * kept / 100, rtol=1e-9)
    np.testing.assert_allclose(s2, s1 * kept / 100, rtol=1e-9)
    # coverage = mean book / OI
    assert out2[0, Out.COVERAGE] == pytest.approx(kept / 1050, rel=1e-9)


def test_a_shortfall_adds_to_both_books_and_is_reported_as_negative_closes() -> None:
    cfg = symmetric(
        leverage_count=4, participation=1.0, decay_half_life_hours=NO_DECAY, oi_reconcile=1.0
    )
    rows = [
        dict(t=T0, high=101, low=99, close=100, volume=100.0, oi=1000.0),
        dict(t=T0 + 300, high=100.2, low=99.8, close=100, volume=0.0, oi=1210.0),  # +210 vs 100
    ]
    _, out = B.run(inputs_from_rows(rows), params(cfg))
    grown = 100.0 * (1 + 110 / 1210)
    assert out[1, Out.LONG_TOTAL_Q] == pytest.approx(grown, rel=1e-9)
    assert out[1, Out.SHORT_TOTAL_Q] == pytest.approx(grown, rel=1e-9)
    assert out[1, Out.LONG_CLOSED_Q] == pytest.approx(100.0 - grown, rel=1e-9)


def test_liquidated_contracts_count_in_the_models_own_oi_change() -> None:
    """Liquidations leave open interest: the model's net change since the last row is
    opens − liquidations, so a row that only rose by 10 scales the books up by 10/OI."""
    cfg = one_leverage(10.0, participation=1.0, decay_half_life_hours=NO_DECAY, oi_reconcile=1.0)
    rows = [
        dict(t=T0, high=101, low=99, close=100, typical=100.0, volume=40.0, oi=1000.0),
        dict(t=T0 + 300, high=100, low=90.0, close=91, typical=91.0, volume=0.0, oi=1000.0),
        dict(t=T0 + 600, high=91.2, low=90.8, close=91, typical=91.0, volume=0.0, oi=1010.0),
    ]
    _, out = B.run(inputs_from_rows(rows), params(cfg))
    assert out[1, Out.LONG_SWEPT_Q] == pytest.approx(40.0)
    # net since the first row: +40 opened, −40 liquidated -> gap = +10
    assert out[2, Out.SHORT_TOTAL_Q] == pytest.approx(40.0 * (1 + 10 / 1010), rel=1e-9)


def test_an_oi_outage_runs_volume_mode_and_the_next_row_only_anchors() -> None:
    cfg = symmetric(
        leverage_count=4, participation=1.0, decay_half_life_hours=NO_DECAY, oi_reconcile=1.0
    )
    rows = [
        dict(t=T0, high=101, low=99, close=100, volume=100.0, oi=1000.0),
        dict(t=T0 + 300, high=100.2, low=99.8, close=100, volume=10.0, oi=math.nan),
        dict(t=T0 + 600, high=100.2, low=99.8, close=100, volume=0.0, oi=500.0),
    ]
    _, out = B.run(inputs_from_rows(rows), params(cfg))
    assert out[:, Out.MODE_OI].tolist() == [1.0, 0.0, 1.0]
    # the row after the outage has no previous row to differ from: no rescale
    assert out[2, Out.LONG_CLOSED_Q] == 0.0
    assert out[2, Out.LONG_TOTAL_Q] == pytest.approx(110.0, rel=1e-9)


def test_decay_halves_the_book_after_one_half_life_including_a_data_gap() -> None:
    cfg = symmetric(leverage_count=3, participation=1.0, decay_half_life_hours=1.0)
    rows = [
        dict(t=T0, high=101, low=99, close=100, volume=10.0),
        dict(t=T0 + 3600, high=100.2, low=99.8, close=100, volume=0.0),  # 1 h later (gap)
        dict(t=T0 + 3 * 3600, high=100.2, low=99.8, close=100, volume=0.0),  # 2 h later
    ]
    _, out = B.run(inputs_from_rows(rows), params(cfg))
    assert out[:, Out.LONG_TOTAL_Q] == pytest.approx([10.0, 5.0, 1.25], rel=1e-12)
    assert out[1, Out.LONG_DECAYED_Q] == pytest.approx(5.0, rel=1e-12)
    assert out[2, Out.SHORT_DECAYED_Q] == pytest.approx(3.75, rel=1e-12)


def test_book_is_capped_at_open_interest() -> None:
    cfg = symmetric(leverage_count=3, participation=1.0, decay_half_life_hours=NO_DECAY)
    rows = [
        dict(t=T0, high=101, low=99, close=100, volume=500.0),  # volume mode: 500 each side
        dict(t=T0 + 300, high=100.2, low=99.8, close=100, volume=0.0, oi=200.0),
    ]
    _, out = B.run(inputs_from_rows(rows), params(cfg))
    assert out[1, Out.LONG_TOTAL_Q] == pytest.approx(200.0)
    assert out[1, Out.LONG_CAPPED_Q] == pytest.approx(300.0)
    assert out[1, Out.SHORT_CAPPED_Q] == pytest.approx(300.0)


def test_taker_buying_puts_higher_leverage_on_longs() -> None:
    cfg = symmetric(leverage_count=8, participation=1.0, taker_tilt=1.0)
    rows = [dict(t=T0, high=101, low=99, close=100, volume=10.0, share=0.9)]
    state, _ = B.run(inputs_from_rows(rows), params(cfg))
    price, long_q, short_q = state.books()
    near = lambda q, lo, hi: q[(price > lo) & (price < hi)].sum()  # noqa: E731
    # levels within 3 % of entry come from leverage > ~30x
    assert near(long_q, 97, 100) > 2 * near(short_q, 100, 103)


def test_tier_lookup_switches_exactly_at_the_notional_floor() -> None:
    tiers = load_tiers("BTC/USDT:USDT")
    assert tiers.lookup(299_999.99) == (0.004, 0.0, 150.0)
    assert tiers.lookup(300_000.0) == (0.005, 300.0, 100.0)
    # Binance defines cum so that maintenance margin N·m − cum is continuous at each floor
    for i in range(1, len(tiers.floor)):
        f = tiers.floor[i]
        assert f * tiers.mmr[i - 1] - tiers.cum[i - 1] == pytest.approx(
            f * tiers.mmr[i] - tiers.cum[i]
        )


def test_tier_two_liquidation_uses_cum() -> None:
    mmr, cum, _ = load_tiers("BTC/USDT:USDT").lookup(300_000.0)
    # E·((1 − 1/L) − cum/N)/(1 − m) with E=1, L=10, cum=300, N=300000, m=0.005
    assert liquidation_ratio_long(10.0, mmr, cum, 300_000.0) == pytest.approx((0.9 - 0.001) / 0.995)
    assert liquidation_ratio_short(10.0, mmr, cum, 300_000.0) == pytest.approx(
        (1.1 + 0.001) / 1.005
    )


@pytest.mark.parametrize(
    ("notional", "leverage_max", "expected_top"),
    [(10_000.0, None, 150.0), (1_000_000.0, None, 75.0), (10_000.0, 20.0, 20.0)],
)
def test_leverage_mix_is_clipped_to_the_pairs_max_leverage(
    notional, leverage_max, expected_top
) -> None:
    cfg = symmetric(position_notional_usd=notional, leverage_max=leverage_max)
    mix = build_leverage_mix(cfg, *load_tiers("BTC/USDT:USDT").lookup(notional))
    assert mix.leverage.max() == pytest.approx(expected_top)
    assert mix.leverage.min() == pytest.approx(cfg.leverage_min)
    # the highest long level opened is the max leverage's liquidation price
    rows = [dict(t=T0, high=101, low=99, close=100, typical=100.0, volume=1.0)]
    p = B.engine_params(
        symmetric(participation=1.0, position_notional_usd=notional, leverage_max=leverage_max),
        mix,
    )
    state, _ = B.run(inputs_from_rows(rows), p)
    price, long_q, _ = state.books()
    top = price[np.flatnonzero(long_q)].max()
    expected = 100 * liquidation_ratio_long(expected_top, mix.mmr, mix.cum, notional)
    assert abs(top / expected - 1) <= cfg.grid_step


def test_pair_without_tiers_falls_back_to_documented_default(caplog) -> None:
    tiers = load_tiers("NOSUCHCOIN/USDT:USDT")
    assert tiers.is_default
    assert tiers.lookup(0.0) == (0.015, 0.0, 50.0)
    assert "No maintenance tiers for NOSUCHCOIN/USDT:USDT" in caplog.text


def test_spot_pair_name_reads_the_perpetuals_tiers() -> None:
    assert load_tiers("BTC/USDT").lookup(10_000) == load_tiers("BTC/USDT:USDT").lookup(10_000)
    assert not load_tiers("BTC/USDT").is_default


def test_bad_leverage_mix_is_rejected() -> None:
    # cum larger than the margin of a 2x long: liquidation at or below zero
    with pytest.raises(ValueError, match="outside"):
        build_leverage_mix(symmetric(position_notional_usd=100.0), 0.01, 60.0, 10.0)


def test_empty_inputs_give_empty_outputs() -> None:
    cfg = symmetric()
    state, out = B.run(B.EngineInputs(*[np.zeros(0)] * 8), params(cfg, BTC_TIER1))
    assert out.shape == (0, B.n_outputs(3))
    assert state.candles_seen == 0
