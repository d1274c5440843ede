"""Fresh sidecar series in dry-run/live: taker flow and long/short ratios, polled politely.

freqtrade polls candles, open interest and funding itself; the series of the metrics
sidecar (:mod:`liq_signals.data.sidecar`) it does not know.  :class:`LiveSeries` fetches
them from Binance's public ``/futures/data`` endpoints through ccxt's implicit API
(``fapiDataGetTakerlongshortRatio`` …) on an exchange object built from the bot's own
``exchange`` config — so the URL overlay that points freqtrade at the loopback emulator
points these requests there too.

Contract with the strategy: :meth:`LiveSeries.get` never raises.  Each (pair, series) is
fetched at most once per ``min_interval_s``; answers are merged into an in-memory history
(bounded); when a fetch fails (timeout, 5xx, 429, bad answer) the last good rows are
returned with ``stale=True`` and the error, and the strategy keeps trading on what it
has, flagging its features stale.  A series whose newest row has not advanced for
``stale_after_s`` is stale too (an exchange that answers but has stopped publishing).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from liq_signals import columns as C
from liq_signals.data import sidecar
from liq_signals.live.failures import FailureLog

logger = logging.getLogger(__name__)

TAKER = "taker"
GLOBAL_ACCOUNTS = "global_accounts"
TOP_ACCOUNTS = "top_accounts"
TOP_POSITIONS = "top_positions"

#: series name -> ccxt implicit method of ``ccxt.binance``/``binanceusdm``
#: (``GET /futures/data/<endpoint>``).
ENDPOINTS: dict[str, str] = {
    TAKER: "fapiDataGetTakerlongshortRatio",
    GLOBAL_ACCOUNTS: "fapiDataGetGlobalLongShortAccountRatio",
    TOP_ACCOUNTS: "fapiDataGetTopLongShortAccountRatio",
    TOP_POSITIONS: "fapiDataGetTopLongShortPositionRatio",
}
#: long/short series -> sidecar column (``longShortRatio`` of the answer).
_RATIO_COLUMN = {
    GLOBAL_ACCOUNTS: C.GLOBAL_LS_RATIO,
    TOP_ACCOUNTS: C.TOP_TRADER_LS_RATIO_ACCOUNTS,
    TOP_POSITIONS: C.TOP_TRADER_LS_RATIO_POSITIONS,
}
_PERIODS = ("5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d")
_MAX_LIMIT = 500  # Binance's maximum rows per call on these endpoints
_SUPPORTED_EXCHANGES = ("binance", "binanceusdm")


@dataclass(frozen=True)
class LiveSeriesConfig:
    """Polling parameters.

    :param period: sampling period asked for (the sidecar's timeframe)
    :param min_interval_s: at most one request per (pair, series) in this many seconds
    :param timeout_ms: ccxt request timeout
    :param first_limit: rows asked on a series' first fetch (history to start with)
    :param update_limit: rows asked afterwards (enough to bridge a few missed polls)
    :param max_rows: rows of history kept per pair
    :param stale_after_s: a series whose newest row did not advance for this long is stale;
        ``None`` = 3 periods + ``min_interval_s``
    :raise ValueError: out-of-range values
    """

    period: str = "5m"
    min_interval_s: float = 60.0
    timeout_ms: int = 5_000
    first_limit: int = _MAX_LIMIT
    update_limit: int = 30
    max_rows: int = 5_000
    stale_after_s: float | None = None

    def __post_init__(self) -> None:
        if self.period not in _PERIODS:
            raise ValueError(f"period {self.period!r} not one of {_PERIODS}")
        if self.min_interval_s < 0 or self.timeout_ms <= 0:
            raise ValueError("min_interval_s must be >= 0 and timeout_ms > 0")
        for name in ("first_limit", "update_limit"):
            if not 1 <= getattr(self, name) <= _MAX_LIMIT:
                raise ValueError(f"{name} must be within 1..{_MAX_LIMIT}")
        if self.max_rows < self.first_limit:
            raise ValueError("max_rows must be >= first_limit")

    @property
    def stale_after(self) -> float:
        if self.stale_after_s is not None:
            return self.stale_after_s
        period_s = pd.Timedelta(self.period.replace("m", "min")).total_seconds()
        return 3 * period_s + self.min_interval_s


@dataclass(frozen=True)
class SeriesSnapshot:
    """What the strategy gets.

    :ivar frame: sidecar-schema frame (``date`` + value columns), history so far
    :ivar stale: no data yet, or the last fetch of some series failed, or some series has
        stopped advancing
    :ivar errors: series -> last error message (only failing series)
    """

    frame: pd.DataFrame
    stale: bool
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class _State:
    frame: pd.DataFrame | None = None
    last_attempt: float | None = None
    ok: bool = False
    error: str = ""
    newest: int | None = None
    advanced_at: float | None = None


def _merge_exchange_config(exchange: dict[str, Any]) -> dict[str, Any]:
    """freqtrade's sync ccxt config: ``ccxt_config`` updated by ``ccxt_sync_config``."""
    merged: dict[str, Any] = {}
    for part in (exchange.get("ccxt_config") or {}, exchange.get("ccxt_sync_config") or {}):
        merged = _deep_merge(merged, part)
    return merged


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


class LiveSeries:
    """Poll the sidecar series of Binance USDⓈ-M pairs (see module docstring).

    :param exchange_config: the bot's ``config["exchange"]`` (``name``, ``ccxt_config``,
        ``ccxt_sync_config``)
    :param config: polling parameters
    :param clock: monotonic seconds (injectable so staleness can be tested without waiting)
    :raise ValueError: ``exchange_config`` has no name or an exchange ccxt does not know
    """

    def __init__(
        self,
        exchange_config: dict[str, Any],
        config: LiveSeriesConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import ccxt

        self._failures = FailureLog(logger)
        self.config = config or LiveSeriesConfig()
        name = str(exchange_config.get("name", "")).lower()
        if not name or not hasattr(ccxt, name):
            raise ValueError(f"exchange config names no ccxt exchange: {name!r}")
        self.exchange_name = name
        self.supported = name in _SUPPORTED_EXCHANGES
        ccxt_cfg = _deep_merge(
            _merge_exchange_config(exchange_config),
            {"enableRateLimit": True, "timeout": self.config.timeout_ms},
        )
        self._exchange = getattr(ccxt, name)(ccxt_cfg)
        self._clock = clock
        self._lock = threading.Lock()
        self._states: dict[tuple[str, str], _State] = {}
        self._unsupported_logged = False

    @classmethod
    def from_freqtrade_config(
        cls, config: dict[str, Any], live: LiveSeriesConfig | None = None
    ) -> LiveSeries:
        """Build from a full freqtrade config (uses its ``exchange`` section)."""
        return cls(config["exchange"], live)

    def get(self, pair: str) -> SeriesSnapshot:
        """Current series of ``pair``; fetches what is due, never raises.

        :param pair: freqtrade pair, e.g. ``BTC/USDT:USDT``
        :return: merged history and staleness
        """
        if not self.supported:
            if not self._unsupported_logged:
                self._unsupported_logged = True
                logger.warning(
                    "live series: exchange %s has no Binance /futures/data endpoints; the "
                    "sidecar series stay empty (features flagged stale)",
                    self.exchange_name,
                )
            return SeriesSnapshot(
                sidecar.empty_sidecar(), True, {"*": f"{self.exchange_name} not supported"}
            )
        with self._lock:
            try:
                return self._get(pair)
            except Exception as exc:  # noqa: BLE001 - the strategy must never see an error
                # traceback as text, once per distinct error (see liq_signals.live.failures)
                self._failures.failed(pair, "live series: unexpected failure", exc)
                return SeriesSnapshot(sidecar.empty_sidecar(), True, {"*": repr(exc)})

    def _get(self, pair: str) -> SeriesSnapshot:
        now = self._clock()
        for name in ENDPOINTS:
            state = self._states.setdefault((pair, name), _State())
            due = (
                state.last_attempt is None or now - state.last_attempt >= self.config.min_interval_s
            )
            if due:
                self._fetch(pair, name, state, now)
        return self._snapshot(pair, now)

    def _fetch(self, pair: str, name: str, state: _State, now: float) -> None:
        state.last_attempt = now
        limit = self.config.update_limit if state.frame is not None else self.config.first_limit
        params = {"symbol": _symbol(pair), "period": self.config.period, "limit": limit}
        try:
            rows = getattr(self._exchange, ENDPOINTS[name])(params)
            frame = _parse(name, rows)
        except Exception as exc:  # noqa: BLE001 - ccxt errors, timeouts, bad JSON alike
            message = f"{type(exc).__name__}: {exc}"
            if state.ok or not state.error:
                logger.warning(
                    "live series %s %s failed (keeping last data): %s", pair, name, message[:300]
                )
            state.ok, state.error = False, message[:500]
            return
        if not state.ok and state.error:
            logger.info("live series %s %s recovered", pair, name)
        state.ok, state.error = True, ""
        state.frame = (
            frame
            if state.frame is None
            else (frame.combine_first(state.frame).iloc[-self.config.max_rows :])
        )
        newest = int(state.frame.index.max().value) if len(state.frame) else None
        if newest is not None and newest != state.newest:
            state.newest, state.advanced_at = newest, now

    def _snapshot(self, pair: str, now: float) -> SeriesSnapshot:
        parts, errors, stale = [], {}, False
        for name in ENDPOINTS:
            state = self._states[(pair, name)]
            if not state.ok:
                stale = True
                errors[name] = state.error
            if state.advanced_at is None or now - state.advanced_at > self.config.stale_after:
                stale = True
                errors.setdefault(name, "no new rows" if state.frame is not None else "no data")
            if state.frame is not None:
                parts.append(state.frame)
        if not parts:
            return SeriesSnapshot(sidecar.empty_sidecar(), True, errors)
        merged = pd.concat(parts, axis=1).sort_index()
        frame = sidecar.validate_sidecar(merged.reset_index(), f"live series {pair}")
        return SeriesSnapshot(frame, stale or frame.empty, errors)


def _symbol(pair: str) -> str:
    from liq_signals.data.importers.binance_vision import binance_symbol

    return binance_symbol(pair)


def _parse(name: str, rows: Any) -> pd.DataFrame:
    """One endpoint's answer -> frame indexed by UTC ``date`` with its sidecar column(s).

    :raise ValueError: not a list of objects with ``timestamp`` and the expected fields
    """
    if not isinstance(rows, list):
        raise ValueError(f"expected a list, got {type(rows).__name__}")
    stamps = pd.to_datetime([int(r["timestamp"]) for r in rows], unit="ms", utc=True)
    index = pd.DatetimeIndex(stamps, name=sidecar.DATE).as_unit("ms")
    if name == TAKER:
        ratio = np.array([float(r["buySellRatio"]) for r in rows])
        buy = np.array([float(r.get("buyVol", "nan")) for r in rows])
        sell = np.array([float(r.get("sellVol", "nan")) for r in rows])
        # volumes "0"/"0" next to a non-zero ratio carry no information (some mirrors
        # publish the ratio only): net unknown, not zero
        net = np.where(buy + sell > 0, buy - sell, np.nan)
        frame = pd.DataFrame({C.TAKER_RATIO: ratio, C.TAKER_NET_BASE: net}, index=index)
    else:
        frame = pd.DataFrame(
            {_RATIO_COLUMN[name]: [float(r["longShortRatio"]) for r in rows]}, index=index
        )
    return frame[~frame.index.duplicated(keep="last")].sort_index()
