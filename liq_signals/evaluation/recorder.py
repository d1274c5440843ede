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
* a day's file that is not UTF-8 when reopened (damaged on disk, edited by hand) is moved
  aside as ``<name>.csv.undecodable-<epoch s>`` (logged with the fix) and the day goes on
  in a new file: neither a traceback nor a stop, and the bytes are kept for inspection
  (readers take ``*.csv`` only, so they skip it);
* events already on disk or seen recently are not written twice (streams may repeat an
  event around a reconnect);
* a message that cannot be handled for any reason (not JSON, not the documented schema, a
  timestamp out of range, ...) is skipped and counted as malformed, never fatal; the
  connection is re-opened with exponential back-off after any drop;
* a write that fails (disk full, I/O error) is undone to the last whole line and retried
  with exponential back-off while the connection stays open (no reconnect storm); an
  event's line is written once, and it counts as written only once it is on disk (dedupe
  key: time, pair, side, price, quantity);
* optional retention: daily files older than ``retention_days`` or beyond a total of
  ``retention_mb`` (oldest first) are deleted when a new day's file is opened.

Files: ``<datadir>/liquidations/<exchange>/<BTC_USDT_USDT>-<YYYY-MM-DD>.csv`` with the
columns of :data:`liq_signals.evaluation.realized.RECORD_COLUMNS`; the day is the event's
UTC date.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

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
_DAY_FILE = re.compile(r"-(\d{4}-\d{2}-\d{2})\.csv$")


def _day(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)


