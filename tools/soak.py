"""Soak test of the dry-run (not CI): days of replayed market, faults, kill -9 restarts.

A real ``freqtrade trade --dry-run`` (the test strategy of tests/live, which trades often)
paper-trades the embedded 2026-06 open-interest sample served by the loopback emulator at
``--speed`` x, from ``--replay-start`` to ``--replay-end`` (default ~10 simulated days, about
70 minutes of wall time at 200x).  On top of the sample's own 5.8-day open-interest gap:

* exchange faults every simulated day: klines HTTP 502 bursts, 429 with Retry-After,
  connection holds longer than ccxt's time-out;
* one scheduled open-interest outage (HTTP 503, two hours);
* one bad open-interest row: the served copy of the datadir has a zero at ``BAD_OI_ROW``
  (a documented Binance quirk);
* ``kill -9`` of the bot every ``--kill-every-min`` wall minutes, ``--kills`` times, each
  followed by a restart on the same database and ``user_data`` (the last run then lives
  to the end, so memory growth is seen over a long-lived process).

It prints (and appends to ``<out>/soak.log``) the bot's RSS every 30 s, the faults and
kills as they happen, and at the end: stale candles (by cause), trades and their exits.
It asserts: no duplicate trade (ids, entry and exit fills), RSS under ``--rss-budget-mb``
and flat over the last run, and that the bad row cost exactly one stale candle.  Exit
status 1 if an assertion failed; every figure is printed either way.

    nice python tools/soak.py --out /tmp/soak            # the whole soak
    python tools/soak.py --out /tmp/soak --summary       # figures of a running/finished soak

No packet leaves the machine: freqtrade talks to the emulator on 127.0.0.1 (the offline
wrapper's overlay), and the test suite's network guard is loaded in the bot too (refused
attempts are counted in the summary).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "live"))

from replay_session import bot_processes  # noqa: E402 - the replay tests' own bot lookup

from liq_signals.offline import Emulator  # noqa: E402
from liq_signals.offline import runner as offline_runner  # noqa: E402
from liq_signals.offline.faults import Fault  # noqa: E402

SOURCE = REPO / "user_data" / "data" / "binance-oi-2026-06"
CONFIG = REPO / "tests" / "live" / "config_replay.json"
STRATEGY_PATH = REPO / "tests" / "live" / "strategies"
STRATEGY = "DryRunLiqStrategy"
PAIR = "BTC/USDT:USDT"
OI_FILE = "futures/BTC_USDT_USDT-5m-open_interest.feather"
TF = pd.Timedelta("5min")
#: The open-interest row served as zero (inside the sample's OI-mode days, away from faults).
BAD_OI_ROW = pd.Timestamp("2026-06-14 02:00", tz="UTC")
#: The scheduled open-interest outage.
OI_OUTAGE = (pd.Timestamp("2026-06-13 06:00", tz="UTC"), pd.Timestamp("2026-06-13 08:00", tz="UTC"))
#: The sample's own open-interest gap (no rows between these two).
SAMPLE_OI_GAP = (
    pd.Timestamp("2026-06-14 15:00", tz="UTC"),
    pd.Timestamp("2026-06-20 11:00", tz="UTC"),
)
RSS_EVERY_S = 30.0
#: Candles after the bad row where its cost is counted (it must be exactly one).
BAD_ROW_WINDOW = pd.Timedelta("3h")
#: Largest RSS growth of the last, long-lived run (median of its second half vs first).
MAX_RSS_GROWTH = 0.15


@dataclass(frozen=True)
class Window:
    endpoint: str
    start: pd.Timestamp
    end: pd.Timestamp
    fault: Fault


def fault_schedule(start: pd.Timestamp, end: pd.Timestamp) -> list[Window]:
    """Exchange faults: each simulated day at 09:00-09:40 a 502 burst, a 429 burst and
    time-outs on klines; the two-hour open-interest outage once."""
    out = [Window("openInterestHist", *OI_OUTAGE, Fault("error", status=503))]
    day = start.normalize()
    while day < end:
        t = day + pd.Timedelta("9h")
        out += [
            Window("klines", t, t + pd.Timedelta("10min"), Fault("error", status=502, times=4)),
            Window(
                "klines",
                t + pd.Timedelta("15min"),
                t + pd.Timedelta("25min"),
                Fault("ratelimit", retry_after=2, times=3),
            ),
            Window(
                "klines",
                t + pd.Timedelta("30min"),
                t + pd.Timedelta("40min"),
                Fault("timeout", hold_s=6.0, times=2),
            ),
        ]
        day += pd.Timedelta("1D")
    return [w for w in out if start <= w.start < end]


class Log:
    """Timestamped lines to stdout and ``<out>/soak.log``."""

    def __init__(self, path: Path, clock: Callable[[], pd.Timestamp | None]) -> None:
        self.path = path
        self.clock = clock
        self.t0 = time.monotonic()

    def __call__(self, msg: str) -> None:
        replay = self.clock()
        stamp = f"[wall {time.monotonic() - self.t0:7.0f}s]" + (
            f" [replay {replay:%m-%d %H:%M}]" if replay is not None else ""
        )
        line = f"{stamp} {msg}"
        print(line, flush=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")


class FaultDriver:
    """Switches the scheduled faults on and off as replay time passes."""

    def __init__(self, windows: list[Window], emu: Emulator, log: Callable[[str], None]):
        self.windows, self.emu, self.log = windows, emu, log
        self.active: set[int] = set()
        self.done: set[int] = set()

    def drive(self, t: pd.Timestamp) -> None:
        for i, w in enumerate(self.windows):
            if i not in self.active and i not in self.done and w.start <= t < w.end:
                self.emu.set_fault(w.endpoint, w.fault)
                self.active.add(i)
                self.log(f"fault on: {w.endpoint} {w.fault.kind} until {w.end:%m-%d %H:%M}")
            elif i in self.active and t >= w.end:
                self.emu.faults.clear(w.endpoint)
                self.active.discard(i)
                self.done.add(i)
                self.log(f"fault off: {w.endpoint} {w.fault.kind}")


def soak_datadir(out: Path) -> Path:
    """A copy of the sample whose open interest is zero at :data:`BAD_OI_ROW`."""
    dst = out / "datadir"
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(SOURCE, dst)
    oi = pd.read_feather(dst / OI_FILE)
    hit = oi["date"] == BAD_OI_ROW
    if hit.sum() != 1:
        raise SystemExit(f"soak: no open-interest row at {BAD_OI_ROW} in {SOURCE / OI_FILE}")
    oi.loc[hit, ["open_interest_amount", "open_interest_value"]] = 0.0
    oi.to_feather(dst / OI_FILE)
    return dst


def rss_mb(proc: psutil.Process) -> float:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total / 2**20


class Bot:
    """One freqtrade process run through the offline wrapper, output teed to a file."""

    def __init__(self, n: int, out: Path, emu: Emulator, datadir: Path, env: dict[str, str]):
        self.n = n
        self.logfile = out / f"bot-{n:02d}.log"
        self.result: Any = None
        export = out / "features" / f"run{n:02d}"
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
            f"sqlite:///{out / 'soak.sqlite'}",
            "--user-data-dir",
            str(out / "user_data"),
        ]
        before = {c.pid for c in psutil.Process().children(recursive=True)}
        self._fh = self.logfile.open("w", encoding="utf-8")

        def target() -> None:
            self.result = offline_runner.run_freqtrade(
                args,
                datadir=datadir,
                emulator=emu,
                env=dict(env, LIQ_SIGNALS_FEATURES_EXPORT=str(export)),
                cwd=REPO,
                overlay_dir=out / "overlay",
                echo=self._fh,
            )

        self.thread = threading.Thread(target=target, daemon=True)
        self.thread.start()
        self.proc: psutil.Process | None = None
        deadline = time.monotonic() + 60
        while self.proc is None and time.monotonic() < deadline and self.thread.is_alive():
            found = bot_processes(before)
            self.proc = found[0] if found else None
            time.sleep(0.2)

    def alive(self) -> bool:
        return self.thread.is_alive()

    def kill9(self) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: the whole group
        self.thread.join(timeout=60)
        self._fh.close()

    def stop(self) -> None:
        """SIGINT (Ctrl-C), SIGKILL after two minutes."""
        if self.proc is not None:
            try:
                self.proc.send_signal(signal.SIGINT)
                self.proc.wait(timeout=120)
            except psutil.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except psutil.NoSuchProcess:
                pass
        self.thread.join(timeout=60)
        self._fh.close()


def run(a: argparse.Namespace) -> None:
    out: Path = a.out
    (out / "user_data").mkdir(parents=True, exist_ok=True)
    start = pd.Timestamp(a.replay_start)
    end = pd.Timestamp(a.replay_end)
    datadir = soak_datadir(out)
    guard_log = out / "netguard.log"
    guard_log.touch()
    env = dict(
        os.environ,
        COLUMNS="250",
        LIQ_SIGNALS_NETGUARD=str(guard_log),
        PYTHONPATH=os.pathsep.join(
            p
            for p in (str(REPO / "tests" / "netguard"), str(REPO), os.environ.get("PYTHONPATH"))
            if p
        ),
    )
    windows = fault_schedule(start, end)
    (out / "soak.json").write_text(
        json.dumps(
            {
                "replay_start": str(start),
                "replay_end": str(end),
                "speed": a.speed,
                "kills": a.kills,
                "kill_every_min": a.kill_every_min,
                "rss_budget_mb": a.rss_budget_mb,
                "bad_oi_row": str(BAD_OI_ROW),
                "faults": [[w.endpoint, str(w.start), str(w.end), w.fault.kind] for w in windows],
            },
            indent=1,
        )
    )
    with Emulator(datadir, replay_start=str(start), speed=a.speed) as emu:

        def now() -> pd.Timestamp:
            return pd.Timestamp(emu.now_ms(), unit="ms", tz="UTC")

        log = Log(out / "soak.log", now)
        log(
            f"soak: {start} -> {end} at {a.speed:g}x, {a.kills} kill -9 every "
            f"{a.kill_every_min:g} min, {len(windows)} fault windows, bad OI row {BAD_OI_ROW}"
        )
        faults = FaultDriver(windows, emu, log)
        rss_rows: list[dict[str, Any]] = []
        n = 1
        bot = Bot(n, out, emu, datadir, env)
        log(f"bot {n} started (pid {bot.proc.pid if bot.proc else '?'})")
        kills = early_exits = 0
        run_started = time.monotonic()
        next_rss = time.monotonic()
        while True:
            t = now()
            faults.drive(t)
            if t >= end:
                next_rss = 0.0  # one last sample at the end
            if time.monotonic() >= next_rss and bot.proc is not None:
                next_rss += RSS_EVERY_S
                try:
                    mb = rss_mb(bot.proc)
                except psutil.Error:
                    mb = float("nan")
                row = {
                    "wall_s": round(time.monotonic() - log.t0, 1),
                    "replay": str(t),
                    "run": n,
                    "run_age_s": round(time.monotonic() - run_started, 1),
                    "bot_rss_mb": round(mb, 1),
                    "soak_rss_mb": round(psutil.Process().memory_info().rss / 2**20, 1),
                }
                rss_rows.append(row)
                with (out / "rss.jsonl").open("a") as fh:
                    fh.write(json.dumps(row) + "\n")
                log(f"rss bot {mb:.0f} MB (run {n}, age {row['run_age_s']:.0f}s)")
            if t >= end:
                log(f"replay end reached: stopping bot {n} (SIGINT)")
                bot.stop()
                break
            if not bot.alive():
                rc = getattr(bot.result, "returncode", "?")
                early_exits += time.monotonic() - run_started < 120
                log(f"bot {n} exited by itself (rc {rc}, see {bot.logfile.name}); restarting")
                if early_exits > 3:
                    log("soak: the bot keeps exiting at start-up; giving up")
                    break
                n += 1
                bot = Bot(n, out, emu, datadir, env)
                run_started = time.monotonic()
            elif kills < a.kills and time.monotonic() - run_started >= a.kill_every_min * 60:
                kills += 1
                log(f"kill -9 bot {n} (kill {kills}/{a.kills})")
                bot.kill9()
                n += 1
                bot = Bot(n, out, emu, datadir, env)
                run_started = time.monotonic()
                log(f"bot {n} started (pid {bot.proc.pid if bot.proc else '?'})")
            time.sleep(1.0)
    ok = summarize(out, log)
    sys.exit(0 if ok else 1)


# ---------------------------------------------------------------------------- figures
def _live_flags(out: Path) -> tuple[pd.Series, set[pd.Timestamp]]:
    """What the bot had for each candle *when it closed*: the stale flag of the record
    written by the update in which the candle was the newest (the last record of each
    update's batch in the export), and the candles whose update failed (from the logs).

    Later records of the same candle (a resume's first frame, a recompute once late
    open interest arrived) are not what the bot traded on, so they are not used.
    """
    live: dict[pd.Timestamp, bool] = {}
    for path in sorted((out / "features").glob("run*/*.jsonl")):
        batch: list[dict[str, Any]] = []
        with path.open() as fh:
            for line in fh:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue  # the line a kill -9 cut
                key = (rec["update_ms"], rec["new_candles"], rec["recomputed"])
                if batch and key != (
                    batch[-1]["update_ms"],
                    batch[-1]["new_candles"],
                    batch[-1]["recomputed"],
                ):
                    newest = batch[-1]
                    live.setdefault(pd.Timestamp(newest["date"]), bool(newest["liq_stale"]))
                    batch = []
                batch.append(rec)
        if batch:
            live.setdefault(pd.Timestamp(batch[-1]["date"]), bool(batch[-1]["liq_stale"]))
    failed: set[pd.Timestamp] = set()
    for path in out.glob("bot-*.log"):
        with path.open(errors="replace") as fh:
            for line in fh:
                if "feature update failed" in line and line[:4].isdigit():
                    t = pd.Timestamp(line[:19], tz="UTC").floor("5min") - TF
                    failed.add(t)
    return pd.Series(live, dtype=bool), failed


def _count_lines(out: Path, needle: str) -> int:
    total = 0
    for path in out.glob("bot-*.log"):
        with path.open(errors="replace") as fh:
            total += sum(needle in line for line in fh)
    return total


def _memory(out: Path, meta: dict[str, Any], log: Callable[[str], None]) -> list[str]:
    """RSS figures; failures: over the budget, or growing over the last (long) run."""
    path = out / "rss.jsonl"
    rss = [json.loads(x) for x in path.read_text().splitlines() if x] if path.exists() else []
    if not rss:
        return []
    frame = pd.DataFrame(rss).dropna(subset=["bot_rss_mb"])
    peak, budget = frame["bot_rss_mb"].max(), meta["rss_budget_mb"]
    log(
        f"RSS bot: {len(frame)} samples, peak {peak:.0f} MB (budget {budget:.0f} MB); "
        f"soak process peak {frame['soak_rss_mb'].max():.0f} MB"
    )
    for run_no, g in frame.groupby("run"):
        log(
            f"  run {run_no:2d}: {len(g):3d} samples, age {g['run_age_s'].max():5.0f}s, RSS "
            f"min {g['bot_rss_mb'].min():.0f} / last {g['bot_rss_mb'].iloc[-1]:.0f} / "
            f"max {g['bot_rss_mb'].max():.0f} MB"
        )
    failures = [f"bot RSS {peak:.0f} MB over the {budget:.0f} MB budget"] if peak > budget else []
    last = frame[frame["run"] == frame["run"].max()]
    settled = last[last["run_age_s"] >= 300]  # after start-up and the first candles
    if len(settled) < 8:
        log("RSS growth: the last run is too short to judge yet")
        return failures
    half = len(settled) // 2
    early = settled["bot_rss_mb"].iloc[:half].median()
    late = settled["bot_rss_mb"].iloc[half:].median()
    growth = (late - early) / early
    log(
        f"RSS growth over the last run ({settled['run_age_s'].iloc[-1] / 60:.0f} min, settled "
        f"samples): median of first half {early:.0f} -> second half {late:.0f} MB ({growth:+.1%})"
    )
    if growth > MAX_RSS_GROWTH:
        failures.append(f"bot RSS grew {growth:+.1%} over the last run")
    return failures


def _staleness(out: Path, meta: dict[str, Any], log: Callable[[str], None]) -> list[str]:
    """Stale candles by cause; failure: the bad row cost other than one stale candle."""
    start, end = pd.Timestamp(meta["replay_start"]), pd.Timestamp(meta["replay_end"])
    live, failed = _live_flags(out)
    path = out / "rss.jsonl"
    reached = [json.loads(x)["replay"] for x in path.read_text().splitlines() if x]
    # the last candle closed when the soak last looked
    last = min(end, pd.Timestamp(reached[-1]) if reached else start).floor("5min") - 2 * TF
    replayed = pd.date_range(start.ceil("5min"), last, freq="5min")
    got = replayed.isin(live.index)
    live_stale = pd.Series(False, index=replayed)
    live_stale[got] = live.reindex(replayed[got]).to_numpy()
    failed_mask = pd.Series(replayed.isin(list(failed)), index=replayed)
    down = ~got & ~failed_mask.to_numpy()  # no update ran for it: the bot was down
    stale = live_stale | failed_mask
    missing = int(down.sum())
    t = stale.index
    in_gap = (t >= SAMPLE_OI_GAP[0] - TF) & (t <= SAMPLE_OI_GAP[1] + 2 * TF)
    outage = (t >= OI_OUTAGE[0] - TF) & (t <= OI_OUTAGE[1] + 2 * TF)
    bad = (t >= BAD_OI_ROW - 2 * TF) & (t <= BAD_OI_ROW + BAD_ROW_WINDOW)
    other = ~(in_gap | outage | bad)

    def n(mask: Any) -> int:
        return int(stale[mask].sum())

    log(
        f"candles replayed {len(replayed)}: computed when they closed {int(got.sum())}, "
        f"update failed {int(failed_mask.sum())}, bot down (killed) {missing}; stale when "
        f"they closed (flagged or failed) {int(stale.sum())}: sample OI gap {n(in_gap)}, "
        f"scheduled OI outage {n(outage)}/{int(outage.sum())}, bad-row window "
        f"{n(bad)}/{int(bad.sum())}, elsewhere {n(other)}"
    )
    log(
        f"'feature update failed' lines {_count_lines(out, 'feature update failed')}, "
        f"resumed books {_count_lines(out, 'resumed the saved book at')}, "
        f"rejected state files {_count_lines(out, 'rejected (')}, "
        f"state locked {_count_lines(out, 'locked by another bot')}"
    )
    if not len(replayed) or replayed[-1] <= BAD_OI_ROW + BAD_ROW_WINDOW or n(bad) == 1:
        return []
    first = stale[bad & stale.to_numpy()].index
    return [
        f"the bad OI row cost {n(bad)} stale candles in its window (expected 1)"
        + (f", the first at {first[0]:%m-%d %H:%M}" if len(first) else "")
    ]


def _trades(out: Path, log: Callable[[str], None]) -> list[str]:
    """Trades and exits; failures: any duplicate trade or fill."""
    db = out / "soak.sqlite"
    if not db.exists():
        log("trades: no database yet")
        return []
    with sqlite3.connect(db) as con:
        trades = pd.read_sql_query("SELECT * FROM trades ORDER BY id", con)
        orders = pd.read_sql_query("SELECT * FROM orders ORDER BY id", con)
    closed = trades[trades["is_open"] == 0]
    log(
        f"trades {len(trades)} ({len(closed)} closed, {len(trades) - len(closed)} open); "
        f"exits: {closed['exit_reason'].value_counts().to_dict()}"
    )
    for _, tr in trades.iterrows():
        log(
            f"  trade {tr['id']}: {'short' if tr['is_short'] else 'long'} {tr['open_date']} -> "
            f"{tr['close_date']} {tr['exit_reason']} profit {100 * (tr['close_profit'] or 0):+.2f}%"
        )
    dup = []
    if not trades["id"].is_unique or trades.duplicated(["pair", "open_date"]).any():
        dup.append("duplicate trade rows")
    if (trades["is_open"] == 1).sum() > 1:
        dup.append("more than one open trade (max_open_trades = 1)")
    filled = orders[orders["status"] == "closed"]
    for _, tr in trades.iterrows():
        mine = filled[filled["ft_trade_id"] == tr["id"]]
        side = "sell" if tr["is_short"] else "buy"
        entries = int((mine["ft_order_side"] == side).sum())
        exits = len(mine) - entries
        if entries > 1:
            dup.append(f"trade {tr['id']}: {entries} entry fills")
        if not tr["is_open"] and exits != 1:
            dup.append(f"trade {tr['id']}: {exits} exit fills")
    log(f"duplicate-trade check: {'; '.join(dup) if dup else 'none'}")
    return dup


def summarize(out: Path, log: Callable[[str], None] = print) -> bool:
    """Print the figures of the soak in ``out`` (finished or running); True if every
    assertion holds."""
    meta = json.loads((out / "soak.json").read_text())
    failures = _memory(out, meta, log) + _staleness(out, meta, log) + _trades(out, log)
    guard = out / "netguard.log"
    attempts = guard.read_text().strip().splitlines() if guard.exists() else []
    log(f"non-loopback connection attempts refused by the guard: {len(attempts)}")
    if attempts:
        failures.append(f"{len(attempts)} non-loopback connection attempts")
    for f in failures:
        log(f"FAIL: {f}")
    log("soak: " + (f"{len(failures)} assertion(s) failed" if failures else "all assertions hold"))
    return not failures


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True, help="work and log folder")
    p.add_argument("--replay-start", default="2026-06-12T12:00:00Z")
    p.add_argument("--replay-end", default="2026-06-22T11:30:00Z")
    p.add_argument("--speed", type=float, default=200.0)
    p.add_argument("--kills", type=int, default=6, help="kill -9 restarts")
    p.add_argument("--kill-every-min", type=float, default=6.0, help="wall minutes between kills")
    p.add_argument("--rss-budget-mb", type=float, default=1500.0)
    p.add_argument("--summary", action="store_true", help="only print the figures of --out")
    a = p.parse_args(argv)
    if a.summary:
        return 0 if summarize(a.out) else 1
    run(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
