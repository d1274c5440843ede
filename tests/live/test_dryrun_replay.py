"""Paper trading end to end: a real ``freqtrade trade --dry-run`` on replayed Binance data.

One session (tests/live/replay_session.py, ~2 minutes of wall time) replays 2026-06-13
00:32 -> 07:00 of the embedded open-interest sample at 240x through the loopback emulator,
with exchange faults in the middle and a restart on the same database; the tests below
assert on what the bot logged, exported and stored.
"""

from __future__ import annotations

import logging
import re
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from replay_session import (
    DATADIR,
    FAULTS,
    FAULTS_END,
    OI_OUTAGE,
    PAIR,
    REPLAY_START,
    RUN2_UNTIL,
    Session,
    run_session,
)

from liq_signals import columns as C
from liq_signals.data.sidecar import read_sidecar
from liq_signals.features.pipeline import compute_features
from liq_signals.offline.runner import fatal_lines
from tests.conftest import import_strategy

pytestmark = pytest.mark.freqtrade

TF = pd.Timedelta("5min")
#: incremental vs batch on the same inputs: equal up to floating-point summation order
RTOL = 1e-9
#: the ``*_dist_atr`` columns of a book recomputed from the frame (TA-Lib's ATR) vs the
#: same candles processed one by one (ATR continued): a few ulps, as in
#: tests/features/test_incremental.py
DIST_ATR = (
    C.MAGNET_UP_DIST_ATR,
    C.MAGNET_DOWN_DIST_ATR,
    C.NEAREST_UP_DIST_ATR,
    C.NEAREST_DOWN_DIST_ATR,
)
DIST_ATR_RTOL = 2.5e-15


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    return run_session(tmp_path_factory.mktemp("dryrun"))


def _model():
    """The strategy's model config (what the bot computed its features with)."""
    return import_strategy("LiquidationMagnetStrategy").MODEL


def _numeric(cfg) -> list[str]:
    return [c for c in C.feature_columns(cfg.bands_pct) if c not in (C.MODE, C.STALE)]


