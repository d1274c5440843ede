"""Fault injection and the request log.

A fault is attached to an endpoint key (``"klines"``, ``"exchangeInfo"``,
``"openInterestHist"``, ``"ticker/24hr"``, ``"archive"`` … or ``"*"`` for all) and is
switched at run time, from Python (``emulator.faults.set(...)``) or over HTTP
(``POST /__emulator__/faults``) when the emulator runs in another process.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from typing import Any, Literal

FaultKind = Literal["error", "ratelimit", "teapot", "timeout", "stale", "duplicate"]
FAULT_KINDS: tuple[str, ...] = ("error", "ratelimit", "teapot", "timeout", "stale", "duplicate")
ANY_ENDPOINT = "*"


@dataclass(frozen=True)
class Fault:
    """What to do to requests of one endpoint.

    :param kind: ``error`` (HTTP ``status``, default 503), ``ratelimit`` (429 with
        ``Retry-After: retry_after``), ``teapot`` (418, Binance's IP ban, with Retry-After),
        ``timeout`` (hold the connection ``hold_s`` seconds, then answer normally),
        ``stale`` (serve data as of ``frozen_ms``; the endpoint's clock stops),
        ``duplicate`` (every candle/row of list answers sent twice)
    :param times: apply to this many requests, then expire (``None`` = unlimited)
    :param duration_s: expire this many wall seconds after being set (``None`` = never)
    :param status: HTTP status for ``error``
    :param retry_after: seconds for the ``Retry-After`` header of 429/418
    :param hold_s: how long ``timeout`` holds the connection
    :param frozen_ms: replay time served by ``stale`` (filled with "now" when set if None)
    :raise ValueError: on an unknown kind or non-positive counts
    """

    kind: FaultKind
    times: int | None = None
    duration_s: float | None = None
    status: int = 503
    retry_after: int = 1
    hold_s: float = 30.0
    frozen_ms: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {FAULT_KINDS}")
        if self.times is not None and self.times < 1:
            raise ValueError(f"fault times must be >= 1, got {self.times}")
        if self.duration_s is not None and self.duration_s <= 0:
            raise ValueError(f"fault duration_s must be > 0, got {self.duration_s}")
        if self.kind == "error" and not 500 <= self.status <= 599:
            raise ValueError(f"error faults are HTTP 5xx, got {self.status}")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        """Build from the JSON body of ``POST /__emulator__/faults`` (minus ``endpoint``)."""
        allowed = set(cls.__dataclass_fields__)
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields {sorted(unknown)}; allowed {sorted(allowed)}")
        return cls(**data)


@dataclass
class _Active:
    fault: Fault
    remaining: int | None
    expires_at: float | None
    hits: int = 0


@dataclass(frozen=True)
class RequestRecord:
    """One served request: what was asked and what the emulator answered."""

    time: float
    method: str
    path: str
    endpoint: str
    params: dict[str, str]
    status: int
    fault: str | None = None


class FaultBook:
    """The active faults, per endpoint key, and the request log.  Thread-safe."""

    def __init__(self, log_limit: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, _Active] = {}
        self._log: list[RequestRecord] = []
        self._log_limit = log_limit

    def set(self, endpoint: str, fault: Fault, now_ms: int | None = None) -> None:
        """Attach ``fault`` to ``endpoint`` (replacing any previous one).

        :param now_ms: replay time to freeze at for a ``stale`` fault without ``frozen_ms``
        """
        if fault.kind == "stale" and fault.frozen_ms is None:
            if now_ms is None:
                raise ValueError("stale fault needs frozen_ms or the current replay time")
            fault = Fault(**{**asdict(fault), "frozen_ms": int(now_ms)})
        expires = None if fault.duration_s is None else time.monotonic() + fault.duration_s
        with self._lock:
            self._faults[endpoint] = _Active(fault, fault.times, expires)

    def clear(self, endpoint: str | None = None) -> None:
        """Remove the fault of ``endpoint``, or all faults."""
        with self._lock:
            if endpoint is None:
                self._faults.clear()
            else:
                self._faults.pop(endpoint, None)

    def active(self) -> dict[str, dict[str, Any]]:
        """Currently active faults (for the control endpoint)."""
        with self._lock:
            self._expire()
            return {
                k: {**asdict(a.fault), "remaining": a.remaining, "hits": a.hits}
                for k, a in self._faults.items()
            }

    def take(self, endpoint: str) -> Fault | None:
        """The fault to apply to one request of ``endpoint`` (consuming one of ``times``)."""
        with self._lock:
            self._expire()
            key = endpoint if endpoint in self._faults else ANY_ENDPOINT
            active = self._faults.get(key)
            if active is None:
                return None
            active.hits += 1
            if active.remaining is not None:
                active.remaining -= 1
                if active.remaining <= 0:
                    del self._faults[key]
            return active.fault

    def _expire(self) -> None:
        now = time.monotonic()
        for key in [k for k, a in self._faults.items() if a.expires_at and a.expires_at <= now]:
            del self._faults[key]

    def record(self, rec: RequestRecord) -> None:
        with self._lock:
            self._log.append(rec)
            if len(self._log) > self._log_limit:
                del self._log[: len(self._log) - self._log_limit]

    def requests(self, endpoint: str | None = None) -> list[RequestRecord]:
        """The request log, oldest first, optionally only one endpoint key."""
        with self._lock:
            return [r for r in self._log if endpoint is None or r.endpoint == endpoint]

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()
