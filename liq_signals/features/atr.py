"""Wilder's average true range: the scale of the ``*_dist_atr`` columns.

The batch run takes TA-Lib's; the dry-run continues it candle by candle from the last
known value (:func:`continue_atr`), because freqtrade's window drops the history TA-Lib
would need to recompute it.
"""

from __future__ import annotations

import numpy as np
import talib


def candle_atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Wilder's average true range (TA-Lib ``ATR``), NaN for the first ``period`` candles.

    A recursion seeded at the first candles, so causal: candle k's value depends on
    candles ≤ k only, from the first candle given.
    """
    return talib.ATR(high, low, close, timeperiod=period)


def continue_atr(
    prev_atr: float,
    prev_close: float,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    period: int,
) -> np.ndarray:
    """Wilder's ATR for candles that follow one whose ATR and close are known.

    TA-Lib has no way to resume from a state, and
    :class:`liq_signals.features.incremental.IncrementalFeatures` must give the
    long-history value after freqtrade has dropped the old rows.  This is Wilder's
    recursion in TA-Lib's classic operation order (``(prev·(n−1) + TR) / n``, TR =
    max(H−L, |H−C₋₁|, |L−C₋₁|)).  It is *not* bit-identical to the installed TA-Lib
    (0.8.1): there, candle i's ATR is not a function of candle i−1's published ATR and
    candle i's TR at all — no one-step form (this one, TA-Lib 0.6's two-coefficient fused
    form ``α·TR + β·prev``, ``prev + α(TR − prev)``, exactly rounded or 80-bit) reproduces
    more than 93 % of its steps on the embedded data — so its recursion carries state it
    does not output, and no continuation from its output can match it bit for bit.  The
    difference stays at rounding level because Wilder's smoothing shrinks an error by
    (n−1)/n per candle: at most 8 ulps (1.2e-15 relative) over the 143,900 candles of
    2023-24, asserted ≤ 16 ulps in ``tests/features/test_incremental.py``.  Bit-identity
    would need either ``talib.ATR`` re-run over the whole history every candle (which
    freqtrade's window drops) or replacing TA-Lib in the batch run (changing its values).

    :param prev_atr: ATR of the candle before ``high[0]`` (finite: past the warm-up).
    :param prev_close: close of that candle.
    :return: ATR of each candle given.
    """
    out = np.empty(len(close))
    prev_c = np.concatenate([[prev_close], close[:-1]])
    tr = np.maximum(np.maximum(high - low, np.abs(prev_c - high)), np.abs(low - prev_c))
    atr = float(prev_atr)
    for i in range(len(close)):
        atr = (atr * (period - 1) + tr[i]) / period
        out[i] = atr
    return out
