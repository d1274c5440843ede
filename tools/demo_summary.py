"""The demo's table: per pair the strategy, its twin, the median placebo and buy-and-hold.

    .venv/bin/python tools/demo_summary.py [RESULT] [--shifts 10 60 170 | --no-placebos]

``RESULT`` is a backtest result folder (default ``user_data/backtest_results``; its
``.last_result.json`` names the newest result), or a result ``.zip``/``.json`` file, holding
LiquidationMagnetStrategy and its twin BaselineStrategy (``make demo``).  Every number is
read from freqtrade's result JSON (``load_backtest_stats``), never from its printed report:

- strategy and twin, per pair: ``results_per_pair`` (trades, profit in % of the starting
  wallet, the pair's own max drawdown); TOTAL: ``total_trades``, ``profit_total`` and
  ``max_drawdown_account`` (the whole wallet);
- **median placebo**: the liquidation strategy with the same parameters trading its own
  map of 10 ... 170 days earlier (tools/placebo, as in the walk-forward), one more
  ``freqtrade backtesting`` over the same window, pairs and config, run here (offline,
  through the loopback emulator; its log goes to ``RESULT/placebos/freqtrade.log``, one
  line on screen).  What the map knows is the strategy's distance from this column, not
  from the twin;
- **buy & hold**: each pair's slot (the wallet split over the pairs) held at 1x without
  fees over the same window, from the candles in ``--datadir``; TOTAL is their sum.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_RESULTS = REPO / "user_data" / "backtest_results"
DEFAULT_DATADIR = REPO / "user_data" / "data" / "binance"
CONFIG_BACKTEST = REPO / "user_data" / "config_backtest.json"
PLACEBO_DIR = REPO / "tools" / "placebo"
LIQ, TWIN = "LiquidationMagnetStrategy", "BaselineStrategy"
PLACEBO_PREFIX = "LiquidationMagnetPlacebo"
SHIFTS = (10, 20, 30, 40, 50, 60, 75, 90, 105, 120, 145, 170)
TOTAL = "TOTAL"


def load_stats(result: Path) -> dict[str, dict[str, Any]]:
    """``{strategy: stats}`` of the backtest result at ``result`` (folder or file)."""
    from freqtrade.data.btanalysis import load_backtest_stats

    return dict(load_backtest_stats(result)["strategy"])


def _pairs(stats: dict[str, dict[str, Any]]) -> list[str]:
    """The run's pairs in its pair-list order (freqtrade sorts per-pair results by profit)."""
    pairs: list[str] = []
    for s in stats.values():
        pairs += [p for p in s.get("pairlist", []) if p not in pairs]
        pairs += [
            r["key"] for r in s["results_per_pair"] if r["key"] != TOTAL and r["key"] not in pairs
        ]
    return pairs


def _pair_line(s: dict[str, Any], pair: str) -> tuple[int, float, float]:
    """(trades, profit %, max drawdown %) of ``pair`` (TOTAL: the whole wallet's)."""
    if pair == TOTAL:
        return s["total_trades"], 100 * s["profit_total"], 100 * s["max_drawdown_account"]
    line = next((r for r in s["results_per_pair"] if r["key"] == pair), None)
    if line is None:
        return 0, 0.0, 0.0
    return line["trades"], 100 * line["profit_total"], 100 * line.get("max_drawdown_account", 0.0)


def rows(stats: dict[str, dict[str, Any]]) -> list[tuple[str, str, int, float, float]]:
    """``(pair or TOTAL, strategy, trades, profit %, max drawdown %)`` of the strategies in
    the result (the liquidation strategy and its twin first), pairs in the run's order,
    TOTAL last."""
    names = [n for n in (LIQ, TWIN) if n in stats] + [n for n in stats if n not in (LIQ, TWIN)]
    return [
        (pair, name, *_pair_line(stats[name], pair))
        for pair in [*_pairs(stats), TOTAL]
        for name in names
    ]


