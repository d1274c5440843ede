"""Record public liquidation streams (Binance ``forceOrder``, Bybit ``allLiquidation``) to
daily CSV files, for validating the liquidation map against what really happened.

Why a plain websocket client and not ccxt pro's ``watch_liquidations``: ccxt loads the
markets over REST before it subscribes (another host to reach or emulate), keeps events
in a bounded cache that can drop some between two awaits, and hides the raw side field
whose meaning differs between the two exchanges.  The two streams are small, documented
JSON protocols, so the recorder talks to them directly with the ``websockets`` package
(installed with freqtrade) and parses them in :mod:`liq_signals.evaluation.realized`.

Guarantees:

* every received event is appended and flushed before the next message is read, so a
  crash (even ``kill -9``) loses nothing already received;
* a torn last line left by a crash mid-write is cut off when the file is reopened
  (logged with its size), so the files stay strictly parseable;
* events already on disk or seen recently are not written twice (streams may repeat an
  event around a reconnect);
* malformed messages are skipped and counted, never fatal; the connection is re-opened
  with exponential back-off after any drop.

Files: ``<datadir>/liquidations/<exchange>/<BTC_USDT_USDT>-<YYYY-MM-DD>.csv`` with the
columns of :data:`liq_signals.evaluation.realized.RECORD_COLUMNS`; the day is the event's
UTC date.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from liq_signals.errors import ConfigError
from liq_signals.evaluation.realized import (
    COL_PAIR,
    COL_PRICE,
    COL_QUANTITY,
    COL_SIDE,
    EXCHANGE_BINANCE,
    EXCHANGE_BYBIT,
    PARSERS,
    RECORD_COLUMNS,
    RECORD_TIME,
    LiquidationDataError,
    LiquidationEvent,
    pair_to_filename,
    pair_to_symbol,
    symbol_to_pair,
)

logger = logging.getLogger(__name__)

# Real public stream endpoints (user defaults only; tests always pass a loopback url).
# Binance split its futures websocket into /public, /market and /private entry points;
# forceOrder is a /market stream and the legacy unrouted host no longer carries it.
DEFAULT_URLS = {
    EXCHANGE_BINANCE: "wss://fstream.binance.com/market",
    EXCHANGE_BYBIT: "wss://stream.bybit.com/v5/public/linear",
}
BYBIT_PING_SECONDS = 20.0  # Bybit drops a v5 public connection without an app-level ping
DEDUP_MEMORY = 10_000  # recent event keys remembered to drop repeats after a reconnect
LIQUIDATIONS_SUBDIR = "liquidations"
MAX_OPEN_FILES = 32  # daily files kept open at once (older days are closed)


@dataclass(frozen=True)
class RecorderConfig:
    """What to record and where.

    :param exchange: ``binance`` or ``bybit``
    :param pairs: freqtrade futures pairs (``BTC/USDT:USDT``) or symbols (``BTCUSDT``)
    :param datadir: freqtrade datadir; files go under ``liquidations/<exchange>/``
    :param url: stream base url; ``None`` = the exchange's public host
    :param backoff_initial: first reconnect delay in seconds (doubles per failure)
    :param backoff_max: reconnect delay ceiling in seconds
    """

    exchange: str
    pairs: tuple[str, ...]
    datadir: Path
    url: str | None = None
    backoff_initial: float = 1.0
    backoff_max: float = 60.0

    def __post_init__(self) -> None:
        if self.exchange not in PARSERS:
            raise ConfigError(f"exchange must be one of {sorted(PARSERS)}, got {self.exchange!r}")
        if not self.pairs:
            raise ConfigError("give at least one pair to record")
        if not 0 < self.backoff_initial <= self.backoff_max:
            raise ConfigError("need 0 < backoff_initial <= backoff_max")

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(pair_to_symbol(p) for p in self.pairs)

    @property
    def folder(self) -> Path:
        return Path(self.datadir) / LIQUIDATIONS_SUBDIR / self.exchange

    def stream_url(self) -> str:
        """Full url to open: Binance takes its streams in the path (combined stream),
        Bybit in a subscribe message after connecting."""
        base = (self.url or DEFAULT_URLS[self.exchange]).rstrip("/")
        if self.exchange == EXCHANGE_BINANCE:
            streams = "/".join(f"{s.lower()}@forceOrder" for s in self.symbols)
            return f"{base}/stream?streams={streams}"
        return base


@dataclass
class RecorderStats:
    """Counters a run reports (and tests assert on)."""

    written: int = 0
    duplicates: int = 0
    malformed: int = 0
    ignored_pairs: int = 0
    connections: int = 0
    files: set[str] = field(default_factory=set)


class DailyFiles:
    """Append-and-flush writer of the daily CSV files, with duplicate suppression."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._handles: dict[tuple[str, str], IO[str]] = {}
        self._recent: deque[tuple] = deque(maxlen=DEDUP_MEMORY)
        self._seen: set[tuple] = set()

    def path_for(self, event: LiquidationEvent) -> Path:
        day = datetime.fromtimestamp(event.time_ms / 1000, tz=UTC).strftime("%Y-%m-%d")
        return self._folder / f"{pair_to_filename(event.pair)}-{day}.csv"

    def write(self, event: LiquidationEvent) -> Path | None:
        """Append one event and flush it to the OS; ``None`` when it was a repeat."""
        path = self.path_for(event)
        handle = self._open(path, event.pair)
        if event.key() in self._seen:
            return None
        handle.write(
            f"{event.time_ms},{event.pair},{event.side},{event.price!r},{event.quantity!r},"
            f"{event.notional_usd!r},{event.exchange}\n"
        )
        handle.flush()
        self._remember(event.key())
        return path

    def close(self) -> None:
        for handle in self._handles.values():
            with contextlib.suppress(OSError):
                handle.close()
        self._handles.clear()

    def _remember(self, key: tuple) -> None:
        if len(self._recent) == self._recent.maxlen:
            self._seen.discard(self._recent[0])
        self._recent.append(key)
        self._seen.add(key)

    def _open(self, path: Path, pair: str) -> IO[str]:
        handle = self._handles.get((pair, path.name))
        if handle is not None:
            return handle
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > 0:
            self._repair_tail(path)
            self._load_keys(path)
        fresh = not path.exists() or path.stat().st_size == 0
        handle = path.open("a", encoding="utf-8", newline="")
        if fresh:
            handle.write(",".join(RECORD_COLUMNS) + "\n")
            handle.flush()
        self._handles[(pair, path.name)] = handle
        while len(self._handles) > MAX_OPEN_FILES:  # a long run must not leak descriptors
            oldest = next(iter(self._handles))
            self._handles.pop(oldest).close()
        return handle

    @staticmethod
    def _repair_tail(path: Path) -> None:
        """Cut a torn last line (no newline: the process died mid-write)."""
        data = path.read_bytes()
        if data.endswith(b"\n"):
            return
        keep = data.rfind(b"\n") + 1
        with path.open("r+b") as fh:
            fh.truncate(keep)
            fh.flush()
            os.fsync(fh.fileno())
        logger.warning(
            "%s: cut a torn last line of %d bytes left by an interrupted write",
            path,
            len(data) - keep,
        )

    def _load_keys(self, path: Path) -> None:
        """Remember events already on disk, so a restarted recorder does not repeat them."""
        with path.open(encoding="utf-8") as fh:
            header = fh.readline().strip().split(",")
            if header != list(RECORD_COLUMNS):
                raise LiquidationDataError(
                    f"{path}: not a record-liquidations file (header {header}); move it away"
                )
            idx = {name: i for i, name in enumerate(header)}
            for line in fh:
                cells = line.rstrip("\n").split(",")
                if len(cells) != len(header):
                    continue
                with contextlib.suppress(ValueError):
                    self._remember(
                        (
                            int(cells[idx[RECORD_TIME]]),
                            cells[idx[COL_PAIR]],
                            cells[idx[COL_SIDE]],
                            float(cells[idx[COL_PRICE]]),
                            float(cells[idx[COL_QUANTITY]]),
                        )
                    )


