"""The replay clock: the emulator's idea of "now".

``now = start + (wall elapsed) x speed``.  Every endpoint serves only what was known at
that instant, so a dry-run against the emulator sees recorded candles arrive as if live
(60x: a 5m candle every 5 s).  Without a start the clock is the real wall clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class ReplayClock:
    """Thread-safe replay clock in epoch milliseconds.

    :param start_ms: replay start (epoch ms); ``None`` = follow the real clock
    :param speed: replay seconds per wall second (> 0)
    :param wall: monotonic wall clock in seconds (injectable for tests of the clock itself)
    :raise ValueError: if ``speed`` is not positive
    """

    def __init__(
        self,
        start_ms: int | None = None,
        speed: float = 1.0,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"replay speed must be > 0, got {speed}")
        self._wall = wall
        self._lock = threading.Lock()
        self._speed = float(speed)
        self._anchor_wall = wall()
        self._anchor_ms = int(time.time() * 1000) if start_ms is None else int(start_ms)
        self.replaying = start_ms is not None

    @property
    def speed(self) -> float:
        return self._speed

    def now_ms(self) -> int:
        """Current replay time in epoch milliseconds."""
        with self._lock:
            return self._anchor_ms + int((self._wall() - self._anchor_wall) * self._speed * 1000)

    def set(self, now_ms: int, speed: float | None = None) -> None:
        """Jump to ``now_ms`` (and optionally change speed); time keeps advancing from there."""
        with self._lock:
            if speed is not None:
                if not speed > 0:
                    raise ValueError(f"replay speed must be > 0, got {speed}")
                self._speed = float(speed)
            self._anchor_wall = self._wall()
            self._anchor_ms = int(now_ms)
            self.replaying = True
