"""Binance USDⓈ-M public REST answers computed from a datadir at a given replay time.

Every handler takes the request's query parameters and ``now_ms`` and returns the JSON
body Binance would return; nothing stamped after ``now_ms`` is ever served.  Bad
parameters raise :class:`ApiError` carrying Binance's error code and message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from liq_signals.columns import (
    GLOBAL_LS_RATIO,
    TAKER_RATIO,
    TOP_TRADER_LS_RATIO_ACCOUNTS,
    TOP_TRADER_LS_RATIO_POSITIONS,
)
from liq_signals.errors import LiqSignalsError
from liq_signals.offline import market_data as md
from liq_signals.offline.market_data import MarketData, Series
from liq_signals.offline.symbols import (
    KNOWN_SPECS,
    ContractSpec,
    derived_spec,
    exchange_info,
    symbol_entry,
)
from liq_signals.timeframes import timeframe_ms

KLINE_INTERVALS = (
    "1m",
    "3m",
    "5m",
    "15m",
    "30m",
    "1h",
    "2h",
    "4h",
    "6h",
    "8h",
    "12h",
    "1d",
    "3d",
    "1w",
)
DATA_PERIODS = ("5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d")
DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000)
KLINES_LIMIT = (500, 1500)  # (default, max) — Binance's documented limits
FUNDING_LIMIT = (100, 1000)
DATA_LIMIT = (30, 500)
INTEREST_RATE = 0.0001  # Binance's fixed 8h interest component of funding
FUNDING_INTERVAL_MS = 8 * 3_600_000
DAY_MS = 86_400_000

# metrics-sidecar columns (names in liq_signals.columns, which has no dependencies) -> the
# /futures/data endpoint serving them
RATIO_COLUMNS = {
    "globalLongShortAccountRatio": GLOBAL_LS_RATIO,
    "topLongShortAccountRatio": TOP_TRADER_LS_RATIO_ACCOUNTS,
    "topLongShortPositionRatio": TOP_TRADER_LS_RATIO_POSITIONS,
}
COL_TAKER_VOL_RATIO = TAKER_RATIO


class ApiError(LiqSignalsError):
    """A Binance error answer: HTTP status + ``{"code": code, "msg": msg}``."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status = status
        self.code = code
        self.msg = msg

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg}