class LiquidationRecorder:
    """Runs until cancelled (Ctrl-C / SIGTERM / task cancel), reconnecting as needed."""

    def __init__(
        self,
        config: RecorderConfig,
        on_event: Callable[[LiquidationEvent], None] | None = None,
    ) -> None:
        self.config = config
        self.stats = RecorderStats()
        self._parse = PARSERS[config.exchange]
        self._pairs = {symbol_to_pair(s) for s in config.symbols}
        self._files = DailyFiles(config.folder)
        self._on_event = on_event

    async def run(self) -> RecorderStats:
        """Record until cancelled; files are closed on the way out."""
        delay = self.config.backoff_initial
        url = self.config.stream_url()
        try:
            while True:
                try:
                    async with connect(url, open_timeout=10, max_queue=None) as ws:
                        self.stats.connections += 1
                        logger.info("connected to %s (connection %d)", url, self.stats.connections)
                        received = await self._session(ws)
                    if received:
                        delay = self.config.backoff_initial
                    logger.warning("%s closed the connection; reconnecting", url)
                except (OSError, TimeoutError, WebSocketException) as exc:
                    logger.warning("stream %s failed: %s; reconnecting in %.1fs", url, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.config.backoff_max)
        finally:
            self._files.close()
            logger.info(
                "recorder stopped: %d events written, %d duplicates dropped, "
                "%d malformed messages skipped, %d connections",
                self.stats.written,
                self.stats.duplicates,
                self.stats.malformed,
                self.stats.connections,
            )

    async def _session(self, ws: ClientConnection) -> bool:
        """Read one connection until it closes; True if any message arrived."""
        pinger = None
        if self.config.exchange == EXCHANGE_BYBIT:
            topics = [f"allLiquidation.{s}" for s in self.config.symbols]
            await ws.send(json.dumps({"op": "subscribe", "args": topics}))
            pinger = asyncio.create_task(_bybit_ping(ws))
        received = False
        try:
            async for raw in ws:
                received = True
                self._handle(raw)
        except WebSocketException as exc:
            logger.warning("connection dropped: %s", exc)
        finally:
            if pinger is not None:
                pinger.cancel()
        return received

    def _handle(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
            if isinstance(message, dict) and message.get("success") is False:
                logger.error("the exchange refused the subscription: %s", str(message)[:300])
            events = self._parse(message)
        except (ValueError, LiquidationDataError) as exc:
            self.stats.malformed += 1
            logger.warning(
                "skipped malformed message #%d: %s", self.stats.malformed, str(exc)[:200]
            )
            return
        for event in events:
            if event.pair not in self._pairs:
                self.stats.ignored_pairs += 1
                continue
            path = self._files.write(event)
            if path is None:
                self.stats.duplicates += 1
                continue
            self.stats.written += 1
            self.stats.files.add(str(path))
            if self._on_event is not None:
                self._on_event(event)


async def _bybit_ping(ws: ClientConnection) -> None:
    with contextlib.suppress(WebSocketException, asyncio.CancelledError):
        while True:
            await asyncio.sleep(BYBIT_PING_SECONDS)
            await ws.send(json.dumps({"op": "ping"}))
