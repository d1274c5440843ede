"""The fast engine agrees with the slow cohort-by-cohort reference."""

from __future__ import annotations

import numpy as np
import pytest

from liq_signals.config import ModelConfig
from liq_signals.engine import book as B
from liq_signals.engine.kernel import Out
from tests.engine.helpers import BTC_TIER1, params, random_inputs
from tests.engine.reference import as_array, reference_run

PAIRS = [
    ("long_swept_usd", Out.LONG_SWEPT_USD),
    ("short_swept_usd", Out.SHORT_SWEPT_USD),
    ("long_swept_q", Out.LONG_SWEPT_Q),
    ("short_swept_q", Out.SHORT_SWEPT_Q),
    ("long_decayed_q", Out.LONG_DECAYED_Q),
    ("short_decayed_q", Out.SHORT_DECAYED_Q),
    ("long_closed_q", Out.LONG_CLOSED_Q),
    ("short_closed_q", Out.SHORT_CLOSED_Q),
    ("long_capped_q", Out.LONG_CAPPED_Q),
    ("short_capped_q", Out.SHORT_CAPPED_Q),
    ("opened_q", Out.OPENED_Q),
    ("long_total_q", Out.LONG_TOTAL_Q),
    ("short_total_q", Out.SHORT_TOTAL_Q),
    ("mode_oi", Out.MODE_OI),
    ("coverage", Out.COVERAGE),
    ("long_recent_usd", Out.LONG_SWEPT_RECENT_USD),
    ("short_recent_usd", Out.SHORT_SWEPT_RECENT_USD),
    ("magnet_up_price", Out.MAGNET_UP_PRICE),
    ("magnet_up_usd", Out.MAGNET_UP_USD),
    ("magnet_down_price", Out.MAGNET_DOWN_PRICE),
    ("magnet_down_usd", Out.MAGNET_DOWN_USD),
    ("nearest_up_price", Out.NEAREST_UP_PRICE),
    ("nearest_up_usd", Out.NEAREST_UP_USD),
    ("nearest_down_price", Out.NEAREST_DOWN_PRICE),
    ("nearest_down_usd", Out.NEAREST_DOWN_USD),
    ("cascade_up", Out.CASCADE_UP),
    ("cascade_down", Out.CASCADE_DOWN),
]


def assert_matches_reference(out: np.ndarray, ref: list[dict], cfg: ModelConfig) -> None:
    for key, col in PAIRS:
        np.testing.assert_allclose(
            out[:, col], as_array(ref, key), rtol=1e-9, atol=1e-6, err_msg=key
        )
    nb = len(cfg.bands_pct)
    for b in range(nb):
        np.testing.assert_allclose(
            out[:, B.o_short_above(b)],
            [r["up_bands"][b] for r in ref],
            rtol=1e-9,
            atol=1e-6,
            err_msg=f"up band {b}",
        )
        np.testing.assert_allclose(
            out[:, B.o_long_below(b, nb)],
            [r["down_bands"][b] for r in ref],
            rtol=1e-9,
            atol=1e-6,
            err_msg=f"down band {b}",
        )


@pytest.mark.parametrize(
    ("seed", "cfg"),
    [
        (1, ModelConfig(leverage_count=8, oi_reconcile=1.0)),
        (
            2,
            ModelConfig(
                leverage_count=6, decay_half_life_hours=2.0, oi_reconcile=0.5, taker_tilt=2.0
            ),
        ),
        (
            3,
            ModelConfig(
                leverage_count=5,
                grid_step=0.004,
                cluster_width_pct=1.5,
                nearest_min_share=0.05,
                bands_pct=(1.0, 3.0),
                recent_sweep_candles=3,
                participation=0.3,
                oi_reconcile=1.0,
            ),
        ),
        (4, ModelConfig(leverage_count=7, leverage_alpha=0.0, leverage_max=20.0, oi_reconcile=0.3)),
        (
            5,
            ModelConfig(
                leverage_count=6,
                taker_tilt=1.0,
                side_leverage_bias=0.4,
                direction_tilt=0.8,
                side_notional_bias=0.3,
                oi_reconcile=0.8,
            ),
        ),
        (6, ModelConfig(leverage_count=5, side_leverage_bias=-0.7, side_notional_bias=-0.5)),  # κ 0
    ],
)
def test_engine_matches_reference_on_random_walks(seed: int, cfg: ModelConfig) -> None:
    inputs = random_inputs(seed, 250)
    _, out = B.run(inputs, params(cfg))
    ref = reference_run(inputs, cfg, *BTC_TIER1)
    # the random walk must actually exercise sweeps, reconciliations both ways, both modes
    assert out[:, Out.LONG_SWEPT_Q].sum() > 0
    assert out[:, Out.SHORT_SWEPT_Q].sum() > 0
    if cfg.oi_reconcile > 0:
        assert (out[:, Out.LONG_CLOSED_Q] > 0).any()
        assert (out[:, Out.LONG_CLOSED_Q] < 0).any()
    else:  # open interest only caps the book
        assert (out[:, Out.LONG_CLOSED_Q] == 0).all()
    assert set(np.unique(out[:, Out.MODE_OI])) == {0.0, 1.0}
    assert_matches_reference(out, ref, cfg)


def test_engine_matches_reference_with_cap_binding() -> None:
    """Volume mode inflates the book; a tiny OI then forces the cap on both sides."""
    cfg = ModelConfig(leverage_count=6, participation=1.0)
    inputs = random_inputs(7, 200, oi_gaps=True)
    oi = inputs.oi.copy()
    oi[::3] = np.nan
    oi[np.isfinite(oi)] /= 50.0
    inputs = B.EngineInputs(
        inputs.time_s,
        inputs.high,
        inputs.low,
        inputs.close,
        inputs.typical,
        inputs.volume,
        oi,
        inputs.taker_share,
    )
    _, out = B.run(inputs, params(cfg))
    assert out[:, Out.LONG_CAPPED_Q].sum() > 0
    assert out[:, Out.SHORT_CAPPED_Q].sum() > 0
    assert_matches_reference(out, reference_run(inputs, cfg, *BTC_TIER1), cfg)


def test_engine_matches_reference_on_real_candles(oi_inputs) -> None:
    """A slice of the embedded 2026 BTC data with real open interest and taker flow."""
    cfg = ModelConfig(leverage_count=16)
    inputs = oi_inputs.slice(1000, 1300)
    _, out = B.run(inputs, params(cfg))
    assert out[:, Out.MODE_OI].sum() > 100
    assert_matches_reference(out, reference_run(inputs, cfg, *BTC_TIER1), cfg)
