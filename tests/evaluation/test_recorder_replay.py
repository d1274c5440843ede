"""The recorder against a loopback websocket server replaying real-format messages."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from wsreplay import DROP, ReplayServer, binance_message, bybit_message, force_order_rows

from liq_signals.evaluation.realized import (
    COL_SIDE,
    EVENT_COLUMNS,
    load_binance_force_orders,
    load_realized,
)
from liq_signals.evaluation.recorder import LiquidationRecorder, RecorderConfig

PAIR = "BTC/USDT:USDT"


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    """60 real events straddling the 2024-12-05 00:00 UTC day boundary."""
    all_rows = force_order_rows()
    day = pd.to_datetime(all_rows.trade_time_ms.astype("int64"), unit="ms", utc=True).dt.date
    first_next_day = int((day != day.iloc[0]).to_numpy().argmax())
    return all_rows.iloc[first_next_day - 30 : first_next_day + 30].reset_index(drop=True)


def _expected(rows: pd.DataFrame, tmp_path: Path) -> pd.DataFrame:
    """The same rows through the CSV loader: an independent path to the same events."""
    csv = tmp_path / "expected-forceOrder.csv"
    rows.to_csv(csv, index=False)
    return load_binance_force_orders(csv)


async def _record(server: ReplayServer, exchange: str, datadir: Path, expected: int):
    recorder = LiquidationRecorder(
        RecorderConfig(
            exchange=exchange,
            pairs=(PAIR,),
            datadir=datadir,
            url=server.url,
            backoff_initial=0.05,
            backoff_max=0.2,
        )
    )
    task = asyncio.create_task(recorder.run())
    deadline = time.monotonic() + 20
    while not (server.finished.is_set() and recorder.stats.written >= expected):
        assert time.monotonic() < deadline, f"recorder stalled: {recorder.stats}"
        assert not task.done(), task
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)  # anything extra (a duplicate) would land now
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return recorder


def test_binance_stream_survives_drop_and_malformed_without_loss_or_duplicates(rows, tmp_path):
    messages = [binance_message(r) for r in rows.itertuples()]
    malformed = [
        "not json at all",
        json.dumps(
            {"stream": "btcusdt@forceOrder", "data": {"e": "forceOrder", "o": {"S": "HOLD"}}}
        ),
        json.dumps(
            {"e": "forceOrder", "E": 1, "o": {**json.loads(messages[0])["data"]["o"], "z": "-1"}}
        ),
    ]
    scripts = [
        [json.dumps({"result": None, "id": 1}), *messages[:25], DROP],
        # after the reconnect the stream repeats the last two events, with junk in between
        [*messages[23:40], *malformed, *messages[40:]],
    ]

    async def scenario():
        async with ReplayServer(scripts) as server:
            recorder = await _record(server, "binance", tmp_path / "data", len(messages))
        return recorder, server

    recorder, server = asyncio.run(scenario())

    assert server.paths == ["/stream?streams=btcusdt@forceOrder"] * 2
    assert recorder.stats.connections == 2
    assert recorder.stats.malformed == len(malformed)
    assert recorder.stats.duplicates == 2
    assert recorder.stats.written == len(messages)
    folder = tmp_path / "data" / "liquidations" / "binance"
    assert sorted(p.name for p in folder.iterdir()) == [
        "BTC_USDT_USDT-2024-12-04.csv",
        "BTC_USDT_USDT-2024-12-05.csv",
    ]
    got = load_realized(folder).events
    pd.testing.assert_frame_equal(got, _expected(rows, tmp_path)[list(EVENT_COLUMNS)])


def test_bybit_stream_subscribes_and_maps_position_side(rows, tmp_path):
    frames = [bybit_message(rows.iloc[i : i + 3]) for i in range(0, len(rows), 3)]
    malformed = [
        json.dumps({"topic": "allLiquidation.BTCUSDT", "type": "snapshot", "data": {"S": "Buy"}}),
        json.dumps(
            {
                "topic": "allLiquidation.BTCUSDT",
                "data": [{"T": 1, "s": "BTCUSDT", "S": "Long", "v": "1", "p": "1"}],
            }
        ),
        b"\xff\xfe binary junk",
    ]
    scripts = [[*frames[:8], DROP], [frames[7], *malformed, *frames[8:]]]

    async def scenario():
        async with ReplayServer(scripts, expect_subscribe=True) as server:
            recorder = await _record(server, "bybit", tmp_path / "data", len(rows))
        return recorder, server

    recorder, server = asyncio.run(scenario())

    assert server.subscriptions == [{"op": "subscribe", "args": ["allLiquidation.BTCUSDT"]}] * 2
    assert recorder.stats.malformed == len(malformed)
    assert recorder.stats.duplicates == 3  # the repeated frame held three events
    got = load_realized(tmp_path / "data" / "liquidations" / "bybit").events
    expected = _expected(rows, tmp_path)
    # Binance SELL order == Bybit "Buy" position == a long was liquidated
    assert got[COL_SIDE].tolist() == expected[COL_SIDE].tolist()
    assert set(got["exchange"]) == {"bybit"}
    pd.testing.assert_frame_equal(got.drop(columns="exchange"), expected.drop(columns="exchange"))


def test_killed_recorder_keeps_every_received_event_and_restart_neither_loses_nor_repeats(
    rows, tmp_path, repo
):
    messages = [binance_message(r) for r in rows.itertuples()]
    datadir = tmp_path / "data"
    folder = datadir / "liquidations" / "binance"

    async def first_run():
        log = tmp_path / "recorder.log"
        async with ReplayServer([messages[:40]]) as server:
            with log.open("w") as err:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "liq_signals.cli", "record-liquidations",
                    "--exchange", "binance", "--pairs", PAIR, "--datadir", str(datadir),
                    "--url", server.url,
                    cwd=repo, stdout=subprocess.DEVNULL, stderr=err,
                )  # fmt: skip
            try:
                deadline = time.monotonic() + 30
                while _rows_on_disk(folder) < 40:
                    assert proc.returncode is None, log.read_text()
                    assert time.monotonic() < deadline, "recorder never wrote the 40 events"
                    await asyncio.sleep(0.05)
            finally:
                os.kill(proc.pid, signal.SIGKILL)  # a crash: no cleanup code runs
                await proc.wait()

    asyncio.run(first_run())
    assert _rows_on_disk(folder) == 40
    # simulate a crash in the middle of a write on top of it
    last = sorted(folder.iterdir())[-1]
    with last.open("a") as fh:
        fh.write("1733357000000,BTC/USDT:USDT,lo")

    async def second_run():
        # the exchange sends everything again; only the 20 unseen events may be added
        async with ReplayServer([messages]) as server:
            return await _record(server, "binance", datadir, 20)

    recorder = asyncio.run(second_run())
    assert recorder.stats.written == 20
    assert recorder.stats.duplicates == 40
    got = load_realized(folder).events
    pd.testing.assert_frame_equal(got, _expected(rows, tmp_path)[list(EVENT_COLUMNS)])


def _rows_on_disk(folder: Path) -> int:
    if not folder.exists():
        return 0
    return sum(max(len(p.read_text().splitlines()) - 1, 0) for p in folder.glob("*.csv"))


def test_default_urls_follow_each_exchange_protocol_without_connecting(tmp_path):
    binance = RecorderConfig("binance", ("BTC/USDT:USDT", "ethusdt"), tmp_path)
    assert binance.stream_url() == (
        "wss://fstream.binance.com/market/stream?streams=btcusdt@forceOrder/ethusdt@forceOrder"
    )
    bybit = RecorderConfig("bybit", ("BTC/USDT:USDT",), tmp_path)
    assert bybit.stream_url() == "wss://stream.bybit.com/v5/public/linear"
    assert bybit.folder == tmp_path / "liquidations" / "bybit"
    with pytest.raises(ValueError, match="exchange must be one of"):
        RecorderConfig("okx", ("BTC/USDT:USDT",), tmp_path)


def test_daily_files_split_by_utc_day_and_close_old_days(tmp_path):
    from liq_signals.evaluation.realized import LiquidationEvent
    from liq_signals.evaluation.recorder import MAX_OPEN_FILES, DailyFiles

    files = DailyFiles(tmp_path)
    day_ms = 86_400_000
    start = 1733270400000  # 2024-12-04 00:00 UTC
    for day in range(MAX_OPEN_FILES + 8):
        for k in range(2):
            files.write(
                LiquidationEvent(start + day * day_ms + k, PAIR, "long", 100.0 + k, 1.0, "bybit")
            )
        assert len(files._fds) <= MAX_OPEN_FILES
    # an old day reopened later appends after its rows, without repeating them
    files.write(LiquidationEvent(start, PAIR, "long", 100.0, 1.0, "bybit"))
    files.write(LiquidationEvent(start + 5, PAIR, "short", 100.0, 1.0, "bybit"))
    files.close()
    first = load_realized(tmp_path / "BTC_USDT_USDT-2024-12-04.csv").events
    assert first.side.tolist() == ["long", "long", "short"]
    assert len(list(tmp_path.glob("*.csv"))) == MAX_OPEN_FILES + 8
