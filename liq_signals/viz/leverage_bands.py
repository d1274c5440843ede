"""The engine's books split by leverage band (≤10x, 10–25x, 25–50x, >50x), exactly.

The engine keeps one array per book: contracts opened at every leverage of the mix land on
their liquidation bins and are summed.  Every later step is linear in what was opened and
treats all bins alike -- decay, the open-interest reconciliation and cap multiply a whole book by
one number, a sweep zeroes every bin the candle's range reached -- so the book is the sum
of the contributions of each leverage, each scaled and swept the same way.

:func:`books_by_leverage` runs the engine once, reads those per-candle numbers from its
outputs (swept, decayed, reconciled, opened and capped contracts, totals), and replays only the
opens per band.  The bands then add up to the engine's own book, bin by bin; the function
checks that before returning, so a change in the engine's steps cannot silently give a
wrong split.  NumPy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from liq_signals.config import ModelConfig
from liq_signals.engine import book as B
from liq_signals.engine import kernel as K
from liq_signals.engine.leverage import LeverageMix

#: (lowest leverage exclusive, highest inclusive, label): the split traders know.
LEVERAGE_BANDS: tuple[tuple[float, float, str], ...] = (
    (0.0, 10.0, "≤10x"),
    (10.0, 25.0, "10–25x"),
    (25.0, 50.0, "25–50x"),
    (50.0, math.inf, ">50x"),
)

#: the bands must add up to the engine's book within this share of its largest bin
#: (the replay repeats the engine's arithmetic in another order: rounding only)
SUM_RTOL = 1e-7


@dataclass(frozen=True)
class BandBooks:
    """
    Both books at the last candle, one row per leverage band.

    :ivar labels: band labels, lowest leverage first
    :ivar edges: engine bin edges, shape ``(nbins + 1,)``
    :ivar long_usd: long-book notional per band and bin, ``(nbands, nbins)``
    :ivar short_usd: short-book notional per band and bin, ``(nbands, nbins)``
    """

    labels: tuple[str, ...]
    edges: np.ndarray
    long_usd: np.ndarray
    short_usd: np.ndarray


def band_of_leverage(leverage: np.ndarray) -> np.ndarray:
    """Index in :data:`LEVERAGE_BANDS` of each leverage."""
    band = np.full(len(leverage), -1, dtype=np.int64)
    for b, (lo, hi, _) in enumerate(LEVERAGE_BANDS):
        band[(leverage > lo) & (leverage <= hi)] = b
    return band


def books_by_leverage(inputs: B.EngineInputs, params: B.EngineParams) -> BandBooks:
    """The books after the last of ``inputs`` (from an empty book), split by leverage band.

    :raise ValueError: on no candles
    :raise AssertionError: the bands do not add up to the engine's book (the engine's
        steps changed in a way this replay does not follow)
    """
    return _replay(inputs, params, np.zeros(0, dtype=np.int64), ())[0]


@dataclass(frozen=True)
class BandHistory:
    """
    The books of some leverage bands after selected candles (``--leverage-bands``).

    :ivar index: candle positions of the snapshots, ascending
    :ivar edges: engine bin edges, shape ``(nbins + 1,)``
    :ivar k0: absolute grid index of the first bin
    :ivar long_usd: long-book notional of the chosen bands per snapshot and bin
    :ivar short_usd: short-book notional of the chosen bands per snapshot and bin
    """

    index: np.ndarray
    edges: np.ndarray
    k0: int
    long_usd: np.ndarray
    short_usd: np.ndarray


def band_history(
    inputs: B.EngineInputs, params: B.EngineParams, at: np.ndarray, bands: tuple[int, ...]
) -> BandHistory:
    """The books of the leverage ``bands`` (indices in :data:`LEVERAGE_BANDS`) after each
    candle position in ``at``: the same replay as :func:`books_by_leverage`, whose bands
    are checked to add up to the engine's book after the last candle.

    :raise ValueError: on no candles, no band, or a position outside ``inputs``
    :raise AssertionError: as :func:`books_by_leverage`
    """
    at = np.asarray(at, dtype=np.int64)
    if not bands or not set(bands) <= set(range(len(LEVERAGE_BANDS))):
        raise ValueError(f"leverage bands must be among 0..{len(LEVERAGE_BANDS) - 1}: {bands}")
    if len(at) and (at.min() < 0 or at.max() >= len(inputs) or (np.diff(at) <= 0).any()):
        raise ValueError("snapshot positions must be ascending and inside the candles")
    final, lo, long_at, short_at = _replay(inputs, params, at, bands)
    return BandHistory(at, final.edges, lo, long_at, short_at)


def band_index(text: str) -> int:
    """Index in :data:`LEVERAGE_BANDS` of a band written as its label (``≤10x``,
    ``10–25x``) or in ASCII (``<=10x``, ``10-25x``, ``25-50x``, ``>50x``).

    :raise ValueError: no such band (the message lists them)
    """
    ascii_labels = [label.replace("≤", "<=").replace("–", "-") for *_, label in LEVERAGE_BANDS]
    wanted = text.strip().replace("≤", "<=").replace("–", "-").lower()
    for b, label in enumerate(ascii_labels):
        if wanted in (label.lower(), label.lower().removesuffix("x")):
            return b
    raise ValueError(f"unknown leverage band {text!r}: use {', '.join(ascii_labels)}")


def _replay(
    inputs: B.EngineInputs, params: B.EngineParams, at: np.ndarray, keep: tuple[int, ...]
) -> tuple[BandBooks, int, np.ndarray, np.ndarray]:
    """Replay the engine's opens per band (module docstring).

    :return: the split books after the last candle (checked against the engine), the grid
        index of the first bin, and the ``keep`` bands' summed books (USD) after each
        candle of ``at``, shape ``(len(at), nbins)``
    """
    n = len(inputs)
    if n == 0:
        raise ValueError("no candles to build the books from")
    state, out = B.run(inputs, params)
    cfg, mix = params.cfg, params.mix
    delta = cfg.grid_step
    tau = cfg.decay_tau_seconds
    band = band_of_leverage(mix.leverage)
    nb = len(LEVERAGE_BANDS)

    ln_typ = np.array([math.log(v) for v in inputs.typical])
    lo = int(math.floor((ln_typ.min() + mix.long_log_ratio.min()) / delta)) - 2
    hi = int(math.ceil((ln_typ.max() + mix.short_log_ratio.max()) / delta)) + 2
    size = hi - lo + 1
    price = np.exp(np.arange(lo, hi + 1, dtype=np.float64) * delta)
    books = {K.LONG: np.zeros((nb, size)), K.SHORT: np.zeros((nb, size))}
    scale = {K.LONG: 1.0, K.SHORT: 1.0}
    ratio = {K.LONG: mix.long_log_ratio, K.SHORT: mix.short_log_ratio}
    col = {
        K.LONG: (K.Out.LONG_SWEPT_Q, K.Out.LONG_CAPPED_Q),
        K.SHORT: (K.Out.SHORT_SWEPT_Q, K.Out.SHORT_CAPPED_Q),
    }
    rows = list(keep)
    snap = {K.LONG: np.zeros((len(at), size)), K.SHORT: np.zeros((len(at), size))}
    next_snap = 0

    def rescale(d: int, factor: float) -> None:
        if factor <= 0.0:
            books[d][:] = 0.0
            scale[d] = 1.0
        else:
            scale[d] *= factor

    prev_t: float | None = None
    flow = [math.nan, 0.0]  # the engine's last open-interest row and net change since
    for i in range(n):
        # 1. consume: every bin the candle's range reached (the engine's _reach rule)
        k_low = math.ceil(math.log(inputs.low[i]) / delta)
        k_high = math.floor(math.log(inputs.high[i]) / delta)
        books[K.LONG][:, max(k_low - lo, 0) :] = 0.0
        books[K.SHORT][:, : max(min(k_high - lo + 1, size), 0)] = 0.0
        # 2. decay by the real time since the previous candle
        t = float(inputs.time_s[i])
        f = 1.0 if prev_t is None else math.exp(-(t - prev_t) / tau)
        prev_t = t
        # 3. flow: a new open-interest row reconciles both books
        oi = float(inputs.oi[i])
        opens = float(out[i, K.Out.OPENED_Q])
        liquidated = out[i, K.Out.LONG_SWEPT_Q] + out[i, K.Out.SHORT_SWEPT_Q]
        keep_share = _reconcile_keep(flow, oi, opens, liquidated, cfg.oi_reconcile)
        share = float(inputs.taker_share[i])
        g = _tilt(cfg, share, inputs.high[i], inputs.low[i], inputs.close[i])
        side_opens = _side_opens(opens, cfg.side_notional_bias)
        ln_e = math.log(inputs.typical[i])
        for d in (K.LONG, K.SHORT):
            rescale(d, f)
            if keep_share != 1.0:
                rescale(d, keep_share)
            # 4. open: the mix's weights (tilted by taker share, direction, side bias)
            if side_opens[d] > 0.0:
                amount = side_opens[d] / scale[d]
                _open(books[d], band, lo, amount, ln_e, ratio[d], d * -g, mix, cfg)
            # 5. cap at the open interest
            capped = float(out[i, col[d][1]])
            if capped > 0.0:
                rescale(d, oi / (oi + capped))
            if scale[d] < cfg.renormalize_below:
                books[d] *= scale[d]
                scale[d] = 1.0
        if next_snap < len(at) and at[next_snap] == i:
            for d in (K.LONG, K.SHORT):
                snap[d][next_snap] = books[d][rows].sum(axis=0) * scale[d] * price
            next_snap += 1

    long_usd = books[K.LONG] * scale[K.LONG] * price
    short_usd = books[K.SHORT] * scale[K.SHORT] * price
    _check_sum(state, lo, long_usd, short_usd)
    edges = np.exp((np.arange(lo, hi + 2, dtype=np.float64) - 0.5) * delta)
    split = BandBooks(
        labels=tuple(label for _, _, label in LEVERAGE_BANDS),
        edges=edges,
        long_usd=long_usd,
        short_usd=short_usd,
    )
    return split, lo, snap[K.LONG], snap[K.SHORT]


def _tilt(cfg: ModelConfig, share: float, high: float, low: float, close: float) -> float:
    """The long book's leverage tilt ``g`` for one candle (the short book gets ``-g``), as
    the engine's open step sums it: taker share, constant side bias, candle direction."""
    g = cfg.taker_tilt * (2.0 * share - 1.0) if math.isfinite(share) else 0.0
    if cfg.side_leverage_bias != 0.0:
        g += cfg.side_leverage_bias
    if cfg.direction_tilt != 0.0:
        direction = (2.0 * close - high - low) / (high - low) if high > low else 0.0
        g += cfg.direction_tilt * direction
    return g


