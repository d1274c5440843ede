"""State files that whoever can write to the state folder cannot turn against the bot.

A link or a special file in place of a state or lock file, a folder another user owns, a
state rewritten with fresh checksums around impossible numbers: each is refused with a
log line and the pair runs on (rebuilt, or without saved state) — the bot never writes
through a link, never blocks, never reads without bound, never resumes a forged book.
"""

from __future__ import annotations

import gc
import logging
import os
import subprocess
import sys
import threading
import time
import weakref

import numpy as np
import pandas as pd

from liq_signals.data.frames import PairFrames
from liq_signals.engine.kernel import FScal
from liq_signals.live import state_store
from tests.live.test_state_store import (
    CFG,
    PAIR,
    REPO,
    STRATEGY,
    _frames,
    _provider,
    _rejected,
    _run,
    _stopped_bot,
)


def _errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]


def test_a_lock_file_symlink_is_never_written_through(data, tmp_path, caplog) -> None:
    """The lock file a link to another file: that file keeps its bytes (the bot used to
    truncate it and write its PID there), one error line, the pair runs without state."""
    candles, oi = data
    state_dir = tmp_path / "state"
    state_dir.mkdir(mode=0o700)
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me\n")
    path = state_store.state_path(state_dir, STRATEGY, PAIR, "5m")
    path.with_name(path.name + ".lock").symlink_to(victim)
    provider = _provider(state_dir)
    frames = _frames(candles, range(600, 603))
    with caplog.at_level(logging.INFO):
        got = _run(provider, frames, oi)
    assert provider.flush_state()
    assert victim.read_text() == "keep me\n"
    errors = _errors(caplog)
    assert len(errors) == 1, errors
    assert "is a symbolic link; not followed" in errors[0]
    assert "without saved state" in errors[0]
    assert not path.exists()
    pd.testing.assert_frame_equal(got, _run(_provider(None), frames, oi), check_exact=True)
    provider.close()


def test_a_hard_linked_lock_file_is_not_truncated(data, tmp_path, caplog) -> None:
    candles, oi = data
    state_dir = tmp_path / "state"
    state_dir.mkdir(mode=0o700)
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me\n")
    path = state_store.state_path(state_dir, STRATEGY, PAIR, "5m")
    os.link(victim, path.with_name(path.name + ".lock"))
    with caplog.at_level(logging.INFO):
        _provider(state_dir).features(
            PairFrames(candles.iloc[:600], open_interest=oi), pair=PAIR, runmode="dry_run"
        )
    assert victim.read_text() == "keep me\n"
    assert any("has 2 hard links" in e for e in _errors(caplog))


_SPECIAL = """
import logging, os, resource, sys
from pathlib import Path
import pandas as pd
from liq_signals.config import ModelConfig
from liq_signals.live import state_store
logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stdout)
# an unbounded read must fail here, not take the machine's memory
vm_kib = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmSize"))
limit = (vm_kib + 400 * 1024) * 1024
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
folder, frame = Path(sys.argv[1]), pd.DataFrame({"date": pd.to_datetime([0], utc=True)})
for name in ("fifo", "zero"):
    path = folder / f"{name}.liqstate"
    inc, why = state_store.load(path, "s", "BTC/USDT:USDT", "5m", ModelConfig(), frame)
    print(name, inc is None, why, flush=True)
"""


