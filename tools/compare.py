"""Walk-forward of LiquidationMagnetStrategy vs its twin, placebos, buy-and-hold -> results.md.

One command (offline, through the loopback emulator; ``make compare``)::

    .venv/bin/python tools/compare.py                  # 10-35 min on 2 cores
    .venv/bin/python tools/compare.py --epochs 4       # quicker, noisier
    .venv/bin/python tools/compare.py --smoke          # one short fold (the CI smoke test)

Per fold (``FOLDS``: the embedded BTC 2023 window and BTC/ETH/SOL 2025-26, three months
of training followed by the next three months of test):

1. ``freqtrade hyperopt`` of LiquidationMagnetStrategy and of BaselineStrategy (its twin:
   the same strategy without the liquidation term), separately, on the fold's TRAIN window
   of BTC only (spaces buy + sell, SharpeHyperOptLossDaily, ``--random-state`` + fold number), on
   scratch copies of the strategy files;
2. one ``freqtrade backtesting`` on the TEST window of the tuned twin, the tuned
   liquidation strategy and its two placebos (tools/placebo: the same strategy and
   parameters fed its map shifted 20 and 40 days back), one trade slot per pair;
3. per pair: profit (% of the pair's slot, 1/n of the wallet), max drawdown, daily Sharpe
   and trades, computed from freqtrade's exported trades, and buy-and-hold (1x, no fees).

The summary pools the (fold, pair) differences liquidation − twin and liquidation −
placebo with a bootstrap interval that resamples whole time folds (pairs in one window
share the market, so they are not independent evidence).  The model is
``--model-config`` (default ``user_data/liq_model.json``), passed to the strategies
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
PLACEBOS = ("LiquidationMagnetPlacebo20", "LiquidationMagnetPlacebo40")
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
    Fold("25-q2", DATA_2025, ALL_PAIRS, "20250101-20250401", "20250401-20250701"),
    Fold("25-q3", DATA_2025, ALL_PAIRS, "20250401-20250701", "20250701-20251001"),
    Fold("25-q4", DATA_2025, ALL_PAIRS, "20250701-20251001", "20251001-20260101"),
    Fold("26-q1", DATA_2025, ALL_PAIRS, "20251001-20260101", "20260101-20260219"),
)
SMOKE = Fold("smoke", DATA_2025, ALL_PAIRS[:1], "20250301-20250401", "20250401-20250415")


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


def _pair_metrics(trades: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, capital: float):
    """(trades, profit %, max drawdown %, daily Sharpe) of one pair's closed trades."""
    if trades.empty:
        return 0, 0.0, 0.0, float("nan")
    trades = trades.sort_values("close_date")
    equity = capital + trades["profit_abs"].cumsum().to_numpy()
    peak = np.maximum.accumulate(np.r_[capital, equity])[1:]
    max_dd = float(np.max((peak - equity) / peak))
    days = pd.date_range(start.floor("D"), end.floor("D"), freq="D", tz="UTC")
    daily = trades.groupby(trades["close_date"].dt.floor("D"))["profit_abs"].sum()
    daily = daily.reindex(days, fill_value=0.0) / capital
    sharpe = float(daily.mean() / daily.std() * np.sqrt(365)) if daily.std() > 0 else float("nan")
    return len(trades), 100 * trades["profit_abs"].sum() / capital, 100 * max_dd, sharpe


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
        "buy & hold",
        1,
        100 * (close.iloc[-1] / close.iloc[0] - 1),
        100 * float(((peak - close) / peak).max()),
        sharpe,
    )


