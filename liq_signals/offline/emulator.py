"""Loopback Binance USDⓈ-M emulator: a datadir served as Binance's public REST API.

Run it in a thread (tests, :mod:`liq_signals.offline.runner`)::

    with Emulator(Path("user_data/data/binance"), replay_start="2026-01-10", speed=60) as emu:
        emu.url            # http://127.0.0.1:<port>
        emu.now_ms()       # the replay clock
        emu.faults.set("klines", Fault("error", status=503, times=2))

or as a process: ``python -m liq_signals.offline.emulator --datadir user_data/data/binance``
(it prints ``listening on http://127.0.0.1:<port>`` and serves until killed).  A process is
controlled over HTTP under ``/__emulator__/`` (see docs/offline.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import mimetypes
import signal
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pandas as pd

from liq_signals.offline.binance_api import ApiError, BinanceFuturesApi
from liq_signals.offline.clock import ReplayClock
from liq_signals.offline.faults import Fault, FaultBook, RequestRecord
from liq_signals.offline.market_data import MarketData

logger = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
CONTROL_PREFIX = "/__emulator__/"
ARCHIVE_PREFIX = "/data/"
ARCHIVE_KEY = "archive"
# path prefixes of ccxt's Binance URL map that the emulator answers (futures public API)
FAPI_PREFIXES = ("/fapi/v1/", "/fapi/v2/", "/fapi/v3/", "/futures/data/")
# other product lines: ccxt only asks them for markets; answer "no markets"
EMPTY_MARKETS = {
    "/api/v3/exchangeInfo": {"timezone": "UTC", "symbols": []},
    "/dapi/v1/exchangeInfo": {"timezone": "UTC", "symbols": []},
    "/eapi/v1/exchangeInfo": {
        "timezone": "UTC",
        "optionSymbols": [],
        "optionContracts": [],
        "optionAssets": [],
    },
}


def parse_time_ms(value: str | int | float | pd.Timestamp | None) -> int | None:
    """ISO date/time (UTC if no zone), ``pd.Timestamp`` or epoch ms -> epoch ms."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return int(value)
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.value // 1_000_000)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    emulator: Emulator


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Keep-alive responses are written in two parts; with Nagle on, each waits ~40 ms for
    # the client's delayed ACK.  Measured: 45 ms -> 1.6 ms per request.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        logger.debug("emulator %s", format % args)

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self.server.emulator._dispatch(self, "GET")

    def do_POST(self) -> None:  # noqa: N802
        self.server.emulator._dispatch(self, "POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self.server.emulator._dispatch(self, "DELETE")

    def do_PUT(self) -> None:  # noqa: N802
        self.server.emulator._dispatch(self, "PUT")

    # called with the status just before a response goes out, so the request log is
    # complete by the time the client sees the answer
    on_status: Any = None

    def send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None):
        if self.on_status is not None:
            self.on_status(status)
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. after a timeout fault)

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None):
        self.send(status, json.dumps(payload).encode(), "application/json", headers)


