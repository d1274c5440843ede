"""The timing rules: validated optional series aligned to the candles, arrays only.

A candle is labelled by its open time and known only at its close, so:

* open interest stamped T is used from the candle opening at ``T + oi_lag_candles·tf``
  (default one candle: freqtrade's dry-run drops OI rows at or after the forming candle,
  and the exchange's publication delay is unknown — docs/offline.md);
* open interest of a coarser timeframe p (a whole multiple of the candles' tf, read from
  the OI frame's smallest date step, :func:`oi_step_s`): the row stamped T holds the value
  at the end of its period, known from T + p, so the candle opening at c reads the latest
  row with ``T + p + (oi_lag_candles − 1)·tf ≤ c`` (default lag: the first candle opening
  at or after T + p).  For p = tf this is exactly the rule above, which stays in force
  there (exact row, bit-identical).  The value is held until the next row arrives, so the
  engine reconciles its book with open interest only on the candle where a new value
  arrives; the candles between are OI-mode candles.  A missing or NaN row is a gap: the
  last value is held across at most :data:`OI_MAX_MISSING_PERIODS` missing periods (no
  reconciliation, not stale);
  longer, the candles have no OI (volume mode, ``liq_stale``), never a zero;
* the metrics sidecar (taker flow) is lagged the same way by ``metrics_lag_candles``;
* mark candles are used for the consume step only when they have the candles'
  timeframe (same open time); a coarser mark candle's extreme may lie before levels
  opened inside it, so trade high/low is used instead (logged once per call);
* a taker-buy share from ``taker_net_base`` is only accepted when the net flow is
  smaller than the candle's volume (net taker flow cannot exceed gross volume; when it
  does, the volume is not gross — e.g. the embedded 2026-06 sample, whose volume *is*
  |net| — and the share is unknown: no tilt for that candle).

The batch run (:func:`liq_signals.features.pipeline.prepare_inputs`) and the dry-run fast
path (:class:`liq_signals.features.incremental.IncrementalFeatures`) both call
:func:`align_inputs`, so the rules exist once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from liq_signals import columns as C
from liq_signals.config import ModelConfig
from liq_signals.data.boundary import TAKER_NET_BASE
from liq_signals.data.oi_sources import taker_buy_share_proxy, values_at
from liq_signals.engine import book as B

logger = logging.getLogger(__name__)

NS = 1_000_000_000

#: a coarser open-interest series' last value is held across at most this many missing
#: periods (rows absent or NaN); candles further from the last value have no OI
OI_MAX_MISSING_PERIODS = 2


@dataclass(frozen=True)
class AlignSources:
    """The optional frames as validated NumPy arrays (what :func:`align_inputs` reads).

    :param oi: ``(dates ns, open_interest_amount, step s)`` with value-only rows already
        converted to contracts — the step is the OI frame's timeframe
        (:func:`oi_step_s` of the whole frame given) —, or None.
    :param mark: ``(dates ns, high, low, step s)`` — the step is the mark frame's
        smallest date step over the whole frame given, or None.
    :param metrics: ``(dates ns, taker ratio or None, taker_net_base or None)``, or None
        when the sidecar is absent or holds no taker value at all.
    :param oi_start_ns: date of the OI frame's first row holding a value
        (:func:`oi_series_start_ns` of the whole frame given): candles before the series
        starts run in volume mode without being stale.  None: the first row of ``oi``.
    """

    oi: tuple[np.ndarray, np.ndarray, int] | None = None
    mark: tuple[np.ndarray, np.ndarray, np.ndarray, int] | None = None
    metrics: tuple[np.ndarray, np.ndarray | None, np.ndarray | None] | None = None
    oi_start_ns: int | None = None


def oi_series_start_ns(ns: np.ndarray, amount: np.ndarray | None, value: np.ndarray | None) -> int:
    """Date of the first open-interest row with a finite amount or value.

    Read from the whole frame by both paths, so they agree on where the series begins.  A
    frame whose rows hold no value at all starts at its first row (an outage, stale), and
    one without rows never starts (int64 max).
    """
    if not len(ns):
        return int(np.iinfo(np.int64).max)
    have = np.zeros(len(ns), dtype=bool)
    for col in (amount, value):
        if col is not None:
            have |= np.isfinite(col)
    return int(ns[have][0]) if have.any() else int(ns[0])


def mark_step_s(m_ns: np.ndarray) -> int:
    """Smallest date step of a mark frame in seconds (0 with fewer than two rows).

    Read from the whole frame, so both paths decide "same timeframe" alike.
    """
    return int(np.diff(m_ns).min()) // NS if len(m_ns) > 1 else 0


def oi_step_s(o_ns: np.ndarray, tf_s: int) -> int:
    """The open-interest frame's timeframe in seconds: its smallest date step, or the
    candles' ``tf_s`` with fewer than two rows.

    Read from the whole frame, so both paths decide "coarser than the candles" alike;
    :func:`liq_signals.data.boundary.bad_oi_steps` rejects a step that is not a whole
    multiple of ``tf_s``.
    """
    return int(np.diff(o_ns).min()) // NS if len(o_ns) > 1 else tf_s


def oi_reach_ns(step_s: int, tf_s: int, lag: int) -> tuple[int, int]:
    """How far before a candle's open the open-interest rows it may read are dated.

    :return: ``(near, far)`` in ns: the candle opening at c reads rows dated in
        ``[c − far, c − near]`` (same timeframe: exactly ``c − lag·tf``).
    """
    if step_s <= tf_s:
        return lag * tf_s * NS, lag * tf_s * NS
    near = (step_s + (lag - 1) * tf_s) * NS
    return near, near + (OI_MAX_MISSING_PERIODS + 1) * step_s * NS


def held_values_at(
    src_ns: np.ndarray, values: np.ndarray, target_ns: np.ndarray, max_age_ns: int
) -> np.ndarray:
    """The latest finite ``values`` dated at or before each ``target_ns``, if less than
    ``max_age_ns`` older than it (NaN otherwise).

    :param src_ns: sorted, unique dates (int64 ns) of ``values``.
    """
    keep = np.isfinite(values)
    s_ns, vals = src_ns[keep], values[keep]
    out = np.full(len(target_ns), np.nan)
    if len(s_ns) == 0:
        return out
    idx = np.searchsorted(s_ns, target_ns, side="right") - 1
    ok = idx >= 0
    ok[ok] = target_ns[ok] - s_ns[idx[ok]] < max_age_ns
    out[ok] = vals[idx[ok]]
    return out


def has_taker_values(columns: list[np.ndarray]) -> bool:
    """Does the metrics sidecar hold any taker value at all?  Without one it is treated
    as absent (no staleness from it), whichever path reads it.

    :param columns: its taker columns that exist (ratio, net base), whole frame.
    """
    return any((~np.isnan(v)).any() for v in columns)


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
        r = values_at(m_ns, ratio, target)
        share = r / (1.0 + r)
        have_row |= np.isfinite(r)
    if net_base is not None:
        net = values_at(m_ns, net_base, target)
        have_row |= np.isfinite(net)
        vol = values_at(c_ns, volume, target)
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


def _open_interest(
    c_ns: np.ndarray,
    oi: tuple[np.ndarray, np.ndarray, int] | None,
    pair: str,
    tf_s: int,
    cfg: ModelConfig,
    start_ns: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Lagged open interest per candle and the candles left without it (stale)."""
    n = len(c_ns)
    if oi is None:
        return np.full(n, np.nan), np.zeros(n, dtype=bool)
    o_ns, amount, step_s = oi
    near, far = oi_reach_ns(step_s, tf_s, cfg.oi_lag_candles)
    if step_s <= tf_s:
        out = values_at(o_ns, amount, c_ns - near)
    else:
        out = held_values_at(o_ns, amount, c_ns - near, far - near)
    missing = np.isnan(out)
    # Candles before the series' first usable value run in volume mode like a pair with
    # no OI file at all: the history had not begun, nothing is out of date.  Only a hole
    # after that start is an outage, flagged stale.  (Causal: the start is in the past.)
    if start_ns is None:
        start_ns = oi_series_start_ns(o_ns, amount, None)
    stale = missing & (c_ns - near >= start_ns)
    before = int((missing & ~stale).sum())
    if before:
        logger.info(
            "%s: %d of %d candle(s) come before the open-interest series starts -> volume mode.",
            pair,
            before,
            n,
        )
    if stale.any():
        logger.info(
            "%s: %d of %d candle(s) have no open interest (lag %d candle) -> volume mode, "
            "flagged %s.",
            pair,
            int(stale.sum()),
            n,
            cfg.oi_lag_candles,
            C.STALE,
        )
    return out, stale


