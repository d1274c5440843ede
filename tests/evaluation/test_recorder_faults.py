"""The recorder under faults: any bad message, a full disk, a long run (retention).

The stream is the loopback replay server (tests/evaluation/wsreplay.py) or, for the fuzz,
the recorder's own message handler fed directly; the files are real.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import time
import types
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wsreplay import ReplayServer, binance_message, force_order_rows

from liq_signals.evaluation import recorder as rec
from liq_signals.evaluation.realized import LiquidationEvent, load_realized
from liq_signals.evaluation.recorder import DailyFiles, LiquidationRecorder, RecorderConfig

PAIR = "BTC/USDT:USDT"


def _config(datadir: Path, url: str = "ws://127.0.0.1:9", **kw) -> RecorderConfig:
    return RecorderConfig(
        exchange="binance",
        pairs=(PAIR,),
        datadir=datadir,
        url=url,
        backoff_initial=0.02,
        backoff_max=0.1,
        **kw,
    )


def _messages(n: int) -> list[str]:
    rows = force_order_rows()
    return [binance_message(r) for r in rows.iloc[:n].itertuples()]


def _with_trade_time(message: str, t) -> str:
    m = json.loads(message)
    m["data"]["o"]["T"] = t
    return json.dumps(m)


async def _record(server: ReplayServer, recorder: LiquidationRecorder, written: int) -> None:
    task = asyncio.create_task(recorder.run())
    deadline = time.monotonic() + 20
    while not (server.finished.is_set() and recorder.stats.written >= written):
        assert time.monotonic() < deadline, f"recorder stalled: {recorder.stats}"
        assert not task.done(), task
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def _lines(folder: Path) -> list[str]:
    out = []
    for path in sorted(folder.glob("*.csv")):
        out += path.read_text(encoding="utf-8").splitlines()[1:]
    return out


def test_out_of_range_timestamp_is_a_skipped_message_not_a_crash(tmp_path) -> None:
    """A well-formed message whose trade time is beyond any date (before: an uncaught
    OverflowError/ValueError killed the recorder, or an OSError sent it reconnecting)."""
    good = _messages(6)
    bad = [
        _with_trade_time(good[0], 10**20),
        _with_trade_time(good[1], -(10**18)),
        _with_trade_time(good[2], 2**63),
    ]
    scripts = [[*good[:3], *bad, *good[3:]]]

    async def scenario():
        async with ReplayServer(scripts) as server:
            recorder = LiquidationRecorder(_config(tmp_path, server.url))
            await _record(server, recorder, len(good))
        return recorder

    recorder = asyncio.run(scenario())
    assert recorder.stats.malformed == len(bad)
    assert recorder.stats.written == len(good)
    assert recorder.stats.connections == 1
    assert len(_lines(tmp_path / "liquidations" / "binance")) == len(good)


def test_full_disk_backs_off_keeps_the_connection_and_writes_each_event_once(
    tmp_path, monkeypatch
) -> None:
    """ENOSPC injected at the recorder's own ``os.write``: the first failure leaves half a
    line on disk (a real short write), the next ones nothing; the recorder retries with
    back-off on the same connection and every event ends up on disk exactly once (before:
    20 reconnects in 2 s, then one event written 21 times)."""
    real = os
    failures = {"left": 5}

    def write(fd: int, data) -> int:
        if failures["left"] > 0 and len(data) > 40:  # event lines, not the header
            failures["left"] -= 1
            if failures["left"] == 4:
                real.write(fd, bytes(data[: len(data) // 2]))  # a short write, then full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real.write(fd, data)

    monkeypatch.setattr(rec, "os", types.SimpleNamespace(**{**vars(real), "write": write}))
    good = _messages(20)
    scripts = [good]

    async def scenario():
        async with ReplayServer(scripts) as server:
            recorder = LiquidationRecorder(_config(tmp_path, server.url))
            await _record(server, recorder, len(good))
        return recorder

    recorder = asyncio.run(scenario())
    assert recorder.stats.write_errors == 5
    assert recorder.stats.connections == 1
    assert recorder.stats.written == len(good)
    assert recorder.stats.duplicates == 0
    folder = tmp_path / "liquidations" / "binance"
    lines = _lines(folder)
    assert len(lines) == len(good)
    assert len(set(lines)) == len(lines)
    events = load_realized(folder).events  # strictly parseable: no torn half line left
    assert len(events) == len(good)


def test_retention_deletes_old_days_and_caps_the_size(tmp_path) -> None:
    day_ms = 86_400_000
    start = 1733270400000  # 2024-12-04 00:00 UTC

    def event(day: int, k: int = 0) -> LiquidationEvent:
        return LiquidationEvent(start + day * day_ms + k, PAIR, "long", 100.0 + k, 1.0, "bybit")

    files = DailyFiles(tmp_path, retention_days=3)
    for day in range(10):
        files.write(event(day))
    files.close()
    days = sorted(p.name[-14:-4] for p in tmp_path.glob("*.csv"))
    assert days == ["2024-12-10", "2024-12-11", "2024-12-12", "2024-12-13"]
    assert files.pruned == 6

    capped = tmp_path / "capped"
    files = DailyFiles(capped, retention_mb=0.001)  # 1000 bytes
    for day in range(10):
        for k in range(5):
            files.write(event(day, k))
    sizes = sum(p.stat().st_size for p in capped.glob("*.csv"))
    files.close()
    assert sizes <= 1000 + max(p.stat().st_size for p in capped.glob("*.csv"))
    assert (capped / "BTC_USDT_USDT-2024-12-13.csv").exists()  # the newest day is kept
    assert not (capped / "BTC_USDT_USDT-2024-12-04.csv").exists()


def test_an_undecodable_day_file_is_moved_aside_and_recording_goes_on(tmp_path, caplog) -> None:
    """Non-UTF-8 bytes in today's file (damaged on disk): the recorder used to die with a
    raw UnicodeDecodeError when it reopened it.  Now the file is moved aside, one error
    line names it, and the day goes on in a new, parseable file."""
    t0 = 1733270400000  # 2024-12-04 00:00 UTC
    files = DailyFiles(tmp_path)
    path = files.write(LiquidationEvent(t0, PAIR, "long", 100.0, 1.0, "binance"))
    files.close()
    assert path is not None
    damaged = path.read_bytes() + b"1733270400001,BTC/USDT:USDT,\xff\xfe,1,1,1,binance\n"
    path.write_bytes(damaged)
    files = DailyFiles(tmp_path)  # a restarted recorder
    with caplog.at_level("ERROR"):
        again = files.write(LiquidationEvent(t0 + 5, PAIR, "short", 101.0, 2.0, "binance"))
    files.close()
    assert again == path
    aside = [p for p in tmp_path.iterdir() if p.name.startswith(f"{path.name}.undecodable-")]
    assert len(aside) == 1
    assert aside[0].read_bytes() == damaged  # kept for inspection, byte for byte
    assert str(path) in caplog.text
    assert "not UTF-8" in caplog.text
    events = load_realized(tmp_path).events  # the moved file is not read
    assert len(events) == 1
    assert events["side"].iloc[0] == "short"


# --------------------------------------------------------------------------- fuzz
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)
_field_values = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
    st.none(),
    st.sampled_from(["BUY", "SELL", "BTCUSDT", "1e400", "-1", "0", "nan", ""]),
)


@st.composite
def _messages_fuzz(draw) -> str | bytes:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.binary(max_size=64))
    if kind == 1:
        return json.dumps(draw(_json_values))
    base = json.loads(_messages(1)[0])
    for key in draw(st.lists(st.sampled_from(sorted(base["data"]["o"])), max_size=4)):
        if draw(st.booleans()):
            base["data"]["o"][key] = draw(_field_values)
        else:
            base["data"]["o"].pop(key, None)
    if kind == 3:
        base["data"] = draw(_json_values)
    return json.dumps(base, allow_nan=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=st.lists(_messages_fuzz(), min_size=1, max_size=8))
def test_fuzzed_messages_never_stop_the_recorder(messages, tmp_path_factory) -> None:
    """Whatever arrives, each message is either written, a duplicate, an ignored pair or
    counted malformed — never an exception out of the handler — and the files stay
    strictly parseable."""
    datadir = tmp_path_factory.mktemp("fuzz")
    recorder = LiquidationRecorder(_config(datadir))
    good = _messages(2)

    async def feed():
        for raw in [good[0], *messages, good[1]]:
            await recorder._handle(raw)

    asyncio.run(feed())
    recorder._files.close()
    stats = recorder.stats
    assert stats.written >= 2
    folder = datadir / "liquidations" / "binance"
    events = load_realized(folder).events
    assert len(events) == stats.written
    assert not events.duplicated(["date", "side", "price", "quantity"]).any()
    assert pd.api.types.is_datetime64_any_dtype(events["date"])
