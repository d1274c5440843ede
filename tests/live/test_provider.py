"""LiveFeatureProvider and the replay clock, without a bot (fast)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from liq_signals import columns as C
from liq_signals.config import ModelConfig
from liq_signals.data.frames import PairFrames
from liq_signals.features.pipeline import compute_features
from liq_signals.live.provider import LiveFeatureProvider, ratio_text

REPO = Path(__file__).resolve().parents[2]
FUTURES = REPO / "user_data" / "data" / "binance-oi-2026-06" / "futures"
PAIR = "BTC/USDT:USDT"
CFG = ModelConfig(decay_half_life_hours=24.0)
TF_S = 300


def _numeric() -> list[str]:
    return [c for c in C.feature_columns(CFG.bands_pct) if c not in (C.MODE, C.STALE)]


def _clock_after(frame: pd.DataFrame) -> float:
    """freqtrade's clock in the loop that sees ``frame``: the candle after its last one is
    closed, the next is forming."""
    return frame["date"].iloc[-1].timestamp() + 2 * TF_S + 1


def test_backtest_modes_are_one_batch_computation(data) -> None:
    candles, oi = data
    provider = LiveFeatureProvider(CFG, export_dir=None)
    got = provider.features(PairFrames(candles, open_interest=oi), pair=PAIR, runmode="backtest")
    ref = compute_features(candles, pair=PAIR, open_interest=oi, config=CFG)
    pd.testing.assert_frame_equal(got, ref)
    assert provider.update_times_ms(PAIR) == []  # no per-pair state in batch modes


def test_dry_run_advances_only_new_candles_and_matches_batch(data, tmp_path, caplog) -> None:
    candles, oi = data
    now = [0.0]
    provider = LiveFeatureProvider(CFG, export_dir=tmp_path, clock=lambda: now[0])
    caplog.set_level(logging.INFO, logger="liq_signals.live.provider")
    for stop in range(600, 611):
        frame = candles.iloc[:stop]
        now[0] = _clock_after(frame)
        got = provider.features(PairFrames(frame, open_interest=oi), pair=PAIR, runmode="dry_run")
    ref = compute_features(candles.iloc[:610], pair=PAIR, open_interest=oi, config=CFG)
    np.testing.assert_allclose(
        got[_numeric()].to_numpy(float), ref[_numeric()].to_numpy(float), rtol=1e-12, equal_nan=True
    )
    assert (got[C.STALE] == ref[C.STALE]).all()
    # ten single-candle updates timed, one log line per new candle
    assert len(provider.update_times_ms(PAIR)) == 10
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("liq ")]
    assert len(lines) == 11
    assert "ratio5%=" in lines[-1]
    assert "stale=False" in lines[-1]
    # the export holds every candle once: the first call's history + ten new ones
    rows = [json.loads(x) for x in (tmp_path / "BTC_USDT_USDT.jsonl").read_text().splitlines()]
    assert len(rows) == 610
    assert len({r["date"] for r in rows}) == 610
    assert rows[-1][C.NEAREST_UP_PRICE] == pytest.approx(float(ref[C.NEAREST_UP_PRICE].iloc[-1]))


def test_candles_behind_the_clock_are_flagged_stale(data) -> None:
    candles, oi = data
    frame = candles.iloc[:600]
    provider = LiveFeatureProvider(
        CFG, export_dir=None, clock=lambda: _clock_after(frame) + 3 * TF_S
    )
    got = provider.features(PairFrames(frame, open_interest=oi), pair=PAIR, runmode="dry_run")
    assert bool(got[C.STALE].iloc[-1])
    assert not bool(got[C.STALE].iloc[-2])
    on_time = LiveFeatureProvider(CFG, export_dir=None, clock=lambda: _clock_after(frame))
    assert not bool(
        on_time.features(PairFrames(frame, open_interest=oi), pair=PAIR, runmode="dry_run")[
            C.STALE
        ].iloc[-1]
    )


def test_missing_open_interest_flags_the_candles_stale(data) -> None:
    candles, oi = data
    frame = candles.iloc[:600]
    cut = oi[oi["date"] < frame["date"].iloc[-4]]  # an outage: the last rows never arrived
    provider = LiveFeatureProvider(CFG, export_dir=None, clock=lambda: _clock_after(frame))
    got = provider.features(PairFrames(frame, open_interest=cut), pair=PAIR, runmode="dry_run")
    assert got[C.STALE].iloc[-3:].all()
    assert not got[C.STALE].iloc[-6]
    assert (got[C.MODE].iloc[-3:] == C.MODE_VOLUME).all()


def test_a_failing_update_never_raises_and_blocks_entries(data, caplog) -> None:
    candles, oi = data
    # a garbled answer repeating a candle (a bad *row* is quarantined, not a failure)
    bad = pd.concat([candles.iloc[:600], candles.iloc[599:600]], ignore_index=True)
    provider = LiveFeatureProvider(CFG, export_dir=None, clock=lambda: _clock_after(bad))
    with caplog.at_level(logging.ERROR, logger="liq_signals.live.provider"):
        got = provider.features(PairFrames(bad, open_interest=oi), pair=PAIR, runmode="dry_run")
    assert "feature update failed" in caplog.text
    assert got[C.STALE].all()
    assert got[_numeric()].isna().all().all()
    assert set(C.feature_columns(CFG.bands_pct)) <= set(got.columns)
    with pytest.raises(Exception, match="duplicate date"):  # backtests stop and say why
        provider.features(PairFrames(bad, open_interest=oi), pair=PAIR, runmode="backtest")


@pytest.mark.parametrize(
    ("log_ratio", "text"),
    [(np.log(3.2), "3.2:1"), (np.log(0.5), "1:2.0"), (0.0, "1.0:1"), (np.nan, "n/a")],
)
def test_ratio_text(log_ratio: float, text: str) -> None:
    assert ratio_text(log_ratio) == text


def test_replay_clock_runs_freqtrade_time_at_speed() -> None:
    """In a fresh interpreter: freqtrade's clock functions follow the replay clock."""
    code = """
import time, datetime
from liq_signals.offline import replay_time as r
r.install(1781308800.0, 600.0)   # 2026-06-13 00:00 UTC at 600x
from freqtrade.util import dt_now
import freqtrade.worker as w
t0 = time.time(); m0 = time.monotonic()
time.sleep(30)                    # 30 replay seconds = 0.05 real seconds
print(round(time.time() - t0), round(time.monotonic() - m0, 1), dt_now().date(),
      w.time.time() > 1.78e9)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert out.returncode == 0, out.stderr
    replay_s, real_s, day, bound = out.stdout.split()
    assert 30 <= int(replay_s) <= 60
    assert float(real_s) < 0.5
    assert day == "2026-06-13"
    assert bound == "True"


def test_live_series_extends_an_old_sidecar_so_new_candles_are_not_stale(data) -> None:
    """Online, the sidecar file ends at download time: without live rows every new candle
    lacks taker flow and is stale (no entries ever); the sidecar poller fills them in."""
    from liq_signals.data.sidecar import read_sidecar
    from liq_signals.live.series import LiveSeries, LiveSeriesConfig
    from liq_signals.offline import Emulator
    from liq_signals.offline.overlay import binance_url_map

    candles, oi = data
    frame = candles.iloc[:600]
    sidecar = read_sidecar(FUTURES.parent, PAIR, "5m")
    old_file = sidecar[sidecar["date"] < frame["date"].iloc[-10]]
    clock = _clock_after(frame)
    without = LiveFeatureProvider(CFG, export_dir=None, clock=lambda: clock)
    got = without.features(
        PairFrames(frame, open_interest=oi, metrics=old_file), pair=PAIR, runmode="dry_run"
    )
    assert got[C.STALE].iloc[-8:].all()
    with Emulator(FUTURES.parent, replay_start=int(clock * 1000)) as emu:
        exchange = {
            "name": "binance",
            "ccxt_config": {
                "urls": {"api": binance_url_map(emu.url)},
                "options": {"fetchMarkets": {"types": ["linear"]}},
            },
        }
        series = LiveSeries(exchange, LiveSeriesConfig(min_interval_s=0))
        with_live = LiveFeatureProvider(
            CFG, export_dir=None, clock=lambda: clock, live_series=series
        )
        got = with_live.features(
            PairFrames(frame, open_interest=oi, metrics=old_file), pair=PAIR, runmode="dry_run"
        )
        assert emu.requests("takerlongshortRatio"), "the poller never asked the exchange"
    assert not got[C.STALE].iloc[-8:].any()


def _liq_info(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    return [r for r in records if r.name.startswith("liq_signals") and r.levelno == logging.INFO]


def test_one_info_line_per_candle_and_no_contradicting_note(data, caplog) -> None:
    """With open interest missing for some candles, later updates log one INFO line per
    new candle (the provider's) and not the pipeline's notes about seam candles, which
    said "no open interest … flagged liq_stale" next to a line saying ``stale=False``."""
    candles, oi = data
    # open interest missing for 30 minutes in the middle of the updated candles
    hole = (oi["date"] >= candles["date"].iloc[603]) & (oi["date"] < candles["date"].iloc[609])
    gappy = oi[~hole].reset_index(drop=True)
    now = [0.0]
    provider = LiveFeatureProvider(CFG, export_dir=None, clock=lambda: now[0])
    per_update: list[list[logging.LogRecord]] = []
    stale: list[bool] = []
    for stop in range(600, 615):
        frame = candles.iloc[:stop]
        now[0] = _clock_after(frame)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="liq_signals"):
            out = provider.features(
                PairFrames(frame, open_interest=gappy), pair=PAIR, runmode="dry_run"
            )
        per_update.append(_liq_info(caplog.records))
        stale.append(bool(out[C.STALE].iloc[-1]))
    assert any(stale)  # the hole did make candles stale (the test can see notes)
    assert not all(stale)
    for records in per_update[1:]:
        assert [r.name for r in records] == ["liq_signals.live.provider"], [
            r.getMessage() for r in records
        ]
        assert records[0].getMessage().startswith(f"liq {PAIR} ")
    # the notes are still there for whoever asks: at DEBUG the pipeline's lines come back
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="liq_signals"):
        frame = candles.iloc[:606]
        LiveFeatureProvider(CFG, export_dir=None, clock=lambda: 0.0).features(
            PairFrames(candles.iloc[:605], open_interest=gappy), pair=PAIR, runmode="dry_run"
        )
        p2 = LiveFeatureProvider(CFG, export_dir=None, clock=lambda: 0.0)
        p2.features(
            PairFrames(candles.iloc[:603], open_interest=gappy), pair=PAIR, runmode="dry_run"
        )
        caplog.clear()
        p2.features(PairFrames(frame, open_interest=gappy), pair=PAIR, runmode="dry_run")
    assert any(r.name == "liq_signals.features.align" for r in _liq_info(caplog.records))


def test_a_failure_repeated_every_candle_pins_no_frame_and_logs_once(data, monkeypatch) -> None:
    """freqtrade keeps its last 1000 log records in memory: a record carrying the
    traceback of a failed update kept that update's frames (candles, open interest) alive —
    in a soak, a bad row that failed every candle grew the bot by ~1 MB/s.  The records
    must hold text only; the traceback is written once, repeats are one line each."""
    import gc
    import logging.handlers
    import weakref

    from liq_signals.features.incremental import IncrementalFeatures

    candles, oi = data

    def broken(self, frame, **kwargs):  # noqa: ANN001, ANN003, ANN202, ARG001
        raise RuntimeError("bad row 7 in open_interest")

    buffer = logging.handlers.BufferingHandler(1000)
    root = logging.getLogger("liq_signals")
    root.addHandler(buffer)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        provider = LiveFeatureProvider(CFG, export_dir=None, clock=lambda: 0.0)
        provider.features(
            PairFrames(candles.iloc[:600], open_interest=oi), pair=PAIR, runmode="dry_run"
        )
        monkeypatch.setattr(IncrementalFeatures, "update", broken)
        refs = []
        for stop in range(601, 605):
            frame = candles.iloc[:stop].copy()
            refs.append(weakref.ref(frame))
            out = provider.features(
                PairFrames(frame, open_interest=oi), pair=PAIR, runmode="dry_run"
            )
            assert out[C.STALE].all()
            del frame, out
        monkeypatch.undo()
        provider.features(
            PairFrames(candles.iloc[:606], open_interest=oi), pair=PAIR, runmode="dry_run"
        )
        gc.collect()
        assert all(r() is None for r in refs), "a log record keeps a failed update's frame"
        failed = [r for r in buffer.buffer if "feature update failed" in r.getMessage()]
        assert [r.exc_info for r in failed] == [None] * 4
        assert "Traceback (most recent call last)" in failed[0].getMessage()
        assert "RuntimeError: bad row 7 in open_interest" in failed[0].getMessage()
        for n, r in enumerate(failed[1:], start=2):
            assert r.getMessage().count("\n") == 0
            assert f"again ({n} in a row): RuntimeError: bad row 7" in r.getMessage()
        assert any("works again after 4 failure(s)" in r.getMessage() for r in buffer.buffer)
    finally:
        root.removeHandler(buffer)
        root.setLevel(old_level)


def test_a_backtest_provider_survives_pickling_as_hyperopt_does() -> None:
    """freqtrade's hyperopt sends the strategy, provider attached, to worker processes."""
    import pickle

    from liq_signals.config import ModelConfig
    from liq_signals.live.provider import LiveFeatureProvider

    provider = LiveFeatureProvider(ModelConfig(), "5m")
    copy = pickle.loads(pickle.dumps(provider))
    copy._failures.failed("BTC/USDT:USDT", "update", ValueError("x"))  # noqa: SLF001
    assert copy._failures.count("BTC/USDT:USDT") == 1  # noqa: SLF001


def test_the_candle_after_a_quarantined_oi_row_is_usable_again(data) -> None:
    """A zero open-interest row is quarantined: its candle has no open interest (volume
    mode, stale).  The next candle reads a known value again, and OI mode needs no
    previous value (opens come from volume; open interest constrains the book), so it is
    an OI-mode candle, not stale — one bad row costs exactly one stale candle, in dry-run
    and in the batch run alike."""
    candles, oi = data
    bad = candles["date"].iloc[650]
    oi = oi.copy()
    oi.loc[oi["date"] == bad, "open_interest_amount"] = 0.0
    provider = LiveFeatureProvider(CFG, export_dir=None, clock=lambda: 0.0)
    for stop in range(640, 656):
        got = provider.features(
            PairFrames(candles.iloc[:stop], open_interest=oi), pair=PAIR, runmode="dry_run"
        )
    rows = got.set_index("date").loc[candles["date"].iloc[650:654]]
    # the OI lag puts the missing row on candle 651
    assert list(rows[C.MODE]) == [C.MODE_OI, C.MODE_VOLUME, C.MODE_OI, C.MODE_OI]
    assert list(rows[C.STALE]) == [False, True, False, False]
    batch = compute_features(candles.iloc[:655], pair=PAIR, open_interest=oi, config=CFG)
    assert (batch[C.STALE].to_numpy() == got[C.STALE].to_numpy()).all()
