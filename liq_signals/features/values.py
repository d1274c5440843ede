"""Engine output rows -> the named ``liq_*`` feature columns, and attaching them.

Elementwise per row, so the batch run and the dry-run (which computes them once per new
candle) give the same columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from liq_signals import columns as C
from liq_signals.config import ModelConfig
from liq_signals.engine import book as B
from liq_signals.engine.kernel import Out

#: dtype of the ``liq_mode`` column (codes 0 = volume, 1 = oi).
MODE_DTYPE = pd.CategoricalDtype([C.MODE_VOLUME, C.MODE_OI])


def mode_codes(out: np.ndarray) -> np.ndarray:
    """``liq_mode`` codes of :data:`MODE_DTYPE` per engine output row (1 = oi mode).

    :param out: engine output rows.
    :return: int8 codes.
    """
    return (out[:, Out.MODE_OI] == 1.0).astype(np.int8)


def feature_values(
    out: np.ndarray,
    close: np.ndarray,
    stale: np.ndarray,
    cfg: ModelConfig,
    *,
    atr: np.ndarray | None = None,
    oi: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Engine outputs -> named feature columns (elementwise, so rows are independent).

    Prefer :meth:`liq_signals.features.pipeline.PreparedInputs.feature_values`, which
    passes ``atr`` and ``oi`` too.

    :param out: engine output rows (``liq_signals.engine.book.O_*`` columns).
    :param close: the candles' close, same rows.
    :param stale: staleness flags, same rows.
    :param cfg: the config the outputs were produced with (bands, imbalance floor).
    :param atr: the candles' ATR, same rows (None: ``*_dist_atr`` columns are NaN).
    :param oi: the open interest (contracts) the engine used, same rows (None:
        ``*_oi_frac`` columns are NaN; they are NaN in volume mode anyway).
    :return: column name -> array, every name of ``columns.feature_columns(cfg.bands_pct)``;
        ``liq_mode`` is a categorical of ``'volume'``/``'oi'`` (compare it with ``== 'oi'``).
    """
    nb = len(cfg.bands_pct)

    def up(price):
        return (price / close - 1.0) * 100.0

    def down(price):
        return (1.0 - price / close) * 100.0

    cols: dict[str, np.ndarray] = {
        C.LONG_SWEPT_USD: out[:, Out.LONG_SWEPT_USD],
        C.SHORT_SWEPT_USD: out[:, Out.SHORT_SWEPT_USD],
        C.MAGNET_UP_PRICE: out[:, Out.MAGNET_UP_PRICE],
        C.MAGNET_UP_DIST_PCT: up(out[:, Out.MAGNET_UP_PRICE]),
        C.MAGNET_UP_USD: out[:, Out.MAGNET_UP_USD],
        C.MAGNET_DOWN_PRICE: out[:, Out.MAGNET_DOWN_PRICE],
        C.MAGNET_DOWN_DIST_PCT: down(out[:, Out.MAGNET_DOWN_PRICE]),
        C.MAGNET_DOWN_USD: out[:, Out.MAGNET_DOWN_USD],
        C.NEAREST_UP_PRICE: out[:, Out.NEAREST_UP_PRICE],
        C.NEAREST_UP_DIST_PCT: up(out[:, Out.NEAREST_UP_PRICE]),
        C.NEAREST_UP_USD: out[:, Out.NEAREST_UP_USD],
        C.NEAREST_DOWN_PRICE: out[:, Out.NEAREST_DOWN_PRICE],
        C.NEAREST_DOWN_DIST_PCT: down(out[:, Out.NEAREST_DOWN_PRICE]),
        C.NEAREST_DOWN_USD: out[:, Out.NEAREST_DOWN_USD],
    }
    rows = len(out)
    atr_ = np.full(rows, np.nan) if atr is None else np.asarray(atr, dtype=np.float64)
    oi_ = np.full(rows, np.nan) if oi is None else np.asarray(oi, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        oi_usd = np.where((out[:, Out.MODE_OI] == 1.0) & (oi_ > 0), oi_ * close, np.nan)
        for name, price, sign in (
            (C.MAGNET_UP_DIST_ATR, out[:, Out.MAGNET_UP_PRICE], 1.0),
            (C.MAGNET_DOWN_DIST_ATR, out[:, Out.MAGNET_DOWN_PRICE], -1.0),
            (C.NEAREST_UP_DIST_ATR, out[:, Out.NEAREST_UP_PRICE], 1.0),
            (C.NEAREST_DOWN_DIST_ATR, out[:, Out.NEAREST_DOWN_PRICE], -1.0),
        ):
            cols[name] = np.where(atr_ > 0, sign * (price - close) / atr_, np.nan)
        for name, usd in (
            (C.MAGNET_UP_OI_FRAC, out[:, Out.MAGNET_UP_USD]),
            (C.MAGNET_DOWN_OI_FRAC, out[:, Out.MAGNET_DOWN_USD]),
            (C.NEAREST_UP_OI_FRAC, out[:, Out.NEAREST_UP_USD]),
            (C.NEAREST_DOWN_OI_FRAC, out[:, Out.NEAREST_DOWN_USD]),
        ):
            cols[name] = usd / oi_usd
    for b, band in enumerate(cfg.bands_pct):
        cols[C.short_above_usd(band)] = out[:, B.o_short_above(b)]
    for b, band in enumerate(cfg.bands_pct):
        cols[C.long_below_usd(band)] = out[:, B.o_long_below(b, nb)]
    floor = cfg.imbalance_floor_usd
    for b, band in enumerate(cfg.bands_pct):
        cols[C.imbalance_log(band)] = np.log(
            (out[:, B.o_short_above(b)] + floor) / (out[:, B.o_long_below(b, nb)] + floor)
        )
    cols[C.CASCADE_UP_USD_PER_PCT] = out[:, Out.CASCADE_UP]
    cols[C.CASCADE_DOWN_USD_PER_PCT] = out[:, Out.CASCADE_DOWN]
    cols[C.SWEPT_LONG_USD_RECENT] = out[:, Out.LONG_SWEPT_RECENT_USD]
    cols[C.SWEPT_SHORT_USD_RECENT] = out[:, Out.SHORT_SWEPT_RECENT_USD]
    cols[C.MODE] = pd.Categorical.from_codes(mode_codes(out), dtype=MODE_DTYPE)
    cols[C.COVERAGE] = out[:, Out.COVERAGE]
    cols[C.STALE] = stale.astype(bool)
    return cols


def attach_features(candles: pd.DataFrame, cols: dict[str, np.ndarray]) -> pd.DataFrame:
    """A copy of ``candles`` with ``cols`` appended (replacing same-named columns)."""
    present = [c for c in cols if c in candles.columns]
    base = candles.drop(columns=present) if present else candles
    extra = pd.DataFrame(cols, index=candles.index)
    return pd.concat([base, extra], axis=1)
