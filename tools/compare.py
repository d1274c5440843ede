"""Walk-forward of LiquidationMagnetStrategy vs its twin, 12 placebos, buy-and-hold -> results.md.

One command (offline, through the loopback emulator; ``make compare``)::

    nice .venv/bin/python tools/compare.py              # fixed defaults: ~21 min on 2 busy cores
    nice .venv/bin/python tools/compare.py --epochs 5   # + a hyperopt per fold: much longer
    .venv/bin/python tools/compare.py --smoke           # one short fold (the CI smoke test)

Per fold (``FOLDS``: BTC 2023-24 from the embedded 2023 datadir and BTC/ETH/SOL 2025-26,
three months of training followed by the next three months of test):

1. with ``--epochs N > 0`` (default 0: every arm trades the strategies' defaults),
   ``freqtrade hyperopt`` of LiquidationMagnetStrategy and of BaselineStrategy (its twin:
   the same strategy without the liquidation term), separately, on the fold's TRAIN window
   of BTC only (spaces buy + sell, SharpeHyperOptLossDaily, ``--random-state`` + fold number), on
   scratch copies of the strategy files;
2. one ``freqtrade backtesting`` on the TEST window of the tuned twin, the tuned
   liquidation strategy and its placebos (tools/placebo: the same strategy and parameters
   trading its own map of 10 ... 170 days earlier, computed by its own code on its own
   window translated back; no look-ahead, no wrap-around), one trade slot per pair;
3. per pair: profit (% of the pair's slot, 1/n of the wallet), max drawdown, daily Sharpe,
   trades and fees paid, computed from freqtrade's exported trades, and buy-and-hold (1x,
   no fees).

The summary pools the (fold, pair) cells: liquidation − twin, liquidation − median
placebo (bootstrap intervals that resample whole time folds: pairs in one window share the
market, so they are not independent evidence), and the liquidation strategy's rank among
its placebos (1 = best; a map that knows nothing ranks in the middle on average).  The
model is ``--model-config`` (default ``user_data/liq_model.json``), passed to the strategies
through their ``liq_signals.model_config`` key.  Nothing here writes into strategies/.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
LIQ, TWIN = "LiquidationMagnetStrategy", "BaselineStrategy"
#: Placebo shifts in days (tools/placebo/LiquidationMagnetPlacebo.py: SHIFTS_DAYS).
SHIFTS = (10, 20, 30, 40, 50, 60, 75, 90, 105, 120, 145, 170)
PLACEBO_PREFIX = "LiquidationMagnetPlacebo"
PLACEBOS = tuple(f"{PLACEBO_PREFIX}{d}" for d in SHIFTS)
#: Days in a quarter, for trades and fees per quarter.
QUARTER_DAYS = 365.25 / 4
BUY_AND_HOLD = "buy & hold"
PLACEBO_DIR = REPO / "tools" / "placebo"
CONFIG_BACKTEST = REPO / "user_data" / "config_backtest.json"
CONFIG_HYPEROPT = REPO / "user_data" / "config_hyperopt.json"
DEFAULT_MODEL = REPO / "user_data" / "liq_model.json"
DATA_2025 = REPO / "user_data" / "data" / "binance"
DATA_2023 = REPO / "user_data" / "data" / "binance-2023"
ALL_PAIRS = ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT")
SPACES = ("buy", "sell")
WALLET = 1000.0
#: The study's in-sample windows (docs/strategy.md): no test window overlaps them.
IN_SAMPLE = "BTC 2023-01-01 -> 2023-07-01; BTC, ETH, SOL 2025-01-01 -> 2025-04-01"


@dataclass(frozen=True)
class Fold:
    """Train on ``train``, test on ``test`` (freqtrade timeranges), on ``pairs``."""

    name: str
    datadir: Path
    pairs: tuple[str, ...]
    train: str
    test: str
    #: hyperopt runs on BTC only (a third of the time); ETH and SOL are then out of sample
    #: in time *and* asset
    tune_pairs: tuple[str, ...] = ALL_PAIRS[:1]


FOLDS = (
    Fold("btc23-q3", DATA_2023, ALL_PAIRS[:1], "20230401-20230701", "20230701-20231001"),
    Fold("btc23-q4", DATA_2023, ALL_PAIRS[:1], "20230701-20231001", "20231001-20240101"),
    Fold("btc24-q1", DATA_2023, ALL_PAIRS[:1], "20231001-20240101", "20240101-20240401"),
    Fold("25-q3", DATA_2025, ALL_PAIRS, "20250401-20250701", "20250701-20251001"),
    Fold("25-q4", DATA_2025, ALL_PAIRS, "20250701-20251001", "20251001-20260101"),
    Fold("26-q1", DATA_2025, ALL_PAIRS, "20251001-20260101", "20260101-20260219"),
)
SMOKE = Fold("smoke", DATA_2025, ALL_PAIRS[:1], "20250301-20250401", "20250401-20250415")
#: The smoke run's placebos (two keep it short).
SMOKE_SHIFTS = (10, 20)


@dataclass
class Row:
    """One (fold, pair, arm) result."""

    fold: str
    pair: str
    arm: str
    trades: int
    profit_pct: float
    max_dd_pct: float
    sharpe: float
    #: fees paid (entry + exit, both sides' notional x fee rate), % of the pair's slot
    fees_pct: float = 0.0


@dataclass
class FoldResult:
    fold: Fold
    rows: list[Row] = field(default_factory=list)
    tuned: dict[str, dict] = field(default_factory=dict)
    seconds: float = 0.0


def _log(msg: str, started: float) -> None:
    print(f"[{(time.monotonic() - started) / 60:5.1f} min] {msg}", flush=True)


def _freqtrade(args: list[str], datadir: Path, workdir: Path, log: Path) -> None:
    """Run freqtrade offline; raise with the tail of its output when it fails."""
    from liq_signals.offline.runner import run_freqtrade

    userdir = workdir / "ud"
    (userdir / "strategies").mkdir(parents=True, exist_ok=True)
    result = run_freqtrade(
        [*args, "--user-data-dir", str(userdir)],
        datadir=datadir,
        overlay_dir=workdir / "overlay",
        cwd=REPO,
    )
    with log.open("a") as fh:
        fh.write(f"\n===== freqtrade {' '.join(args)}\n{result.output}")
    if not result.ok:
        raise SystemExit(
            f"freqtrade {args[0]} failed ({result.returncode}); see {log}\n" + result.output[-3000:]
        )


def _scratch(workdir: Path) -> Path:
    """Fresh copies of the strategies and placebos (hyperopt exports its JSON next to them)."""
    scratch = workdir / "strategies"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    for source in [*(REPO / "strategies").glob("*.py"), *PLACEBO_DIR.glob("*.py")]:
        shutil.copy2(source, scratch / source.name)
    return scratch


def fold_seed(fold: Fold, base: int) -> int:
    """``--random-state`` plus the fold's number: every fold searches its own candidates
    (one seed for all would make each fold pick among the same few parameter sets)."""
    return base + [f.name for f in (*FOLDS, SMOKE)].index(fold.name)


def hyperopt(strategy: str, fold: Fold, scratch: Path, configs: list[str], args, workdir, log):
    """Tune ``strategy`` on the fold's TRAIN window; returns its best parameters."""
    _freqtrade(
        [
            "hyperopt",
            *configs,
            "--strategy",
            strategy,
            "--strategy-path",
            str(scratch),
            "--timerange",
            fold.train,
            "--pairs",
            *fold.tune_pairs,
            "--max-open-trades",
            str(len(fold.tune_pairs)),
            "--epochs",
            str(args.epochs),
            "--spaces",
            *SPACES,
            "--random-state",
            str(fold_seed(fold, args.random_state)),
            "-j",
            str(args.jobs),
        ],
        fold.datadir,
        workdir,
        log,
    )
    exported = scratch / f"{strategy}.json"
    if not exported.exists():  # "No good result found": the strategy keeps its defaults
        print(f"  {strategy}: hyperopt found no valid epoch; testing its defaults", flush=True)
        return None
    return json.loads(exported.read_text())


