"""The side-asymmetry switches: off they leave the engine exactly as it was, on they move
the side they name (hand cases on one candle; the slow reference match is in
test_reference_match.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from liq_signals.config import ModelConfig
from liq_signals.engine import book as B
from liq_signals.engine.kernel import Out
from tests.engine.helpers import inputs_from_rows, params, random_inputs, symmetric

BASE = symmetric(leverage_count=8, participation=1.0)
T0 = 1_700_000_000


def _books(cfg: ModelConfig, close: float = 100.0):  # noqa: ANN202
    rows = [dict(t=T0, high=101, low=99, close=close, volume=10.0)]
    state, _ = B.run(inputs_from_rows(rows), params(cfg))
    return state.books()


def _near(price: np.ndarray, q: np.ndarray, lo: float, hi: float) -> float:
    return float(q[(price > lo) & (price < hi)].sum())


def test_switches_at_zero_are_bit_identical_to_the_engine_without_them() -> None:
    inputs = random_inputs(11, 400)
    _, out = B.run(inputs, params(BASE))
    off = replace(BASE, side_leverage_bias=0.0, direction_tilt=0.0, side_notional_bias=0.0)
    _, again = B.run(inputs, params(off))
    np.testing.assert_array_equal(out, again)
    _, on = B.run(inputs, params(replace(BASE, direction_tilt=1.0)))
    assert not np.array_equal(out, on)


def test_leverage_bias_puts_longs_nearer_the_price() -> None:
    price, long_q, short_q = _books(replace(BASE, side_leverage_bias=1.0))
    assert _near(price, long_q, 97, 100) > 2 * _near(price, short_q, 100, 103)
    assert long_q.sum() == pytest.approx(short_q.sum())  # same contracts, other leverage
    price, long_q, short_q = _books(replace(BASE, side_leverage_bias=-1.0))
    assert _near(price, short_q, 100, 103) > 2 * _near(price, long_q, 97, 100)


def test_direction_tilt_follows_where_the_candle_closed() -> None:
    up = _books(replace(BASE, direction_tilt=1.0), close=100.9)  # near the high: buyers
    price, long_q, short_q = up
    assert _near(price, long_q, 97, 100.9) > 1.5 * _near(price, short_q, 100.9, 104)
    price, long_q, short_q = _books(replace(BASE, direction_tilt=1.0), close=99.1)
    assert _near(price, short_q, 99.1, 102) > 1.5 * _near(price, long_q, 96, 99.1)
    # a close mid-range tilts nothing
    price, long_q, short_q = _books(replace(BASE, direction_tilt=1.0), close=100.0)
    p0, l0, s0 = _books(BASE, close=100.0)
    np.testing.assert_allclose(long_q, l0)
    np.testing.assert_allclose(short_q, s0)


def test_notional_bias_keeps_part_of_one_side_out_of_the_book() -> None:
    _, long_q, short_q = _books(replace(BASE, side_notional_bias=0.25))
    assert long_q.sum() == pytest.approx(10.0)
    assert short_q.sum() == pytest.approx(10.0 * 0.75)
    _, long_q, short_q = _books(replace(BASE, side_notional_bias=-0.25))
    assert long_q.sum() == pytest.approx(10.0 * 0.75)
    assert short_q.sum() == pytest.approx(10.0)


def test_notional_is_conserved_with_the_biased_opens() -> None:
    """total_k = total_{k−1} + (1 − b)·opened − swept − decayed − closed − capped (shorts)."""
    cfg = replace(BASE, leverage_count=12, decay_half_life_hours=6.0, side_notional_bias=0.3)
    _, out = B.run(random_inputs(11, 600), params(cfg))
    for side, share in (("LONG", 1.0), ("SHORT", 0.7)):
        o = lambda name, s=side: out[:, Out[f"{s}_{name}"]]  # noqa: E731
        prev = np.concatenate([[0.0], o("TOTAL_Q")[:-1]])
        expected = (
            prev
            + share * out[:, Out.OPENED_Q]
            - o("SWEPT_Q")
            - o("DECAYED_Q")
            - o("CLOSED_Q")
            - o("CAPPED_Q")
        )
        np.testing.assert_allclose(o("TOTAL_Q"), expected, rtol=1e-9, atol=1e-6)