def test_a_fifo_or_a_link_to_dev_zero_is_refused_at_once(tmp_path) -> None:
    """A FIFO as the state file blocked the first update (> 20 s); a link to /dev/zero was
    read until memory ran out (``stat`` says 0 bytes for both).  Both: refused at once,
    without reading (a separate process, memory-limited, so a regression fails here)."""
    os.mkfifo(tmp_path / "fifo.liqstate")
    (tmp_path / "zero.liqstate").symlink_to("/dev/zero")
    t0 = time.monotonic()
    done = subprocess.run(  # a blocked or runaway child is killed at the timeout
        [sys.executable, "-c", _SPECIAL, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr[-2000:]
    assert time.monotonic() - t0 < 30
    assert "fifo.liqstate is not a regular file; refusing to use it" in out
    assert "zero.liqstate is a symbolic link; not followed" in out
    assert out.count(" True unusable state file ") == 2, out


def test_the_state_folder_is_private_and_a_foreign_one_is_refused(data, tmp_path, caplog) -> None:
    candles, oi = data
    state_dir = tmp_path / "state"
    provider = _provider(state_dir)
    provider.features(
        PairFrames(candles.iloc[:600], open_interest=oi), pair=PAIR, runmode="dry_run"
    )
    provider.close()
    assert state_dir.stat().st_mode & 0o777 == 0o700
    assert state_store.state_path(state_dir, STRATEGY, PAIR, "5m").exists()

    foreign = tmp_path / "foreign"
    foreign.mkdir(mode=0o700)
    writable = tmp_path / "writable"
    writable.mkdir()
    writable.chmod(0o777)
    cases = {foreign: "not by this bot", writable: "writable by others (mode 777); chmod 700"}
    if os.geteuid() == 0:
        os.chown(foreign, 54321, 54321)
    else:  # without root a folder of another user cannot be made here
        del cases[foreign]
    for folder, reason in cases.items():
        caplog.clear()
        provider = _provider(folder)
        with caplog.at_level(logging.INFO):
            provider.features(
                PairFrames(candles.iloc[:600], open_interest=oi), pair=PAIR, runmode="dry_run"
            )
        assert provider.flush_state()
        errors = _errors(caplog)
        assert len(errors) == 1, errors
        assert reason in errors[0]
        assert list(folder.iterdir()) == []


def _forge(record: state_store.StateRecord, **changes: np.ndarray) -> bytes:
    """``record`` with some arrays replaced, re-encoded with correct checksums."""
    return state_store.encode(
        state_store.StateRecord(record.fingerprint, record.scalars, dict(record.arrays, **changes))
    )


def _forgeries(a: dict[str, np.ndarray]) -> dict[str, tuple[dict[str, np.ndarray], str]]:
    """Name -> (replaced arrays, the reason logged)."""
    long_q, fscal = a["book_long_q"].copy(), a["book_fscal"].copy()
    full = int(np.flatnonzero(long_q > 0)[0])
    inf_q, nan_q, neg_q = long_q.copy(), long_q.copy(), long_q.copy()
    inf_q[full], nan_q[full], neg_q[full] = np.inf, np.nan, -long_q[full]
    # a consistent book (bins and total) far above the open interest it was capped at
    big_total = fscal.copy()
    big_total[FScal.LONG_TOTAL] = fscal[FScal.PREV_OI] * 1e3
    big_q = long_q * (big_total[FScal.LONG_TOTAL] / fscal[FScal.LONG_TOTAL])
    inf_total = fscal.copy()
    inf_total[FScal.LONG_TOTAL] = np.inf
    oi = a["input_oi"].copy()
    oi[-1] = np.inf
    return {
        "inf_bin": ({"book_long_q": inf_q}, "book_long_q: non-finite or negative values"),
        "nan_bin": ({"book_long_q": nan_q}, "book_long_q: non-finite or negative values"),
        "negative_bin": ({"book_long_q": neg_q}, "book_long_q: non-finite or negative values"),
        "inf_total": ({"book_fscal": inf_total}, "book_fscal: infinite values"),
        "total_not_its_bins": ({"book_fscal": big_total}, "long book holds"),
        "book_above_open_interest": (
            {"book_long_q": big_q, "book_fscal": big_total},
            "above the open interest",
        ),
        "inf_open_interest": ({"input_oi": oi}, "input_oi: infinite values"),
    }


def test_a_forged_state_with_fresh_checksums_is_refused(data, tmp_path, caplog) -> None:
    """Checksums catch damage, not forgery: impossible values behind recomputed checksums
    (+inf, NaN, negative contracts, a book above its open-interest cap) are refused."""
    candles, oi = data
    state_dir = _stopped_bot(tmp_path, _frames(candles, range(600, 605)), oi)
    path = state_store.state_path(state_dir, STRATEGY, PAIR, "5m")
    record = state_store.decode(path.read_bytes())
    frame = candles.iloc[:610]
    assert np.isfinite(record.arrays["book_fscal"][FScal.PREV_OI])
    path.write_bytes(_forge(record))  # re-encoding alone changes nothing
    assert state_store.load(path, STRATEGY, PAIR, "5m", CFG, frame)[0] is not None
    for name, (changes, reason) in _forgeries(record.arrays).items():
        path.write_bytes(_forge(record, **changes))
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            inc, _ = state_store.load(path, STRATEGY, PAIR, "5m", CFG, frame)
        assert inc is None, name
        assert _rejected(caplog), name
        assert reason in caplog.text, (name, caplog.text)
    # the header's counters too
    forged = state_store.StateRecord(
        record.fingerprint, dict(record.scalars, recomputes=-1), record.arrays
    )
    path.write_bytes(state_store.encode(forged))
    assert state_store.load(path, STRATEGY, PAIR, "5m", CFG, frame)[0] is None


def _writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "liq-state-writer"]


def test_the_writer_thread_ends_when_idle_and_the_provider_can_be_collected(data, tmp_path) -> None:
    """Each provider with a state folder used to start a writer thread that was never
    stopped (and an exit hook that kept it alive for good)."""
    candles, oi = data
    before = len(_writer_threads())
    provider = _provider(tmp_path / "state")
    _run(provider, _frames(candles, range(600, 603)), oi)
    assert provider.flush_state()
    deadline = time.monotonic() + 5
    while len(_writer_threads()) > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(_writer_threads()) == before
    # it starts again for the next save, and the file follows
    provider.features(
        PairFrames(candles.iloc[:603], open_interest=oi), pair=PAIR, runmode="dry_run"
    )
    assert provider.flush_state()
    path = state_store.state_path(tmp_path / "state", STRATEGY, PAIR, "5m")
    assert state_store.decode(path.read_bytes()).fingerprint.last_time_s[-1] == int(
        candles["date"].iloc[602].timestamp()
    )
    provider.close()
    writer = weakref.ref(provider._writer)  # noqa: SLF001 - the object under test
    del provider
    gc.collect()
    assert writer() is None
