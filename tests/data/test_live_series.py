"""Live sidecar series through real ccxt against the loopback emulator, with its faults.

The exchange object is built from the bot's own config (user_data/config.json's exchange
section + the emulator overlay, exactly what `liq-signals offline` hands freqtrade), so the
requests go where freqtrade's go.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from vision_helpers import PAIR, REPO

from liq_signals import columns as C
from liq_signals.data import sidecar
from liq_signals.live.series import ENDPOINTS, LiveSeries, LiveSeriesConfig
from liq_signals.offline import Emulator
from liq_signals.offline.faults import Fault
from liq_signals.offline.overlay import build_overlay

DATADIR_OI = REPO / "user_data" / "data" / "binance-oi-2026-06"
REPLAY = "2026-06-20T12:07:00Z"
NOW = pd.Timestamp(REPLAY)
ENDPOINT_KEYS = (
    "takerlongshortRatio",
    "globalLongShortAccountRatio",
    "topLongShortAccountRatio",
    "topLongShortPositionRatio",
)


class FakeClock:
    """Monotonic seconds that only move when told (staleness without sleeping)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    """The real taker flow of the sample plus ratio columns (synthetic values)."""
    real = sidecar.read_sidecar(DATADIR_OI, PAIR, "5m")
    rng = np.random.default_rng(3)
    for col in (
        C.GLOBAL_LS_RATIO,
        C.TOP_TRADER_LS_RATIO_ACCOUNTS,
        C.TOP_TRADER_LS_RATIO_POSITIONS,
    ):
        real[col] = np.round(rng.uniform(0.6, 2.4, len(real)), 4)
    return real


@pytest.fixture(scope="module")
def datadir(tmp_path_factory, truth) -> Path:
    """Candles of the real sample + the sidecar above, for the emulator to serve."""
    root = tmp_path_factory.mktemp("live_datadir")
    (root / "futures").mkdir()
    src = DATADIR_OI / "futures" / "BTC_USDT_USDT-5m-futures.feather"
    (root / "futures" / src.name).write_bytes(src.read_bytes())
    frame = truth.drop(columns=[C.TAKER_RATIO])
    sidecar.write_sidecar(root, PAIR, "5m", frame)
    # the emulator also looks for the older -metrics.feather name
    sidecar.legacy_sidecar_path(root, PAIR, "5m").write_bytes(
        sidecar.sidecar_path(root, PAIR, "5m").read_bytes()
    )
    return root


@pytest.fixture
def emu(datadir):
    emulator = Emulator(datadir, replay_start=REPLAY).start()
    yield emulator
    emulator.stop()


def _bot_exchange_config(emu: Emulator) -> dict:
    from freqtrade.configuration.load_config import load_config_file

    config = load_config_file(str(REPO / "user_data" / "config.json"))
    exchange = dict(config["exchange"])
    overlay = build_overlay(emu.url)["exchange"]
    exchange["ccxt_config"] = {**exchange.get("ccxt_config", {}), **overlay["ccxt_config"]}
    return exchange


def _series(emu: Emulator, clock: FakeClock | None = None, **kw) -> LiveSeries:
    kw.setdefault("min_interval_s", 60.0)
    return LiveSeries(_bot_exchange_config(emu), LiveSeriesConfig(**kw), clock=clock or FakeClock())


def test_series_match_the_served_data(emu, truth):
    snap = _series(emu).get(PAIR)
    assert not snap.stale
    assert snap.errors == {}
    frame = snap.frame.set_index(sidecar.DATE)
    want = truth.set_index(sidecar.DATE)
    # first fetch asks for Binance's maximum; the taker series lags one candle (a candle's
    # flow is known at its close), so the union has one more row
    assert frame[C.GLOBAL_LS_RATIO].notna().sum() == 500
    assert len(frame) == 501
    assert frame.index.max() <= NOW
    for col in (
        C.GLOBAL_LS_RATIO,
        C.TOP_TRADER_LS_RATIO_ACCOUNTS,
        C.TOP_TRADER_LS_RATIO_POSITIONS,
    ):
        got = frame[col].dropna()
        assert len(got) > 400
        np.testing.assert_allclose(got, want.loc[got.index, col], rtol=1e-9)
    net = frame[C.TAKER_NET_BASE].dropna()
    assert len(net) > 400
    # the emulator rebuilds buy/sell volumes from net flow and candle volume
    np.testing.assert_allclose(net, want.loc[net.index, C.TAKER_NET_BASE], atol=1e-6)
    assert frame.loc[net.index, C.TAKER_RATIO].notna().all()
    paths = {r.path for r in emu.requests()}
    assert paths == {f"/futures/data/{k}" for k in ENDPOINT_KEYS}