def _consume_range(
    c_ns: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    mark: tuple[np.ndarray, np.ndarray, np.ndarray, int] | None,
    pair: str,
    tf_s: int,
) -> tuple[np.ndarray, np.ndarray]:
    """High/low the consume step uses: same-timeframe mark candles, else trade prices."""
    if mark is None:
        return high, low
    m_ns, m_high, m_low, step = mark
    if step != tf_s:
        logger.info(
            "%s: mark candles are %ss, candles %ss; only same-timeframe mark candles are "
            "used (trade high/low otherwise).",
            pair,
            step or "?",
            tf_s,
        )
        return high, low
    mh = values_at(m_ns, m_high, c_ns)
    ml = values_at(m_ns, m_low, c_ns)
    have = np.isfinite(mh)
    if not have.all():
        logger.info(
            "%s: %d candle(s) without a mark candle use trade high/low.",
            pair,
            int((~have).sum()),
        )
    return np.where(have, mh, high), np.where(have, ml, low)


def _share_proxy(
    share: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    pair: str,
    cfg: ModelConfig,
) -> np.ndarray:
    """``share`` with the OHLC proxy where unknown, when ``taker_share_proxy`` is on."""
    if not cfg.taker_share_proxy:
        return share
    unknown = np.isnan(share)
    if not unknown.any():
        return share
    proxy = taker_buy_share_proxy(high, low, close, cfg.taker_proxy_window)
    logger.info(
        "%s: %d of %d candle(s) take the OHLC taker-share proxy (no usable taker flow).",
        pair,
        int(unknown.sum()),
        len(share),
    )
    return np.where(unknown, proxy, share)


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
    window, so :class:`liq_signals.features.incremental.IncrementalFeatures` can call it on
    the newest candles (plus the candles the lags reach back to) and get the same values
    as :func:`liq_signals.features.pipeline.prepare_inputs` on the whole frame.

    :param c_ns: candle open times, int64 ns.
    :param sources: the optional series (:class:`AlignSources`).
    :param pair: for log lines.
    :param tf_s: candle timeframe in seconds.
    :param cfg: lags and proxy settings.
    :return: ``(engine inputs, stale flags)``.
    """
    n = len(c_ns)
    oi, stale = _open_interest(c_ns, sources.oi, pair, tf_s, cfg, sources.oi_start_ns)
    cons_high, cons_low = _consume_range(c_ns, high, low, sources.mark, pair, tf_s)
    share = np.full(n, np.nan)
    if sources.metrics is not None:
        mt_ns, ratio, net_base = sources.metrics
        share, have_row = _taker_share(
            ratio, net_base, mt_ns, c_ns, volume, c_ns - cfg.metrics_lag_candles * tf_s * NS, pair
        )
        stale |= ~have_row
    inputs = B.EngineInputs(
        time_s=c_ns // NS,
        high=cons_high,
        low=cons_low,
        close=close,
        typical=(high + low + close) / 3.0,
        volume=volume,
        oi=oi,
        taker_share=_share_proxy(share, high, low, close, pair, cfg),
    )
    return inputs, stale
