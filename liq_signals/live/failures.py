"""Logging a failure that may repeat every candle, without pinning memory.

``logger.exception`` puts the traceback object on the log record; freqtrade keeps its last
1000 records in memory (``FTBufferingHandler``, for the API's log view), and a traceback
holds every frame's locals — whole candle and open-interest frames, ~1.6 MB per failed
update.  A failure repeated every candle (a bad row staying in the window for days) then
grew the bot's memory by hundreds of MB.  Here the traceback is rendered to text (the
record holds strings only), written in full the first time an error occurs, as one line
while the same error repeats, and a recovery is said once.
"""

from __future__ import annotations

import logging
import threading
import traceback


def error_text(exc: BaseException) -> str:
    """``Type: message`` of ``exc`` on one line."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


class FailureLog:
    """Per-key (pair, file) failure logging: full traceback text once per distinct error,
    one line per repetition, one line on recovery.  Thread-safe.

    :param logger: where to log.
    """

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self._last: dict[str, tuple[str, int]] = {}
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:
        # freqtrade's hyperopt pickles the strategy (and the provider on it) to its worker
        # processes: a lock cannot travel, a fresh one is made on arrival
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def failed(self, key: str, what: str, exc: BaseException) -> None:
        """Log that ``what`` failed for ``key`` with ``exc`` (call inside ``except``)."""
        text = error_text(exc)
        with self._lock:
            last, count = self._last.get(key, ("", 0))
            self._last[key] = (text, count + 1)
        if text == last:
            self.logger.error("%s: %s again (%d in a row): %s", key, what, count + 1, text)
            return
        trace = "".join(traceback.format_exception(exc)).rstrip()
        self.logger.error("%s: %s: %s\n%s", key, what, text, trace)

    def succeeded(self, key: str, what: str) -> None:
        """Say once that ``what`` works again for ``key`` after failures."""
        with self._lock:
            _, count = self._last.pop(key, ("", 0))
        if count:
            self.logger.info("%s: %s works again after %d failure(s).", key, what, count)

    def count(self, key: str) -> int:
        """Failures in a row for ``key`` (0 after a success)."""
        with self._lock:
            return self._last.get(key, ("", 0))[1]