def test_polls_are_rate_limited_per_pair_and_series(emu):
    clock = FakeClock()
    live = _series(emu, clock)
    first = live.get(PAIR)
    assert len(emu.requests()) == 4
    clock.t += 30
    again = live.get(PAIR)
    assert len(emu.requests()) == 4
    pd.testing.assert_frame_equal(first.frame, again.frame)
    clock.t += 31
    live.get(PAIR)
    reqs = emu.requests()
    assert len(reqs) == 8
    assert {r.params["limit"] for r in reqs[4:]} == {"30"}


@pytest.mark.parametrize(
    "fault",
    [Fault("error", status=503), Fault("ratelimit", retry_after=5), Fault("teapot")],
    ids=["5xx", "429", "418"],
)
def test_failures_keep_last_data_and_flag_stale(emu, fault):
    clock = FakeClock()
    live = _series(emu, clock)
    good = live.get(PAIR)
    for key in ENDPOINT_KEYS:
        emu.set_fault(key, fault)
    clock.t += 61
    bad = live.get(PAIR)
    assert bad.stale
    assert set(bad.errors) == set(ENDPOINTS)
    pd.testing.assert_frame_equal(bad.frame, good.frame)
    emu.faults.clear()
    clock.t += 61
    back = live.get(PAIR)
    assert not back.stale
    assert back.errors == {}


def test_timeouts_are_bounded_and_never_raise(emu):
    clock = FakeClock()
    live = _series(emu, clock, timeout_ms=300)
    good = live.get(PAIR)
    emu.set_fault("*", Fault("timeout", hold_s=3.0))
    clock.t += 61
    t0 = time.monotonic()
    bad = live.get(PAIR)
    assert time.monotonic() - t0 < 4 * 0.3 + 1.0
    assert bad.stale
    assert "RequestTimeout" in bad.errors["taker"]
    pd.testing.assert_frame_equal(bad.frame, good.frame)


def test_an_exchange_that_stops_publishing_goes_stale(datadir):
    """Replay runs 3000x real time, so a 5m row appears every 0.1 s: polls keep seeing new
    rows (not stale) until the emulator's 'stale' fault freezes the endpoints' clock."""
    clock = FakeClock()
    with Emulator(datadir, replay_start=REPLAY, speed=3000) as fast:
        live = _series(fast, clock, min_interval_s=60, stale_after_s=200)
        for _ in range(4):
            time.sleep(0.15)
            clock.t += 61
            snap = live.get(PAIR)
            assert not snap.stale, snap.errors
        fast.set_fault("*", Fault("stale"))
        # the first poll after the freeze may still see rows up to the frozen instant
        for _ in range(5):
            time.sleep(0.15)
            clock.t += 61
            snap = live.get(PAIR)
    assert snap.stale, snap.errors
    assert snap.errors["taker"] == "no new rows", snap.errors


def test_first_fetch_failing_gives_an_empty_typed_frame(emu):
    emu.set_fault("*", Fault("error", status=500))
    snap = _series(emu).get(PAIR)
    assert snap.stale
    assert snap.frame.empty
    assert list(snap.frame.columns) == list(sidecar.SIDECAR_COLUMNS)


def test_non_binance_exchange_is_reported_not_polled():
    live = LiveSeries({"name": "bybit", "ccxt_config": {}})
    snap = live.get(PAIR)
    assert snap.stale
    assert snap.frame.empty
    assert "bybit not supported" in snap.errors["*"]


def test_unknown_exchange_is_a_configuration_error():
    with pytest.raises(ValueError, match="no ccxt exchange"):
        LiveSeries({"name": "nosuchexchange"})
