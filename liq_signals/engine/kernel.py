"""The per-candle steps of the liquidation book, compiled with numba.

:func:`advance_kernel` walks the candles in the order of ``docs/model.md`` ("The book"):
consume, decay, flow, open, cap, then measure around the close.  Each step is a small
``@njit`` function inlined into the kernel by numba (``inline="always"``): as real calls,
passing arrays between them made the kernel ~25 % slower; inlined, it runs as fast as one
big function.  Nothing here allocates per candle.

A per-side step takes its book's array ``q`` itself rather than picking it out of the
state tuple by direction: that choice, even between two arrays of one type, cost 3-6 %.

The two books are mirror images: the long book lies below the price and is liquidated
when price falls, the short book lies above it.  The per-side steps take that direction
``d`` (``-1`` long, ``+1`` short) and walk *mirrored* bin indices ``m = d·k``, so that
"outward from the price" is increasing ``m`` on both sides.  One loop then serves both
books and performs, for each, exactly the floating-point operations of a hand-written
per-side loop in the same order, which keeps outputs bit-identical.

This module also fixes the layouts of the arrays the kernel shares with its callers, one
``IntEnum`` per array: the output columns (:class:`Out`), the scalar slots of the state
(:class:`FScal`, :class:`IScal`) and of the parameters (:class:`Par`).
"""

from __future__ import annotations

import math
from enum import IntEnum

import numpy as np
from numba import njit

# ---- layouts --------------------------------------------------------------------------
# Declared here, in the kernel's own file, on purpose: numba's disk cache is invalidated
# by a change of this file only, so a layout declared elsewhere could change under a
# cached kernel that still uses the old one.  The kernel reads the members as constants
# (numba folds them: no slower than bare integers).


class Out(IntEnum):
    """Columns of the per-candle output array; from ``FIXED`` on, ``short_above_usd`` of
    each band, then ``long_below_usd`` of each band (:func:`.book.o_short_above`,
    :func:`.book.o_long_below`)."""

    LONG_SWEPT_USD = 0
    SHORT_SWEPT_USD = 1
    LONG_SWEPT_Q = 2
    SHORT_SWEPT_Q = 3
    LONG_DECAYED_Q = 4
    SHORT_DECAYED_Q = 5
    LONG_CLOSED_Q = 6
    SHORT_CLOSED_Q = 7
    LONG_CAPPED_Q = 8
    SHORT_CAPPED_Q = 9
    OPENED_Q = 10
    LONG_TOTAL_Q = 11
    SHORT_TOTAL_Q = 12
    MODE_OI = 13
    COVERAGE = 14
    LONG_SWEPT_RECENT_USD = 15
    SHORT_SWEPT_RECENT_USD = 16
    MAGNET_UP_PRICE = 17
    MAGNET_UP_USD = 18
    MAGNET_DOWN_PRICE = 19
    MAGNET_DOWN_USD = 20
    NEAREST_UP_PRICE = 21
    NEAREST_UP_USD = 22
    NEAREST_DOWN_PRICE = 23
    NEAREST_DOWN_USD = 24
    CASCADE_UP = 25
    CASCADE_DOWN = 26
    FIXED = 27


class FScal(IntEnum):
    """Slots of the state's float scalars (``BookState.fscal``)."""

    LONG_SCALE = 0
    SHORT_SCALE = 1
    LONG_TOTAL = 2
    SHORT_TOTAL = 3
    PREV_OI = 4  # the last open-interest row's value (NaN: none known)
    NET_SINCE = 5  # model opens − liquidations since that row (contracts)


class IScal(IntEnum):
    """Slots of the state's integer scalars (``BookState.iscal``)."""

    K0 = 0
    LONG_HI = 1  # highest occupied long bin: the long book's edge nearest the price
    SHORT_LO = 2  # lowest occupied short bin: the short book's edge nearest the price
    PREV_T = 3
    RING_POS = 4
    SEEN = 5


