"""The two-sided liquidation book: its state, its inputs and the Python entry points.

The model is described in ``docs/model.md``.  State lives in :class:`BookState` (plain
arrays and scalars: copyable, picklable).  One numba kernel,
:func:`liq_signals.engine.kernel.advance_kernel`, walks candles in order — consume, decay,
flow, open, cap, then measure — and is used for both the batch run and the incremental
(dry-run) path, so ``advance(s, x[:k]); advance(s, x[k:])`` gives bit-identical outputs
to ``advance(s, x)``.

Books are arrays of contracts (base units) on an absolute log-price grid: absolute bin
``k`` holds levels whose liquidation price rounds to ``exp(k·δ)``.  Only a window
``[k0, k0 + len)`` is materialised; it grows as prices move, and since every bin's price is
computed from its absolute index the values never depend on the window.

Proportional operations (decay, closes, the open-interest cap) multiply a per-side scale
factor instead of every bin: stored value × scale = contracts.  The scale is folded back
into the arrays when it falls below ``cfg.renormalize_below``.

The layouts of the output columns and of the state's and parameters' slots are the
``IntEnum`` classes of :mod:`liq_signals.engine.kernel` (:class:`~.kernel.Out`,
:class:`~.kernel.FScal`, :class:`~.kernel.IScal`, :class:`~.kernel.Par`), which writes
them; import them from there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

import numpy as np

from liq_signals.config import ModelConfig
from liq_signals.engine.kernel import (
    NO_TIME,
    NONE_HI,
    NONE_LO,
    FScal,
    IScal,
    Out,
    Par,
    advance_kernel,
)
from liq_signals.engine.leverage import LeverageMix

__all__ = [
    "BookState",
    "EngineInputs",
    "EngineParams",
    "advance",
    "engine_params",
    "n_outputs",
    "new_state",
    "o_long_below",
    "o_short_above",
    "run",
]


def n_outputs(n_bands: int) -> int:
    """Width of the output array for ``n_bands`` bands."""
    return Out.FIXED + 2 * n_bands


def o_short_above(band: int) -> int:
    """Output column of short-above USD for band number ``band``."""
    return Out.FIXED + band


def o_long_below(band: int, n_bands: int) -> int:
    """Output column of long-below USD for band number ``band``."""
    return Out.FIXED + n_bands + band


#: extra bins allocated on each side when the window grows (amortises re-allocation;
#: has no effect on values).
_GROW_PAD_BINS = 1024


@dataclass
class BookState:
    """Everything the kernel carries from one candle to the next.

    :param long_q: long book, contracts ÷ ``fscal[FScal.LONG_SCALE]`` per bin.
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

    #: the arrays of a book, by field: (dtype, dimensions)
    ARRAYS: ClassVar[dict[str, tuple[str, int]]] = {
        "long_q": ("float64", 1),
        "short_q": ("float64", 1),
        "price": ("float64", 1),
        "fscal": ("float64", 1),
        "iscal": ("int64", 1),
        "ring": ("float64", 2),
    }

    def arrays(self) -> dict[str, np.ndarray]:
        """The book's arrays by field (:data:`ARRAYS`; the arrays themselves, not copies)."""
        return {k: getattr(self, k) for k in self.ARRAYS}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], grid_step: float) -> BookState:
        """The book of :meth:`arrays` (taken as given: the kernel trusts its pointers)."""
        return cls(**{k: arrays[k] for k in cls.ARRAYS}, grid_step=grid_step)

    def copy(self) -> BookState:
        """Deep copy (the kernel mutates arrays in place)."""
        return BookState.from_arrays(
            {k: v.copy() for k, v in self.arrays().items()}, self.grid_step
        )

    @property
    def k0(self) -> int:
        """Absolute grid index of the first materialised bin."""
        return int(self.iscal[IScal.K0])

    @property
    def candles_seen(self) -> int:
        """Number of candles advanced through so far."""
        return int(self.iscal[IScal.SEEN])

    def books(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(price, long_contracts, short_contracts)`` per materialised bin (copies)."""
        return (
            self.price.copy(),
            self.long_q * self.fscal[FScal.LONG_SCALE],
            self.short_q * self.fscal[FScal.SHORT_SCALE],
        )


def new_state(cfg: ModelConfig) -> BookState:
    """An empty book for ``cfg`` (no bins materialised yet)."""
    fscal = np.zeros(len(FScal))
    fscal[[FScal.LONG_SCALE, FScal.SHORT_SCALE]] = 1.0
    fscal[FScal.PREV_OI] = np.nan
    iscal = np.zeros(len(IScal), dtype=np.int64)
    iscal[IScal.LONG_HI] = NONE_HI
    iscal[IScal.SHORT_LO] = NONE_LO
    iscal[IScal.PREV_T] = NO_TIME
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

    @cached_property
    def _kernel_par(self) -> np.ndarray:
        """The scalar parameters as one read-only float64 array (slots :class:`~.kernel.Par` of
        :mod:`.kernel`); built once, since the incremental path calls the kernel per
        candle."""
        return _kernel_params(self)


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
    iscal[IScal.K0] = new_lo
    return BookState(long_q, short_q, price, state.fscal, iscal, state.ring, state.grid_step)


def _kernel_params(params: EngineParams) -> np.ndarray:
    """The scalar parameters of the kernel as one float64 array (slots :class:`~.kernel.Par`)."""
    cfg = params.cfg
    par = np.empty(len(Par))
    par[Par.DELTA] = cfg.grid_step
    par[Par.ALPHA] = cfg.leverage_alpha
    par[Par.TILT] = cfg.taker_tilt
    par[Par.TAU] = cfg.decay_tau_seconds
    par[Par.PARTICIPATION] = cfg.participation
    par[Par.RECONCILE] = cfg.oi_reconcile
    par[Par.CLUSTER_BINS] = cfg.cluster_bins
    par[Par.NEAREST_SHARE] = cfg.nearest_min_share
    par[Par.CASC_UP] = params.casc_up
    par[Par.CASC_DOWN] = params.casc_down
    par[Par.CASC_PCT] = cfg.cascade_band_pct
    par[Par.RENORM] = cfg.renormalize_below
    par[Par.LEV_BIAS] = cfg.side_leverage_bias
    par[Par.DIR_TILT] = cfg.direction_tilt
    par[Par.NOTIONAL_BIAS] = cfg.side_notional_bias
    par.setflags(write=False)
    return par


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
        :class:`~.kernel.Out`.
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
        mix = params.mix
        advance_kernel(
            (state.long_q, state.short_q, state.price, state.fscal, state.iscal, state.ring),
            (
                inputs.time_s,
                inputs.high,
                inputs.low,
                inputs.close,
                inputs.typical,
                inputs.volume,
                inputs.oi,
                inputs.taker_share,
            ),
            (mix.long_log_ratio, mix.short_log_ratio, mix.log_leverage),
            (params.band_up, params.band_down),
            params._kernel_par,
            out,
        )
    return state, out


def run(inputs: EngineInputs, params: EngineParams) -> tuple[BookState, np.ndarray]:
    """Batch run from an empty book over all ``inputs``."""
    return advance(new_state(params.cfg), inputs, params, inplace=True)