@dataclass(frozen=True)
class RecorderConfig:
    """What to record and where.

    :param exchange: ``binance`` or ``bybit``
    :param pairs: freqtrade futures pairs (``BTC/USDT:USDT``) or symbols (``BTCUSDT``)
    :param datadir: freqtrade datadir; files go under ``liquidations/<exchange>/``
    :param url: stream base url; ``None`` = the exchange's public host
    :param backoff_initial: first reconnect (and write retry) delay in seconds (doubles per
        failure)
    :param backoff_max: reconnect (and write retry) delay ceiling in seconds
    :param retention_days: delete daily files more than this many days older than the
        newest event's day (None: keep all)
    :param retention_mb: delete the oldest daily files while the folder holds more than
        this many megabytes (None: no limit; the files being written are never deleted)
    """

    exchange: str
    pairs: tuple[str, ...]
    datadir: Path
    url: str | None = None
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    retention_days: float | None = None
    retention_mb: float | None = None

    def __post_init__(self) -> None:
        if self.exchange not in PARSERS:
            raise ConfigError(f"exchange must be one of {sorted(PARSERS)}, got {self.exchange!r}")
        if not self.pairs:
            raise ConfigError("give at least one pair to record")
        if not 0 < self.backoff_initial <= self.backoff_max:
            raise ConfigError("need 0 < backoff_initial <= backoff_max")
        for name in ("retention_days", "retention_mb"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ConfigError(f"{name} must be > 0, got {value}")

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
    write_errors: int = 0
    pruned_files: int = 0
    files: set[str] = field(default_factory=set)


class DailyFiles:
    """Append-only writer of the daily CSV files, with duplicate suppression.

    Lines go straight to the file descriptor (no user-space buffer: a failed write cannot
    leave a copy behind to be flushed later); a write that fails is cut back to the last
    whole line, so the caller may simply retry it.

    :param retention_days: see :class:`RecorderConfig`.
    :param retention_mb: see :class:`RecorderConfig`.
    """

    def __init__(
        self,
        folder: Path,
        retention_days: float | None = None,
        retention_mb: float | None = None,
    ) -> None:
        self._folder = folder
        self._fds: dict[tuple[str, str], int] = {}
        self._recent: deque[tuple] = deque(maxlen=DEDUP_MEMORY)
        self._seen: set[tuple] = set()
        self._retention_days = retention_days
        self._retention_bytes = None if retention_mb is None else retention_mb * 1e6
        #: files deleted by the retention rule
        self.pruned = 0

    def path_for(self, event: LiquidationEvent) -> Path:
        """The event's daily file.

        :raise ValueError: (or ``OverflowError``/``OSError``) the time is out of range.
        """
        day = datetime.fromtimestamp(event.time_ms / 1000, tz=UTC).strftime("%Y-%m-%d")
        return self._folder / f"{pair_to_filename(event.pair)}-{day}.csv"

    def write(self, event: LiquidationEvent) -> Path | None:
        """Append one event; ``None`` when it was a repeat.

        :raise OSError: the line could not be written (nothing of it is left in the file).
        """
        path = self.path_for(event)
        fd = self._open(path, event.pair)
        if event.key() in self._seen:
            return None
        line = (
            f"{event.time_ms},{event.pair},{event.side},{event.price!r},{event.quantity!r},"
            f"{event.notional_usd!r},{event.exchange}\n"
        )
        self._append(fd, line.encode("utf-8"))
        self._remember(event.key())
        return path

    def close(self) -> None:
        for fd in self._fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds.clear()

    @staticmethod
    def _append(fd: int, data: bytes) -> None:
        """Write all of ``data`` at the end of ``fd``, or nothing: a failure (disk full)
        truncates the file back to its size before."""
        start = os.lseek(fd, 0, os.SEEK_END)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)
            raise

    def _remember(self, key: tuple) -> None:
        if len(self._recent) == self._recent.maxlen:
            self._seen.discard(self._recent[0])
        self._recent.append(key)
        self._seen.add(key)

    def _open(self, path: Path, pair: str) -> int:
        fd = self._fds.get((pair, path.name))
        if fd is not None:
            return fd
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > 0:
            try:
                self._repair_tail(path)
                self._load_keys(path)
            except UnicodeDecodeError as exc:
                self._quarantine(path, exc)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if os.fstat(fd).st_size == 0:
                self._append(fd, (",".join(RECORD_COLUMNS) + "\n").encode("utf-8"))
        except OSError:
            os.close(fd)
            raise
        self._fds[(pair, path.name)] = fd
        while len(self._fds) > MAX_OPEN_FILES:  # a long run must not leak descriptors
            oldest = next(iter(self._fds))
            os.close(self._fds.pop(oldest))
        self.prune(path)
        return fd

    def prune(self, newest: Path) -> None:
        """Apply the retention rule (a new day's file was just opened): delete daily files
        more than ``retention_days`` older than ``newest``'s day, then the oldest ones
        while the folder holds more than ``retention_mb``.  ``newest`` itself is kept; an
        older file still open is closed first."""
        if self._retention_days is None and self._retention_bytes is None:
            return
        match = _DAY_FILE.search(newest.name)
        if match is None:
            return
        newest_day = _day(match.group(1))
        files = sorted(
            (_day(m.group(1)), p.name, p)
            for p in self._folder.iterdir()
            if (m := _DAY_FILE.search(p.name)) is not None and p.name != newest.name
        )
        doomed = []
        if self._retention_days is not None:
            limit = self._retention_days * 86400
            doomed = [f for f in files if (newest_day - f[0]).total_seconds() > limit]
        if self._retention_bytes is not None:
            total = newest.stat().st_size + sum(f[2].stat().st_size for f in files)
            total -= sum(f[2].stat().st_size for f in doomed)
            for f in files:
                if total <= self._retention_bytes:
                    break
                if f not in doomed:
                    doomed.append(f)
                    total -= f[2].stat().st_size
        for _, name, path in doomed:
            for key in [k for k in self._fds if k[1] == name]:
                with contextlib.suppress(OSError):
                    os.close(self._fds.pop(key))
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                self.pruned += 1
                logger.info("retention: deleted %s", path)

    @staticmethod
    def _quarantine(path: Path, exc: UnicodeDecodeError) -> None:
        """Move a file that is not UTF-8 aside (a new one is started in its place)."""
        aside = path.with_name(f"{path.name}.undecodable-{int(time.time())}")
        os.replace(path, aside)
        logger.error(
            "%s: not UTF-8 (%s); moved to %s, recording goes on in a new file (inspect or "
            "delete the old one; it is not read as liquidations).",
            path,
            exc.reason,
            aside.name,
        )

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
        self._files = DailyFiles(config.folder, config.retention_days, config.retention_mb)
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
            self.stats.pruned_files = self._files.pruned
            logger.info(
                "recorder stopped: %d events written, %d duplicates dropped, "
                "%d malformed messages skipped, %d connections, %d write errors retried",
                self.stats.written,
                self.stats.duplicates,
                self.stats.malformed,
                self.stats.connections,
                self.stats.write_errors,
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
                await self._handle(raw)
        except WebSocketException as exc:
            logger.warning("connection dropped: %s", exc)
        finally:
            if pinger is not None:
                pinger.cancel()
        return received

    async def _handle(self, raw: str | bytes) -> None:
        """Parse one message and write its events; whatever goes wrong with the message
        itself is counted as malformed and skipped (the recorder must outlive any message)."""
        try:
            message = json.loads(raw)
            if isinstance(message, dict) and message.get("success") is False:
                logger.error("the exchange refused the subscription: %s", str(message)[:300])
            events = self._parse(message)
            for event in events:
                self._files.path_for(event)  # a time out of range fails here, not on disk
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop the recorder
            self._malformed(exc)
            return
        for event in events:
            if event.pair not in self._pairs:
                self.stats.ignored_pairs += 1
                continue
            path = await self._write(event)
            if path is None:
                self.stats.duplicates += 1
                continue
            self.stats.written += 1
            self.stats.files.add(str(path))
            if self._on_event is not None:
                self._on_event(event)

    def _malformed(self, exc: BaseException) -> None:
        self.stats.malformed += 1
        logger.warning(
            "skipped malformed message #%d: %s: %s",
            self.stats.malformed,
            type(exc).__name__,
            str(exc)[:200],
        )

    async def _write(self, event: LiquidationEvent) -> Path | None:
        """Write one event, retrying a failed write with exponential back-off; the
        connection stays open meanwhile (messages queue up in memory), so a full disk
        causes neither a reconnect storm nor a lost or repeated event."""
        delay = self.config.backoff_initial
        while True:
            try:
                return self._files.write(event)
            except OSError as exc:
                self.stats.write_errors += 1
                why = errno.errorcode.get(exc.errno or 0, "") if exc.errno else ""
                logger.warning(
                    "cannot write %s (%s%s); retrying in %.1fs",
                    self.config.folder,
                    why and f"{why}: ",
                    exc.strerror or exc,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.config.backoff_max)


async def _bybit_ping(ws: ClientConnection) -> None:
    with contextlib.suppress(WebSocketException, asyncio.CancelledError):
        while True:
            await asyncio.sleep(BYBIT_PING_SECONDS)
            await ws.send(json.dumps({"op": "ping"}))
