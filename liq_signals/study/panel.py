"""The study's sample: one row per decision point, features known at it, outcomes after it.

Decisions are every ``every`` candles (hourly on 5m).  Everything a row knows
(``liq_*``, terms, past returns, volatility, volume) is the value at the close of that
candle; the outcomes (forward log return and forward range over each horizon) use only
the candles after it.  The controls are the usual TA ones: momentum (past 1 h and 24 h log
returns) and volatility (24 h realised).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from liq_signals import columns as C
from liq_signals.features.atr import candle_atr
from liq_signals.study.terms import liquidation_terms

#: Feature columns that are not signals (prices, bookkeeping).
NOT_SIGNALS = frozenset(
    {C.MAGNET_UP_PRICE, C.MAGNET_DOWN_PRICE, C.NEAREST_UP_PRICE, C.NEAREST_DOWN_PRICE}
    | {C.MODE, C.COVERAGE, C.STALE}
)
#: Controls for "recent returns" and for "the usual TA" (momentum + volatility).
RETURN_CONTROLS = ("ret_1h", "ret_24h")
TA_CONTROLS = ("ret_1h", "ret_24h", "rv_24h")


def signal_columns(frame: pd.DataFrame) -> list[str]:
    """The ``liq_*`` feature and term columns of ``frame`` worth an IC."""
    return [
        c
        for c in frame.columns
        if c.startswith("liq_") and c not in NOT_SIGNALS and frame[c].dtype.kind == "f"
    ]


def _forward_extreme(values: pd.Series, n: int, how: str) -> pd.Series:
    """Max/min of the ``n`` values after each row (NaN where fewer than ``n`` follow)."""
    rev = values.iloc[::-1].rolling(n, min_periods=n)
    out = (rev.max() if how == "max" else rev.min()).iloc[::-1]
    return out.shift(-1)


def build_panel(
    features: pd.DataFrame,
    *,
    candles_per_hour: int,
    horizons_h: tuple[int, ...],
    every: int | None = None,
) -> pd.DataFrame:
    """Decision rows of a 5m frame holding candles (date, OHLCV) and the ``liq_*`` columns.

    :param candles_per_hour: 12 on 5m candles
    :param every: candles between decisions (default: one hour)
    """
    f = features.reset_index(drop=True)
    cph = candles_per_hour
    logc = np.log(f["close"])
    atr = pd.Series(
        candle_atr(
            f["high"].to_numpy(float), f["low"].to_numpy(float), f["close"].to_numpy(float), 14
        ),
        index=f.index,
    )
    terms = liquidation_terms(f, atr, candles_per_day=24 * cph)
    out = pd.DataFrame({"date": f["date"], "close": f["close"]})
    out["ret_1h"] = logc - logc.shift(cph)
    out["ret_24h"] = logc - logc.shift(24 * cph)
    out["rv_24h"] = logc.diff().rolling(24 * cph).std()
    volume = f["volume"].rolling(cph).sum()
    out["volume_rel"] = volume / volume.rolling(7 * 24 * cph, min_periods=24 * cph).mean()
    stale = f[C.STALE].astype(bool)
    for col in signal_columns(f):
        out[col] = f[col].where(~stale)
    for col in terms.columns:
        out[col] = terms[col]
    for h in horizons_h:
        n = h * cph
        out[f"fwd_{h}h"] = logc.shift(-n) - logc
        hi = _forward_extreme(np.log(f["high"]), n, "max")
        lo = _forward_extreme(np.log(f["low"]), n, "min")
        out[f"range_{h}h"] = hi - lo
    step = every or cph
    # decisions at the close of each hour (the candle opening at :55 on 5m)
    last_of_hour = (f["date"].dt.minute == 60 - 60 // cph) if step == cph else None
    rows = np.flatnonzero(last_of_hour) if last_of_hour is not None else np.arange(0, len(f), step)
    return out.iloc[rows].reset_index(drop=True)
