"""A restarted dry-run resumes each pair's book from its state file (fast, no bot).

The reference everywhere is a provider that never stopped, fed the same sequence of frames
(freqtrade's growing then sliding window): the resumed provider must give exactly its
features.  A rebuild from the restart frame alone gives other values (the book depends on
its first candle), which is what makes these comparisons able to fail.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from liq_signals.config import ModelConfig
from liq_signals.data.frames import PairFrames
from liq_signals.live import state_store
from liq_signals.live.provider import LiveFeatureProvider, provider_for

REPO = Path(__file__).resolve().parents[2]
FUTURES = REPO / "user_data" / "data" / "binance-oi-2026-06" / "futures"
PAIR = "BTC/USDT:USDT"
CFG = ModelConfig(decay_half_life_hours=24.0)
TF_S = 300
STRATEGY = "strategy"  # LiveFeatureProvider's default name


def _frames(candles: pd.DataFrame, stops: range, window: int | None = None) -> list[pd.DataFrame]:
    """freqtrade's frames: ``candles[:stop]``, or its last ``window`` rows (sliding)."""
    return [candles.iloc[max(0, stop - window) if window else 0 : stop] for stop in stops]


def _run(
    provider: LiveFeatureProvider, frames: list[pd.DataFrame], oi: pd.DataFrame
) -> pd.DataFrame:
    out = None
    for frame in frames:
        out = provider.features(PairFrames(frame, open_interest=oi), pair=PAIR, runmode="dry_run")
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
    before.close()  # written, lock released
    return state_dir


@pytest.mark.parametrize("window", [None, 560], ids=["growing", "sliding"])
def test_resume_equals_a_bot_that_never_stopped(data, tmp_path, caplog, window) -> None:
    candles, oi = data
    run1 = _frames(candles, range(600, 621), window)
    # the bot was down for 6 candles; its first frame after the restart holds them
    run2 = _frames(candles, range(627, 640), 550 if window else None)
    state_dir = _stopped_bot(tmp_path, run1, oi)
    assert (
        state_store.state_path(state_dir, STRATEGY, PAIR, "5m").name
        == "strategy-BTC_USDT_USDT-5m.liqstate"
    )
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
    resumed_provider.close()
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
    before.close()
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
            PairFrames(frame, open_interest=oi), pair=PAIR, runmode="dry_run"
        )
    assert "model config changed (decay_half_life_hours); rebuilding the book" in caplog.text
    fresh = _provider(None, other).features(
        PairFrames(frame, open_interest=oi), pair=PAIR, runmode="dry_run"
    )
    pd.testing.assert_frame_equal(got, fresh, check_exact=True)


def test_a_rewritten_candle_rebuilds_and_says_why(data, tmp_path, caplog) -> None:
    candles, oi = data
    state_dir = _stopped_bot(tmp_path, _frames(candles, range(600, 605)), oi)
    frame = candles.iloc[:610].copy()
    frame.loc[frame.index[603], "close"] += 1.0  # the exchange revised a saved candle
    with caplog.at_level(logging.INFO, logger="liq_signals.live.provider"):
        got = _provider(state_dir).features(
            PairFrames(frame, open_interest=oi), pair=PAIR, runmode="dry_run"
        )
    assert "a saved candle differs in the new frame" in caplog.text
    fresh = _provider(None).features(
        PairFrames(frame, open_interest=oi), pair=PAIR, runmode="dry_run"
    )
    pd.testing.assert_frame_equal(got, fresh, check_exact=True)
    # a window that no longer holds the saved candles cannot continue them either
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="liq_signals.live.provider"):
        _provider(state_dir).features(
            PairFrames(candles.iloc[610:690], open_interest=oi), pair=PAIR, runmode="dry_run"
        )
    assert "is not in the new frame; rebuilding the book" in caplog.text


def _pickle_that_touches(marker: Path) -> bytes:
    """A pickle whose loading runs ``touch marker`` in a shell (what a crafted state file
    did to the old pickle-based store)."""

    class Payload:
        def __reduce__(self):  # noqa: ANN204 - pickle protocol
            return (os.system, (f"touch {marker}",))

    return pickle.dumps(Payload())


