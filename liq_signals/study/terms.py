"""The liquidation terms a strategy can trade, defined once for the strategy and the study.

Each term is a normalised difference ``(up - down) / (up + down)`` in [-1, 1] (positive
= the up side dominates), NaN while the map is stale or the inputs are missing, so that
the study measures exactly what the strategy trades.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from liq_signals import columns as C

#: Imbalance bands (percent) the terms are built for (must be in the model's bands_pct).
TERM_BANDS = ("2", "5", "10")


def normalised_difference(up: pd.Series, down: pd.Series) -> pd.Series:
    """``(up - down) / (up + down)`` in [-1, 1]; 0 when both are 0, NaN when either is NaN."""
    total = up + down
    return (
        ((up - down) / total.where(total > 0))
        .where(total > 0, 0.0)
        .where(up.notna() & down.notna())
    )


#: Days of trailing candles the pull's momentum part is fitted on (shorter than the
#: strategy's startup history, so the term is as stable as the map under it).
RESIDUAL_DAYS = 3


def momentum_residual(term: pd.Series, close: pd.Series, candles_per_day: int) -> pd.Series:
    """What ``term`` says beyond the past day's return, scaled to [-1, 1].

    The map's pull and imbalance follow price: after a rise more shorts sit above (their
    rank correlation with the past 24 h return is +0.7 to +0.8 on every pair studied).
    This subtracts a trailing least-squares fit of ``term`` on the 24 h log return
    (``RESIDUAL_DAYS`` days of candles, causal), then divides by the fit's residual
    standard deviation over the same window and clips at two of them.
    """
    window = RESIDUAL_DAYS * candles_per_day
    momentum = np.log(close).diff(candles_per_day)
    roll_t = term.rolling(window, min_periods=window // 2)
    roll_m = momentum.rolling(window, min_periods=window // 2)
    beta = roll_t.cov(momentum) / roll_m.var()
    alpha = roll_t.mean() - beta * roll_m.mean()
    resid = term - alpha - beta * momentum
    # the fit's own residual standard deviation (same window): the result has unit scale
    # whether momentum explains most of the term (the real map) or none of it (a map
    # shifted in time, the placebo), so both trade equally often by construction
    resid_var = roll_t.var() - beta * roll_t.cov(momentum)
    scale = np.sqrt(resid_var.where(resid_var > 0))
    return (resid / scale).clip(-2.0, 2.0) / 2.0


def liquidation_terms(
    frame: pd.DataFrame, atr: pd.Series, candles_per_day: int = 288
) -> pd.DataFrame:
    """The ``liq_term_*`` columns of a frame holding the ``liq_*`` features and ``close``.

    * ``liq_term_imbalance_{band}``: ``tanh(ln(short above / long below) / 2)``;
    * ``liq_term_magnet``: nearest + largest cluster pull above vs below, each
      ``notional / (1 + distance in ATR)``;
    * ``liq_term_cascade``: liquidation notional per 1 % of move up vs down;
    * ``liq_term_sweeps``: long vs short liquidations swept in the last hour (longs
      flushed = positive);
    * ``liq_term_pull_excess``: the magnet term beyond momentum (:func:`momentum_residual`).

    :param atr: the candles' ATR (price units), for the magnet's distances
    :param candles_per_day: 288 on 5m candles
    """
    usable = ~frame[C.STALE].astype(bool)
    out = pd.DataFrame(index=frame.index)
    for band in TERM_BANDS:
        imbalance = frame[C.imbalance_log(float(band))]
        out[f"liq_term_imbalance_{band}"] = np.tanh(imbalance / 2.0).where(usable)
    close_in_atr = frame["close"] / atr

    def pull(usd: str, dist_pct: str) -> pd.Series:
        distance_atr = frame[dist_pct] / 100.0 * close_in_atr
        return (frame[usd] / (1.0 + distance_atr)).fillna(0.0)

    up = pull(C.NEAREST_UP_USD, C.NEAREST_UP_DIST_PCT) + pull(C.MAGNET_UP_USD, C.MAGNET_UP_DIST_PCT)
    down = pull(C.NEAREST_DOWN_USD, C.NEAREST_DOWN_DIST_PCT) + pull(
        C.MAGNET_DOWN_USD, C.MAGNET_DOWN_DIST_PCT
    )
    out["liq_term_magnet"] = normalised_difference(up, down).where(usable & atr.notna())
    out["liq_term_cascade"] = normalised_difference(
        frame[C.CASCADE_UP_USD_PER_PCT], frame[C.CASCADE_DOWN_USD_PER_PCT]
    ).where(usable)
    out["liq_term_sweeps"] = normalised_difference(
        frame[C.SWEPT_LONG_USD_RECENT], frame[C.SWEPT_SHORT_USD_RECENT]
    ).where(usable)
    out["liq_term_pull_excess"] = momentum_residual(
        out["liq_term_magnet"], frame["close"], candles_per_day
    )
    return out