class Emulator:
    """The emulator server.  Binds 127.0.0.1 only.

    :param datadir: freqtrade exchange datadir (the folder holding ``futures/``); ``None``
        serves no pairs (only BTCUSDT in exchangeInfo, and the archive route)
    :param replay_start: replay "now" at start (ISO string, Timestamp or epoch ms);
        ``None`` follows the real clock
    :param speed: replay seconds per wall second
    :param port: TCP port, 0 = any free port
    :param archive_root: when set, ``GET /data/<path>`` serves ``archive_root/data/<path>``
        (a local mirror of data.binance.vision)
    :param host: must be a loopback address
    :raise ValueError: for a non-loopback host
    :raise FileNotFoundError: when ``datadir`` does not exist
    """

    def __init__(
        self,
        datadir: Path | None,
        *,
        replay_start: str | int | pd.Timestamp | None = None,
        speed: float = 1.0,
        port: int = 0,
        archive_root: Path | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        if host not in LOOPBACK_HOSTS:
            raise ValueError(f"the emulator binds loopback only, not {host!r}")
        self.market = MarketData(None if datadir is None else Path(datadir))
        self.api = BinanceFuturesApi(self.market)
        self.clock = ReplayClock(parse_time_ms(replay_start), speed)
        self.faults = FaultBook()
        self.archive_root = None if archive_root is None else Path(archive_root).resolve()
        self._host, self._port = host, port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> Emulator:
        """Bind and serve in a daemon thread; returns self."""
        server = _Server((self._host, self._port), _Handler)
        server.emulator = self
        self._server = server
        self._stopping.clear()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="liq-signals-emulator",
            daemon=True,
        )
        self._thread.start()
        logger.info("emulator for %s listening on %s", self.market.datadir, self.url)
        return self

    def stop(self) -> None:
        """Stop serving; requests held by a timeout fault are released."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("emulator not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def now_ms(self) -> int:
        """The replay clock (what ``/fapi/v1/time`` answers)."""
        return self.clock.now_ms()

    def set_fault(self, endpoint: str, fault: Fault) -> None:
        """Attach a fault to an endpoint key (``"*"`` = every endpoint)."""
        self.faults.set(endpoint, fault, now_ms=self.now_ms())

    def requests(self, endpoint: str | None = None) -> list[RequestRecord]:
        """The request log (optionally one endpoint key)."""
        return self.faults.requests(endpoint)

    # ---------------------------------------------------------------- dispatch
    def _dispatch(self, h: _Handler, method: str) -> None:
        parts = urlsplit(h.path)
        path = parts.path
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        if path.startswith(CONTROL_PREFIX):
            self._control(h, method, path[len(CONTROL_PREFIX) :], params)
            return
        endpoint, route = self._route(path)
        fault = self.faults.take(endpoint) if endpoint else None
        h.on_status = lambda status: self.faults.record(
            RequestRecord(
                time=time.time(),
                method=method,
                path=path,
                endpoint=endpoint or "",
                params=params,
                status=status,
                fault=fault.kind if fault else None,
            )
        )
        try:
            self._serve(h, method, path, params, endpoint, route, fault)
        finally:
            h.on_status = None

    def _route(self, path: str) -> tuple[str | None, Any]:
        if path.startswith(ARCHIVE_PREFIX):
            return ARCHIVE_KEY, None
        if path in EMPTY_MARKETS:
            return "exchangeInfo", EMPTY_MARKETS[path]
        for prefix in FAPI_PREFIXES:
            if path.startswith(prefix):
                name = path[len(prefix) :]
                if name in self.api.routes:
                    return name, self.api.routes[name]
        return None, None

    def _serve(
        self,
        h: _Handler,
        method: str,
        path: str,
        params: dict[str, str],
        endpoint: str | None,
        route: Any,
        fault: Fault | None,
    ) -> int:
        if endpoint is None:
            h.send(404, b"<html><body><h2>404 Not found</h2></body></html>", "text/html")
            return 404
        if method != "GET":
            h.send_json(405, {"code": -1000, "msg": f"emulator: {method} not supported"})
            return 405
        now = self.now_ms()
        if fault is not None:
            status, now = self._apply_fault(h, fault, now)
            if status is not None:
                return status
        if endpoint == ARCHIVE_KEY:
            return self._serve_archive(h, path)
        if isinstance(route, dict):
            payload: Any = route
        else:
            try:
                payload = route(params, now)
            except ApiError as e:
                h.send_json(e.status, e.body())
                return e.status
            except Exception as e:  # noqa: BLE001 - report any bug as Binance's -1000
                logger.exception("emulator failed on %s %s", path, params)
                h.send_json(500, {"code": -1000, "msg": f"emulator error: {e}"})
                return 500
        if fault is not None and fault.kind == "duplicate" and isinstance(payload, list):
            payload = [row for row in payload for _ in (0, 1)]
        h.send_json(200, payload)
        return 200

    def _apply_fault(self, h: _Handler, fault: Fault, now: int) -> tuple[int | None, int]:
        """Play ``fault``: send its failure and return its status, or return None to answer
        normally (after a timeout's hold; with a stale fault's frozen clock)."""
        if fault.kind == "error":
            # what Binance's gateway sends when the backend is down (an HTML page, not a
            # JSON error code), so ccxt raises ExchangeNotAvailable as in production
            page = f"<html><body><h1>{fault.status} {_phrase(fault.status)}</h1></body></html>"
            h.send(fault.status, page.encode(), "text/html")
            return fault.status, now
        if fault.kind in ("ratelimit", "teapot"):
            status = 429 if fault.kind == "ratelimit" else 418
            msg = (
                "Too many requests; current limit of IP(127.0.0.1) request weight per 1 "
                "minute is 2400. Please use WebSocket Streams for live updates to avoid "
                "bans."
                if status == 429
                else f"Way too many requests; IP(127.0.0.1) banned until "
                f"{now + fault.retry_after * 1000}. Please use the websocket for live "
                f"updates to avoid bans."
            )
            h.send_json(
                status, {"code": -1003, "msg": msg}, {"Retry-After": str(fault.retry_after)}
            )
            return status, now
        if fault.kind == "timeout":
            self._stopping.wait(fault.hold_s)
        if fault.kind == "stale" and fault.frozen_ms is not None:
            now = fault.frozen_ms
        return None, now

    def _serve_archive(self, h: _Handler, path: str) -> int:
        if self.archive_root is None:
            h.send(404, b"archive not configured", "text/plain")
            return 404
        target = (self.archive_root / path.lstrip("/")).resolve()
        if not target.is_relative_to(self.archive_root / "data") or not target.is_file():
            h.send(
                404,
                b'<?xml version="1.0"?><Error><Code>NoSuchKey</Code></Error>',
                "application/xml",
            )
            return 404
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        h.send(200, target.read_bytes(), ctype)
        return 200

    def _control(self, h: _Handler, method: str, what: str, params: dict[str, str]) -> None:
        try:
            body = self._read_json(h) if method in ("POST", "PUT") else {}
            if what == "faults" and method == "GET":
                h.send_json(200, self.faults.active())
            elif what == "faults" and method in ("POST", "PUT"):
                endpoint = body.pop("endpoint", None)
                if not endpoint:
                    raise ValueError("fault needs an 'endpoint' (e.g. 'klines' or '*')")
                self.set_fault(endpoint, Fault.from_json(body))
                h.send_json(200, self.faults.active())
            elif what == "faults" and method == "DELETE":
                self.faults.clear(params.get("endpoint"))
                h.send_json(200, self.faults.active())
            elif what == "requests" and method == "GET":
                recs = self.faults.requests(params.get("endpoint"))
                h.send_json(200, [r.__dict__ for r in recs])
            elif what == "requests" and method == "DELETE":
                self.faults.clear_log()
                h.send_json(200, [])
            elif what == "clock" and method == "GET":
                h.send_json(200, {"now": self.now_ms(), "speed": self.clock.speed})
            elif what == "clock" and method in ("POST", "PUT"):
                self.clock.set(parse_time_ms(body["now"]) or 0, body.get("speed"))
                h.send_json(200, {"now": self.now_ms(), "speed": self.clock.speed})
            else:
                h.send_json(404, {"error": f"no control {method} {what}"})
        except (ValueError, TypeError, KeyError) as e:
            h.send_json(400, {"error": str(e)})

    @staticmethod
    def _read_json(h: _Handler) -> dict[str, Any]:
        n = int(h.headers.get("Content-Length") or 0)
        data = json.loads(h.rfile.read(n) or b"{}")
        if not isinstance(data, dict):
            raise ValueError("control body must be a JSON object")
        return data


def main(argv: list[str] | None = None) -> int:
    """Serve a datadir until SIGTERM/SIGINT (``python -m liq_signals.offline.emulator``)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--datadir", type=Path, required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--replay-start", default=None)
    p.add_argument("--speed", type=float, default=1.0)
    p.add_argument("--archive-root", type=Path, default=None)
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    emu = Emulator(
        a.datadir,
        replay_start=a.replay_start,
        speed=a.speed,
        port=a.port,
        archive_root=a.archive_root,
    ).start()
    print(f"listening on {emu.url}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