def _window(timerange: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    a, b = timerange.split("-")
    return pd.Timestamp(a, tz="UTC"), pd.Timestamp(b, tz="UTC")


def run_fold(fold: Fold, args, configs: tuple[list[str], list[str]], workdir, log, started):
    """Hyperopt both strategies on TRAIN (``configs[0]``), backtest every arm on TEST
    (``configs[1]``), and measure each pair."""
    from freqtrade.data.btanalysis import load_backtest_stats

    t0 = time.monotonic()
    result = FoldResult(fold)
    scratch = _scratch(workdir)
    for name in (LIQ, TWIN):
        _log(f"{fold.name}: hyperopt {name} on {fold.train} ({args.epochs} epochs)", started)
        exported = hyperopt(name, fold, scratch, configs[0], args, workdir, log)
        if exported is None:
            result.tuned[name] = {"defaults": "no valid hyperopt epoch"}
            continue
        result.tuned[name] = {s: exported["params"].get(s, {}) for s in SPACES}
        if name == LIQ:
            for placebo in PLACEBOS:  # the placebos trade the liquidation strategy's parameters
                (scratch / f"{placebo}.json").write_text(
                    json.dumps(dict(exported, strategy_name=placebo))
                )
    out = workdir / f"bt-{fold.name}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    arms = [TWIN, LIQ, *PLACEBOS]
    _log(f"{fold.name}: backtest {', '.join(arms)} on {fold.test}", started)
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
            n, profit, dd, sharpe = _pair_metrics(trades, start, end, capital)
            result.rows.append(Row(fold.name, pair, arm, n, profit, dd, sharpe))
        result.rows.append(_buy_and_hold(fold, pair, start, end))
    result.seconds = time.monotonic() - t0
    _log(f"{fold.name}: done in {result.seconds / 60:.1f} min", started)
    return result


def pooled_difference(results: list[FoldResult], arm_a: str, arm_b: str, seed: int = 0):
    """Mean over (fold, pair) of profit(a) − profit(b), with a 90 % bootstrap interval that
    resamples whole folds; also how many (fold, pair) cells a beats b on."""
    per_fold = []
    wins = cells = 0
    for r in results:
        profit = {(x.pair, x.arm): x.profit_pct for x in r.rows}
        pairs = sorted({x.pair for x in r.rows})
        diffs = []
        for p in pairs:
            b = (
                np.mean([profit[(p, a)] for a in PLACEBOS])
                if arm_b == "placebo"
                else profit[(p, arm_b)]
            )
            diffs.append(profit[(p, arm_a)] - b)
        per_fold.append(np.array(diffs))
        wins += int(sum(d > 0 for d in diffs))
        cells += len(diffs)
    flat = np.concatenate(per_fold)
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(4000):
        pick = rng.integers(0, len(per_fold), len(per_fold))
        boot.append(np.concatenate([per_fold[i] for i in pick]).mean())
    low, high = np.quantile(boot, [0.05, 0.95])
    return float(flat.mean()), float(low), float(high), wins, cells


def _num(x: float, fmt: str = "{:+.2f}") -> str:
    return "-" if not np.isfinite(x) else fmt.format(x)


ARM_LABEL = {
    LIQ: "liquidation",
    TWIN: "twin (no map)",
    PLACEBOS[0]: "placebo map −20 d",
    PLACEBOS[1]: "placebo map −40 d",
    "buy & hold": "buy & hold",
}


def fold_table(results: list[FoldResult]) -> str:
    lines = [
        "| fold | test window | pair | arm | trades | profit % | max DD % | Sharpe |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for x in r.rows:
            bold = "**" if x.arm == LIQ else ""
            lines.append(
                f"| {r.fold.name} | {r.fold.test} | {x.pair.split('/')[0]} | "
                f"{bold}{ARM_LABEL[x.arm]}{bold} | {x.trades if x.arm != 'buy & hold' else '-'} | "
                f"{_num(x.profit_pct)} | {_num(x.max_dd_pct, '{:.2f}')} | {_num(x.sharpe)} |"
            )
    return "\n".join(lines)


def compact_table(results: list[FoldResult]) -> str:
    """Profit % per (fold, pair): one line each, arms side by side."""
    lines = [
        "| fold | pair | liquidation | twin | placebo −20 d | placebo −40 d | buy & hold "
        "| w_pull |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        profit = {(x.pair, x.arm): x for x in r.rows}
        w = r.tuned.get(LIQ, {}).get("buy", {}).get("w_pull")
        for p in sorted({x.pair for x in r.rows}):
            cells = [
                f"{_num(profit[(p, a)].profit_pct)} ({profit[(p, a)].trades})"
                for a in (LIQ, TWIN, *PLACEBOS)
            ]
            lines.append(
                f"| {r.fold.name} | {p.split('/')[0]} | {' | '.join(cells)} | "
                f"{_num(profit[(p, 'buy & hold')].profit_pct)} | {w if w is not None else '-'} |"
            )
    return "\n".join(lines)


def summary(results: list[FoldResult]) -> dict[str, Any]:
    out = {}
    for key, b in (("liquidation - twin", TWIN), ("liquidation - placebo", "placebo")):
        mean, low, high, wins, cells = pooled_difference(results, LIQ, b)
        out[key] = {"mean": mean, "low": low, "high": high, "wins": wins, "cells": cells}
    positive = sum(1 for r in results for x in r.rows if x.arm == LIQ and x.profit_pct > 0)
    cells = sum(1 for r in results for x in r.rows if x.arm == LIQ)
    out["liquidation positive"] = {"wins": positive, "cells": cells}
    return out


def verdict(s: dict[str, Any]) -> str:
    """What the pooled figures say, in words decided by the intervals alone."""
    lt, lp = s["liquidation - twin"], s["liquidation - placebo"]

    def reading(d: dict[str, Any], other: str) -> str:
        if d["low"] > 0:
            return f"beats {other} (interval above 0)"
        if d["high"] < 0:
            return f"does worse than {other} (interval below 0)"
        return f"is not distinguishable from {other} (interval covers 0)"

    positive = s["liquidation positive"]
    return (
        f"Out of sample the liquidation strategy {reading(lt, 'its twin')}, ahead on "
        f"{lt['wins']} of {lt['cells']} fold × pair cells, and {reading(lp, 'its placebos')}, "
        f"ahead on {lp['wins']} of {lp['cells']}; it made money on {positive['wins']} of "
        f"{positive['cells']}."
    )


def write_report(path: Path, results: list[FoldResult], args, model: str, seconds: float) -> None:
    import freqtrade

    s = summary(results)
    lt, lp = s["liquidation - twin"], s["liquidation - placebo"]
    command = (
        "tools/compare.py"
        + (" --smoke" if args.smoke else "")
        + (f" --epochs {args.epochs} --random-state {args.random_state}")
    )
    parts = [
        "# Results: walk-forward of LiquidationMagnetStrategy vs its twin and placebos",
        "",
        f"Generated by `.venv/bin/python {command}` (`make compare`) on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, freqtrade {freqtrade.__version__}, "
        f"{seconds / 60:.0f} min. Model: {model}.",
        "",
        "Every row is **out of sample**: each fold's parameters come from a hyperopt "
        f"({args.epochs} epochs per strategy, spaces {' + '.join(SPACES)}, "
        "SharpeHyperOptLossDaily) on BTC over the three months before its test window only, "
        "run separately for the liquidation strategy and its twin (ETH and SOL trade the "
        "BTC-tuned parameters: out of sample in time and asset). The study that chose the "
        f"strategy's term used {IN_SAMPLE} (in-sample); no test window overlaps it. "
        "`user_data/config_backtest.json`: 2x isolated, 0.05 % fee per side, one trade "
        "slot per pair; profit and drawdown in % of the pair's slot (the wallet split over "
        "the fold's pairs), Sharpe from daily P&L (√365). Buy-and-hold: 1x, no fees. "
        "Placebos: the liquidation strategy with the same tuned parameters fed its own "
        "map shifted 20 / 40 days back (same distributions, no alignment with price). "
        "The search is small on purpose (the run fits in ~30 min on 2 shared cores): each "
        "fold's hyperopt (random state = the given one + the fold's number) picks among a "
        "handful of parameter sets.",
        "",
        "## Summary",
        "",
        "| comparison (per fold × pair, profit % points) | mean "
        "| 90 % interval (folds resampled) | liquidation ahead |",
        "|---|---|---|---|",
        f"| liquidation − twin | {lt['mean']:+.2f} | [{lt['low']:+.2f}, {lt['high']:+.2f}] | "
        f"{lt['wins']} of {lt['cells']} |",
        f"| liquidation − placebo (mean of both) | {lp['mean']:+.2f} | "
        f"[{lp['low']:+.2f}, {lp['high']:+.2f}] | {lp['wins']} of {lp['cells']} |",
        "",
        verdict(s),
        "",
        "## Profit % per fold and pair (trades in brackets; `w_pull` = the tuned weight)",
        "",
        compact_table(results),
        "",
        "## Every arm",
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
    parser.add_argument("--epochs", type=int, default=5, help="hyperopt epochs per strategy")
    parser.add_argument("--random-state", type=int, default=42)
    parser.add_argument("--jobs", type=int, default=2, help="hyperopt parallel jobs")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "results.md")
    parser.add_argument("--workdir", type=Path, default=REPO / "user_data" / ".compare")
    parser.add_argument("--model-config", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--folds", nargs="*", help="fold names to run (default: all)")
    parser.add_argument("--smoke", action="store_true", help="one two-week fold, 2 epochs")
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
    folds = [SMOKE] if args.smoke else [f for f in FOLDS if not args.folds or f.name in args.folds]
    if not folds:
        raise SystemExit(f"compare: no fold named {args.folds}; have {[f.name for f in FOLDS]}")
    if args.smoke:
        args.epochs = min(args.epochs, 2)
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
    for key in ("epochs", "random_state", "smoke"):
        setattr(args, key, settings.get(key, getattr(args, key)))
    model = settings.get("model", f"`{args.model_config}`")
    write_report(args.out, results, args, model, settings.get("seconds", float("nan")))
    print(verdict(summary(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