def _rejected(caplog) -> bool:
    return any(
        r.levelno == logging.WARNING
        and "rejected" in r.getMessage()
        and "not loaded" in r.getMessage()
        for r in caplog.records
    )


@pytest.mark.parametrize(
    "content",
    [b"", b"not a state", b"\x80\x05K\x01.", b"LIQSTATE 1 12 " + b"0" * 64 + b"\n{}"],
    ids=["empty", "garbage", "pickle", "bad-header"],
)
def test_a_corrupt_state_file_is_a_warning_and_a_rebuild(data, tmp_path, caplog, content) -> None:
    candles, oi = data
    state_dir = tmp_path / "state"
    path = state_store.state_path(state_dir, STRATEGY, PAIR, "5m")
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    frame = candles.iloc[:610]
    provider = _provider(state_dir)
    with caplog.at_level(logging.INFO):
        got = provider.features(PairFrames(frame, open_interest=oi), pair=PAIR, runmode="dry_run")
    assert _rejected(caplog)
    assert "feature update failed" not in caplog.text
    fresh = _provider(None).features(
        PairFrames(frame, open_interest=oi), pair=PAIR, runmode="dry_run"
    )
    pd.testing.assert_frame_equal(got, fresh, check_exact=True)
    provider.close()  # and the bad file is replaced by a good state
    assert state_store.load(path, STRATEGY, PAIR, "5m", CFG, frame)[1].startswith("resumed")


def test_a_malicious_state_file_never_runs(data, tmp_path, caplog) -> None:
    """A crafted pickle, under the old file name and under the new one, and inside an
    object array of an otherwise well-formed state: its command never runs."""
    candles, oi = data
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    # the payload is live: unpickled, it does run (so the assertions below can fail)
    probe = tmp_path / "probe"
    pickle.loads(_pickle_that_touches(probe))  # noqa: S301 - proving the payload works
    assert probe.exists()
    marker = tmp_path / "PWNED"
    evil = _pickle_that_touches(marker)
    (state_dir / "BTC_USDT_USDT-5m.pkl").write_bytes(evil)  # the old store's name
    path = state_store.state_path(state_dir, STRATEGY, PAIR, "5m")
    path.write_bytes(evil)
    frame = candles.iloc[:610]
    provider = _provider(state_dir)
    with caplog.at_level(logging.INFO):
        got = provider.features(PairFrames(frame, open_interest=oi), pair=PAIR, runmode="dry_run")
    assert not marker.exists()
    assert _rejected(caplog)
    legacy = [r for r in caplog.records if "old pickle state file" in r.getMessage()]
    assert len(legacy) == 1
    assert "never loaded" in legacy[0].getMessage()
    pd.testing.assert_frame_equal(
        got,
        _provider(None).features(PairFrames(frame, open_interest=oi), pair=PAIR, runmode="dry_run"),
        check_exact=True,
    )
    # a well-formed file (valid checksums) whose payload carries a pickled object array
    provider.close()
    record = state_store.decode(path.read_bytes())

    class Payload:
        def __reduce__(self):  # noqa: ANN204
            return (os.system, (f"touch {marker}",))

    arrays = dict(record.arrays, time=np.array([Payload()], dtype=object))
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=True, **arrays)
    path.write_bytes(_reencode(record, buf.getvalue()))
    caplog.clear()
    with caplog.at_level(logging.INFO):
        _provider(state_dir).features(
            PairFrames(frame, open_interest=oi), pair=PAIR, runmode="dry_run"
        )
    assert _rejected(caplog)
    assert "array time: object" in caplog.text
    assert not marker.exists()


def _reencode(record: state_store.StateRecord, payload: bytes) -> bytes:
    """A state file around ``payload`` with correct checksums (what a forger would make)."""
    import hashlib
    import json
    from dataclasses import asdict

    header = json.dumps(
        {
            "schema": state_store.SCHEMA,
            "fingerprint": asdict(record.fingerprint),
            "scalars": record.scalars,
            "payload_bytes": len(payload),
            "payload_sha256": hashlib.sha256(payload).hexdigest(),
        },
        sort_keys=True,
    ).encode()
    first = f"LIQSTATE {state_store.SCHEMA} {len(header)} {hashlib.sha256(header).hexdigest()}\n"
    return first.encode() + header + payload