def placebo_profits(
    placebos: dict[str, dict[str, Any]], pairs: list[str]
) -> dict[str, list[float]]:
    """Per pair (and TOTAL) the profit % of every placebo."""
    return {pair: [_pair_line(s, pair)[1] for s in placebos.values()] for pair in [*pairs, TOTAL]}


def buy_and_hold(datadir: Path, pairs: list[str], start: str, end: str) -> dict[str, float]:
    """Per pair: its slot (1 / len(pairs) of the wallet) held at 1x, no fees, in % of the
    wallet; TOTAL: their sum."""
    import pandas as pd

    from liq_signals.data.load import load_pair_inputs

    def utc(text: str) -> pd.Timestamp:
        stamp = pd.Timestamp(text)  # freqtrade writes "2025-10-06 00:00:00", meaning UTC
        return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp

    out = {}
    for pair in pairs:
        candles = load_pair_inputs(datadir, pair, "5m").candles
        window = candles.loc[(candles["date"] >= utc(start)) & (candles["date"] <= utc(end))]
        close = window["close"].to_numpy(float)
        out[pair] = 100 * (close[-1] / close[0] - 1) / len(pairs)
    out[TOTAL] = sum(out.values())
    return out


def run_placebos(stats: dict[str, Any], shifts: tuple[int, ...], datadir: Path, out: Path):
    """Backtest the placebos over the result's window, pairs and config; ``{name: stats}``.

    :raise SystemExit: freqtrade failed (the log's path and tail are in the message)
    """
    from liq_signals.offline.runner import run_freqtrade

    any_stats = stats[LIQ]
    timerange = (
        f"{any_stats['backtest_start'][:10].replace('-', '')}-"
        f"{any_stats['backtest_end'][:10].replace('-', '')}"
    )
    pairs = _pairs(stats)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    names = [f"{PLACEBO_PREFIX}{d}" for d in shifts]
    print(
        f"demo_summary: backtesting {len(names)} placebos over {timerange} (the strategy on "
        f"its map of {shifts[0]}-{shifts[-1]} days earlier; a few minutes) ...",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="demo-placebos-") as tmp:
        userdir = Path(tmp) / "ud"
        (userdir / "strategies").mkdir(parents=True)
        result = run_freqtrade(
            [
                "backtesting",
                "--config",
                str(CONFIG_BACKTEST),
                "--strategy-list",
                *names,
                "--strategy-path",
                str(PLACEBO_DIR),
                "--timerange",
                timerange,
                "--pairs",
                *pairs,
                "--max-open-trades",
                str(any_stats["max_open_trades"]),
                "--export",
                "trades",
                "--backtest-directory",
                str(out),
                "--cache",
                "none",
                "--user-data-dir",
                str(userdir),
            ],
            datadir=datadir,
            overlay_dir=Path(tmp) / "overlay",
            cwd=REPO,
        )
    log = out / "freqtrade.log"
    log.write_text(result.output)
    if not result.ok:
        raise SystemExit(
            f"demo_summary: the placebo backtest failed ({result.returncode}); see {log}\n"
            + result.output[-2000:]
        )
    return load_stats(out)


