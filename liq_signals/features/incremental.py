"""Features for dry-run/live: advance the book only by candles not seen before.

freqtrade calls ``populate_indicators`` with the whole (growing) candle frame every new
candle.  :class:`IncrementalFeatures` keeps the engine state per pair and runs the kernel
only over candles newer than the last one processed — the same kernel as the batch run,
so the values are bit-identical to :func:`liq_signals.features.compute_features` on the
same frame (the ``*_dist_atr`` columns to rounding, ≤ 16 ulps of the ATR: see
:func:`liq_signals.features.atr.continue_atr`).  If an already-processed candle's inputs or
staleness changed (history rewritten, an open-interest or metrics row arrived late), it
recomputes from the first candle of the frame.

Per call, only what is new is checked and computed: the frames' raw numbers are read into
NumPy once; if the processed candles and the optional rows they read are unchanged, only
the new candles (plus the seam with the previous candle, and the candles the lags reach
back to) are validated with the boundary's own rules (:mod:`liq_signals.data.boundary`) and
aligned (:func:`liq_signals.features.align.align_inputs`), the code the batch path uses; their
feature columns are computed and cached, and the returned frame is built from the cache
in one go.  Any doubt sends the call down the full path
(:func:`liq_signals.features.pipeline.prepare_inputs` on the whole frame), so errors still name
the row within the whole frame.

When the caller's frame is a sliding window (older rows dropped), the book keeps the
history from the first update, so values then differ from a batch run on the window alone
(they are the batch values of the longer history seen), the ATR included.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from liq_signals import columns as C
from liq_signals.config import ModelConfig
from liq_signals.data.boundary import (
    JUMP_WINDOW,
    MARK_COLUMNS,
    OI_AMOUNT,
    OI_VALUE,
    TAKER_NET_BASE,
    TAKER_RATIO,
    bad_candle_rows,
    bad_oi_steps,
    candle_rows_ok,
    dates_ok,
    quarantine,
)
from liq_signals.data.frames import PairFrames
from liq_signals.engine import book as B
from liq_signals.errors import InputError
from liq_signals.features.align import NS as _NS
from liq_signals.features.align import (
    AlignSources,
    align_inputs,
    has_taker_values,
    mark_step_s,
    oi_reach_ns,
    oi_series_start_ns,
    oi_step_s,
)
from liq_signals.features.atr import candle_atr, continue_atr
from liq_signals.features.params import engine_params_for
from liq_signals.features.pipeline import prepare_inputs
from liq_signals.features.sources import mark_rows, metrics_rows, oi_rows
from liq_signals.features.values import MODE_DTYPE, feature_values, mode_codes
from liq_signals.timeframes import timeframe_seconds

logger = logging.getLogger(__name__)

_FIELDS = ("high", "low", "close", "typical", "volume", "oi", "taker_share")
#: raw candle columns compared to decide that processed candles did not change
_RAW = ("open", "high", "low", "close", "volume")
#: columns of the optional frames that the features read (compared the same way)
_AUX_COLUMNS = {
    "oi": (OI_AMOUNT, OI_VALUE),
    "mark": ("high", "low"),
    "metrics": (TAKER_RATIO, TAKER_NET_BASE),
}


#: The per-candle records of :class:`IncrementalFeatures`, one row per processed candle,
#: by the name :meth:`~IncrementalFeatures.save` gives them: (dtype, dimensions).  A new
#: record is declared here, filled in ``_append``, and is saved, restored, checked for
#: length and trimmed with the window like the others.
ROW_ARRAYS: dict[str, tuple[str, int]] = {
    "time": ("int64", 1),  # open time, s
    "stale": ("bool", 1),  # the liq_stale column
    "atr": ("float64", 1),
    "out": ("float64", 2),  # engine outputs (liq_signals.engine.kernel.Out)
    "feat": ("float64", 2),  # the float feature columns
    "mode": ("int8", 1),  # the liq_mode column's codes
    "cov": ("float64", 1),  # the coverage column
    **{f"input_{f}": ("float64", 1) for f in _FIELDS},  # the engine inputs
    **{f"raw_{f}": ("float64", 1) for f in _RAW},  # the frame's OHLCV as given
}
#: The book's arrays in a saved state: ``book_<BookState field>``.
BOOK_PREFIX = "book_"
#: The scalars saved beside the arrays.
SAVED_SCALARS = ("grid_step", "recomputes", "full_updates")


def saved_arrays() -> dict[str, tuple[str, int]]:
    """Name -> (dtype, dimensions) of every array :meth:`IncrementalFeatures.save` gives."""
    book = {f"{BOOK_PREFIX}{k}": v for k, v in B.BookState.ARRAYS.items()}
    return {**ROW_ARRAYS, **book}


class _Raw:
    """The raw numbers of one call's frames, as NumPy arrays (no validation here).

    Used only to see whether a new frame repeats what earlier calls already validated;
    whatever differs (or cannot be read) sends the update down the full, validating path.
    """

    def __init__(self, frames: PairFrames) -> None:
        candles = frames.candles
        dates = candles["date"]
        if not isinstance(dates.dtype, pd.DatetimeTZDtype):
            raise TypeError("naive or non-date 'date' column")  # full path names it
        self.c_ns = dates.array.as_unit("ns").asi8
        self.time_s = self.c_ns // _NS
        self.ohlcv = {f: candles[f].to_numpy(dtype=np.float64) for f in _RAW}
        self.aux_ns: dict[str, np.ndarray | None] = {}
        self.aux_cols: dict[str, dict[str, np.ndarray]] = {}
        self.aux_ok = True
        try:
            for name, frame in frames.optional().items():
                if frame is None or not len(frame):
                    self.aux_ns[name] = None
                    continue
                dates = frame["date"]
                if not isinstance(dates.dtype, pd.DatetimeTZDtype):
                    raise TypeError("naive or non-date 'date' column")
                self.aux_ns[name] = dates.array.as_unit("ns").asi8
                self.aux_cols[name] = {
                    c: frame[c].to_numpy(dtype=np.float64, na_value=np.nan)
                    for c in _AUX_COLUMNS[name]
                    if c in frame.columns
                }
        except Exception:  # noqa: BLE001 - unreadable: the full path validates and names it
            self.aux_ok = False

    def same_aux(self, prev: _Raw, lo_ns: int, hi_ns: int) -> bool:
        """Do the optional frames hold the same rows dated ``lo_ns..hi_ns`` as ``prev``?

        Those are the rows that already-processed candles of this frame may have read
        (open interest / metrics lagged, mark at the same time); rows after ``hi_ns``
        only reach new candles and are validated with them.
        """
        if not (self.aux_ok and prev.aux_ok):
            return False
        for name in _AUX_COLUMNS:
            ns, old_ns = self.aux_ns.get(name), prev.aux_ns.get(name)
            if ns is None or old_ns is None:
                if ns is not None or old_ns is not None:
                    return False
                continue
            cols, old_cols = self.aux_cols[name], prev.aux_cols[name]
            if cols.keys() != old_cols.keys():
                return False
            if name in ("mark", "oi") and mark_step_s(ns) != mark_step_s(old_ns):
                return False  # the mark and OI steps are read from the whole frame
            a0 = int(np.searchsorted(ns, lo_ns, side="left"))
            a1 = int(np.searchsorted(ns, hi_ns, side="right"))
            b0 = int(np.searchsorted(old_ns, lo_ns, side="left"))
            b1 = int(np.searchsorted(old_ns, hi_ns, side="right"))
            if not np.array_equal(ns[a0:a1], old_ns[b0:b1]):
                return False
            for c, v in cols.items():
                if not np.array_equal(v[a0:a1], old_cols[c][b0:b1], equal_nan=True):
                    return False
        return True


def _raw_frames(frames: PairFrames) -> _Raw | None:
    """:class:`_Raw` of the frames, or None if the candles cannot even be read (the full
    path then raises the validation error naming the problem)."""
    try:
        return _Raw(frames)
    except Exception:  # noqa: BLE001 - see docstring
        return None


class _FullPath(Exception):  # noqa: N818 - a signal, not an error
    """A new optional row is bad or needs what only the full path does (raised and caught
    inside :meth:`IncrementalFeatures._tail_sources`)."""


class _TailRows:
    """Which rows of an optional frame the new candles read, with the date rule checked.

    :param new_ns: open times of the new candles (int64 ns).
    :param tf_ns: candle length in ns.
    """

    def __init__(self, new_ns: np.ndarray, tf_ns: int) -> None:
        self.first = int(new_ns[0])
        self.last = int(new_ns[-1])
        self.tf_ns = tf_ns

    def span(self, ns: np.ndarray, lag: int) -> tuple[int, int]:
        """Rows ``a:b`` of ``ns`` dated at the new candles' times minus ``lag`` candles.

        :raise _FullPath: those rows plus the one before them (the seam) are not dated
            as the boundary requires (:func:`liq_signals.data.boundary.dates_ok`).
        """
        return self.span_ns(ns, lag * self.tf_ns, lag * self.tf_ns)

    def span_ns(self, ns: np.ndarray, near: int, far: int) -> tuple[int, int]:
        """Rows ``a:b`` of ``ns`` dated from ``far`` ns before the first new candle to
        ``near`` ns before the last (:func:`liq_signals.features.align.oi_reach_ns`).

        :raise _FullPath: as :meth:`span`.
        """
        a = int(np.searchsorted(ns, self.first - far))
        b = int(np.searchsorted(ns, self.last - near, side="right"))
        if not dates_ok(ns[max(a - 1, 0) : b]):
            raise _FullPath
        return a, b


def _tail_oi(
    raw: _Raw, rows: _TailRows, lag: int, pair: str, seen: set
) -> tuple[np.ndarray, np.ndarray, int] | None:
    """The open-interest source for the new candles, value-only rows converted to
    contracts and bad rows quarantined as the batch run does it (the quarantine reads the
    :data:`~liq_signals.data.boundary.JUMP_WINDOW` rows before, converted alike); its step
    is read from the whole frame, as the batch run reads it
    (:func:`liq_signals.features.align.oi_step_s`).

    :raise _FullPath: no usable column, or dates the boundary rejects.
    """
    ns = raw.aux_ns.get("oi")
    if ns is None:
        return None
    cols = raw.aux_cols["oi"]
    if OI_AMOUNT not in cols and OI_VALUE not in cols:
        raise _FullPath
    tf_s = rows.tf_ns // _NS
    if bad_oi_steps(ns, tf_s).any():
        raise _FullPath
    a, b = rows.span_ns(ns, *oi_reach_ns(oi_step_s(ns, tf_s), tf_s, lag))
    return oi_rows(
        ns,
        cols.get(OI_AMOUNT),
        cols.get(OI_VALUE),
        a,
        b,
        tf_s=tf_s,
        candles=(raw.c_ns, raw.ohlcv["open"]),
        pair=pair,
        source="open_interest",
        seen=seen,
    )


def _oi_start(raw: _Raw) -> int | None:
    """Where the whole OI frame's series begins, as the batch run reads it."""
    ns = raw.aux_ns.get("oi")
    if ns is None:
        return None
    cols = raw.aux_cols["oi"]
    return oi_series_start_ns(ns, cols.get(OI_AMOUNT), cols.get(OI_VALUE))


