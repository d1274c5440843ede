"""Replay clock, fault book and interval aggregation, in isolation."""

from __future__ import annotations

import pandas as pd
import pytest
from emu_helpers import DATADIR_2025, get

from liq_signals.offline import Fault, ReplayClock, parse_time_ms
from liq_signals.offline.faults import FaultBook


class FakeWall:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_replay_clock_scales_wall_time_and_can_jump() -> None:
    wall = FakeWall()
    clock = ReplayClock(start_ms=1_000_000, speed=60, wall=wall)
    assert clock.now_ms() == 1_000_000
    wall.t += 5  # five wall seconds = five replay minutes
    assert clock.now_ms() == 1_000_000 + 300_000
    clock.set(2_000_000, speed=2)
    wall.t += 1
    assert clock.now_ms() == 2_002_000
    with pytest.raises(ValueError, match="replay speed must be > 0"):
        ReplayClock(speed=0)


def test_fault_book_counts_expires_and_prefers_the_endpoint_over_wildcard() -> None:
    book = FaultBook()
    book.set("*", Fault("ratelimit"))
    book.set("klines", Fault("error", times=1))
    assert book.take("klines").kind == "error"
    assert book.take("klines").kind == "ratelimit"  # own fault used up -> wildcard
    book.clear()
    assert book.take("klines") is None
    with pytest.raises(ValueError, match="stale fault needs"):
        book.set("klines", Fault("stale"))
    book.set("klines", Fault("stale"), now_ms=123)
    assert book.take("klines").frozen_ms == 123


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "explode"},
        {"kind": "error", "status": 404},
        {"kind": "error", "times": 0},
        {"kind": "timeout", "duration_s": -1},
        {"kind": "error", "color": "red"},
    ],
)
def test_fault_rejects_bad_specs(bad: dict) -> None:
    with pytest.raises((ValueError, TypeError)):
        Fault.from_json(bad)


def test_intervals_without_a_file_are_aggregated_from_finer_candles(emu) -> None:
    df = pd.read_feather(DATADIR_2025 / "futures" / "BTC_USDT_USDT-5m-futures.feather")
    start = parse_time_ms("2025-11-20T00:00:00Z")
    rows = get(emu.url + f"/fapi/v1/klines?symbol=BTCUSDT&interval=15m&startTime={start}&limit=8")[
        1
    ]
    want = (
        df.set_index("date")
        .loc["2025-11-20 00:00":"2025-11-20 01:59"]
        .resample("15min")
        .agg({"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
    )
    assert [r[0] for r in rows] == [int(t.value // 1_000_000) for t in want.index]
    got = pd.DataFrame(
        [[float(x) for x in r[1:6]] for r in rows],
        columns=["open", "high", "low", "close", "volume"],
    )
    pd.testing.assert_frame_equal(got, want.reset_index(drop=True), check_exact=False)


def test_weekly_candles_open_on_monday_like_binance(emu) -> None:
    rows = get(emu.url + "/fapi/v1/klines?symbol=BTCUSDT&interval=1w&limit=3")[1]
    opens = [pd.Timestamp(r[0], unit="ms", tz="UTC") for r in rows]
    assert [t.day_of_week for t in opens] == [0, 0, 0]
    assert all(t == t.normalize() for t in opens)


def test_a_stop_by_ctrl_c_is_not_an_error_but_other_tracebacks_are():
    from liq_signals.offline.runner import fatal_lines

    frames = ['  File "x.py", line 1, in f\n', "    g()\n"]
    interrupted = [
        "Task exception was never retrieved\n",
        "Traceback (most recent call last):\n",
        *frames,
        "KeyboardInterrupt\n",
    ]
    crashed = ["Traceback (most recent call last):\n", *frames, "ValueError: boom\n"]
    config = ["2026-01-01 00:00:00,000 - freqtrade - ERROR - Configuration error: x\n"]
    assert fatal_lines(interrupted) == ()
    assert fatal_lines(crashed) == ("Traceback (most recent call last):",)
    assert fatal_lines(interrupted + crashed + config) == (
        "Traceback (most recent call last):",
        config[0].rstrip(),
    )
