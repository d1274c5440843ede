"""Leverage mix and exact isolated-margin liquidation prices (docs/model.md).

For an isolated USDT-M position with entry E, leverage L, maintenance rate m and
maintenance amount cum of its notional tier, size Q = N/E contracts:

    liq_long  = E·(1 − 1/L)/(1 − m) − cum/(Q·(1 − m))  =  E·((1 − 1/L) − cum/N)/(1 − m)
    liq_short = E·(1 + 1/L)/(1 + m) + cum/(Q·(1 + m))  =  E·((1 + 1/L) + cum/N)/(1 + m)

(Binance "Liquidation price" formula, one-way mode, no other positions.)  The ratio to E
does not depend on E for a fixed representative notional N, so each leverage of the mix
is a fixed offset on the log-price grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liq_signals.config import ModelConfig


def liquidation_ratio_long(leverage: np.ndarray | float, mmr: float, cum: float, notional: float):
    """liq_long / E for an isolated long (see module docstring)."""
    return ((1.0 - 1.0 / np.asarray(leverage, dtype=np.float64)) - cum / notional) / (1.0 - mmr)


def liquidation_ratio_short(leverage: np.ndarray | float, mmr: float, cum: float, notional: float):
    """liq_short / E for an isolated short (see module docstring)."""
    return ((1.0 + 1.0 / np.asarray(leverage, dtype=np.float64)) + cum / notional) / (1.0 + mmr)


@dataclass(frozen=True)
class LeverageMix:
    """The leverages of the mix and where each one's liquidation sits, in log space.

    :param leverage: the leverages, log-spaced from ``leverage_min`` to the pair's max.
    :param log_leverage: ``ln(leverage)`` (the taker tilt reweights along it).
    :param long_log_ratio: ``ln(liq_long/E)`` per leverage (negative).
    :param short_log_ratio: ``ln(liq_short/E)`` per leverage (positive).
    :param mmr: maintenance rate used.  :param cum: maintenance amount used.
    :param max_leverage: the ceiling applied (pair tier max, or ``cfg.leverage_max``).
    """

    leverage: np.ndarray
    log_leverage: np.ndarray
    long_log_ratio: np.ndarray
    short_log_ratio: np.ndarray
    mmr: float
    cum: float
    max_leverage: float


def build_leverage_mix(
    cfg: ModelConfig, mmr: float, cum: float, max_leverage: float
) -> LeverageMix:
    """Leverages log-spaced from ``cfg.leverage_min`` to the allowed maximum.

    :param cfg: model parameters.
    :param mmr: maintenance margin rate of the representative position's tier.
    :param cum: maintenance amount of that tier (USD).
    :param max_leverage: the tier's max leverage; the mix never exceeds it.
    :return: the mix with each leverage's log offset of its liquidation price.
    :raise ValueError: if a leverage of the mix would put a long's liquidation at or
        below zero (cum larger than the margin), which no real tier does.
    """
    top = float(max_leverage) if cfg.leverage_max is None else min(cfg.leverage_max, max_leverage)
    low = min(cfg.leverage_min, top)
    lev = np.geomspace(low, top, cfg.leverage_count) if top > low else np.array([top] * 1)
    ratio_long = liquidation_ratio_long(lev, mmr, cum, cfg.position_notional_usd)
    ratio_short = liquidation_ratio_short(lev, mmr, cum, cfg.position_notional_usd)
    if np.any(ratio_long <= 0) or np.any(ratio_long >= 1):
        raise ValueError(
            f"leverage mix {low:g}x..{top:g}x with mmr={mmr}, cum={cum} and notional "
            f"{cfg.position_notional_usd} gives a long liquidation outside (0, entry)"
        )
    return LeverageMix(
        leverage=lev,
        log_leverage=np.log(lev),
        long_log_ratio=np.log(ratio_long),
        short_log_ratio=np.log(ratio_short),
        mmr=float(mmr),
        cum=float(cum),
        max_leverage=top,
    )
