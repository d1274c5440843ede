"""The two-sided liquidation book and its per-candle kernel (DESIGN §4).

State lives in :class:`BookState` (plain arrays and scalars: copyable, picklable).  One
numba kernel, :func:`_advance_kernel`, walks candles in order — consume, decay, flow,
open, cap, then measure — and is used for both the batch run and the incremental
(dry-run) path, so ``advance(s, x[:k]); advance(s, x[k:])`` gives bit-identical outputs
to ``advance(s, x)``.

Books are arrays of contracts (base units) on an absolute log-price grid: absolute bin
``k`` holds levels whose liquidation price rounds to ``exp(k·δ)``.  Only a window
``[k0, k0 + len)`` is materialised; it grows as prices move, and since every bin's price is
computed from its absolute index the values never depend on the window.

Proportional operations (decay, closes, the open-interest cap) multiply a per-side scale
factor instead of every bin: stored value × scale = contracts.  The scale is folded back
into the arrays when it falls below ``cfg.renormalize_below``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from liq_signals.config import ModelConfig
from liq_signals.engine.leverage import LeverageMix

# ---- output layout (columns of the per-candle output array) --------------------------
O_LONG_SWEPT_USD = 0
O_SHORT_SWEPT_USD = 1
O_LONG_SWEPT_Q = 2
O_SHORT_SWEPT_Q = 3
O_LONG_DECAYED_Q = 4
O_SHORT_DECAYED_Q = 5
O_LONG_CLOSED_Q = 6
O_SHORT_CLOSED_Q = 7
O_LONG_CAPPED_Q = 8
O_SHORT_CAPPED_Q = 9
O_OPENED_Q = 10
O_LONG_TOTAL_Q = 11
O_SHORT_TOTAL_Q = 12
O_MODE_OI = 13
O_COVERAGE = 14
O_LONG_SWEPT_RECENT_USD = 15
O_SHORT_SWEPT_RECENT_USD = 16
O_MAGNET_UP_PRICE = 17
O_MAGNET_UP_USD = 18
O_MAGNET_DOWN_PRICE = 19
O_MAGNET_DOWN_USD = 20
O_NEAREST_UP_PRICE = 21
O_NEAREST_UP_USD = 22
O_NEAREST_DOWN_PRICE = 23
O_NEAREST_DOWN_USD = 24
O_CASCADE_UP = 25
O_CASCADE_DOWN = 26
O_FIXED = 27  # then: short_above_usd per band, then long_below_usd per band


def n_outputs(n_bands: int) -> int:
    """Width of the output array for ``n_bands`` bands."""
    return O_FIXED + 2 * n_bands


def o_short_above(band: int) -> int:
    """Output column of short-above USD for band number ``band``."""
    return O_FIXED + band


def o_long_below(band: int, n_bands: int) -> int:
    """Output column of long-below USD for band number ``band``."""
    return O_FIXED + n_bands + band


# ---- scalar slots of the state -----------------------------------------------------------
F_LONG_SCALE = 0
F_SHORT_SCALE = 1
F_LONG_TOTAL = 2
F_SHORT_TOTAL = 3
F_PREV_OI = 4
N_F = 5
I_K0 = 0
I_LONG_HI = 1
I_SHORT_LO = 2
I_PREV_T = 3
I_RING_POS = 4
I_SEEN = 5
N_I = 6

_NONE_HI = -(1 << 62)
_NONE_LO = 1 << 62
_NO_TIME = -(1 << 62)
#: extra bins allocated on each side when the window grows (amortises re-allocation;
#: has no effect on values).
_GROW_PAD_BINS = 1024


@dataclass
class BookState:
    """Everything the kernel carries from one candle to the next.

    :param long_q: long book, contracts ÷ ``fscal[F_LONG_SCALE]`` per bin.
    :param short_q: short book, same convention.
    :param price: ``exp(k·δ)`` of each materialised bin.
    :param fscal: float scalars (scales, running totals, previous OI).
    :param iscal: int scalars (window origin k0, book extent pointers, previous time,
        ring position, candles seen).
    :param ring: last ``recent_sweep_candles`` swept USD, long (row 0) and short (row 1).
    """

    long_q: np.ndarray
    short_q: np.ndarray
    price: np.ndarray
    fscal: np.ndarray
    iscal: np.ndarray
    ring: np.ndarray
    grid_step: float = field(default=0.001)

    def copy(self) -> BookState:
        """Deep copy (the kernel mutates arrays in place)."""
        return BookState(
            self.long_q.copy(),
            self.short_q.copy(),
            self.price.copy(),
            self.fscal.copy(),
            self.iscal.copy(),
            self.ring.copy(),
            self.grid_step,
        )

    @property
    def k0(self) -> int:
        """Absolute grid index of the first materialised bin."""
        return int(self.iscal[I_K0])

    @property
    def candles_seen(self) -> int:
        """Number of candles advanced through so far."""
        return int(self.iscal[I_SEEN])

    def books(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(price, long_contracts, short_contracts)`` per materialised bin (copies)."""
        return (
            self.price.copy(),
            self.long_q * self.fscal[F_LONG_SCALE],
            self.short_q * self.fscal[F_SHORT_SCALE],
        )


