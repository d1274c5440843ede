"""One accelerated dry-run replay session, shared by the tests of tests/live.

A real ``freqtrade trade --dry-run`` (through :func:`liq_signals.offline.runner.run_freqtrade`,
the wrapper behind ``liq-signals offline``) paper-trades recorded Binance data served by the
loopback emulator with its replay clock at ``SPEED``x.  The session, driven by replay time:

1. run 1 starts at ``REPLAY_START``; the strategy computes features every candle and trades;
2. faults are switched on and off at replay instants (:data:`FAULTS`): an open-interest
   outage (HTTP 503), klines 5xx bursts, 429 with Retry-After, time-outs, and a frozen
   (stale) then duplicated feed on klines and open interest;
3. once the faults are over and a trade is open, run 1 is stopped with SIGINT;
4. run 2 starts on the same SQLite database (the emulator clock keeps running while the
   bot is down, as the market would) until ``RUN2_UNTIL``.

Everything observed is kept in a :class:`Session` for the assertions.  The wrapper starts
``trade`` through ``python -m liq_signals.offline.replay_launch``, so the bot's clock is replay
time (see that module).
"""

from __future__ import annotations

import json
import os
import pickle
import re
import signal
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import psutil

from liq_signals.offline import Emulator
from liq_signals.offline import runner as offline_runner
from liq_signals.offline.faults import Fault

REPO = Path(__file__).resolve().parents[2]
DATADIR = REPO / "user_data" / "data" / "binance-oi-2026-06"
CONFIG = REPO / "tests" / "live" / "config_replay.json"
STRATEGY_PATH = REPO / "tests" / "live" / "strategies"
STRATEGY = "DryRunLiqStrategy"
PAIR = "BTC/USDT:USDT"
#: Chosen with a batch backtest of DryRunLiqStrategy over the OI sample's first segment
#: (2026-06-07..14): it trades five times between 01:15 and 06:45 on 2026-06-13.
REPLAY_START = "2026-06-13T00:32:00Z"
SPEED = 240.0  # a 5m candle every 1.25 s
RUN2_UNTIL = pd.Timestamp("2026-06-13T07:00:00Z")
STOP_NOT_BEFORE = pd.Timestamp("2026-06-13T04:20:00Z")
STOP_NOT_AFTER = pd.Timestamp("2026-06-13T05:30:00Z")


@dataclass(frozen=True)
class FaultWindow:
    """A fault on one emulator endpoint between two replay instants."""

    endpoint: str
    start: pd.Timestamp
    end: pd.Timestamp
    fault: Fault


def _ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


#: Replay-time schedule of faults (the runner switches them on at ``start`` and off at
#: ``end``).  ``times`` bound the 5xx/429/time-out bursts to a few requests, as a flaky
#: exchange would; the open-interest outage and the frozen feeds last their whole window.
FAULTS: tuple[FaultWindow, ...] = (
    FaultWindow(
        "openInterestHist",
        _ts("2026-06-13 02:00"),
        _ts("2026-06-13 02:40"),
        Fault("error", status=503),
    ),
    FaultWindow(
        "klines",
        _ts("2026-06-13 02:50"),
        _ts("2026-06-13 03:00"),
        Fault("error", status=502, times=4),
    ),
    FaultWindow(
        "klines",
        _ts("2026-06-13 03:00"),
        _ts("2026-06-13 03:10"),
        Fault("ratelimit", retry_after=2, times=3),
    ),
    FaultWindow(
        "klines",
        _ts("2026-06-13 03:10"),
        _ts("2026-06-13 03:20"),
        Fault("timeout", hold_s=6.0, times=2),
    ),
    FaultWindow("klines", _ts("2026-06-13 03:20"), _ts("2026-06-13 03:40"), Fault("stale")),
    FaultWindow(
        "openInterestHist", _ts("2026-06-13 03:20"), _ts("2026-06-13 03:40"), Fault("stale")
    ),
    FaultWindow("klines", _ts("2026-06-13 03:40"), _ts("2026-06-13 03:55"), Fault("duplicate")),
    FaultWindow(
        "openInterestHist", _ts("2026-06-13 03:40"), _ts("2026-06-13 03:55"), Fault("duplicate")
    ),
)
OI_OUTAGE = FAULTS[0]
FAULTS_END = max(f.end for f in FAULTS)

