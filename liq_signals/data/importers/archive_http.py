"""HTTP downloads from a file archive: bounded retries with exponential back-off.

Kept apart from the importer so the policy (what is retried, how long to wait) is one small
thing to read and test.  ``requests`` comes with freqtrade; one session per thread keeps
connections alive across the many small daily files.
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from liq_signals.errors import ConfigError, FetchError

logger = logging.getLogger(__name__)

#: Statuses worth retrying: server errors, rate limits (429) and Binance's IP ban (418).
RETRY_STATUSES = frozenset({418, 429, 500, 502, 503, 504})


class DownloadError(FetchError):
    """A file that could not be fetched after all attempts; the message names the URL."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up on one file.

    :param attempts: requests per file, first one included
    :param base_delay_s: first back-off; doubles per attempt
    :param max_delay_s: cap of the exponential back-off
    :param max_retry_after_s: cap of a server's ``Retry-After`` (a server asking for an hour
        should fail the file, not freeze the import)
    :param timeout_s: connect and read timeout of one request
    :raise ConfigError: non-positive values
    """

    attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    max_retry_after_s: float = 120.0
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ConfigError(f"attempts must be >= 1, got {self.attempts}")
        for name in ("base_delay_s", "max_delay_s", "max_retry_after_s", "timeout_s"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be > 0, got {getattr(self, name)}")

    def backoff(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based).

        A server's ``Retry-After`` (seconds or an HTTP date) wins over the exponential
        schedule, capped at :attr:`max_retry_after_s`.
        """
        if retry_after:
            wait = _parse_retry_after(retry_after)
            if wait is not None:
                return min(max(wait, 0.0), self.max_retry_after_s)
        return min(self.base_delay_s * 2 ** (attempt - 1), self.max_delay_s)


def _parse_retry_after(value: str) -> float | None:
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - time.time()


class Fetcher:
    """GET files with retries; thread-safe (one ``requests.Session`` per thread).

    :param policy: retry policy
    :param sleep: injectable wait (the real ``time.sleep`` by default)
    """

    def __init__(self, policy: RetryPolicy, sleep: Callable[[float], None] = time.sleep) -> None:
        self.policy = policy
        self._sleep = sleep
        self._local = threading.local()
        self._lock = threading.Lock()
        self.retries = 0
        self.requests = 0

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = "liq-signals"
            self._local.session = session
        return session

    def get(self, url: str) -> bytes | None:
        """Fetch ``url``.

        :param url: file URL
        :return: the body, or ``None`` when the server answers 404 (file not in the archive)
        :raise DownloadError: other 4xx answers, or retries exhausted on timeouts, connection
            errors, 5xx, 418 or 429
        """
        last = ""
        for attempt in range(1, self.policy.attempts + 1):
            retry_after = None
            with self._lock:
                self.requests += 1
            try:
                resp = self._session().get(url, timeout=self.policy.timeout_s)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if resp.status_code == 200:
                    return resp.content
                if resp.status_code == 404:
                    return None
                if resp.status_code not in RETRY_STATUSES:
                    raise DownloadError(f"{url}: HTTP {resp.status_code}")
                last = f"HTTP {resp.status_code}"
                retry_after = resp.headers.get("Retry-After")
            if attempt == self.policy.attempts:
                break
            wait = self.policy.backoff(attempt, retry_after)
            with self._lock:
                self.retries += 1
            logger.debug("%s: %s; retry %d in %.2fs", url, last, attempt, wait)
            self._sleep(wait)
        raise DownloadError(f"{url}: gave up after {self.policy.attempts} attempts ({last})")
