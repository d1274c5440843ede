"""Per-pair incremental feature state on disk, so a restarted dry-run resumes its book.

Without it a restarted bot rebuilds the book from the candle window freqtrade downloads at
start-up, and the features then depend on where that window starts (the book remembers
everything it saw, discounted by the half-life): up to ~2 % on liquidation totals for the
same candles.  With it the restarted bot continues the very book it had, and the candles
it missed while down are processed as new ones — the features equal those of a bot that
never stopped.

One file per pair and timeframe, ``<dir>/<PAIR>-<timeframe>.pkl`` (pair made
filesystem-safe), written atomically (temp file + :func:`os.replace`): a pickled
:class:`StateRecord` = the :class:`~liq_signals.features.incremental.IncrementalFeatures` object
(without its last-call frame snapshot, which holds whole input frames and is only a
shortcut: without it the first update after a resume validates the whole frame once) +
a :class:`Fingerprint` that says what it was computed from.

A saved state is used only when its fingerprint matches the running bot (package version,
pair, timeframe, every :class:`~liq_signals.config.ModelConfig` field) and the last
candles it processed are in the new frame with identical date and OHLCV; otherwise the
reason is logged and the book is rebuilt.  Anything unreadable is a warning and a
rebuild, never an exception: the bot must keep running.
"""

from __future__ import annotations

import atexit
import logging
import pickle
import re
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from liq_signals import __version__
from liq_signals.atomic import atomic_write_bytes
from liq_signals.config import ModelConfig
from liq_signals.features.incremental import IncrementalFeatures

logger = logging.getLogger(__name__)

#: Sub-directory of freqtrade's ``user_data_dir`` holding the state files.
STATE_DIRNAME = "liq_signals_state"
#: Processed candles stored with the state and required, identical, in the resumed frame.
FINGERPRINT_CANDLES = 3
#: Candle columns of the fingerprint (besides the date).
_OHLCV = ("open", "high", "low", "close", "volume")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class Fingerprint:
    """What a saved state was computed from.

    :param version: liq_signals version (a new engine may not read an old book the same).
    :param pair: freqtrade pair name.
    :param timeframe: candle timeframe.
    :param config: ``dataclasses.asdict`` of the model configuration.
    :param last_time_s: open times (epoch s) of the last processed candles.
    :param last_ohlcv: their OHLCV, shape ``(len(last_time_s), 5)``.
    """

    version: str
    pair: str
    timeframe: str
    config: dict[str, Any]
    last_time_s: tuple[int, ...]
    last_ohlcv: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class StateRecord:
    """One state file's content."""

    fingerprint: Fingerprint
    incremental: IncrementalFeatures


def _times_s(candles: pd.DataFrame) -> np.ndarray:
    """Candle open times in epoch seconds (no copy of the frame)."""
    return candles["date"].array.as_unit("ns").asi8 // 1_000_000_000


def state_path(state_dir: Path, pair: str, timeframe: str) -> Path:
    """``<state_dir>/<PAIR>-<timeframe>.pkl``, e.g. ``BTC_USDT_USDT-5m.pkl``."""
    return state_dir / f"{_UNSAFE.sub('_', pair)}-{_UNSAFE.sub('_', timeframe)}.pkl"


def fingerprint(inc: IncrementalFeatures) -> Fingerprint:
    """Fingerprint of ``inc``'s current state: its pair, timeframe, configuration and the
    date + raw OHLCV of the last candles it processed (as the frame gave them)."""
    times = inc._time[-FINGERPRINT_CANDLES:]  # noqa: SLF001 - the processed candles
    ohlcv = np.column_stack([inc._raw[c][-FINGERPRINT_CANDLES:] for c in _OHLCV])  # noqa: SLF001
    return Fingerprint(
        version=__version__,
        pair=inc.pair,
        timeframe=inc.timeframe,
        config=asdict(inc.config),
        last_time_s=tuple(int(t) for t in times),
        last_ohlcv=tuple(tuple(float(v) for v in row) for row in ohlcv),
    )


def dumps(record: StateRecord) -> bytes:
    """``record`` pickled, without the incremental object's frame snapshot (see the module
    docstring).  Must run on the thread that updates the state (the book advances in
    place), so it is taken before the next update."""
    inc = record.incremental
    snapshot = inc._snapshot  # noqa: SLF001 - input frames: large, and only a shortcut
    inc._snapshot = None  # noqa: SLF001
    try:
        return pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        inc._snapshot = snapshot  # noqa: SLF001