def test_a_forged_book_pointer_is_refused(data, tmp_path, caplog) -> None:
    """Correct checksums but a book edge outside the book (the numba kernel does not
    bounds-check): refused before the kernel sees it."""
    candles, oi = data
    state_dir = _stopped_bot(tmp_path, _frames(candles, range(600, 605)), oi)
    path = state_store.state_path(state_dir, STRATEGY, PAIR, "5m")
    record = state_store.decode(path.read_bytes())
    frame = candles.iloc[:610]
    assert state_store.load(path, STRATEGY, PAIR, "5m", CFG, frame)[0] is not None
    iscal = record.arrays["book_iscal"].copy()
    iscal[1] = iscal[0] + len(record.arrays["book_price"]) + 1000  # long edge past the end
    forged = state_store.StateRecord(
        record.fingerprint, record.scalars, dict(record.arrays, book_iscal=iscal)
    )
    path.write_bytes(state_store.encode(forged))
    with caplog.at_level(logging.INFO):
        assert state_store.load(path, STRATEGY, PAIR, "5m", CFG, frame)[0] is None
    assert "long book edge outside the book" in caplog.text


def test_byte_flips_and_truncations_always_rebuild(data, tmp_path) -> None:
    """Every single-byte flip, zeroed 4 KiB block and truncation of a good state file is
    detected and rebuilt — none resumes (the old pickles resumed ~40 % of them silently)."""
    candles, oi = data
    state_dir = _stopped_bot(tmp_path, _frames(candles, range(600, 605)), oi)
    path = state_store.state_path(state_dir, STRATEGY, PAIR, "5m")
    good = path.read_bytes()
    frame = candles.iloc[:610]
    assert state_store.load(path, STRATEGY, PAIR, "5m", CFG, frame)[0] is not None
    rng = np.random.default_rng(20261201)
    n = len(good)
    header_end = good.index(b"\n") + 1 + int(good.split(b" ")[2])
    # every byte of the first line and header, plus random payload bytes
    positions = list(range(header_end)) + list(rng.integers(header_end, n, 150))
    cases: list[tuple[str, bytes]] = []
    for pos in positions:
        flipped = bytearray(good)
        flipped[pos] ^= int(rng.integers(1, 256))
        cases.append((f"flip@{pos}", bytes(flipped)))
    for start in rng.integers(0, n - 4096, 20):
        zeroed = bytearray(good)
        zeroed[start : start + 4096] = bytes(4096)
        if zeroed != good:
            cases.append((f"zero@{start}", bytes(zeroed)))
    for cut in list(rng.integers(1, n, 30)) + [n - 1, header_end, 0]:
        cases.append((f"cut@{cut}", good[:cut]))
    resumed = []
    for name, content in cases:
        path.write_bytes(content)
        inc, why = state_store.load(path, STRATEGY, PAIR, "5m", CFG, frame)
        if inc is not None:
            resumed.append((name, why))
    assert not resumed, resumed[:5]
    assert len(cases) > 800


def test_another_strategy_does_not_resume_a_state(data, tmp_path) -> None:
    candles, oi = data
    state_dir = _stopped_bot(tmp_path, _frames(candles, range(600, 605)), oi)
    mine = state_store.state_path(state_dir, STRATEGY, PAIR, "5m")
    other = state_store.state_path(state_dir, "OtherStrategy", PAIR, "5m")
    assert mine != other
    other.write_bytes(mine.read_bytes())  # copied under the other strategy's name
    inc, why = state_store.load(other, "OtherStrategy", PAIR, "5m", CFG, candles.iloc[:610])
    assert inc is None
    assert why == f"saved for {STRATEGY} {PAIR} 5m"


