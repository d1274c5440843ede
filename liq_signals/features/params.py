"""Engine parameters per pair: the pair's maintenance tiers fix the leverage mix."""

from __future__ import annotations

from functools import lru_cache

from liq_signals.config import ModelConfig
from liq_signals.data.tiers import load_tiers
from liq_signals.engine import book as B
from liq_signals.engine.leverage import build_leverage_mix


@lru_cache(maxsize=64)
def engine_params_for(pair: str, cfg: ModelConfig) -> B.EngineParams:
    """Engine parameters for ``pair``: its maintenance tier for the representative position
    picks (m, cum, max leverage), which fix the leverage mix."""
    mmr, cum, max_lev = load_tiers(pair).lookup(cfg.position_notional_usd)
    return B.engine_params(cfg, build_leverage_mix(cfg, mmr, cum, max_lev))