def _mandatory(name: str) -> ApiError:
    return ApiError(
        400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def _int_param(params: dict[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 20:
        raise ApiError(
            400,
            -1100,
            f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.",
        )
    return int(raw)


def _limit(params: dict[str, str], default_max: tuple[int, int]) -> int:
    limit = _int_param(params, "limit")
    if limit is None:
        return default_max[0]
    if not 1 <= limit <= default_max[1]:
        raise ApiError(400, -1130, "Data sent for parameter 'limit' is not valid.")
    return limit


def _num(x: float) -> str:
    """Binance sends decimals as strings."""
    return repr(round(float(x), 10))


@dataclass(frozen=True)
class _Window:
    start: int | None
    end: int | None
    limit: int


def _window(params: dict[str, str], default_max: tuple[int, int]) -> _Window:
    start = _int_param(params, "startTime")
    end = _int_param(params, "endTime")
    if start is not None and end is not None and start > end:
        raise ApiError(400, -1023, "Start time is greater than end time.")
    return _Window(start, end, _limit(params, default_max))


def _select(t: np.ndarray, visible: int, w: _Window) -> slice:
    """Rows ``[lo, hi)`` of sorted ``t[:visible]`` inside the window: the first ``limit``
    from ``startTime`` when it is given, otherwise the last ``limit`` up to ``endTime``
    (Binance's rule for klines, funding and the /futures/data series)."""
    lo = 0 if w.start is None else int(np.searchsorted(t[:visible], w.start, "left"))
    hi = visible if w.end is None else min(visible, int(np.searchsorted(t, w.end, "right")))
    if hi <= lo:
        return slice(0, 0)
    if w.start is not None:
        return slice(lo, min(hi, lo + w.limit))
    return slice(max(lo, hi - w.limit), hi)


class BinanceFuturesApi:
    """The public endpoints, answered from one :class:`MarketData`.

    :param market: the datadir
    """

    def __init__(self, market: MarketData) -> None:
        self.market = market
        self.routes: dict[str, Callable[[dict[str, str], int], Any]] = {
            "ping": lambda _p, _now: {},
            "time": lambda _p, now: {"serverTime": now},
            "exchangeInfo": self.exchange_info,
            "klines": self._kline_handler(md.FUTURES),
            "continuousKlines": self._kline_handler(md.FUTURES, symbol_param="pair"),
            "markPriceKlines": self._kline_handler(md.MARK),
            "indexPriceKlines": self._kline_handler(md.INDEX, symbol_param="pair"),
            "premiumIndexKlines": self._kline_handler(md.PREMIUM_INDEX),
            "fundingRate": self.funding_rate,
            "fundingInfo": lambda _p, _now: [],
            "premiumIndex": self.premium_index,
            "depth": self.depth,
            "ticker/24hr": self.ticker_24hr,
            "ticker/bookTicker": self.book_ticker,
            "ticker/price": self.ticker_price,
            "openInterest": self.open_interest,
            "openInterestHist": self.open_interest_hist,
            "takerlongshortRatio": self.taker_ratio,
            **{name: self._ratio_handler(name) for name in RATIO_COLUMNS},
        }

    # ---------------------------------------------------------------- helpers
    def _symbol(self, params: dict[str, str], name: str = "symbol") -> str:
        sym = params.get(name)
        if not sym:
            raise _mandatory(name)
        if sym not in self.market.pairs:
            raise ApiError(400, -1121, "Invalid symbol.")
        return sym

    def spec(self, symbol: str) -> ContractSpec:
        if symbol in KNOWN_SPECS:
            return KNOWN_SPECS[symbol]
        series = self.market.series(symbol, md.FUTURES)
        price = float(series.cols["close"][-1]) if series is not None and len(series) else 1.0
        return derived_spec(price)

    def _finest(self, symbol: str, kind: str) -> Series | None:
        return self.market.series(symbol, kind)

    def price(self, symbol: str, now: int, kind: str = md.FUTURES) -> float:
        """Latest price known at ``now``: the open of the forming candle of the finest
        file, or the last close.  Mark/index fall back to the trade price."""
        s = self._finest(symbol, kind)
        if s is None or not len(s):
            if kind == md.FUTURES:
                raise ApiError(400, -1000, f"emulator: no futures candles for {symbol}")
            return self.price(symbol, now, md.MARK if kind == md.INDEX else md.FUTURES)
        i = int(np.searchsorted(s.t, now, "right")) - 1
        if i < 0:
            raise ApiError(400, -1000, f"emulator: no {kind} data for {symbol} before {now}")
        if s.t[i] + s.tf_ms <= now:
            return float(s.cols["close"][i])
        return float(s.cols["open"][i])

    # ---------------------------------------------------------------- market
    def exchange_info(self, _params: dict[str, str], now: int) -> dict:
        symbols = dict.fromkeys(self.market.symbols)
        symbols.setdefault("BTCUSDT")  # freqtrade's delisting check compares against it
        entries = []
        for sym in sorted(symbols):
            pf = self.market.pairs.get(sym)
            base, quote = (pf.base, pf.quote) if pf else ("BTC", "USDT")
            entries.append(symbol_entry(sym, base, quote, self.spec(sym)))
        return exchange_info(entries, now)

    # ---------------------------------------------------------------- klines
    def _kline_handler(
        self, kind: str, symbol_param: str = "symbol"
    ) -> Callable[[dict[str, str], int], list]:
        def handler(params: dict[str, str], now: int) -> list:
            sym = self._symbol(params, symbol_param)
            interval = params.get("interval")
            if not interval:
                raise _mandatory("interval")
            if interval not in KLINE_INTERVALS:
                raise ApiError(400, -1120, "Invalid interval.")
            return self.klines(sym, kind, interval, _window(params, KLINES_LIMIT), now)

        return handler

    def _candles(self, symbol: str, kind: str, interval: str) -> Series | None:
        s = self.market.candles(symbol, kind, interval)
        if s is None and kind == md.INDEX:
            return self._candles(symbol, md.MARK, interval)
        if s is None and kind == md.MARK:
            return self.market.candles(symbol, md.FUTURES, interval)
        return s

    def klines(self, symbol: str, kind: str, interval: str, w: _Window, now: int) -> list:
        """Kline rows; the still-forming candle (open <= now < close) is included,
        built from the finer candles that closed by ``now`` (as Binance serves it)."""
        s = self._candles(symbol, kind, interval)
        if s is None:
            return []
        visible = int(np.searchsorted(s.t, now, "right"))
        sl = _select(s.t, visible, w)
        tf = s.tf_ms
        priced = kind == md.FUTURES
        taker = self._taker_buy_fraction(symbol, s) if priced else None
        rows = []
        for i in range(sl.start, sl.stop):
            t = int(s.t[i])
            if t + tf > now:
                o, h, lo, c, v = self._forming(symbol, kind, s, i, now)
            else:
                o, h, lo, c, v = (float(s.cols[k][i]) for k in md.OHLCV)
            if priced:
                tb = v * (taker[i] if taker is not None else 0.5)
                rows.append(
                    [
                        t,
                        _num(o),
                        _num(h),
                        _num(lo),
                        _num(c),
                        _num(v),
                        t + tf - 1,
                        _num(v * c),
                        0,
                        _num(tb),
                        _num(tb * c),
                        "0",
                    ]
                )
            else:
                rows.append(
                    [t, _num(o), _num(h), _num(lo), _num(c), "0", t + tf - 1, "0", 0, "0", "0", "0"]
                )
        return rows

    def _forming(
        self, symbol: str, kind: str, s: Series, i: int, now: int
    ) -> tuple[float, float, float, float, float]:
        t = int(s.t[i])
        o = float(s.cols["open"][i])
        fine = self._finest(symbol, kind)
        if fine is None or fine.tf_ms >= s.tf_ms:
            return o, o, o, o, 0.0
        lo_i = int(np.searchsorted(fine.t, t, "left"))
        hi_i = int(np.searchsorted(fine.t, now - fine.tf_ms, "right"))  # closed by now
        if hi_i <= lo_i:
            return o, o, o, o, 0.0
        c = fine.cols
        return (
            o,
            float(np.max(c["high"][lo_i:hi_i])),
            float(np.min(c["low"][lo_i:hi_i])),
            float(c["close"][hi_i - 1]),
            float(np.sum(c["volume"][lo_i:hi_i])),
        )

    def _taker_buy_fraction(self, symbol: str, s: Series) -> np.ndarray | None:
        """Taker-buy share per candle from the metrics sidecar's ``taker_net_base``
        (buy − sell, base units): buy = (volume + net) / 2."""
        m = self.market.series(symbol, md.METRICS)
        if m is None or md.COL_TAKER_NET_BASE not in m.cols or m.tf_ms != s.tf_ms:
            return None
        idx = np.searchsorted(m.t, s.t)
        idx_c = np.minimum(idx, max(len(m) - 1, 0))
        hit = (idx < len(m)) & (m.t[idx_c] == s.t) if len(m) else np.zeros(len(s), bool)
        vol = s.cols["volume"]
        net = np.where(hit, m.cols[md.COL_TAKER_NET_BASE][idx_c], 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(vol > 0, 0.5 + 0.5 * net / vol, 0.5)
        return np.clip(np.nan_to_num(frac, nan=0.5), 0.0, 1.0)

    # ---------------------------------------------------------------- funding
    def funding_rate(self, params: dict[str, str], now: int) -> list:
        sym = params.get("symbol")
        symbols = [self._symbol(params)] if sym else self.market.symbols
        w = _window(params, FUNDING_LIMIT)
        out: list[dict] = []
        for s_id in symbols:
            f = self.market.series(s_id, md.FUNDING_RATE)
            if f is None:
                continue
            visible = int(np.searchsorted(f.t, now, "right"))
            sl = _select(f.t, visible, w)
            for i in range(sl.start, sl.stop):
                t = int(f.t[i])
                out.append(
                    {
                        "symbol": s_id,
                        "fundingTime": t,
                        "fundingRate": f"{f.cols[md.COL_FUNDING_RATE][i]:.8f}",
                        "markPrice": _num(self._mark_at(s_id, t)),
                    }
                )
        return out

    def _mark_at(self, symbol: str, t: int) -> float:
        for kind in (md.MARK, md.FUTURES):
            s = self._finest(symbol, kind)
            if s is not None and len(s):
                i = int(np.searchsorted(s.t, t, "right")) - 1
                if i >= 0:
                    return float(s.cols["open"][i] if s.t[i] == t else s.cols["close"][i])
        return 0.0

    def premium_index(self, params: dict[str, str], now: int) -> dict | list:
        if params.get("symbol"):
            return self._premium(self._symbol(params), now)
        return [self._premium(s, now) for s in self.market.symbols]

    def _premium(self, symbol: str, now: int) -> dict:
        mark = self.price(symbol, now, md.MARK)
        f = self.market.series(symbol, md.FUNDING_RATE)
        rate, interval = INTEREST_RATE, FUNDING_INTERVAL_MS
        if f is not None and len(f):
            i = int(np.searchsorted(f.t, now, "right")) - 1
            if i >= 0:
                rate = float(f.cols[md.COL_FUNDING_RATE][i])
            if len(f) > 1:
                interval = int(np.median(np.diff(f.t[-50:])))
        return {
            "symbol": symbol,
            "markPrice": _num(mark),
            "indexPrice": _num(self.price(symbol, now, md.INDEX)),
            "estimatedSettlePrice": _num(mark),
            "lastFundingRate": f"{rate:.8f}",
            "interestRate": f"{INTEREST_RATE:.8f}",
            "nextFundingTime": (now // interval + 1) * interval,
            "time": now,
        }

    # ---------------------------------------------------------------- book / tickers
    def depth(self, params: dict[str, str], now: int) -> dict:
        sym = self._symbol(params)
        limit = _int_param(params, "limit")
        limit = 500 if limit is None else limit
        if limit not in DEPTH_LIMITS:
            raise ApiError(400, -1130, "Data sent for parameter 'limit' is not valid.")
        bids, asks = self._book(sym, now, limit)
        return {"lastUpdateId": now, "E": now, "T": now, "bids": bids, "asks": asks}

    def _book(self, symbol: str, now: int, levels: int) -> tuple[list, list]:
        """A deterministic synthetic book: best bid/ask one tick around the current
        price, then one level per tick with sizes growing away from the touch."""
        spec = self.spec(symbol)
        tick = float(spec.tick_size)
        step = float(spec.step_size)
        price = self.price(symbol, now)
        best_bid = np.floor(price / tick) * tick
        if best_bid >= price:
            best_bid -= tick
        prec, qprec = spec.price_precision, spec.quantity_precision
        size = max(step, round(1000.0 / price / step) * step)  # ~1000 USDT at the touch
        bids = [
            [f"{best_bid - k * tick:.{prec}f}", f"{size * (1 + k / 10):.{qprec}f}"]
            for k in range(levels)
        ]
        asks = [
            [f"{best_bid + (k + 1) * tick:.{prec}f}", f"{size * (1 + k / 10):.{qprec}f}"]
            for k in range(levels)
        ]
        return bids, asks

    def ticker_24hr(self, params: dict[str, str], now: int) -> dict | list:
        if params.get("symbol"):
            return self._ticker(self._symbol(params), now)
        return [self._ticker(s, now) for s in self.market.symbols]

    def _ticker(self, symbol: str, now: int) -> dict:
        s = self._finest(symbol, md.FUTURES)
        last = self.price(symbol, now)
        assert s is not None
        lo_i = int(np.searchsorted(s.t, now - DAY_MS, "left"))
        hi_i = int(np.searchsorted(s.t, now - s.tf_ms, "right"))  # complete candles
        if hi_i > lo_i:
            c = s.cols
            o = float(c["open"][lo_i])
            h = max(float(np.max(c["high"][lo_i:hi_i])), last)
            lo = min(float(np.min(c["low"][lo_i:hi_i])), last)
            vol = float(np.sum(c["volume"][lo_i:hi_i]))
            qvol = float(np.sum(c["volume"][lo_i:hi_i] * c["close"][lo_i:hi_i]))
        else:
            o = h = lo = last
            vol = qvol = 0.0
        return {
            "symbol": symbol,
            "priceChange": _num(last - o),
            "priceChangePercent": f"{(last / o - 1) * 100 if o else 0.0:.3f}",
            "weightedAvgPrice": _num(qvol / vol if vol else last),
            "lastPrice": _num(last),
            "lastQty": "0.001",
            "openPrice": _num(o),
            "highPrice": _num(h),
            "lowPrice": _num(lo),
            "volume": _num(vol),
            "quoteVolume": _num(qvol),
            "openTime": now - DAY_MS,
            "closeTime": now,
            "firstId": 0,
            "lastId": 0,
            "count": 0,
        }

    def book_ticker(self, params: dict[str, str], now: int) -> dict | list:
        def one(sym: str) -> dict:
            bids, asks = self._book(sym, now, 1)
            return {
                "symbol": sym,
                "bidPrice": bids[0][0],
                "bidQty": bids[0][1],
                "askPrice": asks[0][0],
                "askQty": asks[0][1],
                "time": now,
                "lastUpdateId": now,
            }

        if params.get("symbol"):
            return one(self._symbol(params))
        return [one(s) for s in self.market.symbols]

    def ticker_price(self, params: dict[str, str], now: int) -> dict | list:
        def one(sym: str) -> dict:
            return {"symbol": sym, "price": _num(self.price(sym, now)), "time": now}

        if params.get("symbol"):
            return one(self._symbol(params))
        return [one(s) for s in self.market.symbols]

    # ---------------------------------------------------------------- open interest
    def _oi(self, symbol: str) -> Series:
        s = self.market.series(symbol, md.OPEN_INTEREST)
        if s is None:
            raise ApiError(
                400,
                -1000,
                f"emulator: no open_interest file for {symbol} in {self.market.datadir}/futures",
            )
        return s

    def open_interest(self, params: dict[str, str], now: int) -> dict:
        sym = self._symbol(params)
        s = self._oi(sym)
        i = int(np.searchsorted(s.t, now, "right")) - 1
        if i < 0:
            raise ApiError(400, -1000, f"emulator: no open interest for {sym} before {now}")
        return {"openInterest": _num(s.cols[md.COL_OI_AMOUNT][i]), "symbol": sym, "time": now}

    def _period(self, params: dict[str, str]) -> int:
        period = params.get("period")
        if not period:
            raise _mandatory("period")
        if period not in DATA_PERIODS:
            raise ApiError(400, -1130, "Data sent for parameter 'period' is not valid.")
        return timeframe_ms(period)

    def _sampled(self, s: Series, period: int, now: int, w: _Window, lag: int = 0) -> np.ndarray:
        """Row indices of ``s`` on ``period`` boundaries, known at ``now`` (a row stamped
        T is known at T + ``lag``), inside the window.  Relaxation: Binance keeps only
        the last 30 days of these series; the emulator serves all it has."""
        on_grid = np.flatnonzero(s.t % period == 0)
        t = s.t[on_grid]
        visible = int(np.searchsorted(t, now - lag, "right"))
        sl = _select(t, visible, w)
        return on_grid[sl]

    def open_interest_hist(self, params: dict[str, str], now: int) -> list:
        sym = self._symbol(params)
        period = self._period(params)
        s = self._oi(sym)
        w = _window(params, DATA_LIMIT)
        return [
            {
                "symbol": sym,
                "sumOpenInterest": _num(s.cols[md.COL_OI_AMOUNT][i]),
                "sumOpenInterestValue": _num(s.cols[md.COL_OI_VALUE][i]),
                "CMCCirculatingSupply": "0",
                "timestamp": int(s.t[i]),
            }
            for i in self._sampled(s, period, now, w)
        ]

    def taker_ratio(self, params: dict[str, str], now: int) -> list:
        sym = self._symbol(params)
        period = self._period(params)
        w = _window(params, DATA_LIMIT)
        m = self.market.series(sym, md.METRICS)
        if m is None:
            return []
        if COL_TAKER_VOL_RATIO in m.cols:
            r = m.cols[COL_TAKER_VOL_RATIO]
            return [
                {
                    "buySellRatio": _num(r[i]),
                    "buyVol": "0",
                    "sellVol": "0",
                    "timestamp": int(m.t[i]),
                }
                for i in self._sampled(m, period, now, w, lag=m.tf_ms)
                if np.isfinite(r[i])
            ]
        if md.COL_TAKER_NET_BASE not in m.cols:
            return []
        candles = self.market.candles(sym, md.FUTURES, f"{m.tf_ms // 60_000}m")
        if candles is None:
            return []
        out = []
        # taker flow of a candle is known once it closed
        for i in self._sampled(m, period, now, w, lag=m.tf_ms):
            j = int(np.searchsorted(candles.t, m.t[i]))
            if j >= len(candles) or candles.t[j] != m.t[i]:
                continue
            vol = float(candles.cols["volume"][j])
            net = float(m.cols[md.COL_TAKER_NET_BASE][i])
            buy, sell = max(0.0, (vol + net) / 2), max(0.0, (vol - net) / 2)
            out.append(
                {
                    "buySellRatio": _num(buy / sell if sell else 0.0),
                    "buyVol": _num(buy),
                    "sellVol": _num(sell),
                    "timestamp": int(m.t[i]),
                }
            )
        return out

    def _ratio_handler(self, endpoint: str) -> Callable[[dict[str, str], int], list]:
        column = RATIO_COLUMNS[endpoint]

        def handler(params: dict[str, str], now: int) -> list:
            sym = self._symbol(params)
            period = self._period(params)
            w = _window(params, DATA_LIMIT)
            m = self.market.series(sym, md.METRICS)
            if m is None or column not in m.cols:
                return []
            r = m.cols[column]
            return [
                {
                    "symbol": sym,
                    "longShortRatio": _num(r[i]),
                    "longAccount": _num(r[i] / (1 + r[i])),
                    "shortAccount": _num(1 / (1 + r[i])),
                    "timestamp": int(m.t[i]),
                }
                for i in self._sampled(m, period, now, w)
                if np.isfinite(r[i])
            ]

        return handler