class Par(IntEnum):
    """Slots of the kernel's float64 parameter array (built once from the config)."""

    DELTA = 0  # grid_step
    ALPHA = 1  # leverage_alpha
    TILT = 2  # taker_tilt
    TAU = 3  # decay_tau_seconds
    PARTICIPATION = 4
    RECONCILE = 5  # oi_reconcile
    CLUSTER_BINS = 6  # an integer, exact in a float64
    NEAREST_SHARE = 7  # nearest_min_share
    CASC_UP = 8  # log offset of the cascade band above the close
    CASC_DOWN = 9  # ... and below it
    CASC_PCT = 10  # cascade_band_pct
    RENORM = 11  # renormalize_below
    LEV_BIAS = 12  # side_leverage_bias
    DIR_TILT = 13  # direction_tilt
    NOTIONAL_BIAS = 14  # side_notional_bias


#: edge of an empty book (so that any level placed becomes the edge)
NONE_HI = -(1 << 62)
NONE_LO = 1 << 62
#: previous time of a book that has seen no candle
NO_TIME = -(1 << 62)

LONG = -1
SHORT = 1


# ---- per-side helpers ----------------------------------------------------------------------


@njit(cache=True, inline="always")
def _side_slots(d):
    """``(scale, total, edge)`` slots of the book lying in direction ``d`` from the price."""
    if d > 0:
        return FScal.SHORT_SCALE, FScal.SHORT_TOTAL, IScal.SHORT_LO
    return FScal.LONG_SCALE, FScal.LONG_TOTAL, IScal.LONG_HI


@njit(cache=True, inline="always")
def _window(k0, size, d):
    """Mirrored indices ``(m_first, m_last)`` of the materialised bins."""
    if d > 0:
        return k0, k0 + size - 1
    return -(k0 + size - 1), -k0


@njit(cache=True, inline="always")
def _reach(x, d):
    """Last bin a walk from the price in direction ``d`` meets at or before the position
    ``x`` (in bins): ``floor`` upward, ``ceil`` downward."""
    if d > 0:
        return int(math.floor(x))
    return int(math.ceil(x))


@njit(cache=True, inline="always")
def _rescale(q, d, fscal, iscal, factor):
    """Multiply one book by ``factor`` through its lazy scale (O(1), not O(bins)); a
    factor <= 0 empties it."""
    scale, total, edge = _side_slots(d)
    if factor <= 0.0:
        q[:] = 0.0
        fscal[scale] = 1.0
        fscal[total] = 0.0
        iscal[edge] = NONE_LO if d > 0 else NONE_HI
        return
    fscal[scale] *= factor
    fscal[total] *= factor


@njit(cache=True, inline="always")
def _renormalize(q, d, fscal, threshold):
    """Fold a tiny scale back into the bins before repeated decay underflows it."""
    scale = _side_slots(d)[0]
    s = fscal[scale]
    if s < threshold:
        for j in range(q.shape[0]):
            q[j] *= s
        fscal[scale] = 1.0


# ---- 1. consume ---------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _consume_side(q, d, price, fscal, iscal, k_reach):
    """Remove the levels from the book's edge out to bin ``k_reach`` (the farthest the
    candle's range got); return the swept ``(contracts, usd)``.

    Only the bins between the edge and ``k_reach`` are scanned, not the whole book."""
    scale, total, edge = _side_slots(d)
    k0 = iscal[IScal.K0]
    sw_q = 0.0
    sw_usd = 0.0
    if d * iscal[edge] <= d * k_reach:
        s = fscal[scale]
        m_lo, m_hi = _window(k0, q.shape[0], d)
        for m in range(max(d * iscal[edge], m_lo), min(d * k_reach, m_hi) + 1):
            j = d * m - k0
            v = q[j]
            if v != 0.0:
                sw_q += v * s
                sw_usd += v * s * price[j]
                q[j] = 0.0
        iscal[edge] = k_reach + d
    fscal[total] = max(fscal[total] - sw_q, 0.0)
    return sw_q, sw_usd


# ---- 2. decay -----------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _decay(book, t, tau):
    """Age both books by the real time since the previous candle, so a data gap decays
    them by the time that passed; return the decayed ``(long, short)`` contracts."""
    long_q, short_q, _, fscal, iscal, _ = book
    prev_t = iscal[IScal.PREV_T]
    dt = 0.0 if prev_t == NO_TIME else float(t - prev_t)
    iscal[IScal.PREV_T] = t
    f = math.exp(-dt / tau)
    dec_l = fscal[FScal.LONG_TOTAL] * (1.0 - f)
    dec_s = fscal[FScal.SHORT_TOTAL] * (1.0 - f)
    _rescale(long_q, LONG, fscal, iscal, f)
    _rescale(short_q, SHORT, fscal, iscal, f)
    return dec_l, dec_s