def _side_opens(opens: float, bias: float) -> dict[int, float]:
    """Contracts each book receives: ``side_notional_bias`` b > 0 keeps ``1 - b`` of the
    short book's share, b < 0 ``1 + b`` of the long book's (the engine's open step)."""
    return {
        K.LONG: opens * (1.0 + bias) if bias < 0.0 else opens,
        K.SHORT: opens * (1.0 - bias) if bias > 0.0 else opens,
    }


def _reconcile_keep(
    flow: list[float], oi: float, opens: float, liquidated: float, reconcile: float
) -> float:
    """Factor on both books from this candle's open-interest reconciliation (the
    engine's flow step); ``flow`` = [last row's value, model opens − liquidations since],
    updated in place."""
    keep = 1.0
    if not math.isfinite(oi):
        flow[0], flow[1] = math.nan, 0.0
        return keep
    if oi != flow[0]:
        if math.isfinite(flow[0]) and oi > 0.0:
            keep = max(1.0 + reconcile * ((oi - flow[0]) - flow[1]) / oi, 0.0)
        flow[0], flow[1] = oi, 0.0
    flow[1] += opens - liquidated
    return keep


def _open(
    books: np.ndarray,
    band: np.ndarray,
    lo: int,
    amount: float,
    ln_e: float,
    ratio: np.ndarray,
    g: float,
    mix: LeverageMix,
    cfg: ModelConfig,
) -> None:
    """Add ``amount`` (already divided by the side's scale) at entry ``exp(ln_e)``, spread
    over the leverages by the mix's weights ``L^(g - alpha)``, each at its liquidation bin
    and in its band's row; the weights are summed in the engine's order."""
    w = np.array([math.exp(x * (-cfg.leverage_alpha + g)) for x in mix.log_leverage])
    tot = 0.0
    for x in w:
        tot += x
    k = np.floor((ln_e + ratio) / cfg.grid_step + 0.5).astype(np.int64)
    np.add.at(books, (band, k - lo), amount * (w / tot))


def _check_sum(state: B.BookState, lo: int, long_usd: np.ndarray, short_usd: np.ndarray) -> None:
    """The bands must add up to the engine's book, bin by bin."""
    _, lq, sq = state.books()
    engine_price = state.price
    for name, bands, q in (("long", long_usd, lq), ("short", short_usd, sq)):
        engine = np.zeros(bands.shape[1])
        k = np.arange(state.k0, state.k0 + len(q))
        inside = (k >= lo) & (k < lo + bands.shape[1])
        if (q[~inside] != 0).any():
            raise AssertionError(f"{name} book has levels outside the replayed window")
        engine[k[inside] - lo] = (q * engine_price)[inside]
        err = np.abs(bands.sum(axis=0) - engine).max()
        if err > SUM_RTOL * max(engine.max(), 1.0):
            raise AssertionError(
                f"{name} book by leverage band differs from the engine's book by ${err:,.2f}"
            )
