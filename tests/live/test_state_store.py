"""A restarted dry-run resumes each pair's book from its state file (fast, no bot).

The reference everywhere is a provider that never stopped, fed the same sequence of frames
(freqtrade's growing then sliding window): the resumed provider must give exactly its
features.  A rebuild from the restart frame alone gives other values (the book depends on
its first candle), which is what makes these comparisons able to fail.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from liq_signals.config import ModelConfig
from liq_signals.live import state_store
from liq_signals.live.provider import LiveFeatureProvider, provider_for

REPO = Path(__file__).resolve().parents[2]
FUTURES = REPO / "user_data" / "data" / "binance-oi-2026-06" / "futures"
PAIR = "BTC/USDT:USDT"
CFG = ModelConfig(decay_half_life_hours=24.0)
TF_S = 300


def _frames(candles: pd.DataFrame, stops: range, window: int | None = None) -> list[pd.DataFrame]:
    """freqtrade's frames: ``candles[:stop]``, or its last ``window`` rows (sliding)."""
    return [candles.iloc[max(0, stop - window) if window else 0 : stop] for stop in stops]


def _run(
    provider: LiveFeatureProvider, frames: list[pd.DataFrame], oi: pd.DataFrame
) -> pd.DataFrame:
    out = None
    for frame in frames:
        out = provider.features(frame, pair=PAIR, runmode="dry_run", open_interest=oi)
    assert out is not None
    return out


def _provider(state_dir: Path | None, config: ModelConfig = CFG) -> LiveFeatureProvider:
    # a clock far in the future would flag the last candle stale: keep it at the data
    return LiveFeatureProvider(config, export_dir=None, clock=lambda: 0.0, state_dir=state_dir)


def _stopped_bot(tmp_path: Path, frames: list[pd.DataFrame], oi: pd.DataFrame) -> Path:
    """Run 1: a provider persisting its state, then 'stopped' (state on disk)."""
    state_dir = tmp_path / "state"
    before = _provider(state_dir)
    _run(before, frames, oi)
    assert before.flush_state()
    return state_dir


@pytest.mark.parametrize("window", [None, 560], ids=["growing", "sliding"])
def test_resume_equals_a_bot_that_never_stopped(data, tmp_path, caplog, window) -> None:
    candles, oi = data
    run1 = _frames(candles, range(600, 621), window)
    # the bot was down for 6 candles; its first frame after the restart holds them
    run2 = _frames(candles, range(627, 640), 550 if window else None)
    state_dir = _stopped_bot(tmp_path, run1, oi)
    assert state_store.state_path(state_dir, PAIR, "5m").name == "BTC_USDT_USDT-5m.pkl"
    never_stopped = _run(_provider(None), run1 + run2, oi)
    with caplog.at_level(logging.INFO, logger="liq_signals.live.provider"):
        resumed_provider = _provider(state_dir)
        resumed = _run(resumed_provider, run2, oi)
    assert "resumed the saved book at" in caplog.text
    assert "(7 new candles)" in caplog.text
    pd.testing.assert_frame_equal(resumed, never_stopped, check_exact=True)
    rebuilt = _run(_provider(None), run2, oi)
    if window:  # a window starting later: a rebuild forgets what run 1's book had seen
        assert not rebuilt.equals(never_stopped)
    # the state on disk follows the resumed bot
    assert resumed_provider.flush_state()
    again = _run(_provider(state_dir), _frames(candles, range(640, 645), window), oi)
    pd.testing.assert_frame_equal(
        again,
        _run(_provider(None), run1 + run2 + _frames(candles, range(640, 645), window), oi),
        check_exact=True,
    )


def test_saving_every_few_candles_resumes_from_the_older_save(data, tmp_path, caplog) -> None:
    candles, oi = data
    run1 = _frames(candles, range(600, 621))  # 21 updates; saved after the 5th, ..., 20th
    run2 = _frames(candles, range(627, 635))
    state_dir = tmp_path / "state"
    before = LiveFeatureProvider(
        CFG, export_dir=None, clock=lambda: 0.0, state_dir=state_dir, save_every=5
    )
    _run(before, run1, oi)
    assert before.flush_state()
    assert len(before.save_times_ms(PAIR)) == 4
    with caplog.at_level(logging.INFO, logger="liq_signals.live.provider"):
        resumed = _run(_provider(state_dir), run2, oi)
    # the last save holds candle 618 (the 20th frame's last): 8 candles are processed again
    assert "(8 new candles)" in caplog.text
    pd.testing.assert_frame_equal(resumed, _run(_provider(None), run1 + run2, oi), check_exact=True)


