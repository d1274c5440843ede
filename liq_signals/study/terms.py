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


def liquidation_terms(frame: pd.DataFrame, atr: pd.Series) -> pd.DataFrame:
    """The ``liq_term_*`` columns of a frame holding the ``liq_*`` features and ``close``.

    * ``liq_term_imbalance_{band}``: ``tanh(ln(short above / long below) / 2)``;
    * ``liq_term_magnet``: nearest + largest cluster pull above vs below, each
      ``notional / (1 + distance in ATR)``;
    * ``liq_term_cascade``: liquidation notional per 1 % of move up vs down;
    * ``liq_term_sweeps``: long vs short liquidations swept in the last hour (longs
      flushed = positive).

    :param atr: the candles' ATR (price units), for the magnet's distances
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
    return out