# ---- 3. flow ------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _flow(book, oi, volume, liq, par):
    """Contracts opened this candle, and the open-interest reconciliation.

    Opens are a share of the candle's volume in both modes: gross opens happen in the
    candles that trade them, and net open interest cannot see the positions opened and
    closed between two rows (churn).  Open interest is a *constraint*: when a new row
    arrives, ``gap`` = its change minus the model's own net change since the previous row
    (opens − liquidations) and both books are rescaled by ``1 + oi_reconcile·gap/OI`` —
    positions the model missed (gap > 0) or closes it did not see (gap < 0).  A row is new
    when its value differs from the last one (coarse OI is held between rows).  Returns
    ``(opens, mode_oi, reconciled_long, reconciled_short)``; reconciled contracts are
    removed (negative: added) by the rescale.
    """
    long_q, short_q, _, fscal, iscal, _ = book
    opens = par[Par.PARTICIPATION] * volume
    if not math.isfinite(oi):
        fscal[FScal.PREV_OI] = math.nan
        fscal[FScal.NET_SINCE] = 0.0
        return opens, 0.0, 0.0, 0.0
    prev_oi = fscal[FScal.PREV_OI]
    cl_l = 0.0
    cl_s = 0.0
    if oi != prev_oi:
        if math.isfinite(prev_oi) and oi > 0.0:
            gap = (oi - prev_oi) - fscal[FScal.NET_SINCE]
            keep = max(1.0 + par[Par.RECONCILE] * gap / oi, 0.0)
            cl_l = fscal[FScal.LONG_TOTAL] * (1.0 - keep)
            cl_s = fscal[FScal.SHORT_TOTAL] * (1.0 - keep)
            _rescale(long_q, LONG, fscal, iscal, keep)
            _rescale(short_q, SHORT, fscal, iscal, keep)
        fscal[FScal.PREV_OI] = oi
        fscal[FScal.NET_SINCE] = 0.0
    fscal[FScal.NET_SINCE] += opens - liq
    return opens, 1.0, cl_l, cl_s


# ---- 4. open ------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _weights(log_lev, alpha, g, w):
    """Fill ``w`` with the leverage weights ``L^(g − alpha)``; return their sum."""
    tot = 0.0
    for j in range(log_lev.shape[0]):
        w[j] = math.exp(log_lev[j] * (-alpha + g))
        tot += w[j]
    return tot


@njit(cache=True, inline="always")
def _open_side(q, d, fscal, iscal, ratio, w, tot, ln_e, opens, delta):
    """Add ``opens`` contracts to one book at entry ``exp(ln_e)``, spread over the
    leverages by weight ``w / tot``, each at its liquidation bin (log ratio ``ratio``)."""
    scale, total, edge = _side_slots(d)
    k0 = iscal[IScal.K0]
    s = fscal[scale]
    for j in range(ratio.shape[0]):
        k = int(math.floor((ln_e + ratio[j]) / delta + 0.5))
        q[k - k0] += opens * (w[j] / tot) / s
        if d * k < d * iscal[edge]:
            iscal[edge] = k
    fscal[total] += opens


@njit(cache=True, inline="always")
def _direction(high, low, close):
    """Where the candle closed in its range, in [-1, 1] (+1 at the high): which side
    traded aggressively, from the candle alone (0 for a candle without range)."""
    if high > low:
        return (2.0 * close - high - low) / (high - low)
    return 0.0