def new_state(cfg: ModelConfig) -> BookState:
    """An empty book for ``cfg`` (no bins materialised yet)."""
    fscal = np.array([1.0, 1.0, 0.0, 0.0, np.nan])
    iscal = np.array([0, _NONE_HI, _NONE_LO, _NO_TIME, 0, 0], dtype=np.int64)
    return BookState(
        np.zeros(0),
        np.zeros(0),
        np.zeros(0),
        fscal,
        iscal,
        np.zeros((2, cfg.recent_sweep_candles)),
        cfg.grid_step,
    )


@dataclass(frozen=True)
class EngineInputs:
    """Per-candle arrays the kernel consumes (already validated and aligned).

    :param time_s: candle open time, integer seconds (strictly increasing).
    :param high: highest price that can trigger liquidations (mark high if known).
    :param low: lowest such price (mark low if known).
    :param close: candle close (reference price of the features).
    :param typical: entry price of new positions (typical price / VWAP).
    :param volume: traded volume in contracts (base units), for volume mode.
    :param oi: open interest in contracts, already lagged; NaN where unknown.
    :param taker_share: taker-buy share of volume in [0, 1]; NaN where unknown.
    """

    time_s: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    typical: np.ndarray
    volume: np.ndarray
    oi: np.ndarray
    taker_share: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.time_s)
        for name in ("time_s", "high", "low", "close", "typical", "volume", "oi", "taker_share"):
            dtype = np.int64 if name == "time_s" else np.float64
            # a read-only view of every input: the kernel never writes them, and one
            # array type (numba types read-only arrays apart) means one compiled variant
            arr = np.ascontiguousarray(getattr(self, name), dtype=dtype).view()
            if arr.shape != (n,):
                raise ValueError(f"EngineInputs.{name}: shape {arr.shape}, expected ({n},)")
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    def __len__(self) -> int:
        return len(self.time_s)

    def slice(self, start: int, stop: int) -> EngineInputs:
        """Candles ``start:stop`` (views)."""
        return EngineInputs(
            *(
                getattr(self, n)[start:stop]
                for n in (
                    "time_s",
                    "high",
                    "low",
                    "close",
                    "typical",
                    "volume",
                    "oi",
                    "taker_share",
                )
            )
        )


# ---- kernel ------------------------------------------------------------------------------


@njit(cache=True)
def _rescale(arr, fscal, iscal, scale_slot, total_slot, hi_or_lo_slot, is_long, factor):
    """Multiply one side by ``factor`` via its lazy scale; fold the scale when tiny."""
    if factor <= 0.0:
        arr[:] = 0.0
        fscal[scale_slot] = 1.0
        fscal[total_slot] = 0.0
        iscal[hi_or_lo_slot] = _NONE_HI if is_long else _NONE_LO
        return
    fscal[scale_slot] *= factor
    fscal[total_slot] *= factor


@njit(cache=True)
def _renormalize(arr, fscal, scale_slot, threshold):
    s = fscal[scale_slot]
    if s < threshold:
        for j in range(arr.shape[0]):
            arr[j] *= s
        fscal[scale_slot] = 1.0