def _fees(trades: pd.DataFrame) -> float:
    """Fees paid on ``trades`` (quote currency): entry and exit notional times their rates."""
    if trades.empty:
        return 0.0
    entry = trades["amount"] * trades["open_rate"] * trades["fee_open"]
    exit_ = trades["amount"] * trades["close_rate"] * trades["fee_close"]
    return float((entry + exit_).sum())


def _pair_metrics(trades: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, capital: float):
    """(trades, profit %, max drawdown %, daily Sharpe, fees %) of one pair's closed trades."""
    if trades.empty:
        return 0, 0.0, 0.0, float("nan"), 0.0
    trades = trades.sort_values("close_date")
    equity = capital + trades["profit_abs"].cumsum().to_numpy()
    peak = np.maximum.accumulate(np.r_[capital, equity])[1:]
    max_dd = float(np.max((peak - equity) / peak))
    days = pd.date_range(start.floor("D"), end.floor("D"), freq="D", tz="UTC")
    daily = trades.groupby(trades["close_date"].dt.floor("D"))["profit_abs"].sum()
    daily = daily.reindex(days, fill_value=0.0) / capital
    sharpe = float(daily.mean() / daily.std() * np.sqrt(365)) if daily.std() > 0 else float("nan")
    profit = 100 * trades["profit_abs"].sum() / capital
    return len(trades), profit, 100 * max_dd, sharpe, 100 * _fees(trades) / capital