@njit(cache=True, inline="always")
def _open(book, lev, w, tot0, typical, share, direction, opens, par):
    """Add ``opens`` to both books (every contract has a long and a short holder).

    A known taker-buy ``share`` tilts the mix: the aggressive side carries the higher
    leverage; so does the candle's ``direction`` (``direction_tilt``) and a constant
    ``side_leverage_bias``.  ``side_notional_bias`` b > 0 puts only ``1 − b`` of the
    opened contracts in the short book (the rest taken as held without leverage that
    liquidates in range, e.g. hedged shorts), b < 0 only ``1 + b`` in the long book.
    ``w`` is ``(untilted, long, short)`` weight arrays, the first filled once per run with
    sum ``tot0``; the other two are scratch.
    """
    long_q, short_q, _, fscal, iscal, _ = book
    long_ratio, short_ratio, log_lev = lev
    g = par[Par.TILT] * (2.0 * share - 1.0) if math.isfinite(share) else 0.0
    if par[Par.LEV_BIAS] != 0.0:
        g += par[Par.LEV_BIAS]
    if par[Par.DIR_TILT] != 0.0:
        g += par[Par.DIR_TILT] * direction
    wl = w[0]
    ws = w[0]
    tot_l = tot0
    tot_s = tot0
    if g != 0.0:
        wl = w[1]
        ws = w[2]
        tot_l = _weights(log_lev, par[Par.ALPHA], g, wl)
        tot_s = _weights(log_lev, par[Par.ALPHA], -g, ws)
    ln_e = math.log(typical)
    delta = par[Par.DELTA]
    opens_l = opens
    opens_s = opens
    b = par[Par.NOTIONAL_BIAS]
    if b > 0.0:
        opens_s = opens * (1.0 - b)
    elif b < 0.0:
        opens_l = opens * (1.0 + b)
    _open_side(long_q, LONG, fscal, iscal, long_ratio, wl, tot_l, ln_e, opens_l, delta)
    _open_side(short_q, SHORT, fscal, iscal, short_ratio, ws, tot_s, ln_e, opens_s, delta)


# ---- 5. cap -------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _cap_side(q, d, fscal, iscal, oi):
    """Scale one book down to ``oi`` contracts if it holds more; return the excess."""
    total = _side_slots(d)[1]
    t = fscal[total]
    if t > oi:
        _rescale(q, d, fscal, iscal, oi / t)
        fscal[total] = oi
        return t - oi
    return 0.0


@njit(cache=True, inline="always")
def _cap(book, oi, mode_oi):
    """Neither book may exceed a known open interest.  Returns ``(capped_long,
    capped_short, coverage)``, coverage = mean book / OI in OI mode (else NaN)."""
    long_q, short_q, _, fscal, iscal, _ = book
    if not math.isfinite(oi):
        return 0.0, 0.0, math.nan
    cap_l = _cap_side(long_q, LONG, fscal, iscal, oi)
    cap_s = _cap_side(short_q, SHORT, fscal, iscal, oi)
    coverage = math.nan
    if mode_oi == 1.0 and oi > 0.0:
        coverage = 0.5 * (fscal[FScal.LONG_TOTAL] + fscal[FScal.SHORT_TOTAL]) / oi
    return cap_l, cap_s, coverage


@njit(cache=True, inline="always")
def _recent_sweeps(ring, iscal, sw_l_usd, sw_s_usd):
    """Store this candle's swept USD in the ring; return the sums over the ring."""
    pos = iscal[IScal.RING_POS]
    ring[0, pos] = sw_l_usd
    ring[1, pos] = sw_s_usd
    iscal[IScal.RING_POS] = (pos + 1) % ring.shape[1]
    rl = 0.0
    rs = 0.0
    for j in range(ring.shape[1]):
        rl += ring[0, j]
        rs += ring[1, j]
    return rl, rs


