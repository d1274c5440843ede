"""Features for dry-run/live: advance the book only by candles not seen before.

freqtrade calls ``populate_indicators`` with the whole (growing) candle frame every new
candle.  :class:`IncrementalFeatures` keeps the engine state per pair and runs the kernel
only over candles newer than the last one processed — the same kernel as the batch run,
so the values are bit-identical to :func:`liq_signals.features.compute_features` on the
same frame.  If an already-processed candle's inputs changed (history rewritten, an open
interest row arrived late), it recomputes from the first candle of the frame.

When the caller's frame is a sliding window (older rows dropped), the book keeps the
history from the first update, so values then differ from a batch run on the window alone
(they are the batch values of the longer history seen).  The ATR behind the
``*_dist_atr`` columns is TA-Lib's over the frame given, as for any freqtrade indicator:
Wilder's smoothing forgets its start by (1 − 1/period) per candle, so past a few hundred
candles of window it equals the long-history ATR to rounding.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from liq_signals.engine import book as B
from liq_signals.engine.config import ModelConfig
from liq_signals.features import (
    attach_features,
    continue_atr,
    engine_params_for,
    feature_values,
    prepare_inputs,
)

logger = logging.getLogger(__name__)

_FIELDS = ("high", "low", "close", "typical", "volume", "oi", "taker_share")


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
        self.reset()

    def reset(self) -> None:
        """Forget everything; the next :meth:`update` rebuilds from its first candle."""
        self.state: B.BookState | None = None
        self._time = np.zeros(0, dtype=np.int64)
        self._inputs: dict[str, np.ndarray] = {f: np.zeros(0) for f in _FIELDS}
        self._out = np.zeros((0, B.n_outputs(len(self.config.bands_pct))))
        self._stale = np.zeros(0, dtype=bool)
        self._atr = np.zeros(0)
        self.recomputes = 0

    @property
    def last_time_s(self) -> int | None:
        """Open time (s) of the last candle processed."""
        return int(self._time[-1]) if len(self._time) else None

    def _consistent(self, inputs: B.EngineInputs, old_rows: np.ndarray, pos: np.ndarray) -> bool:
        """Did the already-processed candles keep their inputs?

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
        for f in _FIELDS:
            new, old = getattr(inputs, f)[old_rows], self._inputs[f][pos]
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

    def update(
        self,
        candles: pd.DataFrame,
        open_interest: pd.DataFrame | None = None,
        mark: pd.DataFrame | None = None,
        metrics: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Process the closed candles of ``candles`` not yet seen; return all features.

        :param candles: closed candles (freqtrade's frame; the forming candle is not in it).
        :param open_interest: open-interest frame, as for ``compute_features``.
        :param mark: mark candles of the same timeframe.
        :param metrics: metrics sidecar frame.
        :return: ``candles`` with the feature columns (same as ``compute_features``).
        :raise LiqInputError: bad input (checked at the boundary, every call).
        """
        prep = prepare_inputs(
            candles,
            pair=self.pair,
            open_interest=open_interest,
            mark=mark,
            metrics=metrics,
            timeframe=self.timeframe,
            config=self.config,
        )
        inputs = prep.inputs
        t = inputs.time_s
        if self.state is not None and len(self._time):
            pos = np.searchsorted(self._time, t)
            known = (pos < len(self._time)) & (
                self._time[np.minimum(pos, len(self._time) - 1)] == t
            )
            old_rows = np.flatnonzero(known)
            new_rows = np.flatnonzero(t > self._time[-1])
            gap_rows = np.flatnonzero(~known & (t <= self._time[-1]))
            if gap_rows.size or not self._consistent(inputs, old_rows, pos[old_rows]):
                logger.warning(
                    "%s: already-processed candles changed (history rewritten or late data); "
                    "recomputing the book from %s.",
                    self.pair,
                    candles["date"].iloc[0],
                )
                self.reset()
                self.recomputes += 1
        if self.state is None:
            self.state = B.new_state(self.config)
            new_rows = np.arange(len(t))
        if new_rows.size:
            # new rows are a contiguous tail because dates are strictly increasing
            start = int(new_rows[0])
            self.state, out = B.advance(
                self.state, inputs.slice(start, len(t)), self._params, inplace=True
            )
            prev_close = self._inputs["close"][-1] if len(self._time) else np.nan
            self._time = np.concatenate([self._time, t[start:]])
            for f in _FIELDS:
                self._inputs[f] = np.concatenate([self._inputs[f], getattr(inputs, f)[start:]])
            new_atr = self._new_atr(candles, prep.atr, start, prev_close)
            self._atr = np.concatenate([self._atr, new_atr])
            self._out = np.concatenate([self._out, out])
            self._stale = np.concatenate([self._stale, prep.stale[start:]])
        self._forget_before(int(t[0]))
        rows = np.searchsorted(self._time, t)
        cols = feature_values(
            self._out[rows],
            inputs.close,
            self._stale[rows],
            self.config,
            atr=self._atr[rows],
            oi=inputs.oi,
        )
        return attach_features(candles, cols)

    def _new_atr(
        self, candles: pd.DataFrame, frame_atr: np.ndarray, start: int, prev_close: float
    ) -> np.ndarray:
        """ATR of the frame's rows ``start:`` as a batch run over the whole history would
        give it: continued from the last processed candle once past the warm-up, else
        TA-Lib's over the frame (during the warm-up the book is still at its first frame;
        a window sliding before the first ``atr_period`` candles were seen gives the
        window's ATR)."""
        prev_atr = self._atr[-1] if len(self._atr) else np.nan
        if not np.isfinite(prev_atr):
            return frame_atr[start:]
        return continue_atr(
            prev_atr,
            prev_close,
            candles["high"].to_numpy(dtype=np.float64)[start:],
            candles["low"].to_numpy(dtype=np.float64)[start:],
            candles["close"].to_numpy(dtype=np.float64)[start:],
            self.config.atr_period,
        )

    def _forget_before(self, time_s: int) -> None:
        """Drop the per-candle records older than the frame's first candle.

        freqtrade's dry-run frame is a sliding window, so those rows never come back (if
        they do, :meth:`update` sees unknown old rows and recomputes).  Keeps memory and
        the per-update copying bounded by the window, however long the bot runs.
        """
        cut = int(np.searchsorted(self._time, time_s))
        if cut:
            self._time = self._time[cut:]
            self._inputs = {f: v[cut:] for f, v in self._inputs.items()}
            self._out = self._out[cut:]
            self._stale = self._stale[cut:]
            self._atr = self._atr[cut:]