def _tail_mark(
    raw: _Raw, rows: _TailRows, pair: str, seen: set
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int] | None:
    """The mark source for the new candles, bad rows quarantined as in the batch run.

    :raise _FullPath: a column is missing or dates the boundary rejects.
    """
    ns = raw.aux_ns.get("mark")
    if ns is None:
        return None
    cols = raw.aux_cols["mark"]
    if any(c not in cols for c in MARK_COLUMNS[1:]):
        raise _FullPath
    a, b = rows.span(ns, 0)
    return mark_rows(ns, cols["high"], cols["low"], a, b, pair=pair, source="mark", seen=seen)


def _tail_metrics(
    raw: _Raw, rows: _TailRows, lag: int, pair: str, seen: set
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None] | None:
    """The metrics source for the new candles (None without any taker value, as in the
    batch run), bad values quarantined as there.

    :raise _FullPath: dates the boundary rejects.
    """
    ns = raw.aux_ns.get("metrics")
    if ns is None:
        return None
    cols = raw.aux_cols["metrics"]
    if not has_taker_values(list(cols.values())):
        return None
    a, b = rows.span(ns, lag)
    return metrics_rows(ns, cols, a, b, pair=pair, source="metrics", seen=seen)


class IncrementalFeatures:
    """Per-pair incremental feature computation (one instance per pair and timeframe).

    :param pair: freqtrade pair name (picks maintenance tiers).
    :param timeframe: candle timeframe.
    :param config: model parameters.
    """

    def __init__(self, pair: str, timeframe: str = "5m", config: ModelConfig | None = None) -> None:
        self.pair = pair
        self.timeframe = timeframe
        self.config = config or ModelConfig()
        self._params = engine_params_for(pair, self.config)
        special = (C.MODE, C.COVERAGE, C.STALE)
        self._features = frozenset(C.feature_columns(self.config.bands_pct))
        self._float_cols = tuple(
            c for c in C.feature_columns(self.config.bands_pct) if c not in special
        )
        # column labels built once (pandas builds an Index from a list on every call)
        self._float_index = pd.Index(self._float_cols)
        #: widths of the two-dimensional records
        self._widths = {
            "out": B.n_outputs(len(self.config.bands_pct)),
            "feat": len(self._float_cols),
        }
        self._rest_index = pd.Index(special)
        #: times processed candles changed and the book was rebuilt
        self.recomputes = 0
        #: calls that validated and aligned the whole frame (first call, changed or bad
        #: input); the others checked only the new candles and the seam
        self.full_updates = 0
        #: quarantined rows already logged, ``(source, column, date ns)``: each is logged
        #: once per bot, and stays dropped while the frame holds it (not saved: after a
        #: restart each is logged once more)
        self._seen: set[tuple[str, int]] = set()
        #: the last candle checked by the per-row quarantine, and the quarantined ones
        self._candles_checked_ns: int | None = None
        self._bad_candle_ns = np.zeros(0, dtype=np.int64)
        self.reset()

    def reset(self) -> None:
        """Forget everything; the next :meth:`update` rebuilds from its first candle."""
        self.state: B.BookState | None = None
        self._rows: dict[str, np.ndarray] = {
            k: np.zeros((0, self._widths[k]) if ndim == 2 else 0, dtype=dtype)
            for k, (dtype, ndim) in ROW_ARRAYS.items()
        }
        self._snapshot: _Raw | None = None

    # ------------------------------------------------------------------ save / restore
    def save(self) -> tuple[dict[str, np.ndarray], dict[str, float | int]]:
        """The state as plain arrays and scalars, for a restart to :meth:`restore`.

        :return: ``(arrays, scalars)``: copies of the per-candle records
            (:data:`ROW_ARRAYS`) and of the book's arrays (``book_<field>``, see
            :data:`liq_signals.engine.book.BookState.ARRAYS`); the scalars
            :data:`SAVED_SCALARS`.  Copies, since the book advances in place.  Not saved:
            the last call's frames (only a shortcut: the first update after a restore
            validates the whole frame once) and which quarantined rows were logged.
        :raise ValueError: no candle processed yet.
        """
        if self.state is None or not len(self._time):
            raise ValueError(f"{self.pair}: nothing processed yet, no state to save")
        arrays = {k: v.copy() for k, v in self._rows.items()}
        for k, v in self.state.arrays().items():
            arrays[f"{BOOK_PREFIX}{k}"] = v.copy()
        scalars: dict[str, float | int] = {
            "grid_step": float(self.state.grid_step),
            "recomputes": int(self.recomputes),
            "full_updates": int(self.full_updates),
        }
        return arrays, scalars

    @classmethod
    def restore(
        cls,
        pair: str,
        timeframe: str,
        config: ModelConfig,
        arrays: dict[str, np.ndarray],
        scalars: dict[str, float | int],
    ) -> IncrementalFeatures:
        """The state :meth:`save` gave, continued: the next :meth:`update` processes only
        the candles after the saved ones.

        Checks that the arrays form a state of this model: the exact set of names with
        their dtypes and dimensions, one row per candle in every record, the model's
        widths, increasing times and valid mode codes.  The book is taken as given: a
        caller reading it from an untrusted place checks its values first
        (:mod:`liq_signals.live.state_store`).

        :raise InputError: they do not fit.
        """
        inc = cls(pair, timeframe, config)
        want = saved_arrays()
        if set(arrays) != set(want) or set(scalars) != set(SAVED_SCALARS):
            raise InputError("the arrays or scalars are not those of a saved state")
        for k, (dtype, ndim) in want.items():
            if arrays[k].dtype != np.dtype(dtype) or arrays[k].ndim != ndim:
                raise InputError(f"array {k}: {arrays[k].dtype} {arrays[k].shape}")
        rows = {k: arrays[k] for k in ROW_ARRAYS}
        n = len(rows["time"])
        if n < 1 or any(len(v) != n for v in rows.values()):
            raise InputError("per-candle arrays of different lengths")
        for k, width in inc._widths.items():
            if rows[k].shape != (n, width):
                raise InputError(f"{k} {rows[k].shape}, the model's are ({n}, {width})")
        if not (np.diff(rows["time"]) > 0).all():
            raise InputError("candle times not increasing")
        if not np.isin(rows["mode"], (0, 1)).all():
            raise InputError("mode codes out of range")
        book = {k[len(BOOK_PREFIX) :]: v for k, v in arrays.items() if k.startswith(BOOK_PREFIX)}
        inc.state = B.BookState.from_arrays(book, float(scalars["grid_step"]))
        inc._rows = rows
        inc.recomputes = int(scalars["recomputes"])
        inc.full_updates = int(scalars["full_updates"])
        return inc

    @property
    def _time(self) -> np.ndarray:
        """Open times (s) of the processed candles still in the window."""
        return self._rows["time"]

    def last_candles(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Open times (s) and raw OHLCV (as the frame gave them, shape ``(k, 5)``) of the
        last ``k`` processed candles (fewer if fewer were processed)."""
        ohlcv = np.column_stack([self._rows[f"raw_{f}"][-k:] for f in _RAW])
        return self._time[-k:].copy(), ohlcv

    @property
    def last_time_s(self) -> int | None:
        """Open time (s) of the last candle processed."""
        return int(self._time[-1]) if len(self._time) else None

    def _consistent(
        self, inputs: B.EngineInputs, stale: np.ndarray, old_rows: np.ndarray, pos: np.ndarray
    ) -> bool:
        """Did the already-processed candles keep their inputs and staleness flags?

        ``liq_stale`` is compared too: a metrics row arriving late changes it without
        changing any engine input when its taker share is unusable.

        The taker share of a frame's first ``metrics_lag_candles`` rows may come from
        ``taker_net_base`` ÷ the volume of a candle that a sliding window no longer holds
        (and, with ``taker_share_proxy``, the proxy's first ``taker_proxy_window`` rows
        from a shorter volatility history); those rows' shares are not compared
        (everything else is).  With the proxy on, shares are compared to 1e-9 and the
        values equal the batch run's to that precision instead of bit for bit.
        """
        proxy = self.config.taker_share_proxy
        skip = self.config.metrics_lag_candles
        if proxy:
            skip = max(skip, self.config.taker_proxy_window + 1)
        lagged = old_rows >= skip
        if not np.array_equal(stale[old_rows][lagged], self._rows["stale"][pos][lagged]):
            return False
        for f in _FIELDS:
            new, old = getattr(inputs, f)[old_rows], self._rows[f"input_{f}"][pos]
            if f == "taker_share":
                new, old = new[lagged], old[lagged]
                if proxy:
                    # the proxy's rolling volatility (pandas) rounds differently when the
                    # window starts elsewhere: compare to 1e-9, not bit for bit
                    if not np.allclose(new, old, rtol=1e-9, atol=1e-12, equal_nan=True):
                        return False
                    continue
            if not np.array_equal(new, old, equal_nan=True):
                return False
        return True

    def update(self, frames: PairFrames) -> pd.DataFrame:
        """Process the closed candles of ``frames`` not yet seen; return all features.

        Input is checked once at the boundary: when the frame only extends what was
        processed (same open times, same raw OHLCV, same open-interest / metrics / mark
        rows for the processed candles — compared as raw arrays), only the new candles
        plus the few before them that the timing rules reach back to (the seam) are
        validated and aligned.  Anything else (first call, history rewritten, late rows,
        a frame that does not line up) takes the full path: the whole frame is validated
        and aligned, and the book is recomputed if processed candles changed.

        :param frames: the closed candles (freqtrade's frame; the forming candle is not
            in it) and the optional series, as for :func:`~liq_signals.features.run`.
        A candle breaking a per-row rule (:func:`liq_signals.data.boundary.bad_candle_rows`)
        is quarantined, not an error: it gets NaN features flagged stale and the book runs
        as if it were missing (see :meth:`_bad_candles`).

        :return: ``candles`` with the feature columns (same as ``compute_features``).
        :raise LiqInputError: bad input (the new rows and the seam every call; the
            whole frame on the full path, which also runs when a new row is bad, so the
            error names the row within the whole frame).
        """
        candles = frames.candles
        bad = self._bad_candles(candles)
        if bad is None:
            return self._update(frames)
        out = self._update(frames.with_candles(candles[~bad]))
        return _with_quarantined(candles, out, bad)

    def _bad_candles(self, candles: pd.DataFrame) -> np.ndarray | None:
        """Mask of the candles the dry-run quarantines (:func:`bad_candle_rows`), each
        logged once; None when there are none or the frame cannot be read (the full path
        then names the problem).

        A bad candle is not an error here: the bot would otherwise be blind until it
        leaves freqtrade's window (days).  It gets no features and is flagged stale; the
        book decays over it as over a gap.  Only candles newer than the last call's are
        checked (with the rows before them the jump rule reads); a quarantined candle stays
        quarantined while the frame holds it.
        """
        checked = self._candles_checked_ns
        known = self._bad_candle_ns
        try:
            ns = candles["date"].array.as_unit("ns").asi8
            first = 0 if checked is None else int(np.searchsorted(ns, checked, side="right"))
            lo = max(first - JUMP_WINDOW, 0)  # the rows the jump rule reads
            ohlcv = {f: candles[f].to_numpy(dtype=np.float64, na_value=np.nan)[lo:] for f in _RAW}
        except Exception:  # noqa: BLE001 - unreadable: the full path validates and names it
            return None
        if not len(ns):
            return None
        bad = np.zeros(len(ns), dtype=bool)
        if first < len(ns):
            bad[first:] = bad_candle_rows(ohlcv, first - lo)
        if len(known):
            old = np.isin(ns, known)
            new = bad & ~old
            bad |= old
        else:
            new = bad
        self._candles_checked_ns = int(ns[-1])
        if new.any():
            quarantine(
                candles["close"].to_numpy(dtype=np.float64, na_value=np.nan),
                new,
                ns,
                pair=self.pair,
                source="candles",
                column="ohlcv",
                seen=self._seen,
            )
            keep = known[known >= ns[0]] if len(known) else known  # older ones are gone
            self._bad_candle_ns = np.union1d(keep, ns[new])
        return bad if bad.any() else None

    def _update(self, frames: PairFrames) -> pd.DataFrame:
        """:meth:`update` on candles that passed the per-row quarantine."""
        raw = _raw_frames(frames)
        why = self._tail_update(raw)
        if why is not None:
            if self.state is not None:
                logger.info("%s: whole frame validated and aligned: %s.", self.pair, why)
            raw = self._full_update(frames, raw)
        self._snapshot = raw
        return self._frame(frames.candles, raw)

    # ------------------------------------------------------------------ tail path
    def _tail_update(self, raw: _Raw | None) -> str | None:
        """Advance over the new candles only, if the frame just extends what was seen.

        :return: None when done, else why the full path must run (nothing was changed).
        """
        prev = self._snapshot
        if raw is None or prev is None or self.state is None or not len(self._time):
            if self.state is None:
                return "first call"
            if prev is None:
                return "no previous frame to compare with (first call after a resume)"
            return "frames unreadable"
        t = raw.time_s
        k = int(np.searchsorted(self._time, t[0]))
        m = len(self._time) - k  # cached rows the frame must repeat, in order
        if m <= 0 or len(t) < m or not np.array_equal(t[:m], self._time[k:]):
            return "candle dates do not extend the processed ones"
        if not all(np.array_equal(raw.ohlcv[f][:m], self._rows[f"raw_{f}"][k:]) for f in _RAW):
            return "a processed candle changed"
        tf_ns = timeframe_seconds(self.timeframe) * _NS
        lag = max(self.config.oi_lag_candles, self.config.metrics_lag_candles)
        lo_ns = int(t[0]) * _NS - max(lag * tf_ns, self._oi_far_ns(raw))
        hi_ns = int(self._time[-1]) * _NS
        if not raw.same_aux(prev, lo_ns, hi_ns):
            return "open interest / mark / metrics rows of processed candles changed"
        if m < len(t):
            ctx = max(lag, 1)
            if self.config.taker_share_proxy:
                ctx = max(ctx, self.config.taker_proxy_window + 1)
            lo = max(0, m - ctx)
            tf_s = timeframe_seconds(self.timeframe)
            if not candle_rows_ok(raw.c_ns, raw.ohlcv, m, pair=self.pair, timeframe_s=tf_s):
                return "a new candle is bad"  # the full path names its row in the frame
            sources = self._tail_sources(raw, m)
            if sources is None:
                return "a new open interest / mark / metrics row is bad or needs repair"
            o = raw.ohlcv
            inputs, stale = align_inputs(
                raw.c_ns[lo:],
                o["high"][lo:],
                o["low"][lo:],
                o["close"][lo:],
                o["volume"][lo:],
                sources,
                pair=self.pair,
                tf_s=tf_s,
                cfg=self.config,
            )
            self._append(inputs.slice(m - lo, len(t) - lo), stale[m - lo :], raw, m)
        self._forget_before(int(t[0]))
        return None

    def _oi_far_ns(self, raw: _Raw) -> int:
        """How far before a candle the open-interest rows it reads may lie (a coarser
        series is held across missing periods: :func:`~liq_signals.features.align.oi_reach_ns`)."""
        ns = raw.aux_ns.get("oi")
        if ns is None:
            return 0
        tf_s = timeframe_seconds(self.timeframe)
        return oi_reach_ns(max(oi_step_s(ns, tf_s), 0), tf_s, self.config.oi_lag_candles)[1]

    def _tail_sources(self, raw: _Raw, m: int) -> AlignSources | None:
        """The optional series for the new candles (rows ``m:``), checked with the rules
        :mod:`liq_signals.data.boundary` applies to whole frames, over the rows those
        candles read plus the row before them (date order at the seam).

        :return: None when a row is bad or needs something this path does not do (the
            full path then raises the error or applies the repair, as documented).
        """
        cfg = self.config
        rows = _TailRows(raw.c_ns[m:], timeframe_seconds(self.timeframe) * _NS)
        try:
            return AlignSources(
                oi=_tail_oi(raw, rows, cfg.oi_lag_candles, self.pair, self._seen),
                mark=_tail_mark(raw, rows, self.pair, self._seen),
                metrics=_tail_metrics(raw, rows, cfg.metrics_lag_candles, self.pair, self._seen),
                oi_start_ns=_oi_start(raw),
            )
        except _FullPath:
            return None

    # ------------------------------------------------------------------ full path
    def _full_update(self, frames: PairFrames, raw: _Raw | None) -> _Raw:
        """Validate and align the whole frame; recompute if processed candles changed.

        :return: the frames' raw numbers (for the next call's comparison).
        """
        self.full_updates += 1
        prep = prepare_inputs(
            frames,
            pair=self.pair,
            timeframe=self.timeframe,
            config=self.config,
            seen=self._seen,
        )
        inputs = prep.inputs
        t = inputs.time_s
        if raw is None:  # prepare_inputs accepted the frame, so it can be read now
            raw = _Raw(frames)
        if self.state is not None and len(self._time):
            pos = np.searchsorted(self._time, t)
            known = (pos < len(self._time)) & (
                self._time[np.minimum(pos, len(self._time) - 1)] == t
            )
            old_rows = np.flatnonzero(known)
            new_rows = np.flatnonzero(t > self._time[-1])
            gap_rows = np.flatnonzero(~known & (t <= self._time[-1]))
            if gap_rows.size or not self._consistent(inputs, prep.stale, old_rows, pos[old_rows]):
                logger.warning(
                    "%s: already-processed candles changed (history rewritten or late data); "
                    "recomputing the book from %s.",
                    self.pair,
                    frames.candles["date"].iloc[0],
                )
                self.reset()
                self.recomputes += 1
            else:
                # raw values of processed rows may differ where aligned inputs do not
                # (e.g. a candle's open): keep the frame's, so the tail path compares to it
                for f in _RAW:
                    self._rows[f"raw_{f}"][pos[old_rows]] = raw.ohlcv[f][old_rows]
        if self.state is None:
            self.state = B.new_state(self.config)
            new_rows = np.arange(len(t))
        if new_rows.size:
            # new rows are a contiguous tail because dates are strictly increasing
            start = int(new_rows[0])
            self._append(inputs.slice(start, len(t)), prep.stale[start:], raw, start, prep.atr)
        self._forget_before(int(t[0]))
        return raw

    # ------------------------------------------------------------------ shared
    def _append(
        self,
        new: B.EngineInputs,
        stale: np.ndarray,
        raw: _Raw,
        start: int,
        frame_atr: np.ndarray | None = None,
    ) -> None:
        """Run the kernel over ``new`` (the frame's rows ``start:``) and cache everything
        per row: inputs, raw OHLCV, ATR, engine outputs and the feature columns (computed
        once per candle: they are elementwise, so equal to a whole-frame computation)."""
        assert self.state is not None
        self.state, out = B.advance(self.state, new, self._params, inplace=True)
        rows = self._rows
        prev_close = rows["input_close"][-1] if len(self._time) else np.nan
        new_atr = self._new_atr(raw, frame_atr, start, prev_close)
        cols = feature_values(out, new.close, stale, self.config, atr=new_atr, oi=new.oi)
        add = {
            "time": new.time_s,
            "stale": stale,
            "atr": new_atr,
            "out": out,
            "mode": mode_codes(out),
            "cov": cols[C.COVERAGE],
            **{f"input_{f}": getattr(new, f) for f in _FIELDS},
            **{f"raw_{f}": raw.ohlcv[f][start:] for f in _RAW},
        }
        if len(out):
            add["feat"] = np.column_stack([cols[c] for c in self._float_cols])
        for k, v in add.items():
            rows[k] = np.concatenate([rows[k], v])

    def _frame(self, candles: pd.DataFrame, raw: _Raw | None) -> pd.DataFrame:
        """``candles`` + the cached feature columns of its rows, built in one go (the
        same frame as :func:`attach_features` of the batch columns)."""
        t = raw.time_s if raw is not None else pd.DatetimeIndex(candles["date"]).as_unit("s").asi8
        if len(t) == len(self._time) and np.array_equal(t, self._time):
            rows: slice | np.ndarray = slice(None)
        else:  # a frame missing some cached row (kept from an earlier frame)
            rows = np.searchsorted(self._time, t)
        idx = candles.index
        # copies: the caller may write into the frame (the provider flags staleness)
        r = self._rows
        floats = pd.DataFrame(r["feat"][rows], index=idx, columns=self._float_index, copy=True)
        rest = pd.DataFrame(
            {
                C.MODE: pd.Categorical.from_codes(r["mode"][rows], dtype=MODE_DTYPE),
                C.COVERAGE: r["cov"][rows].copy(),
                C.STALE: r["stale"][rows].astype(bool),
            },
            index=idx,
            columns=self._rest_index,
        )
        present = [c for c in candles.columns if c in self._features]
        base = candles.drop(columns=present) if present else candles
        return pd.concat([base, floats, rest], axis=1)

    def _new_atr(
        self, raw: _Raw, frame_atr: np.ndarray | None, start: int, prev_close: float
    ) -> np.ndarray:
        """ATR of the frame's rows ``start:`` as a batch run over the whole history would
        give it: continued from the last processed candle once past the warm-up, else
        TA-Lib's over the frame (during the warm-up the book is still at its first frame;
        a window sliding before the first ``atr_period`` candles were seen gives the
        window's ATR).  See :func:`liq_signals.features.atr.continue_atr` for how close the
        continued values are to TA-Lib's."""
        atr = self._rows["atr"]
        prev_atr = atr[-1] if len(atr) else np.nan
        h, lo, c = raw.ohlcv["high"], raw.ohlcv["low"], raw.ohlcv["close"]
        if not np.isfinite(prev_atr):
            if frame_atr is None:
                frame_atr = candle_atr(h, lo, c, self.config.atr_period)
            return frame_atr[start:]
        return continue_atr(
            prev_atr, prev_close, h[start:], lo[start:], c[start:], self.config.atr_period
        )

    def _forget_before(self, time_s: int) -> None:
        """Drop the per-candle records older than the frame's first candle.

        freqtrade's dry-run frame is a sliding window, so those rows never come back (if
        they do, :meth:`update` sees unknown old rows and recomputes).  Keeps memory and
        the per-update copying bounded by the window, however long the bot runs.
        """
        cut = int(np.searchsorted(self._time, time_s))
        if cut:
            self._rows = {k: v[cut:] for k, v in self._rows.items()}


def _with_quarantined(candles: pd.DataFrame, out: pd.DataFrame, bad: np.ndarray) -> pd.DataFrame:
    """``out`` (features of the good candles) spread back over all of ``candles``: the
    quarantined rows keep their raw columns and get NaN features, flagged stale."""
    feats = out.drop(columns=[c for c in candles.columns if c in out.columns])
    feats = feats.reindex(candles.index)
    feats[C.STALE] = np.where(bad, True, feats[C.STALE].to_numpy(dtype=object)).astype(bool)
    return pd.concat([candles, feats], axis=1)
