"""Invariants of the book: conservation, cap, causality of the kernel, resumability."""

from __future__ import annotations

import pickle
from dataclasses import replace

import numpy as np
import pytest

from liq_signals.engine import book as B
from liq_signals.engine.history import book_history
from liq_signals.engine.kernel import Out
from tests.engine.helpers import params, random_inputs, symmetric

CFG = symmetric(leverage_count=12, decay_half_life_hours=6.0, oi_reconcile=1.0)


@pytest.fixture(scope="module")
def run_random():
    inputs = random_inputs(11, 600)
    state, out = B.run(inputs, params(CFG))
    return inputs, state, out


@pytest.mark.parametrize("side", ["LONG", "SHORT"])
def test_notional_is_conserved_between_candles(run_random, side) -> None:
    """total_k = total_{k−1} + opened − swept − decayed − closed − capped, every candle."""
    _, _, out = run_random
    o = lambda name: out[:, Out[f"{side}_{name}"]]  # noqa: E731
    prev = np.concatenate([[0.0], o("TOTAL_Q")[:-1]])
    expected = (
        prev + out[:, Out.OPENED_Q] - o("SWEPT_Q") - o("DECAYED_Q") - o("CLOSED_Q") - o("CAPPED_Q")
    )
    np.testing.assert_allclose(o("TOTAL_Q"), expected, rtol=1e-9, atol=1e-6)
    assert o("SWEPT_Q").sum() > 0
    assert o("DECAYED_Q").sum() > 0
    assert (o("CLOSED_Q") != 0).any()  # the open-interest reconciliation ran


def test_running_totals_equal_the_sum_of_the_bins(run_random) -> None:
    _, state, out = run_random
    _, long_q, short_q = state.books()
    assert long_q.sum() == pytest.approx(out[-1, Out.LONG_TOTAL_Q], rel=1e-9)
    assert short_q.sum() == pytest.approx(out[-1, Out.SHORT_TOTAL_Q], rel=1e-9)


def test_books_never_exceed_open_interest(run_random) -> None:
    inputs, _, out = run_random
    known = np.isfinite(inputs.oi)
    assert known.sum() > 400
    assert np.all(out[known, Out.LONG_TOTAL_Q] <= inputs.oi[known] * (1 + 1e-12))
    assert np.all(out[known, Out.SHORT_TOTAL_Q] <= inputs.oi[known] * (1 + 1e-12))
    assert np.all(np.isnan(out[out[:, Out.MODE_OI] == 0, Out.COVERAGE]))


def test_no_levels_remain_inside_the_candles_range_after_consume() -> None:
    """With no opens in the last candle, nothing is left between its low and high."""
    cfg = symmetric(leverage_count=12)
    x = random_inputs(12, 50, oi_gaps=False)
    volume = x.volume.copy()
    volume[-1] = 0.0  # opens come from volume: the last candle opens nothing
    x = B.EngineInputs(x.time_s, x.high, x.low, x.close, x.typical, volume, x.oi, x.taker_share)
    state, out = B.run(x, params(cfg))
    assert out[-1, Out.OPENED_Q] == 0.0
    price, long_q, short_q = state.books()
    assert long_q.sum() > 0
    assert short_q.sum() > 0
    assert long_q[price >= x.low[-1]].sum() == 0
    assert short_q[price <= x.high[-1]].sum() == 0


def test_split_runs_are_bit_identical_to_one_batch_run() -> None:
    inputs = random_inputs(5, 400)
    p = params(CFG)
    _, batch = B.run(inputs, p)
    state, first = B.advance(B.new_state(CFG), inputs.slice(0, 137), p)
    parts = [first]
    for i in range(137, 400):
        state, out = B.advance(state, inputs.slice(i, i + 1), p)
        parts.append(out)
    assert np.array_equal(np.concatenate(parts), batch, equal_nan=True)


def test_advance_leaves_the_given_state_untouched() -> None:
    inputs = random_inputs(6, 100)
    p = params(CFG)
    s1, _ = B.run(inputs.slice(0, 50), p)
    snapshot = s1.copy()
    B.advance(s1, inputs.slice(50, 100), p)
    assert np.array_equal(s1.long_q, snapshot.long_q)
    assert np.array_equal(s1.iscal, snapshot.iscal)


def test_pickled_state_resumes_identically() -> None:
    inputs = random_inputs(8, 300)
    p = params(CFG)
    s, _ = B.run(inputs.slice(0, 150), p)
    s2 = pickle.loads(pickle.dumps(s))
    _, a = B.advance(s, inputs.slice(150, 300), p)
    _, b = B.advance(s2, inputs.slice(150, 300), p)
    assert np.array_equal(a, b, equal_nan=True)


def test_values_do_not_depend_on_the_materialised_window() -> None:
    """A window pre-grown far beyond need gives bit-identical outputs."""
    inputs = random_inputs(9, 300)
    p = params(CFG)
    _, normal = B.run(inputs, p)
    wide_inputs = B.EngineInputs(
        np.array([0]), [1.0], [1.0], [1.0], [1.0], [0.0], [np.nan], [np.nan]
    )
    state = B._ensure_capacity(B.new_state(CFG), wide_inputs, p)
    state = B._ensure_capacity(
        state,
        B.EngineInputs(np.array([0]), [1e4], [1e4], [1e4], [1e4], [0.0], [np.nan], [np.nan]),
        p,
    )
    assert len(state.long_q) > 10_000
    _, wide = B.advance(state, inputs, p)
    assert np.array_equal(normal, wide, equal_nan=True)


def test_book_history_snapshots_equal_the_state_after_that_candle() -> None:
    inputs = random_inputs(10, 240)
    p = params(CFG)
    hist = book_history(inputs, p, every=60)
    assert hist.index.tolist() == [59, 119, 179, 239]
    assert hist.long_usd.shape == (4, len(hist.centers))
    assert len(hist.edges) == len(hist.centers) + 1
    for row, idx in enumerate(hist.index):
        state, _ = B.run(inputs.slice(0, idx + 1), p)
        price, lq, sq = state.books()
        # put the fresh run on the history's absolute bin range (windows may differ)
        full_l = np.zeros(len(hist.centers))
        full_s = np.zeros(len(hist.centers))
        lo = max(state.k0, hist.k0)
        hi = min(state.k0 + len(price), hist.k0 + len(hist.centers))
        full_l[lo - hist.k0 : hi - hist.k0] = (lq * price)[lo - state.k0 : hi - state.k0]
        full_s[lo - hist.k0 : hi - hist.k0] = (sq * price)[lo - state.k0 : hi - state.k0]
        np.testing.assert_allclose(
            hist.centers[lo - hist.k0 : hi - hist.k0],
            price[lo - state.k0 : hi - state.k0],
            rtol=1e-12,
        )
        np.testing.assert_allclose(hist.long_usd[row], full_l, rtol=1e-12)
        np.testing.assert_allclose(hist.short_usd[row], full_s, rtol=1e-12)
        assert full_l.sum() == pytest.approx((lq * price).sum(), rel=1e-12)
        assert full_l.sum() > 0


def test_renormalisation_keeps_values() -> None:
    """Folding the lazy scale into the arrays early changes nothing beyond rounding."""
    inputs = random_inputs(13, 300)
    _, a = B.run(inputs, params(CFG))
    _, b = B.run(inputs, params(replace(CFG, renormalize_below=0.999e-10)))
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)
