"""DataFrame in, liquidation-map features out (docs/model.md), causal by construction.

:func:`compute_features` validates the frames once (:mod:`liq_signals.data.boundary`),
aligns the optional series to the candles with the timing rules (docs/architecture.md), runs the
engine (:mod:`liq_signals.engine`) from the first candle, and appends the columns of
:mod:`liq_signals.columns` to a copy of the candles.

Timing rules (a candle is labelled by its open time and known only at its close):

* open interest stamped T is used from the candle opening at ``T + oi_lag_candles·tf``
  (default one candle: freqtrade's dry-run drops OI rows at or after the forming candle,
  and the exchange's publication delay is unknown — docs/offline.md);
* the metrics sidecar (taker flow) is lagged the same way by ``metrics_lag_candles``;
* mark candles are used for the consume step only when they have the candles'
  timeframe (same open time); a coarser mark candle's extreme could lie after levels
  opened inside it, so trade high/low is used instead (logged once per call).

Two repairs happen here, each logged with its extent:

* open interest known only in USD (``open_interest_value``; freqtrade allows either
  column to be all-NaN) is turned into contracts with
  :func:`liq_signals.data.oi_sources.fill_open_interest_amount` (value ÷ the open of the
  candle starting at the snapshot time);
* a taker-buy share from ``taker_net_base`` is only accepted when the net flow is
  smaller than the candle's volume (net taker flow cannot exceed gross volume; when it
  does, the volume is not gross — e.g. the embedded 2026-06 sample, whose volume *is*
  |net| — and the share is unknown: no tilt for that candle).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import talib

from liq_signals import columns as C
from liq_signals.config import ModelConfig
from liq_signals.data.boundary import (
    OI_AMOUNT,
    OI_VALUE,
    TAKER_NET_BASE,
    TAKER_RATIO,
    LiqInputError,
    validate_candles,
    validate_dates,
    validate_mark,
    validate_metrics,
    validate_open_interest,
)
from liq_signals.data.oi_sources import fill_open_interest_amount, taker_buy_share_proxy
from liq_signals.data.tiers import load_tiers
from liq_signals.engine import book as B
from liq_signals.engine.leverage import build_leverage_mix
from liq_signals.timeframes import timeframe_seconds

logger = logging.getLogger(__name__)

_NS = 1_000_000_000
#: dtype of the ``liq_mode`` column (codes 0 = volume, 1 = oi).
MODE_DTYPE = pd.CategoricalDtype([C.MODE_VOLUME, C.MODE_OI])


@lru_cache(maxsize=64)
def engine_params_for(pair: str, cfg: ModelConfig) -> B.EngineParams:
    """Engine parameters for ``pair``: its maintenance tier for the representative position
    picks (m, cum, max leverage), which fix the leverage mix."""
    mmr, cum, max_lev = load_tiers(pair).lookup(cfg.position_notional_usd)
    return B.engine_params(cfg, build_leverage_mix(cfg, mmr, cum, max_lev))


@dataclass(frozen=True)
class PreparedInputs:
    """Engine inputs aligned to the candles, plus what only the feature layer needs.

    :param inputs: the kernel's per-candle arrays.
    :param stale: per-candle staleness flag (``liq_stale``).
    :param atr: Wilder's ATR of the candles (``atr_period``), NaN during warm-up; scales
        the ``*_dist_atr`` columns.
    """

    inputs: B.EngineInputs
    stale: np.ndarray
    atr: np.ndarray | None = None

    def feature_values(self, out: np.ndarray, cfg: ModelConfig) -> dict[str, np.ndarray]:
        """:func:`feature_values` of engine ``out`` with everything these inputs know
        (close, staleness, ATR, open interest): what :func:`compute_features` attaches."""
        return feature_values(
            out, self.inputs.close, self.stale, cfg, atr=self.atr, oi=self.inputs.oi
        )


def _lookup(src_ns: np.ndarray, values: np.ndarray, target_ns: np.ndarray) -> np.ndarray:
    """``values`` at exactly ``target_ns`` (NaN where the source has no such date)."""
    out = np.full(len(target_ns), np.nan)
    if len(src_ns) == 0:
        return out
    idx = np.searchsorted(src_ns, target_ns)
    ok = idx < len(src_ns)
    ok[ok] = src_ns[idx[ok]] == target_ns[ok]
    out[ok] = values[idx[ok]]
    return out


def _taker_share(
    ratio: np.ndarray | None,
    net_base: np.ndarray | None,
    m_ns: np.ndarray,
    c_ns: np.ndarray,
    volume: np.ndarray,
    target: np.ndarray,
    pair: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Taker-buy share of volume at ``target`` dates from the metrics sidecar.

    ``taker_buy_sell_ratio`` r gives s = r/(1+r); otherwise ``taker_net_base`` n (buy −
    sell, base units) with the candle's volume v gives s = (1 + n/v)/2 — but only where
    |n| < v.  Net taker flow cannot exceed gross volume, so |n| ≥ v means ``volume`` is
    not the gross traded volume (the embedded 2026-06 sample stores |n| there: every
    share would be exactly 0 or 1 and saturate the tilt on a made-up number).  Such
    candles get no share (no tilt); their count is logged.

    :param ratio: the sidecar's ``taker_buy_sell_ratio`` (None: no such column).
    :param net_base: its ``taker_net_base`` (None: no such column).
    :return: ``(share, have_row)``: the share (NaN where unknown) and whether the sidecar
        had a taker value for the candle at all (False -> the candle is stale).
    """
    share = np.full(len(target), np.nan)
    have_row = np.zeros(len(target), dtype=bool)
    if ratio is not None:
        r = _lookup(m_ns, ratio, target)
        share = r / (1.0 + r)
        have_row |= np.isfinite(r)
    if net_base is not None:
        net = _lookup(m_ns, net_base, target)
        have_row |= np.isfinite(net)
        vol = _lookup(c_ns, volume, target)
        usable = np.isfinite(net) & (np.abs(net) < vol)
        with np.errstate(divide="ignore", invalid="ignore"):
            from_net = np.where(usable, 0.5 * (1.0 + net / vol), np.nan)
        not_gross = int((np.isfinite(net) & np.isfinite(vol) & ~usable & ~np.isfinite(share)).sum())
        if not_gross:
            logger.info(
                "%s: %d of %d candle(s) have |%s| >= volume (volume is not gross traded "
                "volume there) -> taker share unknown, no tilt for them.",
                pair,
                not_gross,
                len(target),
                TAKER_NET_BASE,
            )
        share = np.where(np.isfinite(share), share, from_net)
    return share, have_row


