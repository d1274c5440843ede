"""The target table of docs/validation.md: every walk-forward fold of a ``liq-signals
calibrate --out FILE`` run, scored out of sample by ``validate`` with the starting model
("before") and the fold's fitted parameters ("after"), plus other pairs scored with the
shipped (whole-span) fit.

Run from the repository root::

    .venv/bin/python tools/validation_targets.py FITTED.json [--pairs ETH/USDT:USDT SOL/USDT:USDT]

Prints markdown. Nothing here is a new statistic: each figure is a ``validate`` score
(liq_signals/evaluation/standing.py: the standing book against the best ex-ante and the
best ex-post baseline) and the fold objective of ``calibrate``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
RECORD = REPO / "user_data/realized/coinglass-binance-4h/liquidations"
DATADIR = REPO / "user_data/data/binance"
WARMUP = pd.Timedelta("30D")


def _f(x: float | None, d: int = 3) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.{d}f}"


def _score(pair, window, cfg, sensitivity=False):  # noqa: ANN001, ANN202
    from liq_signals.data.frames import PairFrames
    from liq_signals.evaluation.inputs import load_window, restrict
    from liq_signals.evaluation.realized import load_realized
    from liq_signals.evaluation.runner import ValidationSettings, validate

    rec = restrict(load_realized(RECORD, pair=pair), window[0], window[1])
    w = load_window(DATADIR, pair, "5m", window[0], window[1], WARMUP)
    return validate(
        PairFrames(w.candles, open_interest=w.open_interest, mark=w.mark),
        rec,
        pair=pair,
        config=cfg,
        settings=ValidationSettings(period="4h", sensitivity=sensitivity),
    )


def _rows(label: str, before, after) -> list[str]:  # noqa: ANN001
    rows = []
    for side in ("long", "short"):
        a = after.standing["standing"][side]
        b = before.standing["standing"][side]
        for kind in ("ex_ante", "ex_post"):
            best = a[f"best_{kind}"]
            if best is None:
                continue
            d = a[f"minus_best_{kind}"]
            met = d["low"] > 0
            gap = "" if met else f" (short by {_f(-d['low'])} on the interval's low end)"
            rows.append(
                f"| {label} | standing-book ρ {side} > best {kind.replace('_', '-')} "
                f"baseline | before {_f(b['model']['rho'])}, after {_f(a['model']['rho'])} "
                f"vs {best} {_f(a['baselines'][best]['rho'])} | {_f(d['value'])} "
                f"[{_f(d['low'])}, {_f(d['high'])}] | {'met' if met else 'NOT met' + gap} |"
            )
    for name, card in (("before", before.standing), ("after", after.standing)):
        o = card["side_balance"]["standing"]["overall"]
        r = o["implied_over_realized"]
        met = 1 / 1.15 <= r <= 1.15
        rows.append(
            f"| {label} | Σshort/Σlong within ±15 % ({name}) | implied {_f(o['implied'])} vs "
            f"realized {_f(o['realized'])} | ratio {_f(r)} [{_f(o['low'])}, {_f(o['high'])}] | "
            f"{'met' if met else f'NOT met (off by {abs(r - 1):.0%})'} |"
        )
    card = after.standing["side_balance"]["standing"]
    for key, name in (("largest_up_leg", "rally"), ("largest_down_leg", "sell-off")):
        leg = card[key]
        r = leg["implied_over_realized"]
        b = before.standing["side_balance"]["standing"][key]["implied_over_realized"]
        fac = max(r, 1 / r) if r and math.isfinite(r) else math.inf
        rows.append(
            f"| {label} | largest {name} ({leg['move']:+.0%}, {leg['periods']} periods) within "
            f"1.5× | before {_f(b)}, after {_f(r)} | factor {_f(fac, 2)} | "
            f"{'met' if fac <= 1.5 else 'NOT met'} |"
        )
    return rows


def main() -> int:
    from liq_signals.config import ModelConfig, load_model_config
    from liq_signals.evaluation.calibrate import window_scores
    from liq_signals.evaluation.standing import S_LONG, S_SHORT

    parser = argparse.ArgumentParser()
    parser.add_argument("fitted", type=Path)
    parser.add_argument("--base", type=Path, default=None, help="the 'before' model file")
    parser.add_argument("--pairs", nargs="*", default=[])
    args = parser.parse_args()
    fit = json.loads(args.fitted.read_text())["fit"]
    base = load_model_config(args.base) if args.base else ModelConfig()
    shipped = load_model_config(args.fitted)
    pair = fit["pair"]
    print("| where (out of sample) | target | value | difference / ratio [95% CI] | verdict |")
    print("|---|---|---|---|---|")
    objectives = []
    for i, fold in enumerate(fit["folds"]):
        test = tuple(pd.Timestamp(t) for t in fold["test_range"])
        cfg = replace(base, **fold["params"])
        before, after = _score(pair, test, base), _score(pair, test, cfg)
        label = f"{pair} fold {i + 1} test {test[0]:%Y-%m-%d} → {test[1]:%Y-%m-%d}"
        for row in _rows(label, before, after):
            print(row)
        objectives.append((label, fold["base_test_objective"], fold["test_objective"]))
    for other in args.pairs:
        first = pd.Timestamp(fit["span"][0])
        last = pd.Timestamp(fit["span"][1])
        before, after = _score(other, (first, last), base), _score(other, (first, last), shipped)
        label = f"{other} {first:%Y-%m-%d} → {last:%Y-%m-%d} (BTC fit)"
        for row in _rows(label, before, after):
            print(row)
        # the calibration objective on the validate period tables (books built from
        # the warm-up before the span, not from the first candle on file)
        ob, oa = (window_scores(r.periods, (S_LONG, S_SHORT)).objective for r in (before, after))
        objectives.append((label, ob, oa))
    for label, b, a in objectives:
        print(
            f"| {label} | calibrated better than today's defaults | objective before "
            f"{_f(b)}, after {_f(a)} | {_f(a - b)} | {'met' if a < b else 'NOT met'} |"
        )
    res = _score(pair, (pd.Timestamp(fit["span"][0]), pd.Timestamp(fit["span"][1])), shipped, True)
    for key, v in res.sensitivity["scores"].items():
        print(
            f"| {pair} whole span, shipped fit | sensitivity spread ≥ 0.02: {key} | "
            f"spread {_f(v['spread'])} | — | {'met' if v['moves'] else 'NOT met'} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