_LOG_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}),\d+ - ")
_FEATURE_LINE = re.compile(
    r" - liq_signals\.live\.provider - INFO - liq (\S+) (\d{4}-\d{2}-\d{2} \d{2}:\d{2}) "
    r"close=(\S+) mode=(\S+) ratio5%=(\S+) up=(\S+) down=(\S+) stale=(True|False) "
    r"update=([\d.]+)ms/(\d+)"
)


@dataclass(frozen=True)
class FeatureLine:
    """One per-candle log line of the provider."""

    logged_at: pd.Timestamp
    pair: str
    candle: pd.Timestamp
    mode: str
    stale: bool
    update_ms: float
    new_candles: int


@dataclass
class Run:
    """One bot process: its output, exit status and what was observed around it."""

    returncode: int | None = None
    output: str = ""
    stopped_at: pd.Timestamp | None = None
    open_trade_at_stop: int | None = None
    stopped_by: str | None = None

    def lines(self) -> list[str]:
        return self.output.splitlines()

    def feature_lines(self) -> list[FeatureLine]:
        out = []
        for line in self.lines():
            m = _FEATURE_LINE.search(line)
            t = _LOG_TIME.match(line)
            if m and t:
                out.append(
                    FeatureLine(
                        _ts(t.group(1)),
                        m.group(1),
                        _ts(m.group(2)),
                        m.group(4),
                        m.group(8) == "True",
                        float(m.group(9)),
                        int(m.group(10)),
                    )
                )
        return out

    def logged_times(self, needle: str) -> list[pd.Timestamp]:
        return [
            _ts(t.group(1))
            for line in self.lines()
            if needle in line and (t := _LOG_TIME.match(line))
        ]


@dataclass
class Session:
    """Everything the tests assert on."""

    workdir: Path
    db: Path
    export_dir: Path
    run1: Run = field(default_factory=Run)
    run2: Run = field(default_factory=Run)
    fault_log: list[tuple[str, str, pd.Timestamp]] = field(default_factory=list)
    requests: list = field(default_factory=list)
    wall_s: float = 0.0

    def trades(self) -> pd.DataFrame:
        with sqlite3.connect(self.db) as con:
            return pd.read_sql_query("SELECT * FROM trades ORDER BY id", con)

    def orders(self) -> pd.DataFrame:
        with sqlite3.connect(self.db) as con:
            return pd.read_sql_query("SELECT * FROM orders ORDER BY id", con)

    def exported(self) -> pd.DataFrame:
        """Per-candle features the provider exported (both runs, in write order)."""
        rows = []
        for path in sorted(self.export_dir.glob("*/*.jsonl")):
            run = 1 if path.parent.name == "run1" else 2
            for line in path.read_text().splitlines():
                rec = json.loads(line)
                rec["run"] = run
                rows.append(rec)
        frame = pd.DataFrame(rows)
        frame["date"] = pd.to_datetime(frame["date"], utc=True)
        return frame


def _open_trade(db: Path) -> int | None:
    """Id of a trade whose entry has filled and that is still open (None if none)."""
    if not db.exists():
        return None
    try:
        with sqlite3.connect(db, timeout=1) as con:
            row = con.execute(
                "SELECT id FROM trades WHERE is_open = 1 AND amount > 0 ORDER BY id LIMIT 1"
            ).fetchone()
    except sqlite3.Error:
        return None
    return None if row is None else int(row[0])


def bot_processes(before: set[int]) -> list[psutil.Process]:
    """Our child processes started since ``before`` was taken (the bot of this run)."""
    out = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.pid not in before and "replay_launch" in " ".join(child.cmdline()):
                out.append(child)
        except psutil.Error:
            continue
    return out


