"""One builder per optional series (open interest, mark, metrics), for both paths.

The batch run (:func:`liq_signals.features.pipeline.prepare_inputs`) and the dry-run's
tail update (:class:`liq_signals.features.incremental.IncrementalFeatures`) both turn an
optional frame's arrays into the source tuple :func:`liq_signals.features.align.align_inputs`
reads.  They differ only in which rows they need: the batch takes the whole frame
(``a = 0``, ``b = len``), the tail the rows its new candles read.  Each builder below is
that one step for one series — bad rows quarantined (:mod:`liq_signals.data.boundary`;
the jump rule reads up to :data:`~liq_signals.data.boundary.JUMP_WINDOW` rows before
``a``), steps read from the whole frame — so a rule changes in one place for both paths.
Dates and columns are checked by the caller first (the batch raises, the tail falls back
to the full path).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from liq_signals.data.boundary import (
    JUMP_WINDOW,
    OI_AMOUNT,
    TAKER_NET_BASE,
    TAKER_RATIO,
    oi_as_of_ns,
    oi_needs_value,
    quarantine,
    quarantined_mark,
    quarantined_oi,
    quarantined_taker_ratios,
)
from liq_signals.data.oi_sources import amount_from_value
from liq_signals.features.align import has_taker_values, mark_step_s, oi_step_s

#: rows already logged by :func:`liq_signals.data.boundary.quarantine`
Seen = set[tuple[str, int]]


def _quarantine_rows(
    ns: np.ndarray, a: int, b: int, *, pair: str, source: str, seen: Seen | None
) -> Callable[[np.ndarray, np.ndarray, str], np.ndarray]:
    """:func:`~liq_signals.data.boundary.quarantine` for rows ``a:b`` of one series:
    ``(values, drop, column) -> values`` with the dropped rows NaN, each logged once."""

    def drop_rows(values: np.ndarray, drop: np.ndarray, column: str) -> np.ndarray:
        return quarantine(
            values, drop, ns[a:b], pair=pair, source=source, column=column, first=a, seen=seen
        )

    return drop_rows


def oi_rows(
    ns: np.ndarray,
    amount: np.ndarray | None,
    value: np.ndarray | None,
    a: int,
    b: int,
    *,
    tf_s: int,
    candles: tuple[np.ndarray, np.ndarray],
    pair: str,
    source: str,
    seen: Seen | None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Rows ``a:b`` of an open-interest series in contracts, bad rows quarantined.

    Value-only rows (USD known, amount not) become contracts by
    :func:`~liq_signals.data.boundary.amount_from_value` at the open of the candle
    starting when the value holds, before the quarantine reads them.

    :param ns: the whole series' dates (int64 ns, checked); its step is read from them.
    :param amount: ``open_interest_amount`` of the whole series (None: no such column).
    :param value: ``open_interest_value`` (None: no such column, or already converted).
    :param candles: ``(open times ns, opens)`` of the pair's candles.
    :return: ``(dates, contracts, step s)`` of rows ``a:b``.
    """
    lo = max(a - JUMP_WINDOW, 0)
    amt = amount[lo:b] if amount is not None else np.full(b - lo, np.nan)
    if value is not None:
        need = oi_needs_value(amt, value[lo:b])
        if need.any():
            amt = amt.copy()
            amt[need] = amount_from_value(
                value[lo:b][need], ns[lo:b][need] + oi_as_of_ns(ns, tf_s), *candles
            )
    drop_rows = _quarantine_rows(ns, a, b, pair=pair, source=source, seen=seen)
    amt = drop_rows(amt[a - lo :], quarantined_oi(amt, a - lo), OI_AMOUNT)
    return ns[a:b], amt, oi_step_s(ns, tf_s)


def mark_rows(
    ns: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    a: int,
    b: int,
    *,
    pair: str,
    source: str,
    seen: Seen | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Rows ``a:b`` of the mark candles, a bad row's high and low both NaN (its candle
    uses trade high/low); the step is the whole frame's smallest."""
    lo = max(a - JUMP_WINDOW, 0)
    drop = quarantined_mark(high[lo:b], low[lo:b], a - lo)
    out_high = _quarantine_rows(ns, a, b, pair=pair, source=source, seen=seen)(
        high[a:b], drop, "high/low"
    )
    return ns[a:b], out_high, np.where(drop, np.nan, low[a:b]), mark_step_s(ns)


def metrics_rows(
    ns: np.ndarray,
    columns: dict[str, np.ndarray],
    a: int,
    b: int,
    *,
    pair: str,
    source: str,
    seen: Seen | None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None] | None:
    """Rows ``a:b`` of the sidecar's taker columns (``taker_buy_sell_ratio`` and/or
    ``taker_net_base``, bad values quarantined), or None when the whole sidecar holds no
    taker value at all (then it is treated as absent: no staleness from it)."""
    if not has_taker_values(list(columns.values())):
        return None
    lo = max(a - JUMP_WINDOW, 0)
    drop_rows = _quarantine_rows(ns, a, b, pair=pair, source=source, seen=seen)
    ratio = net = None
    if TAKER_RATIO in columns:
        r = columns[TAKER_RATIO]
        ratio = drop_rows(r[a:b], quarantined_taker_ratios(r[lo:b], a - lo), TAKER_RATIO)
    if TAKER_NET_BASE in columns:
        v = columns[TAKER_NET_BASE][a:b]
        net = drop_rows(v, np.isinf(v), TAKER_NET_BASE)
    return ns[a:b], ratio, net
