"""The features the strategy asks for in ``populate_indicators``, in every run mode.

A strategy reaches a provider through :func:`liq_signals.freqtrade.strategy_features`
(which checks the pair's files first in batch modes); its
:class:`~liq_signals.freqtrade.StrategyContext` keeps one provider per timeframe
(:func:`provider_for`), on the strategy's one model.

* backtesting / hyperopt / lookahead / recursive / plot: one batch
  :func:`liq_signals.features.run` over the whole frame (fastest there).
* dry-run / live: freqtrade hands over the whole (growing) frame every new candle; an
  :class:`~liq_signals.features.incremental.IncrementalFeatures` per pair advances the book over the
  new closed candles only, and gives the same values as the batch run on the same frame
  (it recomputes from the frame's first candle if already-seen inputs changed, e.g. open
  interest that arrived late after an outage).

Staleness (column :data:`liq_signals.columns.STALE`): on top of the engine's own flag (open
interest or taker flow missing for a candle), the provider flags the last candle stale when
it is older than the clock says the last closed candle should be (klines outage or frozen
feed), and every row when the update itself failed.  The strategy's entry terms are NaN on
stale rows, so **no trade is opened on stale features**.

Never raises into freqtrade: an exception while preparing or computing features is logged
and answered with NaN features flagged stale; the bot keeps running and retries next candle.

Restart: with a ``state_dir`` (freqtrade's ``<user_data_dir>/liq_signals_state`` in
dry-run/live, see :func:`provider_for`) each pair's incremental state is saved after every
update that processed new candles, and a restarted bot resumes it on its first update when
it is intact and still fits the data (:mod:`liq_signals.live.state_store`): the features
then equal those of a bot that never stopped.  Otherwise the reason is logged and the book
is rebuilt.  The provider holds each pair's state lock while it runs; a second bot of the
same strategy on the same directory runs that pair without saved state (one error line).

One log line per new candle per pair (price, mode, 5 % imbalance as N:1, nearest magnets,
stale flag, update time), and no other routine INFO line: the alignment notes (which of
the few candles an update aligns lack open interest, mark or taker flow — they include
already-processed seam candles, so they could contradict the line) are logged on a pair's
first update only, or with the ``liq_signals`` loggers at DEBUG.  Warnings, errors and the
input boundary's repairs are always logged.
With ``LIQ_SIGNALS_FEATURES_EXPORT=<dir>`` each new candle's features are also appended to
``<dir>/<PAIR>.jsonl`` (tests compare them with a batch run).
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from liq_signals import columns as C
from liq_signals.config import ModelConfig
from liq_signals.data.frames import PairFrames
from liq_signals.display import ratio_text as display_ratio
from liq_signals.features.incremental import IncrementalFeatures
from liq_signals.features.pipeline import run
from liq_signals.live import state_store
from liq_signals.live.failures import FailureLog
from liq_signals.timeframes import timeframe_seconds

logger = logging.getLogger(__name__)

#: Environment variable: directory where per-candle features are appended (tests, audits).
EXPORT_ENV = "LIQ_SIGNALS_FEATURES_EXPORT"
#: freqtrade run modes (``RunMode.value``) that poll the exchange candle by candle.
LIVE_RUNMODES = frozenset({"dry_run", "live"})
#: Imbalance band shown in the per-candle log line.
LOG_BAND_PCT = 5.0
#: Candles the last closed candle may lag the clock before it counts as stale (freqtrade
#: itself refuses signals beyond two candles; one candle of slack covers publication delay).
MAX_LAG_CANDLES = 1


#: Loggers whose INFO notes are held back on a pair's later updates (see the module
#: docstring): the per-update alignment notes.  Input repairs and quarantined rows (logged
#: by ``liq_signals.data``) are never held back.
QUIET_LOGGERS = ("liq_signals.features.align", "liq_signals.features.incremental")


class _QuietNotes(logging.Filter):
    """Drops INFO (and lower) records of the feature pipeline while the current thread
    runs a live update that asked for it; warnings and errors pass."""

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not getattr(self.local, "quiet", False)


_QUIET = _QuietNotes()


def _install_quiet_filter() -> None:
    """Attach :data:`_QUIET` to the :data:`QUIET_LOGGERS`; idempotent."""
    for name in QUIET_LOGGERS:
        lg = logging.getLogger(name)
        if _QUIET not in lg.filters:
            lg.addFilter(_QUIET)


def _runmode_value(runmode: Any) -> str:
    return str(getattr(runmode, "value", runmode))


def ratio_text(imbalance_log: float) -> str:
    """``ln(short above / long below)`` as people read it: ``3.2:1`` (shorts heavier) or
    ``1:2.0`` (longs heavier); ``n/a`` when undefined.  Rendered by
    :func:`liq_signals.display.ratio_text`, as in the snapshot and the heatmap."""
    if not math.isfinite(imbalance_log):
        return "n/a"
    return display_ratio(math.exp(imbalance_log), 1.0, sides=False)


def stale_features(candles: pd.DataFrame, config: ModelConfig) -> pd.DataFrame:
    """``candles`` with every feature column present but unusable: NaN numbers, stale.

    What the strategy gets when the update failed: its entry terms are NaN -> no entries.
    """
    out = candles.copy()
    n = len(out)
    for column in C.feature_columns(config.bands_pct):
        if column == C.STALE:
            out[column] = np.ones(n, dtype=bool)
        elif column == C.MODE:
            out[column] = pd.Categorical([None] * n, categories=[C.MODE_VOLUME, C.MODE_OI])
        else:
            out[column] = np.full(n, np.nan)
    return out


@dataclass
class _PairState:
    incremental: IncrementalFeatures
    last_logged_s: int | None = None
    update_ms: list[float] = field(default_factory=list)
    #: resumed from a saved state and not updated yet
    resumed: bool = False
    #: updates with new candles since the state was last saved
    unsaved: int = 0
    #: wall time of each state save (milliseconds)
    save_ms: list[float] = field(default_factory=list)
    #: the state file (None: not persisted, or another bot holds its lock)
    path: Path | None = None
    lock: state_store.StateLock | None = None


class LiveFeatureProvider:
    """Per-pair feature state for one strategy instance.

    :param config: model parameters (the strategy's).
    :param timeframe: the strategy timeframe.
    :param export_dir: where per-candle features are appended (default: ``$LIQ_SIGNALS_
        FEATURES_EXPORT``, unset = no export).
    :param clock: epoch seconds "now" (freqtrade's clock; replay time in offline replays).
    :param live_series: a :class:`liq_signals.live.series.LiveSeries` (or anything with its
        ``get(pair)``) that extends the metrics sidecar past its last row in dry-run/live.
    :param state_dir: where each pair's incremental state is saved and resumed from
        (None = not persisted; a restart rebuilds the book from freqtrade's window).
    :param save_every: save after every ``save_every``-th update that had new candles
        (1 = every candle; a larger value saves time per candle and, on restart, only
        re-processes more candles from the older save — the result is the same).
    :param writer: writes the state files off the candle loop (default: one
        :class:`~liq_signals.live.state_store.BackgroundWriter` per provider, created
        when ``state_dir`` is set); the loop pays only copying the arrays.
    :param strategy: the strategy's name; state files are keyed by it (two strategies on
        one ``user_data`` directory never share a file).
    """

    def __init__(
        self,
        config: ModelConfig,
        timeframe: str = "5m",
        *,
        export_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
        live_series: Any | None = None,
        state_dir: Path | None = None,
        save_every: int = 1,
        writer: state_store.BackgroundWriter | None = None,
        strategy: str = "strategy",
    ) -> None:
        if save_every < 1:
            raise ValueError(f"save_every must be >= 1, got {save_every}")
        self.config = config
        self.state_dir = state_dir
        self.strategy = strategy
        self.save_every = save_every
        self._writer = writer or (state_store.BackgroundWriter() if state_dir else None)
        self.live_series = live_series
        self.timeframe = timeframe
        self._tf_s = timeframe_seconds(timeframe)
        env = os.environ.get(EXPORT_ENV)
        self.export_dir = export_dir if export_dir is not None else (Path(env) if env else None)
        self._clock = clock
        self._pairs: dict[str, _PairState] = {}
        self._failures = FailureLog(logger)

    # ------------------------------------------------------------------ public
    def features(self, frames: PairFrames, *, pair: str, runmode: Any) -> pd.DataFrame:
        """Feature columns for ``frames.candles`` (a copy with them appended).

        :param frames: freqtrade's analysed frame (closed candles, ``date`` column) and the
            pair's open interest, mark candles of the provider's timeframe and metrics
            sidecar, where there are any.
        :param pair: freqtrade pair name.
        :param runmode: freqtrade ``RunMode`` (or its value string).
        :return: the candles + :func:`liq_signals.columns.feature_columns` columns.
        :raise LiqInputError: bad input in batch modes (the run should stop and say why);
            never in dry-run/live.
        """
        if _runmode_value(runmode) not in LIVE_RUNMODES:
            return run(frames, pair=pair, timeframe=self.timeframe, config=self.config).features
        try:
            out = self._live(frames, pair)
        except Exception as exc:  # noqa: BLE001 - a dry-run must outlive any bad answer
            # the traceback as text, once per distinct error: a record holding it would pin
            # this call's frames in freqtrade's in-memory log buffer (failures.py)
            self._failures.failed(
                pair, f"feature update failed; features flagged {C.STALE} (no entries)", exc
            )
            return stale_features(frames.candles, self.config)
        self._failures.succeeded(pair, "feature update")
        return out

    def update_times_ms(self, pair: str) -> list[float]:
        """Wall time of each single-new-candle update of ``pair`` (milliseconds)."""
        state = self._pairs.get(pair)
        return list(state.update_ms) if state else []

    def flush_state(self, timeout_s: float = 10.0) -> bool:
        """Wait until the saved states are on disk (tests; also done at exit).

        :return: False if ``timeout_s`` passed first (or nothing is persisted: True).
        """
        return self._writer.flush(timeout_s) if self._writer is not None else True

    def save_times_ms(self, pair: str) -> list[float]:
        """Wall time the candle loop spent on each state save of ``pair`` (milliseconds:
        fingerprint + array copies; encoding and writing run in the background; included
        in :meth:`update_times_ms`)."""
        state = self._pairs.get(pair)
        return list(state.save_ms) if state else []

    # ------------------------------------------------------------------ live path
    def _state(self, pair: str, candles: pd.DataFrame) -> _PairState:
        """The pair's state; on first use resumed from ``state_dir`` when it fits
        ``candles`` (the first frame), else new (the reason is logged)."""
        state = self._pairs.get(pair)
        if state is None:
            incremental = None
            path, lock = self._lock(pair)
            if path is not None:
                incremental, why = state_store.load(
                    path, self.strategy, pair, self.timeframe, self.config, candles
                )
                logger.info(
                    "%s: %s%s",
                    pair,
                    why,
                    "" if incremental is not None else "; rebuilding the book",
                )
            resumed = incremental is not None
            if incremental is None:
                incremental = IncrementalFeatures(pair, self.timeframe, self.config)
            state = _PairState(incremental, resumed=resumed, path=path, lock=lock)
            self._pairs[pair] = state
        return state

    def _lock(self, pair: str) -> tuple[Path | None, state_store.StateLock | None]:
        """The pair's state file and its lock, or ``(None, None)`` when not persisted or
        when another bot holds the lock (logged: this one then runs without saved state)."""
        if self.state_dir is None:
            return None, None
        state_store.report_legacy(self.state_dir)
        path = state_store.state_path(self.state_dir, self.strategy, pair, self.timeframe)
        try:
            return path, state_store.StateLock(path)
        except state_store.StateLocked as exc:
            reason = str(exc)
        except OSError as exc:
            reason = f"cannot lock {path}: {exc}"
        logger.error(
            "%s: %s; this bot runs %s without saved state (give each bot its own --user-data-dir).",
            pair,
            reason,
            pair,
        )
        return None, None

    def close(self) -> None:
        """Write what is pending and release the state locks (a later provider in this
        process may then take them; process exit releases them anyway)."""
        self.flush_state()
        for state in self._pairs.values():
            if state.lock is not None:
                state.lock.release()
                state.lock = None
            state.path = None

    def _save(self, pair: str, state: _PairState) -> None:
        """Persist the pair's state (every ``save_every`` updates); a failure is logged,
        never raised (the features of this candle are fine)."""
        state.unsaved += 1
        last = state.incremental.last_time_s
        if state.path is None or state.unsaved < self.save_every or last is None:
            return
        t0 = time.perf_counter()
        try:
            record = state_store.snapshot(state.incremental, self.strategy)
            assert self._writer is not None
            self._writer.submit(state.path, record)
            state.unsaved = 0
        except Exception as exc:  # noqa: BLE001 - saving is optional: the bot must keep running
            self._failures.failed(pair, f"could not save the feature state to {state.path}", exc)
        state.save_ms.append((time.perf_counter() - t0) * 1000.0)

    def _live(self, frames: PairFrames, pair: str) -> pd.DataFrame:
        candles = frames.candles
        state = self._state(pair, candles)
        frames = replace(frames, metrics=self._extend_metrics(pair, frames.metrics))
        before = state.incremental.last_time_s
        recomputes = state.incremental.recomputes
        # later updates: one line per candle; the first one logs the history's notes
        quiet = before is not None and not logging.getLogger("liq_signals").isEnabledFor(
            logging.DEBUG
        )
        if quiet:
            _install_quiet_filter()
        t0 = time.perf_counter()
        _QUIET.local.quiet = quiet
        try:
            out = state.incremental.update(frames)
        finally:
            _QUIET.local.quiet = False
        times_s = pd.DatetimeIndex(candles["date"]).as_unit("s").asi8
        if before is None:
            new_rows = np.arange(len(times_s))
        else:
            new_rows = np.flatnonzero(times_s > before)
        recomputed = state.incremental.recomputes != recomputes
        resumed, state.resumed = state.resumed, False
        if resumed and recomputed:
            logger.warning(
                "%s: the resumed book did not fit the new frame's processed "
                "candles; rebuilt from the frame.",
                pair,
            )
        if len(new_rows) or recomputed:
            self._save(pair, state)
        elapsed_ms = (time.perf_counter() - t0) * 1000.0
        if before is not None and len(new_rows) == 1 and not recomputed:
            state.update_ms.append(elapsed_ms)
        if len(out):
            self._flag_outdated(out, pair)
        # first call: the whole history is new; log its last candle only
        for row in new_rows if before is not None else new_rows[-1:]:
            self._log_candle(pair, out.iloc[row], elapsed_ms, len(new_rows))
        if self.export_dir is not None and len(new_rows):
            # after a resume the whole first frame is exported, as after a rebuild: the
            # candles processed before the restart show the values the bot now holds
            rows = np.arange(len(times_s)) if resumed else new_rows
            self._export(pair, out.iloc[rows], elapsed_ms, len(new_rows), recomputed)
        return out

    def _extend_metrics(self, pair: str, metrics: pd.DataFrame | None) -> pd.DataFrame | None:
        """The sidecar file ends when it was downloaded; live rows newer than its last row
        are appended (older rows are never replaced, so a recorded sidecar wins)."""
        if self.live_series is None:
            return metrics
        frame = self.live_series.get(pair).frame  # never raises (series.py contract)
        if frame is None or frame.empty:
            return metrics
        if metrics is None or metrics.empty:
            return frame
        newer = frame[frame["date"] > metrics["date"].max()]
        return metrics if newer.empty else pd.concat([metrics, newer], ignore_index=True)

    def _flag_outdated(self, out: pd.DataFrame, pair: str) -> None:
        """Flag the last candle when it is older than the clock allows (stale feed)."""
        last_open_s = int(out["date"].iloc[-1].timestamp())
        now_s = self._clock()
        expected_last_open = (int(now_s) // self._tf_s - 1) * self._tf_s
        lag = (expected_last_open - last_open_s) // self._tf_s
        if lag > MAX_LAG_CANDLES:
            out.loc[out.index[-1], C.STALE] = True
            logger.warning(
                "%s: last closed candle %s is %d candles behind the clock; features flagged "
                "%s (no entries).",
                pair,
                out["date"].iloc[-1],
                lag,
                C.STALE,
            )

    def _log_candle(self, pair: str, row: pd.Series, elapsed_ms: float, n_new: int) -> None:
        imb = float(row.get(C.imbalance_log(LOG_BAND_PCT), np.nan))

        def magnet(price_col: str, dist_col: str, sign: str) -> str:
            price = float(row[price_col])
            if not math.isfinite(price):
                return "-"
            return f"{price:.6g}({sign}{abs(float(row[dist_col])):.2f}%)"

        logger.info(
            "liq %s %s close=%.6g mode=%s ratio%g%%=%s up=%s down=%s stale=%s update=%.2fms/%d",
            pair,
            pd.Timestamp(row["date"]).strftime("%Y-%m-%d %H:%M"),
            float(row["close"]),
            row[C.MODE],
            LOG_BAND_PCT,
            ratio_text(imb),
            magnet(C.NEAREST_UP_PRICE, C.NEAREST_UP_DIST_PCT, "+"),
            magnet(C.NEAREST_DOWN_PRICE, C.NEAREST_DOWN_DIST_PCT, "-"),
            bool(row[C.STALE]),
            elapsed_ms,
            n_new,
        )

    def _export(
        self, pair: str, rows: pd.DataFrame, elapsed_ms: float, n_new: int, recomputed: bool
    ) -> None:
        assert self.export_dir is not None
        self.export_dir.mkdir(parents=True, exist_ok=True)
        path = self.export_dir / (pair.replace("/", "_").replace(":", "_") + ".jsonl")
        columns = [c for c in C.feature_columns(self.config.bands_pct) if c in rows.columns]
        with path.open("a", encoding="utf-8") as fh:
            for _, row in rows.iterrows():
                record: dict[str, Any] = {
                    "pair": pair,
                    "date": pd.Timestamp(row["date"]).isoformat(),
                    "update_ms": elapsed_ms,
                    "new_candles": n_new,
                    "recomputed": recomputed,
                }
                for column in columns:
                    value = row[column]
                    if column == C.STALE:
                        record[column] = bool(value)
                    elif column == C.MODE:
                        record[column] = None if pd.isna(value) else str(value)
                    else:
                        record[column] = None if pd.isna(value) else float(value)
                fh.write(json.dumps(record) + "\n")


def _live_series_for(strategy: Any, timeframe: str) -> Any | None:
    """The sidecar poller on the bot's own exchange config (so the offline overlay points
    it at the emulator too), on freqtrade's clock; ``None`` on spot or if it cannot start."""
    config = getattr(strategy, "config", {}) or {}
    if config.get("trading_mode", "spot") == "spot" or "exchange" not in config:
        return None
    try:
        from liq_signals.live.series import LiveSeries, LiveSeriesConfig

        tf_s = timeframe_seconds(timeframe)
        return LiveSeries(
            config["exchange"],
            LiveSeriesConfig(period=timeframe, min_interval_s=tf_s / 2),
            clock=time.time,
        )
    except Exception:  # noqa: BLE001 - the features work without it (no taker tilt)
        logger.exception("live series unavailable; metrics from the datadir sidecar only")
        return None


def provider_for(
    strategy: Any, config: ModelConfig, timeframe: str | None = None
) -> LiveFeatureProvider:
    """A new provider for a strategy instance's candles of ``timeframe`` (default: the
    strategy's).  :class:`liq_signals.freqtrade.StrategyContext` keeps one per timeframe.

    In dry-run/live its state is persisted under ``<user_data_dir>/liq_signals_state`` (so a
    restart resumes the book) and the taker flow is polled from the exchange; never in
    backtesting/hyperopt (one batch computation there).
    """
    timeframe = timeframe or strategy.timeframe
    runmode = _runmode_value(
        getattr(getattr(strategy, "dp", None), "runmode", None)
        or strategy.config.get("runmode", "other")
    )
    live = runmode in LIVE_RUNMODES
    user_data = strategy.config.get("user_data_dir")
    return LiveFeatureProvider(
        config,
        timeframe,
        live_series=_live_series_for(strategy, timeframe) if live else None,
        state_dir=Path(user_data) / state_store.STATE_DIRNAME if live and user_data else None,
        strategy=type(strategy).__name__,
    )