def test_stale_temp_files_are_removed_when_the_lock_is_taken(data, tmp_path) -> None:
    candles, oi = data
    state_dir = _stopped_bot(tmp_path, _frames(candles, range(600, 605)), oi)
    path = state_store.state_path(state_dir, STRATEGY, PAIR, "5m")
    left = path.with_name(f".{path.name}.0123456789ab.tmp")  # a writer killed mid-write
    left.write_bytes(b"half a state")
    other = state_dir / ".someone-else.liqstate.0123456789ab.tmp"
    other.write_bytes(b"not ours")
    provider = _provider(state_dir)
    provider.features(
        PairFrames(candles.iloc[:606], open_interest=oi), pair=PAIR, runmode="dry_run"
    )
    assert not left.exists()
    assert other.exists()
    provider.close()


_HOLDER = """
import sys, time
import pandas as pd
from pathlib import Path
from liq_signals.config import ModelConfig
from liq_signals.data.frames import PairFrames
from liq_signals.live.provider import LiveFeatureProvider
futures, state_dir, strategy = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
candles = pd.read_feather(futures / "BTC_USDT_USDT-5m-futures.feather").iloc[:700]
oi = pd.read_feather(futures / "BTC_USDT_USDT-5m-open_interest.feather")
p = LiveFeatureProvider(ModelConfig(decay_half_life_hours=24.0), clock=lambda: 0.0,
                        state_dir=state_dir, strategy=strategy)
for stop in range(600, 606):
    p.features(PairFrames(candles.iloc[:stop], open_interest=oi), pair="BTC/USDT:USDT",
               runmode="dry_run")
p.flush_state()
print("ready", flush=True)
time.sleep(300)
"""


def _holder(state_dir: Path, strategy: str = STRATEGY) -> subprocess.Popen:
    """A second bot (another process) that saved its state and keeps running."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(FUTURES), str(state_dir), strategy],
        stdout=subprocess.PIPE,
        text=True,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        },
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "ready", line
    return proc


def test_two_bots_on_one_directory(data, tmp_path, caplog) -> None:
    """Bot A (another process) holds the lock: bot B of the same strategy says so in one
    error line, computes its own features and never touches A's file; once A is killed
    (-9: the kernel drops the lock) B's successor takes the lock and resumes A's book.  A
    bot of another strategy on the same directory has its own file."""
    candles, oi = data
    state_dir = tmp_path / "state"
    bot_a = _holder(state_dir)
    try:
        path = state_store.state_path(state_dir, STRATEGY, PAIR, "5m")
        saved = path.read_bytes()
        frame = candles.iloc[:612]
        bot_b = _provider(state_dir)
        with caplog.at_level(logging.INFO):
            got = _run(bot_b, _frames(candles, range(606, 613)), oi)
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1, [r.getMessage() for r in errors]
        assert f"locked by another bot (pid {bot_a.pid})" in errors[0].getMessage()
        assert "without saved state" in errors[0].getMessage()
        assert bot_b.flush_state()
        assert path.read_bytes() == saved  # A's file untouched
        fresh = _run(_provider(None), _frames(candles, range(606, 613)), oi)
        pd.testing.assert_frame_equal(got, fresh, check_exact=True)
        # another strategy: its own file and lock, no conflict
        other = LiveFeatureProvider(
            CFG, clock=lambda: 0.0, state_dir=state_dir, strategy="OtherStrategy"
        )
        other.features(PairFrames(frame, open_interest=oi), pair=PAIR, runmode="dry_run")
        other.close()
        assert state_store.state_path(state_dir, "OtherStrategy", PAIR, "5m").exists()
    finally:
        bot_a.send_signal(signal.SIGKILL)
        bot_a.wait(timeout=30)
    bot_b.close()
    caplog.clear()
    successor = _provider(state_dir)
    with caplog.at_level(logging.INFO):
        successor.features(PairFrames(frame, open_interest=oi), pair=PAIR, runmode="dry_run")
    assert "resumed the saved book at" in caplog.text
    assert not [r for r in caplog.records if r.levelno == logging.ERROR]
    successor.close()


def test_backtest_writes_no_state(data, tmp_path) -> None:
    candles, oi = data
    state_dir = tmp_path / "state"
    provider = _provider(state_dir)
    for runmode in ("backtest", "hyperopt"):
        provider.features(
            PairFrames(candles.iloc[:600], open_interest=oi), pair=PAIR, runmode=runmode
        )
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
