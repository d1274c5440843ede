"""ModelConfig rejects nonsense with a message naming the field."""

from __future__ import annotations

import dataclasses

import pytest

from liq_signals.config import ModelConfig


def test_defaults_are_valid_and_frozen() -> None:
    cfg = ModelConfig()
    assert cfg.bands_pct == (2.0, 5.0, 10.0)
    assert cfg.oi_lag_candles == 1
    assert cfg.cluster_bins == 5  # 0.5 % at δ = 0.001
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.grid_step = 0.01  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("grid_step", 0.0),
        ("grid_step", float("nan")),
        ("leverage_min", 0.5),
        ("leverage_count", 0),
        ("leverage_max", 1.5),
        ("decay_half_life_hours", 0.0),
        ("participation", 1.5),
        ("taker_tilt", -1.0),
        ("oi_reconcile", -0.1),
        ("oi_reconcile", 1.5),
        ("position_notional_usd", 0.0),
        ("cluster_width_pct", 0.0),
        ("nearest_min_share", 2.0),
        ("bands_pct", ()),
        ("bands_pct", (5.0, 2.0)),
        ("bands_pct", [2.0, 5.0]),
        ("bands_pct", (2.0, 100.0)),
        ("cascade_band_pct", 0.0),
        ("recent_sweep_candles", 0),
        ("oi_lag_candles", -1),
        ("imbalance_floor_usd", 0.0),
        ("renormalize_below", 0.5),
        ("side_leverage_bias", 4.0),
        ("direction_tilt", -0.5),
        ("side_notional_bias", 1.0),
        ("side_notional_bias", -1.0),
    ],
)
def test_invalid_values_raise_value_error_naming_the_field(field, value) -> None:
    with pytest.raises(ValueError, match=f"ModelConfig.{field}"):
        ModelConfig(**{field: value})
