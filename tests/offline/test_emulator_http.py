"""The emulator's HTTP surface: Binance shapes, limits, error shapes, replay clock, archive."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pandas as pd
import pytest
from emu_helpers import DATADIR_2025, DATADIR_OI, REPLAY_2025, get

from liq_signals.offline import Emulator, Fault, parse_time_ms
from liq_signals.offline.binance_api import COL_TAKER_VOL_RATIO, RATIO_COLUMNS

FIVE_MIN = 300_000
KLINES = "/fapi/v1/klines?symbol=BTCUSDT&interval=5m"


def test_binds_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        Emulator(DATADIR_2025, host="0.0.0.0")


def test_exchange_info_has_perpetual_entries_with_binance_filters(emu: Emulator) -> None:
    status, body, _ = get(emu.url + "/fapi/v1/exchangeInfo")
    assert status == 200
    (btc,) = [s for s in body["symbols"] if s["symbol"] == "BTCUSDT"]
    assert btc["contractType"] == "PERPETUAL"
    assert btc["status"] == "TRADING"
    assert (btc["baseAsset"], btc["quoteAsset"], btc["marginAsset"]) == ("BTC", "USDT", "USDT")
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert {"PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE", "MIN_NOTIONAL"} <= set(filters)
    assert filters["PRICE_FILTER"]["tickSize"] == "0.10"
    assert filters["LOT_SIZE"]["stepSize"] == "0.001"


def test_exchange_info_always_lists_btcusdt(emulator_factory) -> None:
    emu = emulator_factory(None)
    _, body, _ = get(emu.url + "/fapi/v1/exchangeInfo")
    assert [s["symbol"] for s in body["symbols"]] == ["BTCUSDT"]


def test_other_product_lines_answer_no_markets(emu: Emulator) -> None:
    for path in ("/api/v3/exchangeInfo", "/dapi/v1/exchangeInfo"):
        status, body, _ = get(emu.url + path)
        assert (status, body["symbols"]) == (200, [])


def test_klines_match_the_datadir_file_row_for_row(emu: Emulator) -> None:
    df = pd.read_feather(DATADIR_2025 / "futures" / "BTC_USDT_USDT-5m-futures.feather")
    start = parse_time_ms("2026-01-05T00:00:00Z")
    _, rows, _ = get(emu.url + KLINES + f"&startTime={start}&limit=3")
    sel = df[df["date"] >= pd.Timestamp(start, unit="ms", tz="UTC")].head(3)
    assert [r[0] for r in rows] == [int(d.value // 1_000_000) for d in sel["date"]]
    assert [float(r[4]) for r in rows] == pytest.approx(sel["close"].tolist())
    assert [float(r[5]) for r in rows] == pytest.approx(sel["volume"].tolist())
    assert all(r[6] == r[0] + FIVE_MIN - 1 for r in rows)  # Binance close time


def test_klines_default_500_max_1500_and_limit_errors(emu: Emulator) -> None:
    assert len(get(emu.url + KLINES)[1]) == 500
    assert len(get(emu.url + KLINES + "&limit=1500")[1]) == 1500
    assert get(emu.url + KLINES + "&limit=1501")[:2] == (
        400,
        {"code": -1130, "msg": "Data sent for parameter 'limit' is not valid."},
    )
    status, body, _ = get(emu.url + KLINES + "&limit=abc")
    assert (status, body["code"]) == (400, -1100)


def test_error_shapes_for_bad_symbol_missing_param_bad_interval_unknown_path(
    emu, emulator_factory
) -> None:
    assert get(emu.url + "/fapi/v1/klines?symbol=NOPEUSDT&interval=5m")[:2] == (
        400,
        {"code": -1121, "msg": "Invalid symbol."},
    )
    status, body, _ = get(emu.url + "/fapi/v1/klines?interval=5m")
    assert (status, body["code"]) == (400, -1102)
    assert "'symbol'" in body["msg"]
    assert get(emu.url + "/fapi/v1/klines?symbol=BTCUSDT&interval=7m")[:2] == (
        400,
        {"code": -1120, "msg": "Invalid interval."},
    )
    assert get(emu.url + "/fapi/v1/nonexistent")[0] == 404
    no_oi = emulator_factory(DATADIR_2025.parent / "binance-2023", replay_start="2024-01-10T12:00Z")
    status, body, _ = get(no_oi.url + "/fapi/v1/openInterest?symbol=BTCUSDT")  # no OI file there
    assert status == 400
    assert body["code"] == -1000
    assert "open_interest" in body["msg"]


def test_open_interest_hist_limits_and_window(emu_oi: Emulator) -> None:
    base = emu_oi.url + "/futures/data/openInterestHist?symbol=BTCUSDT&period=5m"
    assert len(get(base)[1]) == 30
    assert len(get(base + "&limit=500")[1]) == 500
    assert get(base + "&limit=501")[0] == 400
    assert get(base.replace("5m", "3m"))[0] == 400
    rows = get(emu_oi.url + "/futures/data/openInterestHist?symbol=BTCUSDT&period=1h&limit=5")[1]
    ts = [r["timestamp"] for r in rows]
    assert all(t % 3_600_000 == 0 for t in ts)
    assert ts == sorted(ts)


def test_sidecar_column_names_match_the_data_package() -> None:
    from liq_signals.data import sidecar

    assert set(RATIO_COLUMNS.values()) | {COL_TAKER_VOL_RATIO} <= set(sidecar.VALUE_COLUMNS)


def test_taker_ratio_from_sidecar_net_flow(emu_oi: Emulator) -> None:
    rows = get(emu_oi.url + "/futures/data/takerlongshortRatio?symbol=BTCUSDT&period=5m&limit=3")[1]
    assert len(rows) == 3
    for r in rows:
        assert r["timestamp"] + FIVE_MIN <= emu_oi.now_ms()  # only closed candles
        assert float(r["buyVol"]) >= 0
        assert float(r["sellVol"]) >= 0


def test_no_candle_opens_after_now_and_the_forming_one_has_no_future(emu: Emulator) -> None:
    now = emu.now_ms()
    rows = get(emu.url + "/fapi/v1/klines?symbol=BTCUSDT&interval=1h&limit=3")[1]
    assert rows[-1][0] <= now < rows[-1][0] + 3_600_000  # the still-forming candle
    five = get(emu.url + KLINES + "&limit=50")[1]
    closed = [r for r in five if r[0] >= rows[-1][0] and r[0] + FIVE_MIN <= now]
    # the forming hour aggregates only the 5m candles closed by now
    assert float(rows[-1][5]) == pytest.approx(sum(float(r[5]) for r in closed))
    end = parse_time_ms("2026-02-01")
    assert get(emu.url + KLINES + f"&startTime={end}")[1] == []  # all after now


def test_replay_clock_advances_with_speed(emulator_factory) -> None:
    emu = emulator_factory(DATADIR_2025, replay_start=REPLAY_2025, speed=600)
    t0 = get(emu.url + "/fapi/v1/time")[1]["serverTime"]
    assert abs(t0 - parse_time_ms(REPLAY_2025)) < 600 * 1000  # within 1 wall-second
    last0 = get(emu.url + KLINES + "&limit=1")[1][0][0]
    time.sleep(1.2)  # 12 replay minutes
    t1 = get(emu.url + "/fapi/v1/time")[1]["serverTime"]
    assert t1 - t0 >= 600 * 1000
    last1 = get(emu.url + KLINES + "&limit=1")[1][0][0]
    assert last1 - last0 >= 2 * FIVE_MIN
    assert emu.now_ms() >= t1


def test_depth_is_a_valid_book_around_the_price(emu: Emulator) -> None:
    body = get(emu.url + "/fapi/v1/depth?symbol=BTCUSDT&limit=5")[1]
    bids = [float(p) for p, _ in body["bids"]]
    asks = [float(p) for p, _ in body["asks"]]
    assert len(bids) == len(asks) == 5
    assert bids == sorted(bids, reverse=True)
    assert asks == sorted(asks)
    assert bids[0] < asks[0]
    last = float(get(emu.url + "/fapi/v1/ticker/price?symbol=BTCUSDT")[1]["price"])
    assert bids[0] <= last <= asks[0]
    assert get(emu.url + "/fapi/v1/depth?symbol=BTCUSDT&limit=7")[0] == 400


def test_fault_error_n_times_then_recovers(emu: Emulator) -> None:
    emu.set_fault("klines", Fault("error", status=502, times=2))
    assert [get(emu.url + KLINES + "&limit=1")[0] for _ in range(3)] == [502, 502, 200]
    assert get(emu.url + "/fapi/v1/time")[0] == 200  # other endpoints untouched
    assert [r.status for r in emu.requests("klines")] == [502, 502, 200]


def test_fault_duration_expires(emu: Emulator) -> None:
    emu.set_fault("*", Fault("error", duration_s=0.3))
    assert get(emu.url + "/fapi/v1/time")[0] == 503
    time.sleep(0.4)
    assert get(emu.url + "/fapi/v1/time")[0] == 200


def test_fault_ratelimit_sends_retry_after(emu: Emulator) -> None:
    emu.set_fault("depth", Fault("ratelimit", retry_after=7, times=1))
    status, body, headers = get(emu.url + "/fapi/v1/depth?symbol=BTCUSDT")
    assert (status, body["code"], headers["Retry-After"]) == (429, -1003, "7")
    emu.set_fault("depth", Fault("teapot", retry_after=3, times=1))
    assert get(emu.url + "/fapi/v1/depth?symbol=BTCUSDT")[0] == 418


def test_fault_timeout_holds_the_connection(emu: Emulator) -> None:
    emu.set_fault("time", Fault("timeout", hold_s=3, times=1))
    t = time.monotonic()
    with pytest.raises(TimeoutError):
        urllib.request.urlopen(emu.url + "/fapi/v1/time", timeout=0.5)
    assert time.monotonic() - t < 2.5


def test_fault_stale_freezes_the_served_time(emulator_factory) -> None:
    emu = emulator_factory(DATADIR_2025, replay_start=REPLAY_2025, speed=600)
    emu.set_fault("klines", Fault("stale"))
    before = get(emu.url + KLINES + "&limit=2")[1]
    time.sleep(1.1)
    assert get(emu.url + KLINES + "&limit=2")[1] == before  # frozen
    assert get(emu.url + "/fapi/v1/time")[1]["serverTime"] > before[-1][0] + 2 * FIVE_MIN
    emu.faults.clear("klines")
    assert get(emu.url + KLINES + "&limit=2")[1][-1][0] > before[-1][0]


def test_fault_duplicate_repeats_rows(emu: Emulator) -> None:
    clean = get(emu.url + KLINES + "&limit=3")[1]
    emu.set_fault("klines", Fault("duplicate", times=1))
    dup = get(emu.url + KLINES + "&limit=3")[1]
    assert dup == [row for row in clean for _ in (0, 1)]


def test_archive_route_serves_files_and_honours_faults(emulator_factory, tmp_path) -> None:
    rel = "futures/um/daily/metrics/BTCUSDT/BTCUSDT-metrics-2026-06-20.zip"
    (tmp_path / "data" / rel).parent.mkdir(parents=True)
    (tmp_path / "data" / rel).write_bytes(b"PK\x03\x04zip")
    (tmp_path / "secret.txt").write_text("no")
    emu = emulator_factory(None, archive_root=tmp_path)
    status, body, headers = get(emu.url + "/data/" + rel)
    assert (status, body, headers["Content-Type"]) == (200, b"PK\x03\x04zip", "application/zip")
    assert get(emu.url + "/data/futures/um/daily/metrics/BTCUSDT/missing.zip")[0] == 404
    assert get(emu.url + "/data/../secret.txt")[0] == 404
    emu.set_fault("archive", Fault("error", times=1))
    assert [get(emu.url + "/data/" + rel)[0] for _ in range(2)] == [503, 200]


def test_emulator_process_is_controlled_over_http() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "liq_signals.offline.emulator",
            "--datadir",
            str(DATADIR_OI),
            "--replay-start",
            "2026-06-20T12:00:00",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:")
        url = line.split()[-1]
        clock = get(url + "/__emulator__/clock")[1]
        assert abs(clock["now"] - parse_time_ms("2026-06-20T12:00:00")) < 60_000
        req = urllib.request.Request(
            url + "/__emulator__/faults",
            method="POST",
            data=json.dumps({"endpoint": "openInterest", "kind": "error", "times": 1}).encode(),
        )
        urllib.request.urlopen(req, timeout=5).read()
        oi = url + "/fapi/v1/openInterest?symbol=BTCUSDT"
        assert [get(oi)[0] for _ in range(2)] == [503, 200]
        log = get(url + "/__emulator__/requests?endpoint=openInterest")[1]
        assert [r["status"] for r in log] == [503, 200]
        bad = urllib.request.Request(
            url + "/__emulator__/faults",
            method="POST",
            data=json.dumps({"endpoint": "x", "kind": "nope"}).encode(),
        )
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(bad, timeout=5)
        assert err.value.code == 400
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize(
    ("path", "stamp"),
    [
        ("/fapi/v1/fundingRate?symbol=BTCUSDT&limit=1000", "fundingTime"),
        ("/futures/data/openInterestHist?symbol=BTCUSDT&period=5m&limit=500", "timestamp"),
        ("/futures/data/takerlongshortRatio?symbol=BTCUSDT&period=5m&limit=500", "timestamp"),
    ],
)
def test_series_end_at_the_replay_time_not_at_the_end_of_the_file(emu_oi, path, stamp) -> None:
    rows = get(emu_oi.url + path)[1]
    now = emu_oi.now_ms()
    stamps = [r[stamp] for r in rows]
    assert stamps
    assert max(stamps) <= now
    # the file goes on to 2026-06-22; the newest row served is the newest one known at now
    assert now - max(stamps) <= 8 * 3_600_000
    late = get(emu_oi.url + path + f"&startTime={now + 1}")[1]
    assert late == []


def test_open_interest_is_the_last_snapshot_known_at_now(emu_oi) -> None:
    df = pd.read_feather(DATADIR_OI / "futures" / "BTC_USDT_USDT-5m-open_interest.feather")
    now = emu_oi.now_ms()
    body = get(emu_oi.url + "/fapi/v1/openInterest?symbol=BTCUSDT")[1]
    known = df[df["date"] <= pd.Timestamp(now, unit="ms", tz="UTC")]
    assert float(body["openInterest"]) == pytest.approx(known["open_interest_amount"].iloc[-1])
    assert float(body["openInterest"]) != pytest.approx(df["open_interest_amount"].iloc[-1])