def _open_interest_contracts(
    open_interest: pd.DataFrame, candles: pd.DataFrame, pair: str
) -> pd.DataFrame:
    """``open_interest`` with ``open_interest_amount`` wherever the USD value is known.

    freqtrade's ``open_interest`` frames may hold only the USD value (the amount column
    all-NaN, or absent from a hand-made frame); the model needs contracts (docs/model.md).
    Rows with a value but no amount get value ÷ the open of the candle starting at the
    snapshot time (:func:`fill_open_interest_amount`, which logs how many).  Frames
    without a value column are returned as they are (validation names what is missing).
    """
    if not isinstance(open_interest, pd.DataFrame) or OI_VALUE not in open_interest.columns:
        return open_interest
    validate_dates(open_interest, pair=pair, source="open_interest")
    value_known = open_interest[OI_VALUE].notna().to_numpy().copy()
    if OI_AMOUNT in open_interest.columns:
        value_known &= open_interest[OI_AMOUNT].isna().to_numpy()
    if not value_known.any():
        if OI_AMOUNT in open_interest.columns:
            return open_interest
        return open_interest.assign(**{OI_AMOUNT: np.nan})
    value = open_interest[OI_VALUE].to_numpy(dtype=np.float64, na_value=np.nan)
    bad = value_known & ~((value > 0) & np.isfinite(value))
    if bad.any():
        pos = int(np.argmax(bad))
        raise LiqInputError(
            f"{pair} [open_interest]: {OI_VALUE}={float(value[pos])!r} at row {pos} (date "
            f"{open_interest['date'].iloc[pos]}) has no {OI_AMOUNT} and is not > 0 USD — "
            "re-download with `freqtrade download-data --candle-types open_interest` "
            "or drop the row",
            pair=pair,
            source="open_interest",
        )
    return fill_open_interest_amount(open_interest, candles, pair=pair)


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

    TA-Lib has no way to resume from a state, and :class:`IncrementalFeatures` must give
    the long-history value after freqtrade has dropped the old rows.  This is Wilder's
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