def _stop(bot: psutil.Process, grace_s: float = 60.0) -> str:
    """SIGINT (what Ctrl-C sends), then SIGTERM, then SIGKILL if the bot does not exit."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        try:
            bot.send_signal(sig)
            bot.wait(timeout=grace_s)
            return sig.name
        except psutil.TimeoutExpired:
            continue
        except psutil.NoSuchProcess:
            return sig.name
    return "unkillable"


def _launch(emu: Emulator, session: Session, run: Run, export: Path, *, stop_when) -> None:
    """Run the bot until ``stop_when(now)`` says so, then SIGINT it; fills ``run``."""
    args = [
        "trade",
        "--dry-run",
        "--config",
        str(CONFIG),
        "--strategy",
        STRATEGY,
        "--strategy-path",
        str(STRATEGY_PATH),
        "--db-url",
        f"sqlite:///{session.db}",
        "--user-data-dir",
        str(session.workdir / "user_data"),
    ]
    env = dict(os.environ, COLUMNS="250", LIQ_SIGNALS_FEATURES_EXPORT=str(export))
    result: dict[str, object] = {}

    def target() -> None:
        result["r"] = offline_runner.run_freqtrade(
            args,
            datadir=DATADIR,
            emulator=emu,
            timeout=420,
            env=env,
            cwd=REPO,
            overlay_dir=session.workdir / "overlay",
        )

    before = {c.pid for c in psutil.Process().children(recursive=True)}
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    while thread.is_alive():
        now = pd.Timestamp(emu.now_ms(), unit="ms", tz="UTC")
        if stop_when(now, run):
            bots = bot_processes(before)
            if bots:
                run.stopped_at = now
                run.stopped_by = _stop(bots[0])
                break
        time.sleep(0.2)
    thread.join(timeout=120)
    r = result.get("r")
    run.returncode = getattr(r, "returncode", None)
    run.output = getattr(r, "output", "")


def run_session(workdir: Path) -> Session:
    """Play the whole scenario (about three minutes of wall time) and return what happened."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "user_data").mkdir(exist_ok=True)
    session = Session(
        workdir=workdir, db=workdir / "dryrun.sqlite", export_dir=workdir / "features"
    )
    t0 = time.monotonic()
    with Emulator(DATADIR, replay_start=REPLAY_START, speed=SPEED) as emu:
        active: set[int] = set()
        done: set[int] = set()

        def drive_faults(now: pd.Timestamp) -> None:
            for i, w in enumerate(FAULTS):
                if i not in active and i not in done and w.start <= now < w.end:
                    emu.set_fault(w.endpoint, w.fault)
                    active.add(i)
                    session.fault_log.append(("on", w.endpoint, now))
                elif i in active and now >= w.end:
                    # a later window on the same endpoint replaces it: clear only ours
                    if not any(
                        j in active
                        for j, v in enumerate(FAULTS)
                        if j != i and v.endpoint == w.endpoint and v.start >= w.end
                    ):
                        emu.faults.clear(w.endpoint)
                    active.discard(i)
                    done.add(i)
                    session.fault_log.append(("off", w.endpoint, now))

        def stop_run1(now: pd.Timestamp, run: Run) -> bool:
            drive_faults(now)
            if now < STOP_NOT_BEFORE:
                return False
            trade = _open_trade(session.db)
            if trade is not None or now >= STOP_NOT_AFTER:
                run.open_trade_at_stop = trade
                return True
            return False

        def stop_run2(now: pd.Timestamp, _run: Run) -> bool:
            drive_faults(now)
            return now >= RUN2_UNTIL

        _launch(emu, session, session.run1, session.export_dir / "run1", stop_when=stop_run1)
        _launch(emu, session, session.run2, session.export_dir / "run2", stop_when=stop_run2)
        session.requests = emu.requests()
    session.wall_s = time.monotonic() - t0
    (workdir / "run1.log").write_text(session.run1.output)
    (workdir / "run2.log").write_text(session.run2.output)
    with (workdir / "session.pkl").open("wb") as fh:  # to re-check assertions by hand
        pickle.dump(session, fh)
    return session