def _buy_and_hold(fold: Fold, pair: str, start: pd.Timestamp, end: pd.Timestamp) -> Row:
    from liq_signals.data.load import load_pair_inputs

    candles = load_pair_inputs(fold.datadir, pair, "5m").candles
    close = candles.loc[(candles["date"] >= start) & (candles["date"] < end)].set_index("date")[
        "close"
    ]
    peak = close.cummax()
    daily = close.resample("1D").last().pct_change().dropna()
    sharpe = float(daily.mean() / daily.std() * np.sqrt(365)) if daily.std() > 0 else float("nan")
    return Row(
        fold.name,
        pair,
        BUY_AND_HOLD,
        1,
        100 * (close.iloc[-1] / close.iloc[0] - 1),
        100 * float(((peak - close) / peak).max()),
        sharpe,
    )


def _window(timerange: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    a, b = timerange.split("-")
    return pd.Timestamp(a, tz="UTC"), pd.Timestamp(b, tz="UTC")


def placebo_names(shifts: tuple[int, ...]) -> tuple[str, ...]:
    """The placebo strategies of ``shifts`` (days), in that order."""
    unknown = sorted(set(shifts) - set(SHIFTS))
    if unknown:
        raise SystemExit(f"compare: no placebo for shift(s) {unknown}; have {list(SHIFTS)}")
    return tuple(f"{PLACEBO_PREFIX}{d}" for d in shifts)


def run_fold(fold: Fold, args, configs: tuple[list[str], list[str]], workdir, log, started):
    """Hyperopt both strategies on TRAIN (``configs[0]``), backtest every arm on TEST
    (``configs[1]``), and measure each pair."""
    from freqtrade.data.btanalysis import load_backtest_stats

    t0 = time.monotonic()
    result = FoldResult(fold)
    scratch = _scratch(workdir)
    placebos = placebo_names(tuple(args.shifts))
    if not args.epochs:
        result.tuned = {LIQ: {"defaults": "--epochs 0"}, TWIN: {"defaults": "--epochs 0"}}
    for name in (LIQ, TWIN) if args.epochs else ():
        _log(f"{fold.name}: hyperopt {name} on {fold.train} ({args.epochs} epochs)", started)
        exported = hyperopt(name, fold, scratch, configs[0], args, workdir, log)
        if exported is None:
            result.tuned[name] = {"defaults": "no valid hyperopt epoch"}
            continue
        result.tuned[name] = {s: exported["params"].get(s, {}) for s in SPACES}
        if name == LIQ:
            for placebo in placebos:  # the placebos trade the liquidation strategy's parameters
                (scratch / f"{placebo}.json").write_text(
                    json.dumps(dict(exported, strategy_name=placebo))
                )
    out = workdir / f"bt-{fold.name}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    arms = [TWIN, LIQ, *placebos]
    _log(f"{fold.name}: backtest the twin, {LIQ}, {len(placebos)} placebos on {fold.test}", started)
    _freqtrade(
        [
            "backtesting",
            *configs[1],
            "--strategy-list",
            *arms,
            "--strategy-path",
            str(scratch),
            "--timerange",
            fold.test,
            "--pairs",
            *fold.pairs,
            "--max-open-trades",
            str(len(fold.pairs)),
            "--export",
            "trades",
            "--backtest-directory",
            str(out),
            "--cache",
            "none",
        ],
        fold.datadir,
        workdir,
        log,
    )
    stats = load_backtest_stats(out)["strategy"]
    start, end = _window(fold.test)
    capital = WALLET / len(fold.pairs)
    for pair in fold.pairs:
        for arm in arms:
            trades = pd.DataFrame(stats[arm]["trades"])
            if not trades.empty:
                trades = trades[trades["pair"] == pair]
                trades["close_date"] = pd.to_datetime(trades["close_date"], utc=True)
            n, profit, dd, sharpe, fees = _pair_metrics(trades, start, end, capital)
            result.rows.append(Row(fold.name, pair, arm, n, profit, dd, sharpe, fees))
        result.rows.append(_buy_and_hold(fold, pair, start, end))
    result.seconds = time.monotonic() - t0
    _log(f"{fold.name}: done in {result.seconds / 60:.1f} min", started)
    return result


# --- pooled statistics ---------------------------------------------------------------------
def _cells(results: list[FoldResult]):
    """``(fold result, pair, {arm: Row})`` per (fold, pair) cell, in table order."""
    for r in results:
        by = {}
        for x in r.rows:
            by.setdefault(x.pair, {})[x.arm] = x
        for pair in sorted(by):
            yield r, pair, by[pair]


def _placebo_rows(arms: dict[str, Row]) -> list[Row]:
    return [x for name, x in arms.items() if name.startswith(PLACEBO_PREFIX)]


def median_placebo(arms: dict[str, Row]) -> float:
    """Median profit % of a cell's placebos."""
    return float(np.median([x.profit_pct for x in _placebo_rows(arms)]))


def rank_among_placebos(arms: dict[str, Row]) -> tuple[int, int]:
    """(rank of the liquidation strategy's profit among itself and its placebos, 1 = best;
    how many ranked).  Ties count in the strategy's favour."""
    others = [x.profit_pct for x in _placebo_rows(arms)]
    own = arms[LIQ].profit_pct
    return 1 + sum(p > own for p in others), 1 + len(others)


def _fold_bootstrap(per_fold: list[np.ndarray], seed: int) -> tuple[float, float]:
    """90 % interval of the pooled mean, whole folds resampled (4000 replicates)."""
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(4000):
        pick = rng.integers(0, len(per_fold), len(per_fold))
        boot.append(np.concatenate([per_fold[i] for i in pick]).mean())
    low, high = np.quantile(boot, [0.05, 0.95])
    return float(low), float(high)


def pooled_difference(results: list[FoldResult], arm_a: str, arm_b: str, seed: int = 0):
    """Mean over (fold, pair) of profit(a) − profit(b) (``b == "placebo"``: the cell's
    median placebo), with a 90 % bootstrap interval that resamples whole folds; also how
    many (fold, pair) cells a beats b on."""
    per_fold: dict[str, list[float]] = {}
    for r, _pair, arms in _cells(results):
        b = median_placebo(arms) if arm_b == "placebo" else arms[arm_b].profit_pct
        per_fold.setdefault(r.fold.name, []).append(arms[arm_a].profit_pct - b)
    chunks = [np.array(v) for v in per_fold.values()]
    flat = np.concatenate(chunks)
    low, high = _fold_bootstrap(chunks, seed)
    wins = int((flat > 0).sum())
    return float(flat.mean()), low, high, wins, len(flat)


def pooled_rank(results: list[FoldResult], seed: int = 0) -> dict[str, float]:
    """The strategy's rank percentile among its placebos, pooled over cells.

    Per cell ``(rank - 1) / (ranked - 1)``: 0 = better than every placebo, 1 = worse than
    every one, 0.5 expected from a map that knows nothing.  Mean over cells, 90 % interval
    resampling whole folds, and the chance of a mean at least this good if every cell's
    rank were uniform (independent cells; the folds' shared market makes it optimistic).
    """
    per_fold: dict[str, list[float]] = {}
    sizes = []
    for r, _pair, arms in _cells(results):
        rank, n = rank_among_placebos(arms)
        per_fold.setdefault(r.fold.name, []).append((rank - 1) / (n - 1))
        sizes.append(n)
    chunks = [np.array(v) for v in per_fold.values()]
    flat = np.concatenate(chunks)
    low, high = _fold_bootstrap(chunks, seed)
    rng = np.random.default_rng(seed)
    null = np.stack([(rng.integers(0, n, 20000)) / (n - 1) for n in sizes]).mean(axis=0)
    return {
        "mean": float(flat.mean()),
        "low": low,
        "high": high,
        "p_uniform": float((null <= flat.mean()).mean()),
        "top_half": int((flat < 0.5).sum()),
        "cells": len(flat),
    }


def per_quarter(results: list[FoldResult]) -> dict[str, dict[str, float]]:
    """Per arm kind (liquidation, twin, placebos): mean trades, fees % and profit % per
    (fold, pair) cell and quarter."""
    out: dict[str, dict[str, list[float]]] = {}
    for r, _pair, arms in _cells(results):
        start, end = _window(r.fold.test)
        quarters = (end - start).days / QUARTER_DAYS
        for name, x in arms.items():
            if name == BUY_AND_HOLD:
                continue
            kind = "placebos" if name.startswith(PLACEBO_PREFIX) else name
            d = out.setdefault(kind, {"trades": [], "fees_pct": [], "profit_pct": []})
            d["trades"].append(x.trades / quarters)
            d["fees_pct"].append(x.fees_pct / quarters)
            d["profit_pct"].append(x.profit_pct / quarters)
    return {k: {m: float(np.mean(v)) for m, v in d.items()} for k, d in out.items()}


def _num(x: float, fmt: str = "{:+.2f}") -> str:
    return "-" if not np.isfinite(x) else fmt.format(x)


def _label(arm: str) -> str:
    if arm.startswith(PLACEBO_PREFIX):
        return f"placebo map −{arm.removeprefix(PLACEBO_PREFIX)} d"
    return {LIQ: "liquidation", TWIN: "twin (no map)", BUY_AND_HOLD: BUY_AND_HOLD}[arm]


def fold_table(results: list[FoldResult]) -> str:
    """Every arm except the placebos (their profits have a table of their own)."""
    lines = [
        "| fold | test window | pair | arm | trades | fees % | profit % | max DD % | Sharpe |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for x in r.rows:
            if x.arm.startswith(PLACEBO_PREFIX):
                continue
            bold = "**" if x.arm == LIQ else ""
            hold = x.arm == BUY_AND_HOLD
            lines.append(
                f"| {r.fold.name} | {r.fold.test} | {x.pair.split('/')[0]} | "
                f"{bold}{_label(x.arm)}{bold} | {'-' if hold else x.trades} | "
                f"{'-' if hold else _num(x.fees_pct, '{:.2f}')} | "
                f"{_num(x.profit_pct)} | {_num(x.max_dd_pct, '{:.2f}')} | {_num(x.sharpe)} |"
            )
    return "\n".join(lines)


def placebo_table(results: list[FoldResult]) -> str:
    """Profit % of every placebo per cell (trades in brackets)."""
    shifts = sorted(
        {
            int(x.arm.removeprefix(PLACEBO_PREFIX))
            for r in results
            for x in r.rows
            if x.arm.startswith(PLACEBO_PREFIX)
        }
    )
    lines = [
        "| fold | pair | " + " | ".join(f"−{d} d" for d in shifts) + " |",
        "|---|---|" + "---|" * len(shifts),
    ]
    for r, pair, arms in _cells(results):
        cells = []
        for d in shifts:
            x = arms.get(f"{PLACEBO_PREFIX}{d}")
            cells.append("-" if x is None else f"{_num(x.profit_pct)} ({x.trades})")
        lines.append(f"| {r.fold.name} | {pair.split('/')[0]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def compact_table(results: list[FoldResult]) -> str:
    """Profit % per (fold, pair): one line each, the arms side by side."""
    lines = [
        "| fold | pair | liquidation | twin | median placebo [min, max] | rank of liquidation "
        "| buy & hold | w_pull |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r, pair, arms in _cells(results):
        w = r.tuned.get(LIQ, {}).get("buy", {}).get("w_pull", "default")
        placebo = [x.profit_pct for x in _placebo_rows(arms)]
        rank, n = rank_among_placebos(arms)
        liq, twin = arms[LIQ], arms[TWIN]
        lines.append(
            f"| {r.fold.name} | {pair.split('/')[0]} | {_num(liq.profit_pct)} ({liq.trades}) | "
            f"{_num(twin.profit_pct)} ({twin.trades}) | {_num(float(np.median(placebo)))} "
            f"[{_num(min(placebo))}, {_num(max(placebo))}] | {rank} of {n} | "
            f"{_num(arms[BUY_AND_HOLD].profit_pct)} | {w} |"
        )
    return "\n".join(lines)


def summary(results: list[FoldResult]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, b in (
        ("liquidation - twin", TWIN),
        ("liquidation - median placebo", "placebo"),
        ("liquidation - buy and hold", BUY_AND_HOLD),
    ):
        mean, low, high, wins, cells = pooled_difference(results, LIQ, b)
        out[key] = {"mean": mean, "low": low, "high": high, "wins": wins, "cells": cells}
    out["rank among placebos"] = pooled_rank(results)
    positive = sum(1 for _r, _p, arms in _cells(results) if arms[LIQ].profit_pct > 0)
    out["liquidation positive"] = {"wins": positive, "cells": out["liquidation - twin"]["cells"]}
    out["per quarter"] = per_quarter(results)
    return out


def verdict(s: dict[str, Any]) -> str:
    """What the pooled figures say, in words decided by the intervals alone."""
    lt, lp = s["liquidation - twin"], s["liquidation - median placebo"]
    rank = s["rank among placebos"]

    def reading(d: dict[str, Any], other: str) -> str:
        if d["low"] > 0:
            return f"beats {other} (interval above 0)"
        if d["high"] < 0:
            return f"does worse than {other} (interval below 0)"
        return f"is not distinguishable from {other} (interval covers 0)"

    if rank["high"] < 0.5:
        rank_text = "ranks above the middle of its placebos (interval below 0.5)"
    elif rank["low"] > 0.5:
        rank_text = "ranks below the middle of its placebos (interval above 0.5)"
    else:
        rank_text = "ranks where a map that knows nothing would (interval covers 0.5)"
    positive = s["liquidation positive"]
    return (
        f"Out of sample the liquidation strategy {reading(lp, 'its median placebo')}, ahead "
        f"on {lp['wins']} of {lp['cells']} fold × pair cells, and {rank_text}; it "
        f"{reading(lt, 'its twin')}, ahead on {lt['wins']} of {lt['cells']}; it made money on "
        f"{positive['wins']} of {positive['cells']}."
    )


def quarter_table(s: dict[str, Any]) -> str:
    q = s["per quarter"]
    lines = [
        "| arm | trades per pair and quarter | fees paid, % of the pair's slot per quarter "
        "| profit % per quarter |",
        "|---|---|---|---|",
    ]
    for kind, label in ((LIQ, "liquidation"), (TWIN, "twin"), ("placebos", "placebos (mean)")):
        if kind in q:
            d = q[kind]
            lines.append(
                f"| {label} | {d['trades']:.0f} | {d['fees_pct']:.2f} | {d['profit_pct']:+.2f} |"
            )
    return "\n".join(lines)


def tuning_text(epochs: int) -> str:
    """How each fold's parameters were chosen, for the report."""
    if not epochs:
        return (
            "Every row is **out of sample** with **fixed parameters**: every arm trades the "
            "strategies' defaults (`--epochs 0`: no per-fold hyperopt), chosen on BTC, ETH, "
            "SOL 2025-01-01 -> 2025-07-01 (docs/strategy.md), before every 2025-26 test "
            "window; the 2023-24 folds lie before that window (out of sample backwards)."
        )
    return (
        "Every row is **out of sample**: each fold's parameters come from a hyperopt "
        f"({epochs} epochs per strategy, spaces {' + '.join(SPACES)}, "
        "SharpeHyperOptLossDaily, random state = the given one + the fold's number) on BTC "
        "over the three months before its test window only, run separately for the "
        "liquidation strategy and its twin (ETH and SOL trade the BTC-tuned parameters: out "
        "of sample in time and asset). The search is small on purpose (CPU)."
    )


def write_report(path: Path, results: list[FoldResult], args, model: str, seconds: float) -> None:
    import freqtrade

    s = summary(results)
    lt, lp, lb = (
        s["liquidation - twin"],
        s["liquidation - median placebo"],
        s["liquidation - buy and hold"],
    )
    rank = s["rank among placebos"]
    shifts = " ".join(str(d) for d in args.shifts)
    command = (
        "tools/compare.py"
        + (" --smoke" if args.smoke else "")
        + f" --epochs {args.epochs} --random-state {args.random_state}"
        + (f" --shifts {shifts}" if tuple(args.shifts) != SHIFTS else "")
        + (f" --folds {' '.join(args.folds)}" if args.folds else "")
    )
    n_placebos = len(args.shifts)
    parts = [
        "# Results: walk-forward of LiquidationMagnetStrategy vs its twin and placebos",
        "",
        f"Generated by `nice .venv/bin/python {command}` on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, freqtrade {freqtrade.__version__}, "
        f"{seconds / 60:.0f} min. Model: {model}.",
        "",
        tuning_text(args.epochs) + " The study that chose the "
        f"strategy's term used {IN_SAMPLE} (in-sample); no test window overlaps it. "
        "`user_data/config_backtest.json`: 2x isolated, 0.05 % fee per side, one trade "
        "slot per pair; profit, fees and drawdown in % of the pair's slot (the wallet split "
        "over the fold's pairs), Sharpe from daily P&L (√365). Buy-and-hold: 1x, no fees. "
        f"**Placebos** ({n_placebos}: the map of {', '.join(map(str, args.shifts))} days "
        "earlier): the liquidation strategy with the same parameters, its map computed "
        "by its own code on its own window translated N days back and handed to the candle "
        "N days later (tools/placebo; no look-ahead, no wrap-around, the same warm-up; the "
        "0-day placebo trades exactly like the strategy, tests/strategy/test_placebo.py). "
        "A map that knows nothing ranks in the middle of its placebos on average.",
        "",
        "## Summary",
        "",
        "| comparison (per fold × pair, profit % points) | mean "
        "| 90 % interval (folds resampled) | liquidation ahead |",
        "|---|---|---|---|",
        f"| liquidation − median placebo | {lp['mean']:+.2f} | "
        f"[{lp['low']:+.2f}, {lp['high']:+.2f}] | {lp['wins']} of {lp['cells']} |",
        f"| liquidation − twin | {lt['mean']:+.2f} | [{lt['low']:+.2f}, {lt['high']:+.2f}] | "
        f"{lt['wins']} of {lt['cells']} |",
        f"| liquidation − buy & hold | {lb['mean']:+.2f} | [{lb['low']:+.2f}, {lb['high']:+.2f}] "
        f"| {lb['wins']} of {lb['cells']} |",
        "",
        f"Rank among its {n_placebos} placebos, as a percentile (0 = better than all, 1 = worse "
        f"than all, 0.5 = no information): mean **{rank['mean']:.2f}** [{rank['low']:.2f}, "
        f"{rank['high']:.2f}] (folds resampled); in the top half in {rank['top_half']} of "
        f"{rank['cells']} cells; a mean this good or better has probability "
        f"{rank['p_uniform']:.2f} if every cell's rank were uniform (cells treated as "
        "independent, which they are not quite).",
        "",
        verdict(s),
        "",
        "Trading activity (mean per fold × pair cell, scaled to a quarter):",
        "",
        quarter_table(s),
        "",
        "## Profit % per fold and pair (trades in brackets; `w_pull` = the tuned weight, "
        "`default` = the strategy's 0.5)",
        "",
        compact_table(results),
        "",
        "## Every placebo (profit %, trades)",
        "",
        placebo_table(results),
        "",
        "## Every other arm",
        "",
        fold_table(results),
        "",
        "## Tuned parameters per fold",
        "",
        "```json",
        json.dumps({r.fold.name: r.tuned for r in results}, indent=1, sort_keys=True),
        "```",
        "",
    ]
    path.write_text("\n".join(parts))
    path.with_suffix(".json").write_text(
        json.dumps(
            {
                "summary": s,
                "settings": {
                    "epochs": args.epochs,
                    "random_state": args.random_state,
                    "smoke": args.smoke,
                    "shifts": list(args.shifts),
                    "folds": args.folds,
                    "model": model,
                    "seconds": seconds,
                },
                "folds": [
                    {
                        "fold": r.fold.name,
                        "train": r.fold.train,
                        "test": r.fold.test,
                        "tuned": r.tuned,
                        "rows": [x.__dict__ for x in r.rows],
                    }
                    for r in results
                ],
            },
            indent=1,
            default=float,
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--epochs",
        type=int,
        default=0,
        help="hyperopt epochs per strategy and fold (default 0: no hyperopt, every arm "
        "trades the strategies' defaults, chosen on 2025-01 -> 2025-07, docs/strategy.md; "
        "5 epochs per fold took ~7 min on the shared cores)",
    )
    parser.add_argument("--random-state", type=int, default=42)
    parser.add_argument("--jobs", type=int, default=2, help="hyperopt parallel jobs")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "results.md")
    parser.add_argument("--workdir", type=Path, default=REPO / "user_data" / ".compare")
    parser.add_argument("--model-config", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--folds", nargs="*", help="fold names to run (default: all)")
    parser.add_argument(
        "--shifts",
        nargs="+",
        type=int,
        default=list(SHIFTS),
        help=f"placebo shifts in days (default: all {len(SHIFTS)})",
    )
    parser.add_argument(
        "--smoke", action="store_true", help="one two-week fold, 2 epochs, 2 placebos"
    )
    parser.add_argument(
        "--from-json",
        type=Path,
        help="rewrite --out from a previous run's results .json (no freqtrade run)",
    )
    args = parser.parse_args(argv)
    if args.from_json:
        return rewrite(args)

    stray = sorted((REPO / "strategies").glob("*.json"))
    if stray:
        raise SystemExit(
            f"compare: {', '.join(map(str, stray))} would override the defaults "
            "in the .py files (hyperopt / hyperopt-show export them); move them away."
        )
    placebo_names(tuple(args.shifts))
    folds = [SMOKE] if args.smoke else [f for f in FOLDS if not args.folds or f.name in args.folds]
    if not folds:
        raise SystemExit(f"compare: no fold named {args.folds}; have {[f.name for f in FOLDS]}")
    if args.smoke:
        args.epochs = min(args.epochs, 2)
        if tuple(args.shifts) == SHIFTS:
            args.shifts = list(SMOKE_SHIFTS)
    started = time.monotonic()
    workdir = args.workdir.resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    log = workdir / "freqtrade.log"
    model_path = args.model_config.resolve()
    extra: dict[str, Any] = {"liq_signals": {"model_config": str(model_path)}}
    if args.smoke:
        extra["hyperopt_min_trades"] = 1  # two weeks of BTC: few trades
    extra_config = workdir / "compare_config.json"
    extra_config.write_text(json.dumps(extra))
    configs_bt = ["--config", str(CONFIG_BACKTEST), "--config", str(extra_config)]
    configs_ho = ["--config", str(CONFIG_HYPEROPT), "--config", str(extra_config)]
    model_text = json.loads(model_path.read_text()).get("model_config", {})
    shown = model_path.relative_to(REPO) if model_path.is_relative_to(REPO) else model_path
    model = f"`{shown}` = {json.dumps(model_text)} over ModelConfig() defaults"
    print(f"compare: {len(folds)} fold(s); freqtrade output goes to {log}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results: list[FoldResult] = []
    for fold in folds:
        results.append(run_fold(fold, args, (configs_ho, configs_bt), workdir, log, started))
        # rewritten after every fold: an interrupted run still leaves what it measured
        write_report(args.out, results, args, model, time.monotonic() - started)
    print(compact_table(results))
    print(json.dumps(summary(results), indent=1))
    print(f"compare: wrote {args.out} and {args.out.with_suffix('.json')}")
    return 0


def rewrite(args: argparse.Namespace) -> int:
    """The report again from a run's JSON (same numbers, current wording)."""
    data = json.loads(args.from_json.read_text())
    by_name = {f.name: f for f in (*FOLDS, SMOKE)}
    results = [
        FoldResult(by_name[f["fold"]], [Row(**row) for row in f["rows"]], f["tuned"])
        for f in data["folds"]
    ]
    settings = data.get("settings", {})
    for key in ("epochs", "random_state", "smoke", "shifts", "folds"):
        setattr(args, key, settings.get(key, getattr(args, key)))
    model = settings.get("model", f"`{args.model_config}`")
    write_report(args.out, results, args, model, settings.get("seconds", float("nan")))
    print(verdict(summary(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