@dataclass(frozen=True)
class AlignSources:
    """The optional frames as validated NumPy arrays (what :func:`align_inputs` reads).

    :param oi: ``(dates ns, open_interest_amount)`` with value-only rows already
        converted to contracts, or None.
    :param mark: ``(dates ns, high, low, step s)`` — the step is the mark frame's
        smallest date step over the whole frame given, or None.
    :param metrics: ``(dates ns, taker ratio or None, taker_net_base or None)``, or None
        when the sidecar is absent or holds no taker value at all.
    """

    oi: tuple[np.ndarray, np.ndarray] | None = None
    mark: tuple[np.ndarray, np.ndarray, np.ndarray, int] | None = None
    metrics: tuple[np.ndarray, np.ndarray | None, np.ndarray | None] | None = None


def align_inputs(
    c_ns: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    sources: AlignSources,
    *,
    pair: str,
    tf_s: int,
    cfg: ModelConfig,
) -> tuple[B.EngineInputs, np.ndarray]:
    """Align already-validated series to the candles (timing rules in the module doc).

    Arrays only, and elementwise per candle except the taker-share proxy's trailing
    window, so :class:`liq_signals.features.incremental.IncrementalFeatures` can call it on the
    newest candles (plus the candles the lags reach back to) and get the same values as
    :func:`prepare_inputs` on the whole frame.

    :return: ``(engine inputs, stale flags)``.
    """
    n = len(c_ns)
    typical = (high + low + close) / 3.0
    stale = np.zeros(n, dtype=bool)

    oi = np.full(n, np.nan)
    if sources.oi is not None:
        o_ns, amount = sources.oi
        oi = _lookup(o_ns, amount, c_ns - cfg.oi_lag_candles * tf_s * _NS)
        missing = np.isnan(oi)
        stale |= missing
        if missing.any():
            logger.info(
                "%s: %d of %d candle(s) have no open interest (lag %d candle) -> volume mode, "
                "flagged %s.",
                pair,
                int(missing.sum()),
                n,
                cfg.oi_lag_candles,
                C.STALE,
            )

    cons_high, cons_low = high, low
    if sources.mark is not None:
        m_ns, m_high, m_low, step = sources.mark
        if step == tf_s:
            mh = _lookup(m_ns, m_high, c_ns)
            ml = _lookup(m_ns, m_low, c_ns)
            have = np.isfinite(mh)
            cons_high = np.where(have, mh, high)
            cons_low = np.where(have, ml, low)
            if not have.all():
                logger.info(
                    "%s: %d candle(s) without a mark candle use trade high/low.",
                    pair,
                    int((~have).sum()),
                )
        else:
            logger.info(
                "%s: mark candles are %ss, candles %ss; only same-timeframe mark candles are "
                "used (trade high/low otherwise).",
                pair,
                step or "?",
                tf_s,
            )

    share = np.full(n, np.nan)
    if sources.metrics is not None:
        mt_ns, ratio, net_base = sources.metrics
        share, have_row = _taker_share(
            ratio, net_base, mt_ns, c_ns, volume, c_ns - cfg.metrics_lag_candles * tf_s * _NS, pair
        )
        stale |= ~have_row
    if cfg.taker_share_proxy:
        unknown = np.isnan(share)
        if unknown.any():
            proxy = taker_buy_share_proxy(high, low, close, cfg.taker_proxy_window)
            share = np.where(unknown, proxy, share)
            logger.info(
                "%s: %d of %d candle(s) take the OHLC taker-share proxy (no usable taker flow).",
                pair,
                int(unknown.sum()),
                n,
            )
    inputs = B.EngineInputs(
        time_s=c_ns // _NS,
        high=cons_high,
        low=cons_low,
        close=close,
        typical=typical,
        volume=volume,
        oi=oi,
        taker_share=share,
    )
    return inputs, stale


def mark_step_s(m_ns: np.ndarray) -> int:
    """Smallest date step of a mark frame in seconds (0 with fewer than two rows)."""
    return int(np.diff(m_ns).min()) // _NS if len(m_ns) > 1 else 0