def test_another_config_rebuilds_and_says_why(data, tmp_path, caplog) -> None:
    candles, oi = data
    state_dir = _stopped_bot(tmp_path, _frames(candles, range(600, 605)), oi)
    other = ModelConfig(decay_half_life_hours=12.0)
    frame = candles.iloc[:610]
    with caplog.at_level(logging.INFO, logger="liq_signals.live.provider"):
        got = _provider(state_dir, other).features(
            frame, pair=PAIR, runmode="dry_run", open_interest=oi
        )
    assert "model config changed (decay_half_life_hours); rebuilding the book" in caplog.text
    fresh = _provider(None, other).features(frame, pair=PAIR, runmode="dry_run", open_interest=oi)
    pd.testing.assert_frame_equal(got, fresh, check_exact=True)


def test_a_rewritten_candle_rebuilds_and_says_why(data, tmp_path, caplog) -> None:
    candles, oi = data
    state_dir = _stopped_bot(tmp_path, _frames(candles, range(600, 605)), oi)
    frame = candles.iloc[:610].copy()
    frame.loc[frame.index[603], "close"] += 1.0  # the exchange revised a saved candle
    with caplog.at_level(logging.INFO, logger="liq_signals.live.provider"):
        got = _provider(state_dir).features(frame, pair=PAIR, runmode="dry_run", open_interest=oi)
    assert "a saved candle differs in the new frame" in caplog.text
    fresh = _provider(None).features(frame, pair=PAIR, runmode="dry_run", open_interest=oi)
    pd.testing.assert_frame_equal(got, fresh, check_exact=True)
    # a window that no longer holds the saved candles cannot continue them either
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="liq_signals.live.provider"):
        _provider(state_dir).features(
            candles.iloc[610:690], pair=PAIR, runmode="dry_run", open_interest=oi
        )
    assert "is not in the new frame; rebuilding the book" in caplog.text


@pytest.mark.parametrize(
    "content", [b"", b"not a pickle", b"\x80\x05K\x01."], ids=["empty", "garbage", "other-object"]
)
def test_a_corrupt_state_file_is_a_warning_and_a_rebuild(data, tmp_path, caplog, content) -> None:
    candles, oi = data
    state_dir = tmp_path / "state"
    path = state_store.state_path(state_dir, PAIR, "5m")
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    frame = candles.iloc[:610]
    provider = _provider(state_dir)
    with caplog.at_level(logging.INFO):
        got = provider.features(frame, pair=PAIR, runmode="dry_run", open_interest=oi)
    assert any(
        r.levelno == logging.WARNING and "unreadable" in r.getMessage() for r in caplog.records
    )
    assert "feature update failed" not in caplog.text
    fresh = _provider(None).features(frame, pair=PAIR, runmode="dry_run", open_interest=oi)
    pd.testing.assert_frame_equal(got, fresh, check_exact=True)
    assert provider.flush_state()  # and the bad file is replaced by a good state
    assert state_store.load(path, PAIR, "5m", CFG, frame)[1].startswith("resumed")


def test_backtest_writes_no_state(data, tmp_path) -> None:
    candles, oi = data
    state_dir = tmp_path / "state"
    provider = _provider(state_dir)
    for runmode in ("backtest", "hyperopt"):
        provider.features(candles.iloc[:600], pair=PAIR, runmode=runmode, open_interest=oi)
    assert provider.flush_state()
    assert not state_dir.exists()


@pytest.mark.parametrize(
    ("runmode", "persisted"),
    [("dry_run", True), ("live", True), ("backtest", False), ("hyperopt", False)],
)
def test_strategy_provider_persists_only_in_dry_run_and_live(tmp_path, runmode, persisted) -> None:
    # the attributes freqtrade's IStrategy gives the provider (no exchange: no live series)
    strategy = SimpleNamespace(
        timeframe="5m",
        dp=SimpleNamespace(runmode=runmode),
        config={"user_data_dir": str(tmp_path), "runmode": runmode},
    )
    provider = provider_for(strategy, CFG)
    expected = tmp_path / state_store.STATE_DIRNAME if persisted else None
    assert provider.state_dir == expected
