"""Stops placed by the map, studied before they trade: do they survive better?

At the same entries (every ``every`` candles, a long *and* a short, wherever every arm
below has a stop), three stops are compared over the next ``horizon`` candles:

* **map**: just beyond the nearest cluster on the stop side (``liq_nearest_down_dist_pct``
  for a long, ``..._up_...`` for a short: the first cluster holding ≥ the model's
  ``nearest_min_share`` of its side's book) plus ``buffer_atr`` ATRs;
* **ATR**: ``k`` ATRs from the entry, ``k`` chosen so that its mean distance equals the map
  stop's over the same entries (distance-matched: the map may only choose *when* to stand
  wider or tighter, not stand wider on average);
* **placebo**: the map rule on the map of ``shift`` days earlier (the same code on rows
  moved back in time; only rows whose earlier map exists are used), averaged over shifts.

A trade ends at its stop (the first candle whose low / high reaches it: stopped out, at the
stop price) or at the close ``horizon`` candles later.  Outcomes per arm: stop-out rate and
P&L per trade (% of price, no fees, no leverage: every arm pays the same fees).  The paired
differences map − ATR and map − placebo carry moving-block bootstrap intervals over the
time-ordered entries.  A map that knows where price turns gets stopped out *less* than the
distance-matched ATR stop and its placebos, and loses less per trade.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from liq_signals import columns as C
from liq_signals.study.estimators import mean_estimate

#: Stops nearer than this (% of price) are noise, farther than this are no stop: entries
#: whose map stop falls outside are left out for every arm.
MIN_STOP_PCT = 0.3
MAX_STOP_PCT = 8.0


@dataclass(frozen=True)
class StopSettings:
    """Entries every ``every`` candles, held ``horizon`` candles at most."""

    every: int = 48
    horizon: int = 288
    buffer_atr: float = 0.25
    shifts_days: tuple[int, ...] = (10, 20, 30)


def _atr_pct(frame: pd.DataFrame) -> np.ndarray:
    from liq_signals.features.atr import candle_atr

    atr = candle_atr(
        frame["high"].to_numpy(float),
        frame["low"].to_numpy(float),
        frame["close"].to_numpy(float),
        14,
    )
    return 100.0 * atr / frame["close"].to_numpy(float)


def shifted_distances(frame: pd.DataFrame, days: int) -> tuple[np.ndarray, np.ndarray]:
    """(down, up) nearest-cluster distances (% of price) of ``days`` earlier, per row.

    Rows are matched by date (a gap gives NaN), never wrapped around: the first ``days``
    of the frame have no earlier map and get NaN.
    """
    moved = frame.set_index(frame["date"] + pd.Timedelta(days=days))
    usable = ~moved[C.STALE].astype(bool)
    down = moved[C.NEAREST_DOWN_DIST_PCT].where(usable).reindex(frame["date"])
    up = moved[C.NEAREST_UP_DIST_PCT].where(usable).reindex(frame["date"])
    return down.to_numpy(float), up.to_numpy(float)


def simulate(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    entries: np.ndarray,
    short: np.ndarray,
    stop_pct: np.ndarray,
    horizon: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(stopped out?, P&L % of price) per trade entered at the close of ``entries``.

    A long with a stop ``s`` % below its entry is stopped on the first of the next
    ``horizon`` candles whose low reaches it (exit at the stop price), else it exits at
    the close of the last; a short mirrors it on the highs.
    """
    steps = np.arange(1, horizon + 1)
    rows = entries[:, None] + steps[None, :]
    entry = close[entries]
    stop_long = entry * (1 - stop_pct / 100.0)
    stop_short = entry * (1 + stop_pct / 100.0)
    hit = np.where(
        short[:, None], high[rows] >= stop_short[:, None], low[rows] <= stop_long[:, None]
    )
    stopped = hit.any(axis=1)
    final = close[rows[:, -1]]
    exit_price = np.where(stopped, np.where(short, stop_short, stop_long), final)
    pnl = 100.0 * (exit_price / entry - 1.0) * np.where(short, -1.0, 1.0)
    return stopped, pnl