def prepare_inputs(
    candles: pd.DataFrame,
    *,
    pair: str,
    open_interest: pd.DataFrame | None = None,
    mark: pd.DataFrame | None = None,
    metrics: pd.DataFrame | None = None,
    timeframe: str = "5m",
    config: ModelConfig | None = None,
) -> PreparedInputs:
    """Validate the frames and align them to the candles (timing rules in module doc).

    :raise LiqInputError: any input problem (see :mod:`liq_signals.data.boundary`).
    """
    cfg = config or ModelConfig()
    tf_s = timeframe_seconds(timeframe)
    c_ns = validate_candles(candles, pair=pair, timeframe_s=tf_s)
    high = candles["high"].to_numpy(dtype=np.float64)
    low = candles["low"].to_numpy(dtype=np.float64)
    close = candles["close"].to_numpy(dtype=np.float64)
    volume = candles["volume"].to_numpy(dtype=np.float64)

    oi_src = None
    if open_interest is not None and len(open_interest):
        open_interest = _open_interest_contracts(open_interest, candles, pair)
        o_ns = validate_open_interest(open_interest, pair=pair)
        amount = open_interest["open_interest_amount"].to_numpy(dtype=np.float64, na_value=np.nan)
        oi_src = (o_ns, amount)

    mark_src = None
    if mark is not None and len(mark):
        m_ns = validate_mark(mark, pair=pair)
        mark_src = (
            m_ns,
            mark["high"].to_numpy(dtype=np.float64),
            mark["low"].to_numpy(dtype=np.float64),
            mark_step_s(m_ns),
        )

    metrics_src = None
    if metrics is not None and len(metrics):
        mt_ns = validate_metrics(metrics, pair=pair)
        taker_cols = [c for c in (TAKER_RATIO, TAKER_NET_BASE) if c in metrics.columns]
        if taker_cols and metrics[taker_cols].notna().to_numpy().any():
            metrics_src = tuple(
                [mt_ns]
                + [
                    metrics[c].to_numpy(dtype=np.float64, na_value=np.nan)
                    if c in metrics.columns
                    else None
                    for c in (TAKER_RATIO, TAKER_NET_BASE)
                ]
            )
    inputs, stale = align_inputs(
        c_ns,
        high,
        low,
        close,
        volume,
        AlignSources(oi=oi_src, mark=mark_src, metrics=metrics_src),  # type: ignore[arg-type]
        pair=pair,
        tf_s=tf_s,
        cfg=cfg,
    )
    atr = candle_atr(high, low, close, cfg.atr_period)
    return PreparedInputs(inputs, stale, atr)


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

    Prefer :meth:`PreparedInputs.feature_values`, which passes ``atr`` and ``oi`` too.

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
        C.LONG_SWEPT_USD: out[:, B.O_LONG_SWEPT_USD],
        C.SHORT_SWEPT_USD: out[:, B.O_SHORT_SWEPT_USD],
        C.MAGNET_UP_PRICE: out[:, B.O_MAGNET_UP_PRICE],
        C.MAGNET_UP_DIST_PCT: up(out[:, B.O_MAGNET_UP_PRICE]),
        C.MAGNET_UP_USD: out[:, B.O_MAGNET_UP_USD],
        C.MAGNET_DOWN_PRICE: out[:, B.O_MAGNET_DOWN_PRICE],
        C.MAGNET_DOWN_DIST_PCT: down(out[:, B.O_MAGNET_DOWN_PRICE]),
        C.MAGNET_DOWN_USD: out[:, B.O_MAGNET_DOWN_USD],
        C.NEAREST_UP_PRICE: out[:, B.O_NEAREST_UP_PRICE],
        C.NEAREST_UP_DIST_PCT: up(out[:, B.O_NEAREST_UP_PRICE]),
        C.NEAREST_UP_USD: out[:, B.O_NEAREST_UP_USD],
        C.NEAREST_DOWN_PRICE: out[:, B.O_NEAREST_DOWN_PRICE],
        C.NEAREST_DOWN_DIST_PCT: down(out[:, B.O_NEAREST_DOWN_PRICE]),
        C.NEAREST_DOWN_USD: out[:, B.O_NEAREST_DOWN_USD],
    }
    rows = len(out)
    atr_ = np.full(rows, np.nan) if atr is None else np.asarray(atr, dtype=np.float64)
    oi_ = np.full(rows, np.nan) if oi is None else np.asarray(oi, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        oi_usd = np.where((out[:, B.O_MODE_OI] == 1.0) & (oi_ > 0), oi_ * close, np.nan)
        for name, price, sign in (
            (C.MAGNET_UP_DIST_ATR, out[:, B.O_MAGNET_UP_PRICE], 1.0),
            (C.MAGNET_DOWN_DIST_ATR, out[:, B.O_MAGNET_DOWN_PRICE], -1.0),
            (C.NEAREST_UP_DIST_ATR, out[:, B.O_NEAREST_UP_PRICE], 1.0),
            (C.NEAREST_DOWN_DIST_ATR, out[:, B.O_NEAREST_DOWN_PRICE], -1.0),
        ):
            cols[name] = np.where(atr_ > 0, sign * (price - close) / atr_, np.nan)
        for name, usd in (
            (C.MAGNET_UP_OI_FRAC, out[:, B.O_MAGNET_UP_USD]),
            (C.MAGNET_DOWN_OI_FRAC, out[:, B.O_MAGNET_DOWN_USD]),
            (C.NEAREST_UP_OI_FRAC, out[:, B.O_NEAREST_UP_USD]),
            (C.NEAREST_DOWN_OI_FRAC, out[:, B.O_NEAREST_DOWN_USD]),
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
    cols[C.CASCADE_UP_USD_PER_PCT] = out[:, B.O_CASCADE_UP]
    cols[C.CASCADE_DOWN_USD_PER_PCT] = out[:, B.O_CASCADE_DOWN]
    cols[C.SWEPT_LONG_USD_RECENT] = out[:, B.O_LONG_SWEPT_RECENT_USD]
    cols[C.SWEPT_SHORT_USD_RECENT] = out[:, B.O_SHORT_SWEPT_RECENT_USD]
    cols[C.MODE] = pd.Categorical.from_codes(
        (out[:, B.O_MODE_OI] == 1.0).astype(np.int8), dtype=MODE_DTYPE
    )
    cols[C.COVERAGE] = out[:, B.O_COVERAGE]
    cols[C.STALE] = stale.astype(bool)
    return cols


def attach_features(candles: pd.DataFrame, cols: dict[str, np.ndarray]) -> pd.DataFrame:
    """A copy of ``candles`` with ``cols`` appended (replacing same-named columns)."""
    present = [c for c in cols if c in candles.columns]
    base = candles.drop(columns=present) if present else candles
    extra = pd.DataFrame(cols, index=candles.index)
    return pd.concat([base, extra], axis=1)


def compute_features(
    candles: pd.DataFrame,
    *,
    pair: str,
    open_interest: pd.DataFrame | None = None,
    mark: pd.DataFrame | None = None,
    metrics: pd.DataFrame | None = None,
    timeframe: str = "5m",
    config: ModelConfig | None = None,
) -> pd.DataFrame:
    """Liquidation-map features for every candle, built from the first candle on.

    :param candles: freqtrade OHLCV frame (``date`` column, UTC, sorted).
    :param pair: freqtrade pair name; picks the maintenance tiers (``BTC/USDT:USDT``).
    :param open_interest: freqtrade ``open_interest`` frame (``date`` and
        ``open_interest_amount`` and/or ``open_interest_value``; value-only rows are
        converted to contracts, logged); None -> volume mode throughout.
    :param mark: mark-price candles of the same timeframe (coarser ones are ignored).
    :param metrics: metrics sidecar (``taker_buy_sell_ratio`` or ``taker_net_base``).
    :param timeframe: the candles' timeframe.
    :param config: model parameters (defaults: :class:`ModelConfig`).
    :return: a copy of ``candles`` (index and columns kept) with the feature columns of
        :func:`liq_signals.columns.feature_columns` for ``config.bands_pct``.
    :raise LiqInputError: bad input, naming the pair, the source and the first bad row.
    """
    cfg = config or ModelConfig()
    prep = prepare_inputs(
        candles,
        pair=pair,
        open_interest=open_interest,
        mark=mark,
        metrics=metrics,
        timeframe=timeframe,
        config=cfg,
    )
    _, out = B.run(prep.inputs, engine_params_for(pair, cfg))
    return attach_features(candles, prep.feature_values(out, cfg))