def write_atomic(path: Path, payload: bytes) -> None:
    """Write ``payload`` so a reader sees the old file or the new one, whole.

    :raise OSError: the directory cannot be written.
    """
    atomic_write_bytes(path, payload)


class BackgroundWriter:
    """Writes state files on one background thread, so the candle loop pays only the
    pickling (~0.3 ms for a 2000-candle window) and not the ~1 ms file write.

    Only the newest payload per path is kept: if a write is still pending when the next
    state arrives, the older one is skipped (a resume from any saved point is exact).  A
    state not yet written when the process dies is simply not there: the restart resumes
    from the previous file and re-processes one more candle.  Pending writes are flushed
    at interpreter exit (freqtrade's Ctrl-C / SIGTERM end normally).
    """

    def __init__(self) -> None:
        self._pending: dict[Path, bytes] = {}
        self._cond = threading.Condition()
        self._busy = False
        self._thread = threading.Thread(target=self._run, name="liq-state-writer", daemon=True)
        self._thread.start()
        atexit.register(self.flush)

    def submit(self, path: Path, payload: bytes) -> None:
        """Queue ``payload`` for ``path`` (replacing a pending one)."""
        with self._cond:
            self._pending[path] = payload
            self._cond.notify_all()

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until every queued state is written.

        :return: False if ``timeout_s`` passed first.
        """
        with self._cond:
            return self._cond.wait_for(
                lambda: not self._pending and not self._busy, timeout=timeout_s
            )

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._pending))
                path, payload = self._pending.popitem()
                self._busy = True
            try:
                write_atomic(path, payload)
            except Exception:  # noqa: BLE001 - a full disk must not stop the bot
                logger.exception("could not write the feature state %s", path)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


def load(
    path: Path, pair: str, timeframe: str, config: ModelConfig, candles: pd.DataFrame
) -> tuple[IncrementalFeatures | None, str]:
    """The saved state for ``pair`` if it can continue on ``candles``.

    :param candles: the first frame the restarted bot got.
    :return: ``(state, "resumed …")`` or ``(None, why not)``; ``why`` is one log line.
    """
    if not path.exists():
        return None, f"no saved state at {path}"
    try:
        with path.open("rb") as fh:
            record = pickle.load(fh)  # noqa: S301 - our own file, in the bot's user_data_dir
        fp, inc = record.fingerprint, record.incremental
        if not isinstance(fp, Fingerprint) or not isinstance(inc, IncrementalFeatures):
            raise TypeError(f"not a state record: {type(record).__name__}")
    except Exception as exc:  # noqa: BLE001 - corrupt / foreign / old file: rebuild
        logger.warning(
            "%s: saved feature state %s unreadable (%s: %s); rebuilding the book.",
            pair,
            path,
            type(exc).__name__,
            exc,
        )
        return None, f"unreadable state file {path}"
    if fp.version != __version__:
        return None, f"saved by liq_signals {fp.version}, running {__version__}"
    if (fp.pair, fp.timeframe) != (pair, timeframe):
        return None, f"saved for {fp.pair} {fp.timeframe}"
    if fp.config != asdict(config):
        changed = sorted(k for k, v in asdict(config).items() if fp.config.get(k) != v)
        return None, f"model config changed ({', '.join(changed) or 'fields'})"
    if not fp.last_time_s or inc.last_time_s != fp.last_time_s[-1]:
        return None, "state and fingerprint disagree"
    times = _times_s(candles)
    want = np.asarray(fp.last_time_s, dtype=np.int64)
    pos = np.searchsorted(times, want)
    if (pos >= len(times)).any() or not np.array_equal(
        times[np.minimum(pos, len(times) - 1)], want
    ):
        return None, (
            f"the last saved candle {pd.Timestamp(want[-1], unit='s', tz='UTC')} "
            f"is not in the new frame"
        )
    ohlcv = np.column_stack([candles[c].to_numpy(dtype=np.float64)[pos] for c in _OHLCV])
    if not np.array_equal(ohlcv, np.asarray(fp.last_ohlcv, dtype=np.float64)):
        return None, "a saved candle differs in the new frame (history rewritten)"
    last = pd.Timestamp(int(fp.last_time_s[-1]), unit="s", tz="UTC")
    return inc, f"resumed the saved book at {last} ({int((times > want[-1]).sum())} new candles)"