@njit(cache=True)
def _advance_kernel(
    long_q,
    short_q,
    price,
    fscal,
    iscal,
    ring,
    time_s,
    high,
    low,
    close,
    typical,
    volume,
    oi,
    taker_share,
    delta,
    long_ratio,
    short_ratio,
    log_lev,
    alpha,
    tilt,
    tau,
    participation,
    reopen,
    cluster_bins,
    nearest_share,
    band_up,
    band_down,
    casc_up,
    casc_down,
    casc_pct,
    renorm,
    out,
):
    n = time_s.shape[0]
    nb = band_up.shape[0]
    nlev = log_lev.shape[0]
    k0 = iscal[I_K0]
    size = long_q.shape[0]
    nring = ring.shape[1]
    wl = np.empty(nlev)
    ws = np.empty(nlev)
    # untilted weights, computed exactly as the tilted ones with g = 0
    w0 = np.empty(nlev)
    tot0 = 0.0
    for j in range(nlev):
        w0[j] = math.exp(log_lev[j] * (-alpha + 0.0))
        tot0 += w0[j]
    band_acc = np.empty(nb)
    band_k = np.empty(nb, dtype=np.int64)
    for i in range(n):
        for c in range(out.shape[1]):
            out[i, c] = 0.0
        # ---- 1. consume ---------------------------------------------------------------
        k_low = int(math.ceil(math.log(low[i]) / delta))
        sw_l_q = 0.0
        sw_l_usd = 0.0
        hi = iscal[I_LONG_HI]
        if hi >= k_low:
            s = fscal[F_LONG_SCALE]
            top = min(hi, k0 + size - 1)
            bot = max(k_low, k0)
            for k in range(top, bot - 1, -1):
                j = k - k0
                q = long_q[j]
                if q != 0.0:
                    sw_l_q += q * s
                    sw_l_usd += q * s * price[j]
                    long_q[j] = 0.0
            iscal[I_LONG_HI] = k_low - 1
        k_high = int(math.floor(math.log(high[i]) / delta))
        sw_s_q = 0.0
        sw_s_usd = 0.0
        lo = iscal[I_SHORT_LO]
        if lo <= k_high:
            s = fscal[F_SHORT_SCALE]
            bot = max(lo, k0)
            top = min(k_high, k0 + size - 1)
            for k in range(bot, top + 1):
                j = k - k0
                q = short_q[j]
                if q != 0.0:
                    sw_s_q += q * s
                    sw_s_usd += q * s * price[j]
                    short_q[j] = 0.0
            iscal[I_SHORT_LO] = k_high + 1
        fscal[F_LONG_TOTAL] = max(fscal[F_LONG_TOTAL] - sw_l_q, 0.0)
        fscal[F_SHORT_TOTAL] = max(fscal[F_SHORT_TOTAL] - sw_s_q, 0.0)
        # ---- 2. decay over the real time since the previous candle ---------------------
        prev_t = iscal[I_PREV_T]
        dt = 0.0 if prev_t == _NO_TIME else float(time_s[i] - prev_t)
        iscal[I_PREV_T] = time_s[i]
        f = math.exp(-dt / tau)
        dec_l = fscal[F_LONG_TOTAL] * (1.0 - f)
        dec_s = fscal[F_SHORT_TOTAL] * (1.0 - f)
        _rescale(long_q, fscal, iscal, F_LONG_SCALE, F_LONG_TOTAL, I_LONG_HI, True, f)
        _rescale(short_q, fscal, iscal, F_SHORT_SCALE, F_SHORT_TOTAL, I_SHORT_LO, False, f)
        # ---- 3. flow -------------------------------------------------------------------
        cur_oi = oi[i]
        prev_oi = fscal[F_PREV_OI]
        fscal[F_PREV_OI] = cur_oi
        liq = sw_l_q + sw_s_q
        cl_l = 0.0
        cl_s = 0.0
        if math.isfinite(cur_oi) and math.isfinite(prev_oi):
            mode_oi = 1.0
            dq = cur_oi - prev_oi
            closes = max(-dq - liq, 0.0)
            opens = max(dq, 0.0) + reopen * liq
            if closes > 0.0:
                # closing positions are drawn from all open interest, of which each book
                # holds a part: remove the fraction closes / OI (not the absolute amount)
                keep = max(1.0 - closes / prev_oi, 0.0)
                cl_l = fscal[F_LONG_TOTAL] * (1.0 - keep)
                cl_s = fscal[F_SHORT_TOTAL] * (1.0 - keep)
                _rescale(long_q, fscal, iscal, F_LONG_SCALE, F_LONG_TOTAL, I_LONG_HI, True, keep)
                _rescale(
                    short_q, fscal, iscal, F_SHORT_SCALE, F_SHORT_TOTAL, I_SHORT_LO, False, keep
                )
        else:
            mode_oi = 0.0
            opens = participation * volume[i]
        # ---- 4. open on both sides over the leverage mix ------------------------------
        if opens > 0.0:
            share = taker_share[i]
            g = tilt * (2.0 * share - 1.0) if math.isfinite(share) else 0.0
            if g == 0.0:
                for j in range(nlev):
                    wl[j] = w0[j]
                    ws[j] = w0[j]
                tot_l = tot0
                tot_s = tot0
            else:
                tot_l = 0.0
                tot_s = 0.0
                for j in range(nlev):
                    wl[j] = math.exp(log_lev[j] * (-alpha + g))
                    ws[j] = math.exp(log_lev[j] * (-alpha - g))
                    tot_l += wl[j]
                    tot_s += ws[j]
            ln_e = math.log(typical[i])
            sl = fscal[F_LONG_SCALE]
            ss = fscal[F_SHORT_SCALE]
            for j in range(nlev):
                kl = int(math.floor((ln_e + long_ratio[j]) / delta + 0.5))
                long_q[kl - k0] += opens * (wl[j] / tot_l) / sl
                if kl > iscal[I_LONG_HI]:
                    iscal[I_LONG_HI] = kl
                ks = int(math.floor((ln_e + short_ratio[j]) / delta + 0.5))
                short_q[ks - k0] += opens * (ws[j] / tot_s) / ss
                if ks < iscal[I_SHORT_LO]:
                    iscal[I_SHORT_LO] = ks
            fscal[F_LONG_TOTAL] += opens
            fscal[F_SHORT_TOTAL] += opens
        # ---- 5. cap at open interest -----------------------------------------------------
        cap_l = 0.0
        cap_s = 0.0
        coverage = math.nan
        if math.isfinite(cur_oi):
            tl = fscal[F_LONG_TOTAL]
            if tl > cur_oi:
                cap_l = tl - cur_oi
                _rescale(
                    long_q, fscal, iscal, F_LONG_SCALE, F_LONG_TOTAL, I_LONG_HI, True, cur_oi / tl
                )
                fscal[F_LONG_TOTAL] = cur_oi
            ts = fscal[F_SHORT_TOTAL]
            if ts > cur_oi:
                cap_s = ts - cur_oi
                _rescale(
                    short_q,
                    fscal,
                    iscal,
                    F_SHORT_SCALE,
                    F_SHORT_TOTAL,
                    I_SHORT_LO,
                    False,
                    cur_oi / ts,
                )
                fscal[F_SHORT_TOTAL] = cur_oi
            if mode_oi == 1.0 and cur_oi > 0.0:
                coverage = 0.5 * (fscal[F_LONG_TOTAL] + fscal[F_SHORT_TOTAL]) / cur_oi
        _renormalize(long_q, fscal, F_LONG_SCALE, renorm)
        _renormalize(short_q, fscal, F_SHORT_SCALE, renorm)
        # ---- recent sweeps -----------------------------------------------------------------
        pos = iscal[I_RING_POS]
        ring[0, pos] = sw_l_usd
        ring[1, pos] = sw_s_usd
        iscal[I_RING_POS] = (pos + 1) % nring
        rl = 0.0
        rs = 0.0
        for j in range(nring):
            rl += ring[0, j]
            rs += ring[1, j]
        # ---- 6. measure around the close ---------------------------------------------------
        ln_c = math.log(close[i])
        sl = fscal[F_LONG_SCALE]
        ss = fscal[F_SHORT_SCALE]
        # shorts above: close < price <= close·(1 + band)
        k_first = int(math.floor(ln_c / delta)) + 1
        k_last = int(math.floor((ln_c + band_up[nb - 1]) / delta))
        k_casc = int(math.floor((ln_c + casc_up) / delta))
        thr = nearest_share * fscal[F_SHORT_TOTAL]
        for b in range(nb):
            band_acc[b] = 0.0
            band_k[b] = int(math.floor((ln_c + band_up[b]) / delta))
        casc = 0.0
        mag_usd = 0.0
        mag_price = math.nan
        near_usd = 0.0
        near_price = math.nan
        found = False
        cur_bucket = _NONE_HI
        b_usd = 0.0
        b_q = 0.0
        b_pu = 0.0
        start = max(k_first, iscal[I_SHORT_LO], k0)
        stop = min(k_last, k0 + size - 1)
        for k in range(start, stop + 2):
            last = k > stop
            if last or k >= cur_bucket:
                if b_q > 0.0:
                    if b_usd > mag_usd:
                        mag_usd = b_usd
                        mag_price = b_pu / b_usd
                    if (not found) and b_q >= thr:
                        found = True
                        near_usd = b_usd
                        near_price = b_pu / b_usd
                cur_bucket = (k // cluster_bins + 1) * cluster_bins  # next bucket's first bin
                b_usd = 0.0
                b_q = 0.0
                b_pu = 0.0
            if last:
                break
            q = short_q[k - k0] * ss
            if q != 0.0:
                p = price[k - k0]
                usd = q * p
                b_usd += usd
                b_q += q
                b_pu += usd * p
                if k <= k_casc:
                    casc += usd
                for b in range(nb):
                    if k <= band_k[b]:
                        band_acc[b] += usd
        for b in range(nb):
            out[i, O_FIXED + b] = band_acc[b]
        out[i, O_MAGNET_UP_PRICE] = mag_price
        out[i, O_MAGNET_UP_USD] = mag_usd
        out[i, O_NEAREST_UP_PRICE] = near_price
        out[i, O_NEAREST_UP_USD] = near_usd
        out[i, O_CASCADE_UP] = casc / casc_pct
        # longs below: close·(1 − band) <= price < close
        k_first = int(math.ceil(ln_c / delta)) - 1
        k_last = int(math.ceil((ln_c + band_down[nb - 1]) / delta))
        k_casc = int(math.ceil((ln_c + casc_down) / delta))
        thr = nearest_share * fscal[F_LONG_TOTAL]
        for b in range(nb):
            band_acc[b] = 0.0
            band_k[b] = int(math.ceil((ln_c + band_down[b]) / delta))
        casc = 0.0
        mag_usd = 0.0
        mag_price = math.nan
        near_usd = 0.0
        near_price = math.nan
        found = False
        cur_bucket = _NONE_LO
        b_usd = 0.0
        b_q = 0.0
        b_pu = 0.0
        start = min(k_first, iscal[I_LONG_HI], k0 + size - 1)
        stop = max(k_last, k0)
        for k in range(start, stop - 2, -1):
            last = k < stop
            if last or k < cur_bucket:
                if b_q > 0.0:
                    if b_usd > mag_usd:
                        mag_usd = b_usd
                        mag_price = b_pu / b_usd
                    if (not found) and b_q >= thr:
                        found = True
                        near_usd = b_usd
                        near_price = b_pu / b_usd
                cur_bucket = (k // cluster_bins) * cluster_bins  # this bucket's lowest bin
                b_usd = 0.0
                b_q = 0.0
                b_pu = 0.0
            if last:
                break
            q = long_q[k - k0] * sl
            if q != 0.0:
                p = price[k - k0]
                usd = q * p
                b_usd += usd
                b_q += q
                b_pu += usd * p
                if k >= k_casc:
                    casc += usd
                for b in range(nb):
                    if k >= band_k[b]:
                        band_acc[b] += usd
        for b in range(nb):
            out[i, O_FIXED + nb + b] = band_acc[b]
        out[i, O_MAGNET_DOWN_PRICE] = mag_price
        out[i, O_MAGNET_DOWN_USD] = mag_usd
        out[i, O_NEAREST_DOWN_PRICE] = near_price
        out[i, O_NEAREST_DOWN_USD] = near_usd
        out[i, O_CASCADE_DOWN] = casc / casc_pct
        # ---- bookkeeping outputs ----------------------------------------------------------
        out[i, O_LONG_SWEPT_USD] = sw_l_usd
        out[i, O_SHORT_SWEPT_USD] = sw_s_usd
        out[i, O_LONG_SWEPT_Q] = sw_l_q
        out[i, O_SHORT_SWEPT_Q] = sw_s_q
        out[i, O_LONG_DECAYED_Q] = dec_l
        out[i, O_SHORT_DECAYED_Q] = dec_s
        out[i, O_LONG_CLOSED_Q] = cl_l
        out[i, O_SHORT_CLOSED_Q] = cl_s
        out[i, O_LONG_CAPPED_Q] = cap_l
        out[i, O_SHORT_CAPPED_Q] = cap_s
        out[i, O_OPENED_Q] = opens
        out[i, O_LONG_TOTAL_Q] = fscal[F_LONG_TOTAL]
        out[i, O_SHORT_TOTAL_Q] = fscal[F_SHORT_TOTAL]
        out[i, O_MODE_OI] = mode_oi
        out[i, O_COVERAGE] = coverage
        out[i, O_LONG_SWEPT_RECENT_USD] = rl
        out[i, O_SHORT_SWEPT_RECENT_USD] = rs
        iscal[I_SEEN] += 1


# ---- Python wrapper ---------------------------------------------------------------------


@dataclass(frozen=True)
class EngineParams:
    """Everything the kernel needs besides state and inputs, derived once from the config
    and the pair's leverage mix (see :func:`engine_params`)."""

    cfg: ModelConfig
    mix: LeverageMix
    band_up: np.ndarray
    band_down: np.ndarray
    casc_up: float
    casc_down: float


def engine_params(cfg: ModelConfig, mix: LeverageMix) -> EngineParams:
    """Log offsets of the bands and the cascade band for ``cfg``."""
    bands = np.asarray(cfg.bands_pct, dtype=np.float64) / 100.0
    return EngineParams(
        cfg=cfg,
        mix=mix,
        band_up=np.log1p(bands),
        band_down=np.log1p(-bands),
        casc_up=math.log1p(cfg.cascade_band_pct / 100.0),
        casc_down=math.log1p(-cfg.cascade_band_pct / 100.0),
    )


def _ensure_capacity(state: BookState, inputs: EngineInputs, params: EngineParams) -> BookState:
    """Grow the materialised window so every level these candles can open fits in it."""
    if len(inputs) == 0:
        return state
    delta = params.cfg.grid_step
    ln_lo = math.log(float(inputs.typical.min())) + float(params.mix.long_log_ratio.min())
    ln_hi = math.log(float(inputs.typical.max())) + float(params.mix.short_log_ratio.max())
    need_lo = math.floor(ln_lo / delta) - 2
    need_hi = math.ceil(ln_hi / delta) + 2
    k0 = state.k0
    size = len(state.long_q)
    if size and need_lo >= k0 and need_hi < k0 + size:
        return state
    new_lo = need_lo - _GROW_PAD_BINS if not size else min(k0, need_lo - _GROW_PAD_BINS)
    new_hi = need_hi + _GROW_PAD_BINS if not size else max(k0 + size - 1, need_hi + _GROW_PAD_BINS)
    new_size = new_hi - new_lo + 1
    long_q = np.zeros(new_size)
    short_q = np.zeros(new_size)
    if size:
        long_q[k0 - new_lo : k0 - new_lo + size] = state.long_q
        short_q[k0 - new_lo : k0 - new_lo + size] = state.short_q
    price = np.exp(np.arange(new_lo, new_hi + 1, dtype=np.float64) * delta)
    iscal = state.iscal.copy()
    iscal[I_K0] = new_lo
    return BookState(long_q, short_q, price, state.fscal, iscal, state.ring, state.grid_step)


def advance(
    state: BookState, inputs: EngineInputs, params: EngineParams, *, inplace: bool = False
) -> tuple[BookState, np.ndarray]:
    """Advance the book through ``inputs`` (candles after those already seen).

    :param state: book after the previous candle (from :func:`new_state` or a previous
        call); left untouched unless ``inplace``.
    :param inputs: the next candles, in order.
    :param params: from :func:`engine_params`.
    :param inplace: reuse ``state``'s arrays (faster for one-off batch runs).
    :return: ``(new_state, outputs)``; ``outputs`` has one row per candle and the columns
        ``O_*`` of this module.
    """
    if state.grid_step != params.cfg.grid_step:
        raise ValueError("state was built with a different grid_step than params")
    if not inplace:
        state = state.copy()
    state = _ensure_capacity(state, inputs, params)
    cfg = params.cfg
    nb = len(cfg.bands_pct)
    out = np.empty((len(inputs), n_outputs(nb)))
    if len(inputs):
        _advance_kernel(
            state.long_q,
            state.short_q,
            state.price,
            state.fscal,
            state.iscal,
            state.ring,
            inputs.time_s,
            inputs.high,
            inputs.low,
            inputs.close,
            inputs.typical,
            inputs.volume,
            inputs.oi,
            inputs.taker_share,
            float(cfg.grid_step),
            params.mix.long_log_ratio,
            params.mix.short_log_ratio,
            params.mix.log_leverage,
            float(cfg.leverage_alpha),
            float(cfg.taker_tilt),
            float(cfg.decay_tau_seconds),
            float(cfg.participation),
            float(cfg.reopen_fraction),
            int(cfg.cluster_bins),
            float(cfg.nearest_min_share),
            params.band_up,
            params.band_down,
            float(params.casc_up),
            float(params.casc_down),
            float(cfg.cascade_band_pct),
            float(cfg.renormalize_below),
            out,
        )
    return state, out


def run(inputs: EngineInputs, params: EngineParams) -> tuple[BookState, np.ndarray]:
    """Batch run from an empty book over all ``inputs``."""
    return advance(new_state(params.cfg), inputs, params, inplace=True)
