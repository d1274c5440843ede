"""A process clock that follows the emulator's replay clock (offline dry-run replays only).

freqtrade's bot decides everything from its own clock: which candle is closed, whether a
pair's history is outdated (no signal when the last candle is older than two candles), the
``since`` of candle requests, trade open/close dates, the loop throttle.  When the loopback
emulator replays recorded data (``--replay-start``, ``--speed``), the bot must therefore
live in the replayed time too, or it refuses every signal as outdated.

:func:`install` makes this interpreter's wall clock run at ``speed`` from ``start``:
``time.time``/``time.time_ns`` and ``datetime.now``/``utcnow`` answer replay time, and
``time.sleep`` and ``asyncio.sleep`` sleep ``1/speed`` of what they are asked, so
freqtrade's "sleep until the next candle" lasts one replayed candle.  ``time.monotonic``
and the event loop's clock stay real: network time-outs are real seconds.  freqtrade's
modules are imported first and their ``from datetime import datetime`` / ``from time
import time`` names rebound.

Never used outside an offline replay: :mod:`liq_signals.offline.replay_launch` installs it only
when the emulator it is pointed at says it is replaying.
"""

from __future__ import annotations

import datetime as _dt
import json
import time as _time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, SupportsIndex

_real_datetime = _dt.datetime
_real_time = _time.time
_real_time_ns = _time.time_ns
_real_sleep = _time.sleep
_monotonic = _time.monotonic

CLOCK_PATH = "/__emulator__/clock"


@dataclass(frozen=True)
class ReplayClockState:
    """Where replay time was at a monotonic instant, and how fast it runs.

    :param anchor_s: replay time (epoch seconds) at ``anchor_monotonic``
    :param anchor_monotonic: ``time.monotonic()`` when ``anchor_s`` was read
    :param speed: replay seconds per real second
    """

    anchor_s: float
    anchor_monotonic: float
    speed: float

    def now(self) -> float:
        """Replay time, epoch seconds."""
        return self.anchor_s + (_monotonic() - self.anchor_monotonic) * self.speed


_state: ReplayClockState | None = None


def _fake_time() -> float:
    return _state.now() if _state is not None else _real_time()


def _fake_time_ns() -> int:
    return int(_fake_time() * 1e9) if _state is not None else _real_time_ns()


def _fake_sleep(seconds: float | SupportsIndex) -> None:  # time.sleep's signature
    _real_sleep(float(seconds) / _state.speed if _state is not None else seconds)


# asyncio.sleep before install() replaced it (asyncio is imported only by install()).
_real_async_sleep: Callable[..., Awaitable[Any]] | None = None


async def _fake_async_sleep(delay: float, result=None):  # noqa: ANN001, ANN201 - asyncio's
    assert _real_async_sleep is not None  # install() sets it before swapping asyncio.sleep
    return await _real_async_sleep(delay / _state.speed if _state is not None else delay, result)


class _FakeDatetimeMeta(type):
    """``isinstance(real_datetime_obj, datetime.datetime)`` stays true after the swap."""

    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, _real_datetime)

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, _real_datetime)


class FakeDatetime(_real_datetime, metaclass=_FakeDatetimeMeta):
    """``datetime`` whose ``now``/``utcnow`` answer replay time (real objects returned)."""

    @classmethod
    def now(cls, tz: _dt.tzinfo | None = None) -> _real_datetime:  # type: ignore[override]
        return _real_datetime.fromtimestamp(_fake_time(), tz)

    @classmethod
    def utcnow(cls) -> _real_datetime:  # type: ignore[override]
        return _real_datetime.fromtimestamp(_fake_time(), _dt.UTC).replace(tzinfo=None)


#: freqtrade's modules that hold its clock (imported before the clock is swapped in, so that
#: class annotations such as SQLAlchemy's ``Mapped[datetime]`` see the real class).
FREQTRADE_MODULES = (
    "freqtrade.main",
    "freqtrade.commands.trade_commands",
    "freqtrade.worker",
    "freqtrade.freqtradebot",
    "freqtrade.exchange",
    "freqtrade.exchange.exchange",
    "freqtrade.exchange.binance",
    "freqtrade.strategy.interface",
    "freqtrade.persistence",
    "freqtrade.data.dataprovider",
    "freqtrade.rpc",
    "freqtrade.plugins.pairlistmanager",
    "freqtrade.plugins.protectionmanager",
    "freqtrade.wallets",
)


def _rebind(module_prefixes: tuple[str, ...]) -> int:
    """Point the clock names the modules bound at import (``from datetime import
    datetime``, ``from time import time``) at the replay clock; returns how many."""
    import sys

    count = 0
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(module_prefixes):
            continue
        for attr, value in list(vars(module).items()):
            if value is _real_datetime:
                setattr(module, attr, FakeDatetime)
            elif value is _real_time:
                setattr(module, attr, _fake_time)
            elif value is _real_sleep:
                setattr(module, attr, _fake_sleep)
            else:
                continue
            count += 1
    return count


def install(
    start_s: float, speed: float, module_prefixes: tuple[str, ...] = ("freqtrade",)
) -> ReplayClockState:
    """Make this process's clock replay time, starting now at ``start_s``.

    ``time.time``/``time.time_ns``/``time.sleep`` are replaced for everyone; ``datetime``
    only inside the modules named by ``module_prefixes`` (imported first): swapping
    ``datetime.datetime`` itself breaks C extensions and SQLAlchemy's annotations.

    :param start_s: replay time (epoch seconds) to answer right now
    :param speed: replay seconds per real second (> 0)
    :param module_prefixes: modules whose clock names are rebound
    :return: the clock state
    :raise ValueError: non-positive speed
    """
    global _state, _real_async_sleep
    if not speed > 0:
        raise ValueError(f"replay speed must be > 0, got {speed}")
    import asyncio

    if _real_async_sleep is None:
        _real_async_sleep = asyncio.sleep
    if "freqtrade" in module_prefixes:
        prepare()
    _state = ReplayClockState(float(start_s), _monotonic(), float(speed))
    _time.time = _fake_time
    _time.time_ns = _fake_time_ns
    _time.sleep = _fake_sleep
    asyncio.sleep = _fake_async_sleep  # freqtrade's retry back-off between exchange calls
    _rebind(module_prefixes)
    return _state


def prepare() -> None:
    """Import freqtrade's modules with the real clock (slow: do it before reading the
    emulator's clock, or the replayed process starts behind it)."""
    import importlib

    for name in FREQTRADE_MODULES:
        importlib.import_module(name)


def installed() -> ReplayClockState | None:
    """The installed clock, or ``None`` when the process runs on real time."""
    return _state


def read_emulator_clock(url: str, timeout: float = 5.0) -> tuple[float, float]:
    """The emulator's replay time (epoch s) and speed, from its control endpoint.

    :param url: emulator base URL (``http://127.0.0.1:<port>``)
    :raise OSError: emulator unreachable
    """
    with urllib.request.urlopen(url.rstrip("/") + CLOCK_PATH, timeout=timeout) as r:
        body = json.loads(r.read())
    return float(body["now"]) / 1000.0, float(body["speed"])


def is_replaying(now_s: float, speed: float, tolerance_s: float = 120.0) -> bool:
    """True when the emulator's clock is not the real clock (replayed or accelerated)."""
    return speed != 1.0 or abs(now_s - _real_time()) > tolerance_s