def render(
    stats: dict[str, dict[str, Any]],
    placebos: dict[str, list[float]] | None = None,
    hold: dict[str, float] | None = None,
) -> str:
    """The table as text: one row per pair, TOTAL last."""
    import numpy as np

    any_stats = stats[next(iter(stats))]
    names = [n for n in (LIQ, TWIN) if n in stats] + [n for n in stats if n not in (LIQ, TWIN)]
    pairs = [*_pairs(stats), TOTAL]
    n_placebos = len(next(iter(placebos.values()))) if placebos else 0
    head = (
        f"{any_stats['backtest_start'][:10]} -> {any_stats['backtest_end'][:10]}, "
        f"{any_stats['stake_currency']} wallet {any_stats['starting_balance']:g}, "
        f"max {any_stats['max_open_trades']} open trades"
    )
    groups = [n.removesuffix("Strategy") for n in names]
    group_w = 26  # trades, profit %, max DD %
    pair_w = max(len(p) for p in pairs)
    top = f"{'':<{pair_w}}" + "".join(f" | {g:^{group_w}}" for g in groups)
    top += f" | {'median placebo':^22} | {'buy & hold':>10}"
    sub = f"{'pair':<{pair_w}}" + "".join(
        f" | {'trades':>{group_w - 20}} {'profit %':>9} {'max DD %':>9}" for _ in names
    )
    sub += f" | {'profit %':>9} {'rank':>12} | {'profit %':>10}"
    lines = [head, top, sub, "-" * len(sub)]
    for pair in pairs:
        if pair == TOTAL:
            lines.append("-" * len(sub))
        cells = "".join(
            f" | {t:>{group_w - 20}d} {p:>+9.2f} {d:>9.2f}"
            for t, p, d in (_pair_line(stats[n], pair) for n in names)
        )
        if placebos:
            values = placebos[pair]
            own = _pair_line(stats[LIQ], pair)[1] if LIQ in stats else float("nan")
            rank = 1 + sum(v > own for v in values)
            cells += f" | {float(np.median(values)):>+9.2f} {f'{rank} of {n_placebos + 1}':>12}"
        else:
            cells += f" | {'-':>9} {'-':>12}"
        cells += f" | {hold[pair]:>+10.2f}" if hold else f" | {'-':>10}"
        lines.append(f"{pair:<{pair_w}}{cells}")
    lines += [
        "profit and drawdown in % of the starting wallet; a pair's drawdown counts its own "
        "trades only, TOTAL's the whole wallet.",
        f"median placebo: the liquidation strategy on its map of {n_placebos} earlier dates "
        "(10-170 days); rank = the strategy's place among itself and them (1 = best): a map "
        "that knows nothing ranks in the middle."
        if placebos
        else "median placebo: not run (--no-placebos).",
        "buy & hold: each pair's slot (1/n of the wallet) held at 1x without fees; TOTAL = sum.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "result",
        nargs="?",
        type=Path,
        default=DEFAULT_RESULTS,
        help="backtest result folder (its .last_result.json) or result .zip/.json file",
    )
    parser.add_argument(
        "--datadir", type=Path, default=DEFAULT_DATADIR, help="candles of the backtest"
    )
    parser.add_argument(
        "--shifts",
        nargs="+",
        type=int,
        default=list(SHIFTS),
        help="placebo shifts in days (default: the walk-forward's 12)",
    )
    parser.add_argument("--no-placebos", action="store_true", help="skip the placebo backtest")
    args = parser.parse_args(argv)
    try:
        stats = load_stats(args.result)
    except (OSError, ValueError) as exc:
        print(f"demo_summary: error: no backtest result at {args.result}: {exc}", file=sys.stderr)
        return 1
    if not stats:
        print(f"demo_summary: error: {args.result} holds no strategy result", file=sys.stderr)
        return 1
    unknown = sorted(set(args.shifts) - set(SHIFTS))
    if unknown:
        print(f"demo_summary: error: no placebo for shift(s) {unknown}", file=sys.stderr)
        return 1
    any_stats = stats[next(iter(stats))]
    pairs = _pairs(stats)
    hold = buy_and_hold(args.datadir, pairs, any_stats["backtest_start"], any_stats["backtest_end"])
    placebos = None
    if not args.no_placebos and LIQ in stats:
        folder = args.result if args.result.is_dir() else args.result.parent
        ran = run_placebos(stats, tuple(args.shifts), args.datadir, folder / "placebos")
        placebos = placebo_profits(ran, pairs)
        (folder / "placebos" / "summary.json").write_text(json.dumps(placebos, indent=1))
    print(render(stats, placebos, hold))
    return 0


if __name__ == "__main__":
    sys.exit(main())
