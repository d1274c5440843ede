"""LiquidationMagnetStrategy vs BaselineStrategy on the embedded data -> docs/results.md.

One command (offline, through the loopback emulator)::

    .venv/bin/python tools/compare.py                 # ~15-25 min on 2 cores
    .venv/bin/python tools/compare.py --epochs 20     # quicker, noisier walk-forward

What it runs, all with ``user_data/config_backtest.json`` (BTC/USDT:USDT, 2x isolated,
0.05 % fee per side, one trade at a time):

1. **Defaults** -- both strategies with the parameters in their .py files, in one
   ``freqtrade backtesting --strategy-list`` run, on the 2025-09-01 -> 2026-02-19 window
   (volume-flow mode: no open interest recorded there) and on the 2026-06 open-interest
   sample (OI mode).
2. **Walk-forward** -- copies both strategies to a scratch folder, runs ``freqtrade
   hyperopt`` (buy + sell spaces, SharpeHyperOptLossDaily, fixed ``--random-state``) on the
   earlier TRAIN window, then backtests the tuned parameters on TRAIN (in-sample) and on
   the later, unseen TEST window.

Metrics come from freqtrade's backtest result JSON (``load_backtest_stats``), not from
its printed tables.  Nothing here writes into strategies/ (hyperopt exports its
parameter files into the scratch copy).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STRATEGIES = ("BaselineStrategy", "LiquidationMagnetStrategy")
CONFIG_BACKTEST = REPO / "user_data" / "config_backtest.json"
CONFIG_HYPEROPT = REPO / "user_data" / "config_hyperopt.json"
DATADIR_2025 = REPO / "user_data" / "data" / "binance"
#: The configs list BTC, ETH and SOL with one slot per pair; this report (and the OI sample,
#: BTC only) stays BTC/USDT:USDT with one trade at a time and the whole wallet per trade.
BTC_ONLY = ["--pairs", "BTC/USDT:USDT", "--max-open-trades", "1"]
DATADIR_OI = REPO / "user_data" / "data" / "binance-oi-2026-06"

#: Defaults / walk-forward TEST window: the demo window (Oct-10 cascade, late-Nov drop).
MAIN_WINDOW = "20250901-20260219"
#: Walk-forward TRAIN window: the three months before it.
TRAIN_WINDOW = "20250601-20250901"
OI_WINDOW = "20260607-20260623"
SPACES = ("buy", "sell")


@dataclass(frozen=True)
class Run:
    """One backtest result row."""

    label: str
    strategy: str
    stats: dict

    def cells(self) -> list[str]:
        s = self.stats
        return [
            self.label,
            self.strategy,
            str(s["total_trades"]),
            f"{100 * s['profit_total']:.2f}",
            f"{100 * s['max_drawdown_account']:.2f}",
            _num(s.get("sharpe")),
            _num(s.get("sortino")),
            _num(s.get("calmar")),
            f"{100 * s['winrate']:.1f}" if s["total_trades"] else "-",
            f"{100 * s.get('market_change', 0.0):.1f}",
        ]


HEADER = [
    "window",
    "strategy",
    "trades",
    "profit %",
    "max DD %",
    "Sharpe",
    "Sortino",
    "Calmar",
    "win %",
    "market %",
]


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _freqtrade(args: list[str], datadir: Path, workdir: Path, log: Path) -> str:
    """Run freqtrade offline; raise with the tail of its output when it fails."""
    from liq_signals.offline.runner import run_freqtrade

    userdir = workdir / "ud"
    (userdir / "strategies").mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    result = run_freqtrade(
        [*args, *BTC_ONLY, "--user-data-dir", str(userdir)],
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
    print(
        f"  freqtrade {args[0]} {' '.join(a for a in args if a[:2] == '20')}"
        f" done in {time.monotonic() - started:.0f} s",
        flush=True,
    )
    return result.output


def backtest(
    label: str,
    timerange: str,
    datadir: Path,
    workdir: Path,
    log: Path,
    strategy_path: Path | None = None,
) -> list[Run]:
    """Both strategies in one ``backtesting --strategy-list`` run."""
    from freqtrade.data.btanalysis import load_backtest_stats

    out = workdir / f"bt-{label}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    args = [
        "backtesting",
        "--config",
        str(CONFIG_BACKTEST),
        "--strategy-list",
        *STRATEGIES,
        "--timerange",
        timerange,
        "--export",
        "trades",
        "--backtest-directory",
        str(out),
        "--cache",
        "none",
    ]
    if strategy_path is not None:
        args += ["--strategy-path", str(strategy_path)]
    _freqtrade(args, datadir, workdir, log)
    stats = load_backtest_stats(out)["strategy"]
    return [Run(label, name, stats[name]) for name in STRATEGIES]


def hyperopt(
    strategy: str, strategy_path: Path, epochs: int, seed: int, jobs: int, workdir: Path, log: Path
) -> dict:
    """Tune ``strategy`` on TRAIN; its parameter file lands next to the scratch copy."""
    _freqtrade(
        [
            "hyperopt",
            "--config",
            str(CONFIG_HYPEROPT),
            "--strategy",
            strategy,
            "--strategy-path",
            str(strategy_path),
            "--timerange",
            TRAIN_WINDOW,
            "--epochs",
            str(epochs),
            "--spaces",
            *SPACES,
            "--random-state",
            str(seed),
            "-j",
            str(jobs),
        ],
        DATADIR_2025,
        workdir,
        log,
    )
    params = json.loads((strategy_path / f"{strategy}.json").read_text())["params"]
    return {space: params[space] for space in SPACES}


def _table(runs: list[Run]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r.cells()) + " |" for r in runs]
    return "\n".join(lines)


def _exits(runs: list[Run]) -> str:
    lines = ["| window | strategy | exit reason | trades | avg profit % |", "|---|---|---|---|---|"]
    for r in runs:
        for row in r.stats.get("exit_reason_summary", []):
            if row["key"] != "TOTAL":
                lines.append(
                    f"| {r.label} | {r.strategy} | {row['key']} | {row['trades']} | "
                    f"{row['profit_mean_pct']:.2f} |"
                )
    return "\n".join(lines)


def write_report(
    path: Path,
    defaults: list[Run],
    walk: list[Run],
    tuned: dict[str, dict],
    args: argparse.Namespace,
    seconds: float,
) -> None:
    import freqtrade

    parts = [
        "# Results: LiquidationMagnetStrategy vs BaselineStrategy",
        "",
        f"Generated by `.venv/bin/python tools/compare.py --epochs {args.epochs} "
        f"--random-state {args.random_state}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
        f"(freqtrade {freqtrade.__version__}, {seconds / 60:.0f} min).  Config "
        "`user_data/config_backtest.json`: BTC/USDT:USDT, 2x isolated, 0.05 % fee per side, "
        "one open trade, 1000 USDT.  Profit and drawdown in % of the starting balance; "
        "Sharpe/Sortino/Calmar as freqtrade computes them (closed trades).  `market %` is "
        "BTC's own change over the window.",
        "",
        "## Default parameters",
        "",
        f"`main` = {MAIN_WINDOW} on `user_data/data/binance` (no open interest recorded: "
        f"the liquidation map runs in volume-flow mode).  `oi-sample` = {OI_WINDOW} on "
        "`user_data/data/binance-oi-2026-06` (open-interest mode; the recording has an "
        "outage from 06-14 15:05 to 06-20 10:55 during which the map is stale and the "
        "liquidation strategy does not enter).",
        "",
        _table(defaults),
        "",
    ]
    if walk:
        parts += [
            "## Walk-forward",
            "",
            f"Hyperopt on TRAIN = {TRAIN_WINDOW} ({args.epochs} epochs per strategy, spaces "
            f"{' + '.join(SPACES)}, SharpeHyperOptLossDaily, random state "
            f"{args.random_state}), then the tuned parameters backtested on TRAIN "
            f"(in-sample) and on TEST = {MAIN_WINDOW} (never seen by hyperopt).",
            "",
            _table(walk),
            "",
            "Tuned parameters:",
            "",
            "```json",
            json.dumps(tuned, indent=1, sort_keys=True),
            "```",
            "",
        ]
    parts += ["## Exit reasons", "", _exits(defaults + walk), ""]
    path.write_text("\n".join(parts))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60, help="hyperopt epochs per strategy")
    parser.add_argument("--random-state", type=int, default=42)
    parser.add_argument("--jobs", type=int, default=2, help="hyperopt parallel jobs")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "results.md")
    parser.add_argument("--workdir", type=Path, default=REPO / "user_data" / ".compare")
    parser.add_argument("--skip-walk-forward", action="store_true")
    args = parser.parse_args(argv)

    stray = sorted((REPO / "strategies").glob("*.json"))
    if stray:
        raise SystemExit(
            f"compare: {', '.join(map(str, stray))} would override the defaults "
            "in the .py files (hyperopt / hyperopt-show export them); move them away."
        )
    started = time.monotonic()
    workdir = args.workdir.resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    log = workdir / "freqtrade.log"
    print(f"compare: freqtrade output goes to {log}", flush=True)

    defaults = backtest("main", MAIN_WINDOW, DATADIR_2025, workdir, log)
    defaults += backtest("oi-sample", OI_WINDOW, DATADIR_OI, workdir, log)

    walk: list[Run] = []
    tuned: dict[str, dict] = {}
    if not args.skip_walk_forward:
        scratch = workdir / "strategies"
        scratch.mkdir()
        for source in (REPO / "strategies").glob("*.py"):
            shutil.copy2(source, scratch / source.name)
        for name in STRATEGIES:
            tuned[name] = hyperopt(
                name, scratch, args.epochs, args.random_state, args.jobs, workdir, log
            )
        walk = [
            Run(f"train {TRAIN_WINDOW}", r.strategy, r.stats)
            for r in backtest("train", TRAIN_WINDOW, DATADIR_2025, workdir, log, scratch)
        ] + [
            Run(f"test {MAIN_WINDOW}", r.strategy, r.stats)
            for r in backtest("test", MAIN_WINDOW, DATADIR_2025, workdir, log, scratch)
        ]

    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_report(args.out, defaults, walk, tuned, args, time.monotonic() - started)
    print(_table(defaults + walk))
    print(f"compare: wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
