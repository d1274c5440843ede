"""Benchmark of ``liq-signals calibrate``: 200 Optuna trials on ten months of 5-minute
BTC candles (2025-01-07 → 2025-11-07, the embedded candles against the shipped 4-hour
CoinGlass record), in 2 worker processes.

The target is 10 minutes on 2 cores.  Prints the wall time of the study alone (inputs
prepared once before it), the trials per second, and the per-trial engine cost measured
in this run (one standing-book evaluation of the whole span, best of 3), so a figure
taken on a loaded machine can be read against its own per-trial cost.

Run: ``.venv/bin/python bench/bench_calibrate.py [--trials 200] [--jobs 2]`` from the
repository root.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PAIR = "BTC/USDT:USDT"
START = pd.Timestamp("2025-01-07", tz="UTC")
STOP = pd.Timestamp("2025-11-07", tz="UTC")


def main() -> int:
    from liq_signals.config import ModelConfig
    from liq_signals.data.frames import PairFrames
    from liq_signals.evaluation.calibrate import Evaluator, run_study, search_space
    from liq_signals.evaluation.inputs import load_window
    from liq_signals.evaluation.realized import load_realized

    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    t0 = time.perf_counter()
    w = load_window(REPO / "user_data/data/binance", PAIR, "5m", START, STOP, pd.Timedelta("7D"))
    rec = load_realized(REPO / "user_data/realized/coinglass-binance-4h/liquidations", PAIR)
    ev = Evaluator(
        PairFrames(w.candles, mark=w.mark),
        rec,
        pair=PAIR,
        timeframe="5m",
        period="4h",
        base=ModelConfig(),
    )
    t1 = time.perf_counter()
    candles = int(((w.candles["date"] >= START) & (w.candles["date"] < STOP)).sum())
    one = []
    for _ in range(3):
        s = time.perf_counter()
        ev.scores(ModelConfig(), (START, STOP))
        one.append(time.perf_counter() - s)
    t2 = time.perf_counter()
    params, best, n = run_study(
        ev,
        (START, STOP),
        trials=args.trials,
        jobs=args.jobs,
        space=search_space(None, has_metrics=False),
        label="bench",
        report=lambda _: None,
    )
    t3 = time.perf_counter()
    print(f"cores visible: {os.cpu_count()}, load average: {os.getloadavg()}")
    periods = int(((ev.per.index >= START) & (ev.per.index < STOP)).sum())
    print(f"scored candles: {candles:,} (5m), periods: {periods} (4h)")
    print(f"prepare inputs + base run: {t1 - t0:.1f} s")
    print(f"one trial (standing book over the span), best of 3: {min(one):.2f} s")
    print(
        f"study: {n} trials in {t3 - t2:.1f} s with {args.jobs} workers "
        f"({n / (t3 - t2):.2f} trials/s; target: 200 in 600 s)"
    )
    print(f"best objective {best:.4f} at {params}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
