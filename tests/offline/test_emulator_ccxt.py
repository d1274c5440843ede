"""A real ccxt ``binanceusdm`` parses every emulator answer and sees every fault mode."""

from __future__ import annotations

import time

import ccxt
import pandas as pd
import pytest
from emu_helpers import DATADIR_OI, REPLAY_OI, make_ccxt

from liq_signals.offline import Emulator, Fault, parse_time_ms

PAIR = "BTC/USDT:USDT"
FIVE_MIN = 300_000


@pytest.fixture
def ex(emu_oi: Emulator):  # noqa: ANN201
    exchange = make_ccxt(emu_oi)
    exchange.load_markets()
    return exchange


def test_markets_parse_as_linear_perpetual_with_precision_and_limits(ex) -> None:
    m = ex.markets[PAIR]
    assert (m["swap"], m["linear"], m["settle"], m["contractSize"]) == (True, True, "USDT", 1.0)
    assert m["precision"]["price"] == 0.1
    assert m["precision"]["amount"] == 0.001
    assert m["limits"]["cost"]["min"] == 100.0
    assert m["limits"]["amount"]["min"] == 0.001


def test_ohlcv_trade_and_mark(ex, emu_oi: Emulator) -> None:
    df = pd.read_feather(DATADIR_OI / "futures" / "BTC_USDT_USDT-5m-futures.feather")
    since = parse_time_ms("2026-06-19T00:00:00Z")
    candles = ex.fetch_ohlcv(PAIR, "5m", since=since, limit=10)
    want = df[df["date"] >= pd.Timestamp(since, unit="ms", tz="UTC")].head(10)
    assert [c[0] for c in candles] == [int(d.value // 1_000_000) for d in want["date"]]
    assert [c[4] for c in candles] == pytest.approx(want["close"].tolist())
    mark = ex.fetch_ohlcv(PAIR, "1h", since=since, limit=3, params={"price": "mark"})
    assert [c[0] - since for c in mark] == [0, 3_600_000, 7_200_000]
    assert all(c[2] >= max(c[1], c[4]) and c[3] <= min(c[1], c[4]) for c in mark)
    assert emu_oi.requests("markPriceKlines")[-1].status == 200


def test_funding_history_and_current_rate(ex, emu_oi: Emulator) -> None:
    df = pd.read_feather(DATADIR_OI / "futures" / "BTC_USDT_USDT-1h-funding_rate.feather")
    hist = ex.fetch_funding_rate_history(PAIR, since=parse_time_ms("2026-06-10"), limit=4)
    want = df[df["date"] >= pd.Timestamp("2026-06-10", tz="UTC")].head(4)
    assert [h["fundingRate"] for h in hist] == pytest.approx(want["funding_rate"].tolist())
    now_rate = ex.fetch_funding_rate(PAIR)
    known = df[df["date"] <= pd.Timestamp(emu_oi.now_ms(), unit="ms", tz="UTC")]
    assert now_rate["fundingRate"] == pytest.approx(known["funding_rate"].iloc[-1])
    assert now_rate["fundingTimestamp"] > emu_oi.now_ms()  # ccxt: nextFundingTime goes here
    assert now_rate["markPrice"] > 0


def test_open_interest_history_and_current(ex, emu_oi: Emulator) -> None:
    df = pd.read_feather(DATADIR_OI / "futures" / "BTC_USDT_USDT-5m-open_interest.feather")
    since = parse_time_ms("2026-06-10T00:00:00Z")  # the sample has a real gap 06-14..06-20
    hist = ex.fetch_open_interest_history(PAIR, "5m", since=since, limit=20)
    want = df[df["date"] >= pd.Timestamp(since, unit="ms", tz="UTC")].head(len(hist))
    assert len(hist) == 20
    assert [h["timestamp"] for h in hist] == [int(d.value // 1_000_000) for d in want["date"]]
    assert [h["openInterestAmount"] for h in hist] == pytest.approx(
        want["open_interest_amount"].tolist()
    )
    latest = ex.fetch_open_interest(PAIR)
    known = df[df["date"] <= pd.Timestamp(emu_oi.now_ms(), unit="ms", tz="UTC")]
    assert latest["openInterestAmount"] == pytest.approx(known["open_interest_amount"].iloc[-1])


def test_tickers_and_order_book(ex) -> None:
    ticker = ex.fetch_ticker(PAIR)
    assert ticker["last"] > 0
    assert ticker["high"] >= ticker["last"] >= ticker["low"]
    assert set(ex.fetch_tickers()) == {PAIR}
    book = ex.fetch_order_book(PAIR, limit=20)
    assert len(book["bids"]) == len(book["asks"]) == 20
    assert book["bids"][0][0] < book["asks"][0][0]
    assert book["asks"][0][0] - book["bids"][0][0] == pytest.approx(0.1)
    bidask = ex.fetch_bids_asks()[PAIR]
    assert (bidask["bid"], bidask["ask"]) == (book["bids"][0][0], book["asks"][0][0])


def test_ccxt_sees_5xx_as_exchange_not_available(ex, emu_oi: Emulator) -> None:
    emu_oi.set_fault("klines", Fault("error", status=503, times=1))
    with pytest.raises(ccxt.ExchangeNotAvailable):
        ex.fetch_ohlcv(PAIR, "5m", limit=5)
    assert len(ex.fetch_ohlcv(PAIR, "5m", limit=5)) == 5


def test_ccxt_sees_429_as_rate_limit(ex, emu_oi: Emulator) -> None:
    emu_oi.set_fault("depth", Fault("ratelimit", retry_after=2, times=1))
    with pytest.raises(ccxt.DDoSProtection):  # RateLimitExceeded is a subclass
        ex.fetch_order_book(PAIR)
    assert emu_oi.requests("depth")[-1].status == 429


def test_ccxt_times_out_on_held_connection(emu_oi: Emulator) -> None:
    ex = make_ccxt(emu_oi, timeout=500)
    ex.load_markets()
    emu_oi.set_fault("openInterest", Fault("timeout", hold_s=5, times=1))
    t = time.monotonic()
    with pytest.raises(ccxt.RequestTimeout):
        ex.fetch_open_interest(PAIR)
    assert time.monotonic() - t < 3


def test_ccxt_sees_stale_candles(emulator_factory) -> None:
    emu = emulator_factory(DATADIR_OI, replay_start=REPLAY_OI, speed=900)
    ex = make_ccxt(emu)
    ex.load_markets()
    emu.set_fault("klines", Fault("stale"))
    first = ex.fetch_ohlcv(PAIR, "5m", limit=3)
    time.sleep(1.0)  # 15 replay minutes
    assert ex.fetch_ohlcv(PAIR, "5m", limit=3) == first
    assert ex.fetch_time() - first[-1][0] >= 3 * FIVE_MIN
    emu.faults.clear()
    assert ex.fetch_ohlcv(PAIR, "5m", limit=3)[-1][0] >= first[-1][0] + 3 * FIVE_MIN


def test_ccxt_receives_duplicated_candles(ex, emu_oi: Emulator) -> None:
    emu_oi.set_fault("klines", Fault("duplicate", times=1))
    candles = ex.fetch_ohlcv(PAIR, "5m", limit=4)
    stamps = [c[0] for c in candles]
    # ccxt keeps the last `limit` rows: two candles, each twice
    assert stamps == [stamps[0], stamps[0], stamps[0] + FIVE_MIN, stamps[0] + FIVE_MIN]
