"""One table from freqtrade's backtest result: each strategy per pair and in total.

    .venv/bin/python tools/demo_summary.py [RESULT]

``RESULT`` is a backtest result folder (default ``user_data/backtest_results``; its
``.last_result.json`` names the newest result), or a result ``.zip``/``.json`` file.  The
numbers are read from freqtrade's result JSON (``load_backtest_stats``), never from its
printed report:

- per pair: ``results_per_pair`` — trades, total profit in % of the starting wallet, and
  the max drawdown of that pair's trades alone, in % of the wallet;
- TOTAL: the strategy's ``total_trades``, ``profit_total`` and ``max_drawdown_account``
  (drawdown of the whole wallet, all pairs together).

Strategies are shown in the order the result lists them, the liquidation strategy first
when both it and its twin ``BaselineStrategy`` are there (``make demo``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_RESULTS = REPO / "user_data" / "backtest_results"
FIRST = ("LiquidationMagnetStrategy", "BaselineStrategy")
TOTAL = "TOTAL"


def load_stats(result: Path) -> dict[str, dict[str, Any]]:
    """``{strategy: stats}`` of the backtest result at ``result`` (folder or file)."""
    from freqtrade.data.btanalysis import load_backtest_stats

    return dict(load_backtest_stats(result)["strategy"])


def _order(names: list[str]) -> list[str]:
    return [n for n in FIRST if n in names] + [n for n in names if n not in FIRST]


def rows(stats: dict[str, dict[str, Any]]) -> list[tuple[str, str, int, float, float]]:
    """``(pair or TOTAL, strategy, trades, profit %, max drawdown %)``, pairs in the
    order of the run's pair list (freqtrade sorts ``results_per_pair`` by profit), TOTAL
    last."""
    out: list[tuple[str, str, int, float, float]] = []
    names = _order(list(stats))
    pairs: list[str] = []
    for name in names:
        pairs += [p for p in stats[name].get("pairlist", []) if p not in pairs]
        for line in stats[name]["results_per_pair"]:
            if line["key"] != TOTAL and line["key"] not in pairs:
                pairs.append(line["key"])
    for pair in [*pairs, TOTAL]:
        for name in names:
            s = stats[name]
            if pair == TOTAL:
                trades, profit, dd = s["total_trades"], s["profit_total"], s["max_drawdown_account"]
            else:
                line = next((r for r in s["results_per_pair"] if r["key"] == pair), None)
                if line is None:
                    trades, profit, dd = 0, 0.0, 0.0
                else:
                    trades, profit = line["trades"], line["profit_total"]
                    dd = line.get("max_drawdown_account", 0.0)
            out.append((pair, name, int(trades), 100.0 * profit, 100.0 * dd))
    return out


def render(stats: dict[str, dict[str, Any]]) -> str:
    """The summary table as text (one header, one row per pair, TOTAL last)."""
    names = _order(list(stats))
    table = rows(stats)
    any_stats = stats[names[0]]
    head = (
        f"{any_stats['backtest_start'][:10]} -> {any_stats['backtest_end'][:10]}, "
        f"{any_stats['stake_currency']} wallet {any_stats['starting_balance']:g}, "
        f"max {any_stats['max_open_trades']} open trades"
    )
    short = [n.removesuffix("Strategy") for n in names]
    width = max(26, *(len(s) for s in short))  # a group: trades, profit %, max DD %
    cols = "".join(f" | {s:^{width}}" for s in short)
    sub = "".join(f" | {'trades':>{width - 20}} {'profit %':>9} {'max DD %':>9}" for _ in names)
    pair_w = max(len(TOTAL), *(len(p) for p, *_ in table))
    lines = [head, f"{'':<{pair_w}}{cols}".rstrip(), f"{'pair':<{pair_w}}{sub}"]
    lines.append("-" * len(lines[-1]))
    by_pair: dict[str, list[tuple[str, str, int, float, float]]] = {}
    for row in table:
        by_pair.setdefault(row[0], []).append(row)
    for pair, group in by_pair.items():
        if pair == TOTAL:
            lines.append("-" * len(lines[2]))
        cells = "".join(f" | {t:>{width - 20}d} {p:>+9.2f} {d:>9.2f}" for _, _, t, p, d in group)
        lines.append(f"{pair:<{pair_w}}{cells}")
    lines.append(
        "profit and drawdown in % of the starting wallet; a pair's drawdown counts its own "
        "trades only, TOTAL's the whole wallet."
    )
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
    args = parser.parse_args(argv)
    try:
        stats = load_stats(args.result)
    except (OSError, ValueError) as exc:
        print(f"demo_summary: error: no backtest result at {args.result}: {exc}", file=sys.stderr)
        return 1
    if not stats:
        print(f"demo_summary: error: {args.result} holds no strategy result", file=sys.stderr)
        return 1
    print(render(stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
