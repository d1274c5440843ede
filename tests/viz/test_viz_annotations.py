"""The clusters as FreqUI bands: ``cluster_bands`` by hand, then through a real bot's API.

The API test starts a real ``freqtrade trade --dry-run`` on the replayed 2026-06 sample
(loopback emulator, replay clock) with its REST API on 127.0.0.1, asks ``/pair_candles``
over real HTTP as FreqUI does, and checks the ``annotations`` freqtrade returns against the
cluster columns of the same response.
"""

from __future__ import annotations

import base64
import json
import math
import os
import signal
import socket
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest

from liq_signals import columns as C
from liq_signals.config import ModelConfig
from liq_signals.viz.annotations import BAND_KINDS, bucket_range, cluster_bands

REPO = Path(__file__).resolve().parents[2]
CFG = ModelConfig()


def _frame(up: list[float], usd: list[float], stale: list[bool] | None = None) -> pd.DataFrame:
    n = len(up)
    return pd.DataFrame(
        {
            "date": pd.date_range("2026-06-13", periods=n, freq="5min", tz="UTC"),
            C.MAGNET_UP_PRICE: up,
            C.MAGNET_UP_USD: usd,
            C.STALE: stale or [False] * n,
        }
    )


def test_bucket_range_is_the_engine_bucket_of_the_price():
    n, delta = CFG.cluster_bins, CFG.grid_step
    for price in (0.0123, 1.0, 3.14159, 64_000.0, 123_456.7):
        lo, hi = bucket_range(price, CFG)
        assert lo <= price < hi
        assert math.log(hi / lo) == pytest.approx(n * delta)
        k = round(math.log(price) / delta)
        assert round(math.log(lo) / delta + 0.5) == (k // n) * n  # aligned on the grid


def test_runs_of_one_bucket_make_one_band_and_stale_rows_none():
    p = 100.0
    same = p * 1.0005  # same 0.5 % bucket as 100.0
    assert bucket_range(p, CFG) == bucket_range(same, CFG)
    frame = _frame(
        up=[p, same, p, 105.0, 105.0, np.nan, 105.0, 105.0],
        usd=[1e6, 2e6, 1e6, 5e6, 5e6, np.nan, 5e6, 7e6],
        stale=[False, False, False, False, False, False, True, False],
    )
    bands = cluster_bands(frame, cfg=CFG, timeframe_minutes=5)
    assert [b["label"] for b in bands] == [
        "largest shorts above: $2M at 100.05",
        "largest shorts above: $5M at 105.00",
        "largest shorts above: $7M at 105.00",
    ]
    first, second, third = bands
    assert first["start"] == frame["date"][0]
    assert first["end"] == frame["date"][2] + pd.Timedelta("5min")  # closes with candle 2
    assert (first["y_start"], first["y_end"]) == bucket_range(p, CFG)
    assert second["start"] == frame["date"][3]
    assert second["end"] == frame["date"][4] + pd.Timedelta("5min")
    assert third["start"] == frame["date"][7]  # the NaN row and the stale row break the run


def test_a_nearest_cluster_that_is_the_largest_is_drawn_once():
    frame = _frame(up=[100.0, 100.0], usd=[1e6, 1e6])
    frame[C.NEAREST_UP_PRICE] = [100.0, 99.0]
    frame[C.NEAREST_UP_USD] = [1e6, 5e5]
    labels = [b["label"] for b in cluster_bands(frame, cfg=CFG, timeframe_minutes=5)]
    assert labels == [
        "nearest shorts above: $500K at 99.000",
        "largest shorts above: $1M at 100.00",
    ]


def test_freqtrade_accepts_every_band():
    from freqtrade.ft_types.plot_annotation_type import AnnotationTypeTA

    frame = _frame(up=[100.0, 101.0, 102.0], usd=[1e6, 1e6, 1e6])
    bands = cluster_bands(frame, cfg=CFG, timeframe_minutes=5)
    assert len(bands) == 3
    for band in bands:
        AnnotationTypeTA.validate_python(band, extra="forbid")


# --- through the API server of a replayed dry-run -------------------------------------------

DATADIR = REPO / "user_data" / "data" / "binance-oi-2026-06"
PAIR = "BTC/USDT:USDT"
USER, PASSWORD = "liq", "bands"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int, path: str) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/{path}")
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    req.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback only
        return json.loads(resp.read())