def _served_frames(start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The candles and open interest of [start, end] as the bot received them: served by
    the emulator (Binance's decimal strings) and parsed by ccxt, as in the dry-run."""
    import ccxt

    from liq_signals.offline import Emulator
    from liq_signals.offline.overlay import binance_url_map

    def ms(t: pd.Timestamp) -> int:
        return int(t.timestamp() * 1000)

    with Emulator(DATADIR, replay_start=end + 3 * TF) as emu:
        ex = ccxt.binanceusdm(
            {
                "urls": {"api": binance_url_map(emu.url)},
                "options": {"fetchMarkets": {"types": ["linear"]}},
            }
        )
        rows: list = []
        since = ms(start)
        while since <= ms(end):
            batch = ex.fetch_ohlcv(PAIR, "5m", since=since, limit=1500)
            if not batch:
                break
            rows += batch
            since = batch[-1][0] + 300_000
        oi_rows: list = []
        since = ms(start - 2 * TF)
        while since <= ms(end):
            batch = ex.fetch_open_interest_history(PAIR, "5m", since=since, limit=500)
            if not batch:
                break
            oi_rows += batch
            since = batch[-1]["timestamp"] + 300_000
    candles = pd.DataFrame(rows, columns=["date", "open", "high", "low", "close", "volume"])
    candles["date"] = pd.to_datetime(candles["date"], unit="ms", utc=True)
    candles = candles[(candles["date"] >= start) & (candles["date"] <= end)]
    oi = pd.DataFrame(
        {
            "date": pd.to_datetime([r["timestamp"] for r in oi_rows], unit="ms", utc=True),
            "open_interest_amount": [r["openInterestAmount"] for r in oi_rows],
            "open_interest_value": [r["openInterestValue"] for r in oi_rows],
        }
    ).drop_duplicates("date")
    return candles.reset_index(drop=True), oi.reset_index(drop=True)


def _batch_reference(rows: pd.DataFrame, cfg) -> pd.DataFrame:
    """``compute_features`` over the candles the run's frame held (its first exported
    candle to its last), with the same open interest and taker sidecar."""
    candles, oi = _served_frames(rows["date"].min(), rows["date"].max())
    ref = compute_features(
        candles,
        pair=PAIR,
        open_interest=oi,
        metrics=read_sidecar(DATADIR, PAIR, "5m"),
        timeframe="5m",
        config=cfg,
    )
    return ref.set_index("date")


def _relative_error(got: pd.DataFrame, ref: pd.DataFrame, cols: list[str]) -> pd.Series:
    a = got[cols].astype(float).to_numpy()
    b = ref.loc[got.index, cols].astype(float).to_numpy()
    with np.errstate(invalid="ignore"):
        err = np.abs(a - b) / np.maximum(np.abs(b), 1e-9)
    err[np.isnan(a) & np.isnan(b)] = 0.0
    err[np.isnan(a) ^ np.isnan(b)] = np.inf
    return pd.Series(err.max(axis=1), index=got.index)


_BEHIND = re.compile(r"last closed candle (\S+ \S+) is \d+ candles behind the clock")


def _behind_the_clock(run) -> pd.DatetimeIndex:
    """Candles the provider flagged stale because the bot processed them late by its own
    clock (a loaded machine at 240x): by design a batch run cannot flag them."""
    return pd.DatetimeIndex(
        [pd.Timestamp(m.group(1)) for line in run.lines() if (m := _BEHIND.search(line))]
    )


def _in_windows(dates: pd.Index, windows) -> np.ndarray:
    """Candles whose inputs a fault window could have touched (window start - 1 candle of
    open-interest lag, to the end + 1 candle)."""
    hit = np.zeros(len(dates), dtype=bool)
    for w in windows:
        hit |= (dates >= w.start - 2 * TF) & (dates <= w.end + TF)
    return hit


# ---------------------------------------------------------------------------- the run
def test_dry_run_replays_hours_computes_every_candle_and_trades(session: Session) -> None:
    logging.getLogger(__name__).info("dry-run session wall time %.0f s", session.wall_s)
    # features were computed for every candle of the replayed hours (run 1's first call
    # computes its whole history; candles closing while the bot was down are computed by
    # run 2's first call)
    exported = set(session.exported()["date"])
    first = pd.Timestamp(REPLAY_START).floor("5min") - TF
    expected = pd.date_range(first, RUN2_UNTIL - 2 * TF, freq="5min")
    assert not [t for t in expected if t not in exported], "candles without features"
    # ... and the provider logged one line per new candle, with no gap, in each run
    for run in (session.run1, session.run2):
        candles = sorted({line.candle for line in run.feature_lines()})
        assert len(candles) >= 12
        gaps = [b for a, b in zip(candles, candles[1:], strict=False) if b - a != TF]
        assert not gaps, f"candles processed without a log line before {gaps}"
    assert (RUN2_UNTIL - pd.Timestamp(REPLAY_START)) >= pd.Timedelta("6h")

    trades = session.trades()
    closed = trades[(trades["is_open"] == 0) & trades["close_date"].notna()]
    assert len(closed) >= 1, f"no closed trade in the database:\n{trades}"
    opened = pd.to_datetime(closed["open_date"], utc=True)
    closed_at = pd.to_datetime(closed["close_date"], utc=True)
    # the bot lived in replayed time: trades are dated inside the replay window
    assert ((opened >= pd.Timestamp(REPLAY_START)) & (closed_at <= RUN2_UNTIL + TF)).all()
    assert (closed["close_rate"] > 0).all()
    assert closed["exit_reason"].notna().all()


def test_one_log_line_per_candle_per_pair(session: Session) -> None:
    """After a run's first update, the project logs exactly one INFO line per new candle
    and pair (the provider's summary) — no pipeline notes that could contradict it."""
    info = re.compile(r" - (liq_signals\.[\w.]+) - INFO - ")
    for run in (session.run1, session.run2):
        lines = run.lines()
        first = next(i for i, line in enumerate(lines) if " INFO - liq " in line)
        ours = [line for line in lines[first + 1 :] if info.search(line)]
        candles = Counter((x.pair, x.candle) for x in run.feature_lines())
        assert len(candles) >= 12
        assert max(candles.values()) == 1, [k for k, v in candles.items() if v > 1]
        others = [line for line in ours if " INFO - liq " not in line]
        # no routine note per candle (one-off events, e.g. a logged repair, may appear)
        assert not [line for line in others if " - liq_signals.features." in line], others[:5]
        assert len(others) <= 3, others
        assert len(ours) - len(others) == sum(candles.values()) - 1
        assert not [line for line in lines if "have no open interest" in line][1:]


# ---------------------------------------------------------------------------- faults
def test_every_fault_was_served_and_the_bot_stayed_up(session: Session) -> None:
    served = {(r.endpoint, r.fault, r.status) for r in session.requests if r.fault}
    assert ("openInterestHist", "error", 503) in served
    assert ("klines", "error", 502) in served
    assert ("klines", "ratelimit", 429) in served
    assert any(e == "klines" and f == "timeout" for e, f, _ in served)
    assert ("klines", "stale", 200) in served
    assert ("openInterestHist", "stale", 200) in served
    assert ("klines", "duplicate", 200) in served
    assert ("openInterestHist", "duplicate", 200) in served
    # ccxt saw the time-outs as time-outs, and freqtrade carried on
    assert "RequestTimeout" in session.run1.output or "timed out" in session.run1.output
    # alive through and after the faults: heartbeats and feature lines keep coming
    beats = session.run1.logged_times("Bot heartbeat")
    assert any(t > FAULTS_END for t in beats), "no heartbeat after the faults"
    assert any(line.candle >= FAULTS_END for line in session.run1.feature_lines())
    # the wrapper started the bot on the emulator's replay clock (liq_signals.offline.replay_launch)
    assert "liq-signals replay clock:" in session.run1.output
    assert "liq-signals replay clock:" in session.run2.output
    # run 1 ended because we stopped it, not by itself
    assert session.run1.stopped_at is not None
    assert session.run1.stopped_at > FAULTS_END
    assert "SIGINT received" in session.run1.output
    # no traceback but the KeyboardInterrupt of our own SIGINT landing in a pending asyncio
    # task (a timing accident of the stop, not of the run)
    assert fatal_lines(session.run1.output.splitlines(keepends=True)) == ()
    assert "freqtrade exited 0 but reported an error" not in session.run1.output
    assert "feature update failed" not in session.run1.output


def test_features_are_stale_during_the_outage_and_recover_after(session: Session) -> None:
    lines = session.run1.feature_lines()
    during = [x for x in lines if OI_OUTAGE.start + TF <= x.candle <= OI_OUTAGE.end - 2 * TF]
    assert len(during) >= 3, f"too few candles processed during the OI outage: {during}"
    assert all(x.stale for x in during), [x for x in during if not x.stale]
    assert all(x.mode == C.MODE_VOLUME for x in during)
    after = [x for x in lines if x.candle >= FAULTS_END + 2 * TF]
    assert after
    assert not any(x.stale for x in after), after
    # recovered as soon as open interest flows again (before the kline faults begin)
    recovered = [x for x in lines if OI_OUTAGE.end + TF <= x.candle <= FAULTS[1].start + TF]
    assert len(recovered) >= 2
    assert all(not x.stale and x.mode == C.MODE_OI for x in recovered)
    # the frozen kline feed: freqtrade itself refuses to act on outdated candles
    assert "Outdated history for pair" in session.run1.output


def test_no_trade_is_opened_on_stale_features(session: Session) -> None:
    exported = session.exported()
    trades = session.trades()
    assert len(trades) >= 1
    for _, trade in trades.iterrows():
        opened = pd.Timestamp(trade["open_date"], tz="UTC")
        signal_candle = opened.floor("5min") - TF
        # the record the bot had for that candle when it entered (the last one written)
        rec = exported[exported["date"] == signal_candle]
        assert len(rec), f"trade {trade['id']}: no features for its signal candle {signal_candle}"
        assert not bool(rec.iloc[-1][C.STALE]), f"trade {trade['id']} entered on stale features"
    signals = session.run1.logged_times("signal found") + session.run2.logged_times("signal found")
    for run in (session.run1, session.run2):
        lines = run.feature_lines()
        for t in run.logged_times("signal found"):
            before = [x for x in lines if x.logged_at <= t]
            assert before, f"entry signal at {t} before any feature line"
            assert not before[-1].stale, f"entry signal at {t} on stale features"
    assert signals, "no entry signal in the whole replay"


def test_database_has_every_trade_once(session: Session) -> None:
    trades = session.trades()
    orders = session.orders()
    assert trades["id"].is_unique
    assert list(trades["id"]) == list(range(1, len(trades) + 1))
    assert not trades.duplicated(["pair", "open_date"]).any()
    assert (trades["is_open"] == 1).sum() <= 1  # max_open_trades = 1
    announced = set()
    for run in (session.run1, session.run2):
        for line in run.lines():
            if "'type': entry," in line and "'trade_id': " in line:
                announced.add(int(line.split("'trade_id': ")[1].split(",")[0]))
    assert announced
    assert announced <= set(trades["id"]), (announced, list(trades["id"]))
    filled = orders[orders["status"] == "closed"]
    for _, trade in trades.iterrows():
        mine = filled[filled["ft_trade_id"] == trade["id"]]
        entries = mine[mine["ft_order_side"] == ("sell" if trade["is_short"] else "buy")]
        assert len(entries) == 1, f"trade {trade['id']}: {len(entries)} filled entry orders"
        if not trade["is_open"]:
            exits = mine[mine["ft_order_side"] != entries.iloc[0]["ft_order_side"]]
            assert len(exits) == 1, f"trade {trade['id']}: {len(exits)} filled exit orders"


# ---------------------------------------------------------------------------- restart
def test_restart_keeps_managing_the_open_trade(session: Session) -> None:
    trade_id = session.run1.open_trade_at_stop
    assert trade_id is not None, "no trade was open when run 1 was stopped"
    trades = session.trades().set_index("id")
    trade = trades.loc[trade_id]
    assert trade["is_open"] == 0, "the trade left open by run 1 was never closed"
    closed_at = pd.Timestamp(trade["close_date"], tz="UTC")
    assert closed_at > session.run1.stopped_at, "closed before the restart?"
    assert f"'type': exit_fill, 'trade_id': {trade_id}," in session.run2.output


def test_restart_resumes_the_book_to_the_same_features(session: Session) -> None:
    """Run 2 resumes run 1's saved book (user_data_dir/liq_signals_state): the candles
    both runs hold have the same features, and the candles after the restart have those of
    a bot that never stopped (batch over run 1's first frame to the end) — not those of a
    rebuild from run 2's later-starting window, which differ (the book depends on its
    first candle)."""
    cfg = _model()
    assert "resumed the saved book at" in session.run2.output
    assert "rebuilding the book" not in session.run2.output
    assert "did not fit" not in session.run2.output
    exported = session.exported()
    run1 = exported[exported["run"] == 1].drop_duplicates("date", keep="last").set_index("date")
    run2 = exported[exported["run"] == 2].drop_duplicates("date", keep="last").set_index("date")
    # the candles run 1 processed, as run 2 holds them after the restart (its first export
    # is its whole first frame); outage candles were recomputed by run 1 after it
    common = run1.index.intersection(run2.index)
    common = common[~_in_windows(common, FAULTS)]
    assert len(common) > 1000
    exact = [c for c in _numeric(cfg) if c not in DIST_ATR]
    pd.testing.assert_frame_equal(
        run2.loc[common, exact], run1.loc[common, exact], check_exact=True
    )
    for col in DIST_ATR:  # run 1 recomputed after the outage: TA-Lib's ATR vs continued
        np.testing.assert_allclose(
            run2.loc[common, col].astype(float),
            run1.loc[common, col].astype(float),
            rtol=DIST_ATR_RTOL,
            atol=0,
            equal_nan=True,
        )
    late = _behind_the_clock(session.run1).union(_behind_the_clock(session.run2))
    flags = common.difference(late)
    assert len(flags) >= len(common) - 3
    assert (run2.loc[flags, C.STALE] == run1.loc[flags, C.STALE]).all()
    # the candles after the restart: a bot that never stopped
    after = run2[run2.index > run1.index.max()]
    assert len(after) >= 12
    history = pd.concat([run1, after]).reset_index()
    never_stopped = _batch_reference(history, cfg)
    err = _relative_error(after, never_stopped, _numeric(cfg))
    assert err.max() <= RTOL, err[err > RTOL].head()
    # ... which a rebuild from run 2's window alone would not give (the test can fail)
    run2_start = run2.index.min()
    assert run2_start > run1.index.min()
    rebuilt = _batch_reference(run2.reset_index(), cfg)  # run 2's window only
    drift = _relative_error(after, rebuilt, [C.SHORT_ABOVE_USD_5PCT, C.LONG_BELOW_USD_5PCT])
    # (five orders above RTOL: with the 12 h half-life the older history weighs ~1e-4)
    assert drift.max() > 1e-5, drift


# ---------------------------------------------------------------------------- incremental
def test_incremental_features_equal_batch_features(session: Session) -> None:
    cfg = _model()
    exported = session.exported()
    run1 = exported[exported["run"] == 1].drop_duplicates("date", keep="last").set_index("date")
    ref = _batch_reference(run1.reset_index(), cfg)
    err = _relative_error(run1, ref, _numeric(cfg))
    touched = _in_windows(run1.index, FAULTS)
    clean = err[~touched]
    # one candle at a time, thousands of candles: bit-for-bit the batch values (up to the
    # emulator's decimal strings)
    assert len(clean) > 1400, len(clean)
    assert clean.max() <= RTOL, clean[clean > RTOL].head()
    clean_dates = run1.index[~touched].difference(_behind_the_clock(session.run1))
    assert len(clean_dates) > 1400
    assert (run1.loc[clean_dates, C.STALE].astype(bool) == ref.loc[clean_dates, C.STALE]).all()
    # the comparison can fail: candles processed without open interest differ from a batch
    # run that had it
    outage = err[(run1.index >= OI_OUTAGE.start + TF) & (run1.index <= OI_OUTAGE.end - 2 * TF)]
    assert len(outage)
    assert (outage > 1e-3).all()