def stop_study(
    frame: pd.DataFrame, settings: StopSettings, replicates: int = 400, seed: int = 0
) -> dict[str, Any]:
    """The three stops at the same entries of ``frame`` (5m candles + ``liq_*`` columns,
    the whole file: the placebo reaches back before the studied rows), measured on the rows
    where ``frame["studied"]`` is true (all rows when the column is absent)."""
    s = settings
    high, low, close = (frame[c].to_numpy(float) for c in ("high", "low", "close"))
    atr_pct = _atr_pct(frame)
    usable = ~frame[C.STALE].astype(bool).to_numpy()
    map_down = np.where(usable, frame[C.NEAREST_DOWN_DIST_PCT].to_numpy(float), np.nan)
    map_up = np.where(usable, frame[C.NEAREST_UP_DIST_PCT].to_numpy(float), np.nan)
    placebo = [shifted_distances(frame, d) for d in s.shifts_days]
    studied = frame["studied"].to_numpy(bool) if "studied" in frame else np.ones(len(frame), bool)

    candidates = np.flatnonzero(studied)
    candidates = candidates[(candidates % s.every == 0) & (candidates + s.horizon < len(frame))]
    entries = np.concatenate([candidates, candidates])
    short = np.r_[np.zeros(len(candidates), bool), np.ones(len(candidates), bool)]
    order = np.argsort(entries, kind="stable")  # time order for the block bootstrap
    entries, short = entries[order], short[order]

    buffer = s.buffer_atr * atr_pct[entries]
    map_stop = np.where(short, map_up[entries], map_down[entries]) + buffer
    placebo_stops = [np.where(short, up[entries], down[entries]) + buffer for down, up in placebo]

    def in_range(x: np.ndarray) -> np.ndarray:
        return np.isfinite(x) & (x >= MIN_STOP_PCT) & (x <= MAX_STOP_PCT)

    keep = in_range(map_stop) & np.isfinite(atr_pct[entries])
    for p in placebo_stops:
        keep &= in_range(p)
    entries, short, map_stop = entries[keep], short[keep], map_stop[keep]
    placebo_stops = [p[keep] for p in placebo_stops]
    if len(entries) < 30:
        return {"entries": int(len(entries)), "arms": {}, "differences": {}}
    k = float(map_stop.mean() / atr_pct[entries].mean())
    atr_stop = k * atr_pct[entries]

    sim = {
        name: simulate(high, low, close, entries, short, stop, s.horizon)
        for name, stop in (("map", map_stop), ("ATR", atr_stop))
    }
    placebo_sims = [simulate(high, low, close, entries, short, p, s.horizon) for p in placebo_stops]
    sim["placebo"] = (
        np.mean([x[0] for x in placebo_sims], axis=0),
        np.mean([x[1] for x in placebo_sims], axis=0),
    )
    distance = {
        "map": map_stop,
        "ATR": atr_stop,
        "placebo": np.mean(placebo_stops, axis=0),
    }
    block = max(2, 2 * s.horizon // s.every)  # two of each side per horizon
    kw = {"block": block, "replicates": replicates, "seed": seed}

    def est(x: np.ndarray) -> dict[str, float | int]:
        return mean_estimate(np.asarray(x, float), **kw).as_dict()

    arms = {
        name: {
            "stop_pct": float(distance[name].mean()),
            "stopped": est(sim[name][0]),
            "pnl_pct": est(sim[name][1]),
        }
        for name in ("map", "ATR", "placebo")
    }
    differences = {
        f"map - {other}": {
            "stopped": est(sim["map"][0].astype(float) - sim[other][0]),
            "pnl_pct": est(sim["map"][1] - sim[other][1]),
        }
        for other in ("ATR", "placebo")
    }
    return {
        "entries": int(len(entries)),
        "atr_multiple": k,
        "settings": {
            "every_candles": s.every,
            "horizon_candles": s.horizon,
            "buffer_atr": s.buffer_atr,
            "shifts_days": list(s.shifts_days),
        },
        "arms": arms,
        "differences": differences,
    }


def survives(result: dict[str, Any]) -> bool:
    """Whether the map stop earns a place in a strategy: stopped out less often than the
    distance-matched ATR stop *and* than its placebos (both intervals below 0), without
    losing more per trade (neither P&L interval below 0).

    On a driftless walk every stop has the same expected P&L (a stopped trade's loss is
    what a held one loses on average), so the stop-out rate is where knowledge shows first;
    a P&L cost would show that the map's stops are being swept, not avoided.
    """
    diffs: dict[str, Any] = result.get("differences") or {}
    if not diffs:
        return False
    return all(d["stopped"]["high"] < 0 and d["pnl_pct"]["high"] >= 0 for d in diffs.values())
