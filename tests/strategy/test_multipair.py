"""The strategy and its twin trade every shipped pair in one offline backtest.

A real ``freqtrade backtesting`` through the wrapper (loopback emulator) on the embedded
BTC, ETH and SOL data with the shipped backtest config and its whole whitelist; the trade
counts per pair come from freqtrade's result JSON, and the demo's summary script reads the
same result.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from strategy_harness import CONFIG_BACKTEST, DATADIR_2025, backtest_stats, dump

pytestmark = pytest.mark.freqtrade

REPO = Path(__file__).resolve().parents[2]
STRATEGIES = ["LiquidationMagnetStrategy", "BaselineStrategy"]
SHIPPED = ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"]
#: the 2025-10-10 cascade and the days around it: every pair trades in a short run
TIMERANGE = "20251006-20251016"


def _whitelist() -> list[str]:
    from freqtrade.configuration.load_config import load_from_files

    return list(load_from_files([str(CONFIG_BACKTEST)])["exchange"]["pair_whitelist"])


def _demo_summary():
    spec = importlib.util.spec_from_file_location("demo_summary", REPO / "tools/demo_summary.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_configs_list_exactly_the_shipped_pairs() -> None:
    assert _whitelist() == SHIPPED
    for pair in SHIPPED:
        name = pair.replace("/", "_").replace(":", "_")
        assert (DATADIR_2025 / "futures" / f"{name}-5m-futures.feather").is_file()


def test_backtest_trades_every_shipped_pair(freqtrade_offline, tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()

    result = freqtrade_offline(
        [
            "backtesting",
            "--config",
            str(CONFIG_BACKTEST),
            "--strategy-list",
            *STRATEGIES,
            "--timerange",
            TIMERANGE,
            "--export",
            "trades",
            "--backtest-directory",
            str(results),
            "--cache",
            "none",
        ],
        datadir=DATADIR_2025,
        timeout=300,
    )

    assert result.ok, f"freqtrade failed ({result.returncode}):\n{result.output[-4000:]}"
    stats = backtest_stats(results)
    for name in STRATEGIES:
        per_pair = {r["key"]: r["trades"] for r in stats[name]["results_per_pair"]}
        assert all(per_pair.get(p, 0) > 0 for p in SHIPPED), dump({name: per_pair})
        assert sum(per_pair[p] for p in SHIPPED) == stats[name]["total_trades"]
    # ETH and SOL use their own tiers (SOL has no 150x tier): no default-tier warning
    assert "No maintenance tiers for" not in result.output

    summary = _demo_summary()
    rows = summary.rows(summary.load_stats(results))
    assert [(p, s) for p, s, *_ in rows] == [
        (p, s) for p in [*SHIPPED, "TOTAL"] for s in STRATEGIES
    ]
    table = summary.render(summary.load_stats(results))
    assert all(p in table for p in SHIPPED)
