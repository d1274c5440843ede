"""Input builders shared by the engine tests."""

from __future__ import annotations

import numpy as np

from liq_signals.config import ModelConfig
from liq_signals.engine import book as B
from liq_signals.engine.leverage import build_leverage_mix

BTC_TIER1 = (0.004, 0.0, 150.0)  # mmr, cum, max leverage of BTC/USDT:USDT below 300k USD
#: the side-asymmetry switches off: the hand cases describe the symmetric book
SYMMETRIC = {"side_leverage_bias": 0.0, "direction_tilt": 0.0, "side_notional_bias": 0.0}


def symmetric(**kw: object) -> ModelConfig:
    """A config with ``kw`` and no side asymmetry, whatever the defaults are."""
    return ModelConfig(**{**SYMMETRIC, **kw})  # type: ignore[arg-type]


def random_inputs(
    seed: int, n: int, *, oi_gaps: bool = True, taker: bool = True, gaps: bool = True
) -> B.EngineInputs:
    """A random walk with wicks, open interest with NaN gaps, optional taker share and
    irregular time steps."""
    rng = np.random.default_rng(seed)
    step = 300 * np.where(gaps & (rng.random(n) < 0.05), rng.integers(2, 50, n), 1)
    t = 1_700_000_000 + np.cumsum(step)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    openp = np.concatenate([[100.0], close[:-1]])
    high = np.maximum(openp, close) * np.exp(np.abs(rng.normal(0, 0.01, n)))
    low = np.minimum(openp, close) * np.exp(-np.abs(rng.normal(0, 0.01, n)))
    volume = rng.gamma(2.0, 500.0, n)
    oi = 20_000 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    if oi_gaps:
        oi[rng.random(n) < 0.1] = np.nan
    share = rng.random(n) if taker else np.full(n, np.nan)
    if taker:
        share[rng.random(n) < 0.1] = np.nan
    return B.EngineInputs(t, high, low, close, (high + low + close) / 3, volume, oi, share)


def params(cfg: ModelConfig, tier: tuple[float, float, float] = BTC_TIER1) -> B.EngineParams:
    return B.engine_params(cfg, build_leverage_mix(cfg, *tier))


def inputs_from_rows(rows: list[dict]) -> B.EngineInputs:
    """Hand-written candles: dicts with t, high, low, close and optional typical, volume,
    oi, share."""
    get = lambda key, default: np.array([r.get(key, default) for r in rows], dtype=np.float64)  # noqa: E731
    close = get("close", np.nan)
    high = get("high", np.nan)
    low = get("low", np.nan)
    typical = np.array([r.get("typical", (r["high"] + r["low"] + r["close"]) / 3) for r in rows])
    return B.EngineInputs(
        np.array([r["t"] for r in rows], dtype=np.int64),
        high,
        low,
        close,
        typical,
        get("volume", 0.0),
        get("oi", np.nan),
        get("share", np.nan),
    )