# ---- 6. measure ---------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _next_bucket(k, cluster_bins, d):
    """First bin past the cluster bucket of bin ``k``, walking in direction ``d``
    (buckets are fixed absolute ranges of ``cluster_bins`` bins)."""
    if d > 0:
        return (k // cluster_bins + 1) * cluster_bins
    return (k // cluster_bins) * cluster_bins - 1


@njit(cache=True, inline="always")
def _sum_bucket(q, d, price, k0, s, m_from, m_to, m_casc, casc, band_m, band_usd):
    """Sum the bins ``m_from <= m < m_to`` of one cluster bucket, adding each bin's USD to
    the cascade total ``casc`` and to every band that reaches it.

    Returns ``(usd, contracts, usd·price, casc)``; the running ``casc`` goes in and out so
    that it sums bin by bin across buckets (the order of the additions is the output)."""
    b_usd = 0.0
    b_q = 0.0
    b_pu = 0.0
    for m in range(m_from, m_to):
        j = d * m - k0
        v = q[j] * s
        if v != 0.0:
            p = price[j]
            usd = v * p
            b_usd += usd
            b_q += v
            b_pu += usd * p
            if m <= m_casc:
                casc += usd
            for b in range(band_m.shape[0]):
                if m <= band_m[b]:
                    band_usd[b] += usd
    return b_usd, b_q, b_pu, casc


@njit(cache=True, inline="always")
def measure_side(q, d, price, fscal, iscal, ln_c, offsets, casc_off, par, band_m, band_usd):
    """Measure one book outward from the close ``exp(ln_c)``, in direction ``d``.

    Fills ``band_usd`` with the USD within each band (log offsets ``offsets``, the last the
    widest) and returns ``(magnet_price, magnet_usd, nearest_price, nearest_usd,
    cascade_usd)``: the magnet is the cluster bucket holding the most USD, the nearest the
    first bucket holding at least ``nearest_min_share`` of the book, both within the widest
    band; bucket prices are USD-weighted.  ``band_m`` is int64 scratch of the same length.
    """
    delta = par[Par.DELTA]
    cluster_bins = int(par[Par.CLUSTER_BINS])
    scale, total, edge = _side_slots(d)
    k0 = iscal[IScal.K0]
    s = fscal[scale]
    thr = par[Par.NEAREST_SHARE] * fscal[total]
    nb = offsets.shape[0]
    for b in range(nb):
        band_usd[b] = 0.0
        band_m[b] = d * _reach((ln_c + offsets[b]) / delta, d)
    m_casc = d * _reach((ln_c + casc_off) / delta, d)
    m_lo, m_hi = _window(k0, q.shape[0], d)
    # from the first bin strictly past the close (and not before the book's edge) to the
    # edge of the widest band
    m = max(d * (_reach(ln_c / delta, d) + d), d * iscal[edge], m_lo)
    m_stop = min(d * _reach((ln_c + offsets[nb - 1]) / delta, d), m_hi)
    casc = 0.0
    mag_usd = 0.0
    mag_price = math.nan
    near_usd = 0.0
    near_price = math.nan
    found = False
    while m <= m_stop:
        m_next = min(d * _next_bucket(d * m, cluster_bins, d), m_stop + 1)
        b_usd, b_q, b_pu, casc = _sum_bucket(
            q, d, price, k0, s, m, m_next, m_casc, casc, band_m, band_usd
        )
        if b_q > 0.0:
            if b_usd > mag_usd:
                mag_usd = b_usd
                mag_price = b_pu / b_usd
            if (not found) and b_q >= thr:
                found = True
                near_usd = b_usd
                near_price = b_pu / b_usd
        m = m_next
    return mag_price, mag_usd, near_price, near_usd, casc


@njit(cache=True, inline="always")
def _measure(book, close, bands, par, band_m, row):
    """Write the around-the-close columns of ``row``: shorts above the close (band
    columns first), then longs below it."""
    long_q, short_q, price, fscal, iscal, _ = book
    band_up, band_down = bands
    nb = band_up.shape[0]
    ln_c = math.log(close)
    casc_pct = par[Par.CASC_PCT]
    # shorts above: close < price <= close·(1 + band)
    mp, mu, np_, nu, casc = measure_side(
        short_q,
        SHORT,
        price,
        fscal,
        iscal,
        ln_c,
        band_up,
        par[Par.CASC_UP],
        par,
        band_m,
        row[Out.FIXED : Out.FIXED + nb],
    )
    row[Out.MAGNET_UP_PRICE] = mp
    row[Out.MAGNET_UP_USD] = mu
    row[Out.NEAREST_UP_PRICE] = np_
    row[Out.NEAREST_UP_USD] = nu
    row[Out.CASCADE_UP] = casc / casc_pct
    # longs below: close·(1 − band) <= price < close
    mp, mu, np_, nu, casc = measure_side(
        long_q,
        LONG,
        price,
        fscal,
        iscal,
        ln_c,
        band_down,
        par[Par.CASC_DOWN],
        par,
        band_m,
        row[Out.FIXED + nb : Out.FIXED + 2 * nb],
    )
    row[Out.MAGNET_DOWN_PRICE] = mp
    row[Out.MAGNET_DOWN_USD] = mu
    row[Out.NEAREST_DOWN_PRICE] = np_
    row[Out.NEAREST_DOWN_USD] = nu
    row[Out.CASCADE_DOWN] = casc / casc_pct


# ---- the kernel ---------------------------------------------------------------------------


@njit(cache=True)
def advance_kernel(book, x, lev, bands, par, out):
    """Advance ``book`` through the candles ``x``, writing one row of ``out`` per candle.

    :param book: ``(long_q, short_q, price, fscal, iscal, ring)`` of a ``BookState``,
        updated in place (the window must already hold every level these candles open).
    :param x: the ``EngineInputs`` arrays in field order: ``(time_s, high, low, close,
        typical, volume, oi, taker_share)``.
    :param lev: ``(long_log_ratio, short_log_ratio, log_leverage)`` of the leverage mix.
    :param bands: ``(band_up, band_down)``, log offsets of the bands.
    :param par: float64 parameters, slots :class:`Par`.
    :param out: ``(candles, n_outputs)`` array, every cell written.
    """
    long_q, short_q, price, fscal, iscal, ring = book
    time_s, high, low, close, typical, volume, oi, taker_share = x
    log_lev = lev[2]
    delta = par[Par.DELTA]
    renorm = par[Par.RENORM]
    # weights (untilted, long, short); the untilted ones are computed like tilted ones
    # with g = 0, once per call
    w = (np.empty(log_lev.shape[0]), np.empty(log_lev.shape[0]), np.empty(log_lev.shape[0]))
    tot0 = _weights(log_lev, par[Par.ALPHA], 0.0, w[0])
    band_m = np.empty(bands[0].shape[0], dtype=np.int64)
    for i in range(time_s.shape[0]):
        row = out[i]
        for c in range(row.shape[0]):  # a loop: `row[:] = 0.0` is measurably slower here
            row[c] = 0.0
        k_low = _reach(math.log(low[i]) / delta, LONG)
        sw_l_q, sw_l_usd = _consume_side(long_q, LONG, price, fscal, iscal, k_low)
        k_high = _reach(math.log(high[i]) / delta, SHORT)
        sw_s_q, sw_s_usd = _consume_side(short_q, SHORT, price, fscal, iscal, k_high)
        dec_l, dec_s = _decay(book, time_s[i], par[Par.TAU])
        opens, mode_oi, cl_l, cl_s = _flow(book, oi[i], volume[i], sw_l_q + sw_s_q, par)
        if opens > 0.0:
            direction = _direction(high[i], low[i], close[i])
            _open(book, lev, w, tot0, typical[i], taker_share[i], direction, opens, par)
        cap_l, cap_s, coverage = _cap(book, oi[i], mode_oi)
        _renormalize(long_q, LONG, fscal, renorm)
        _renormalize(short_q, SHORT, fscal, renorm)
        rl, rs = _recent_sweeps(ring, iscal, sw_l_usd, sw_s_usd)
        _measure(book, close[i], bands, par, band_m, row)
        row[Out.LONG_SWEPT_USD] = sw_l_usd
        row[Out.SHORT_SWEPT_USD] = sw_s_usd
        row[Out.LONG_SWEPT_Q] = sw_l_q
        row[Out.SHORT_SWEPT_Q] = sw_s_q
        row[Out.LONG_DECAYED_Q] = dec_l
        row[Out.SHORT_DECAYED_Q] = dec_s
        row[Out.LONG_CLOSED_Q] = cl_l
        row[Out.SHORT_CLOSED_Q] = cl_s
        row[Out.LONG_CAPPED_Q] = cap_l
        row[Out.SHORT_CAPPED_Q] = cap_s
        row[Out.OPENED_Q] = opens
        row[Out.LONG_TOTAL_Q] = fscal[FScal.LONG_TOTAL]
        row[Out.SHORT_TOTAL_Q] = fscal[FScal.SHORT_TOTAL]
        row[Out.MODE_OI] = mode_oi
        row[Out.COVERAGE] = coverage
        row[Out.LONG_SWEPT_RECENT_USD] = rl
        row[Out.SHORT_SWEPT_RECENT_USD] = rs
        iscal[IScal.SEEN] += 1