@pytest.mark.freqtrade
def test_freqtrade_api_serves_the_cluster_bands(tmp_path: Path):
    from liq_signals.offline import Emulator
    from liq_signals.offline import runner as offline_runner

    port = _free_port()
    config = tmp_path / "config_api.json"
    config.write_text(
        json.dumps(
            {
                "add_config_files": [str(REPO / "tests" / "live" / "config_replay.json")],
                "api_server": {
                    "enabled": True,
                    "listen_ip_address": "127.0.0.1",
                    "listen_port": port,
                    "verbosity": "error",
                    "enable_openapi": False,
                    "jwt_secret_key": "test-only-jwt-secret-of-32-characters",
                    "ws_token": "test-only-ws",
                    "CORS_origins": [],
                    "username": USER,
                    "password": PASSWORD,
                },
            }
        )
    )
    (tmp_path / "user_data").mkdir()
    args = [
        "trade",
        "--dry-run",
        "--config",
        str(config),
        "--strategy",
        "LiquidationMagnetStrategy",
        "--strategy-path",
        str(REPO / "strategies"),
        "--db-url",
        f"sqlite:///{tmp_path / 'dryrun.sqlite'}",
        "--user-data-dir",
        str(tmp_path / "user_data"),
    ]
    result: dict[str, object] = {}
    answer: dict | None = None
    with Emulator(DATADIR, replay_start="2026-06-13T00:32:00Z", speed=60.0) as emu:
        before = {c.pid for c in psutil.Process().children(recursive=True)}

        def bot() -> None:
            result["r"] = offline_runner.run_freqtrade(
                args,
                datadir=DATADIR,
                emulator=emu,
                timeout=400,
                env=dict(os.environ, COLUMNS="250"),
                cwd=REPO,
                overlay_dir=tmp_path / "overlay",
            )

        thread = threading.Thread(target=bot, daemon=True)
        thread.start()
        deadline = time.monotonic() + 300
        while thread.is_alive() and time.monotonic() < deadline:
            try:
                got = _get(port, f"pair_candles?pair={PAIR}&timeframe=5m&limit=300")
            except OSError:
                got = None
            if got and got.get("length", 0) > 0 and got.get("annotations"):
                answer = got
                break
            time.sleep(2.0)
        for child in psutil.Process().children(recursive=True):
            if child.pid not in before and "replay_launch" in " ".join(child.cmdline()):
                child.send_signal(signal.SIGINT)
        thread.join(timeout=120)
    output = getattr(result.get("r"), "output", "")
    assert answer is not None, f"no annotated candles from the API: {output[-3000:]}"

    frame = pd.DataFrame(answer["data"], columns=answer["columns"])
    frame["date"] = pd.to_datetime(frame["date"], utc=True)
    bands = answer["annotations"]
    assert all(b["type"] == "area" for b in bands)
    names = {b["label"].split(":")[0] for b in bands}
    assert {"largest shorts above", "largest longs below"} <= names, names

    # every band spans the bucket of the cluster the bot's own features name on its candles
    for band in bands:
        kind = next(k for k in BAND_KINDS if band["label"].startswith(k.name + ":"))
        start, end = pd.Timestamp(band["start"]), pd.Timestamp(band["end"])
        rows = frame[(frame["date"] >= start) & (frame["date"] < end)]
        assert len(rows), band
        prices = rows[kind.price].astype(float).to_numpy()
        assert np.all((prices >= band["y_start"]) & (prices < band["y_end"])), band
        assert band["y_start"] < band["y_end"]
    # the newest bands reach the last analysed candle's close
    last_close = frame["date"].iloc[-1] + pd.Timedelta("5min")
    newest = {b["label"].split(":")[0] for b in bands if pd.Timestamp(b["end"]) == last_close}
    assert "largest shorts above" in newest or "largest longs below" in newest
