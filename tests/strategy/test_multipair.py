"""The strategy and its twin trade every shipped pair in one offline backtest.

A real ``freqtrade backtesting`` through the wrapper (loopback emulator) on the embedded
BTC, ETH and SOL data with the shipped backtest config and its whole whitelist; the trade
counts per pair come from freqtrade's result JSON, and the demo's summary script reads the
same result.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
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


@pytest.fixture(scope="module")
def shipped_backtest(tmp_path_factory: pytest.TempPathFactory):
    """One ``freqtrade backtesting`` of both strategies on every shipped pair (as the
    ``freqtrade_offline`` fixture runs it), read by both tests below: ``(result, folder)``."""
    from liq_signals.offline.runner import run_freqtrade

    root = tmp_path_factory.mktemp("multipair")
    results = root / "results"
    results.mkdir()
    (root / "user_data").mkdir()
    result = run_freqtrade(
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
            "--user-data-dir",
            str(root / "user_data"),
        ],
        datadir=DATADIR_2025,
        timeout=300,
        cwd=REPO,
        overlay_dir=root / "overlay",
    )
    assert result.ok, f"freqtrade failed ({result.returncode}):\n{result.output[-4000:]}"
    return result, results


def test_backtest_trades_every_shipped_pair(shipped_backtest) -> None:
    result, results = shipped_backtest
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


def test_demo_table_has_strategy_twin_median_placebo_and_buy_and_hold(
    shipped_backtest, tmp_path: Path, capsys
) -> None:
    """The demo's four columns, from one real backtest and the placebos it runs itself."""
    results = tmp_path / "results"  # a copy: the placebos are written beside the result
    shutil.copytree(shipped_backtest[1], results)
    summary = _demo_summary()

    assert summary.main([str(results), "--shifts", "10", "20"]) == 0

    table = capsys.readouterr().out
    header = next(line for line in table.splitlines() if "median placebo" in line)
    assert "LiquidationMagnet" in header
    assert "Baseline" in header
    assert "buy & hold" in header
    placebos = json.loads((results / "placebos" / "summary.json").read_text())
    assert set(placebos) == {*SHIPPED, "TOTAL"}
    assert all(len(v) == 2 for v in placebos.values())
    stats = summary.load_stats(results / "placebos")
    assert set(stats) == {"LiquidationMagnetPlacebo10", "LiquidationMagnetPlacebo20"}
    # buy & hold of BTC: a third of the wallet held from the first to the last candle
    btc = pd.read_feather(DATADIR_2025 / "futures" / "BTC_USDT_USDT-5m-futures.feather")
    window = btc[(btc["date"] >= "2025-10-06") & (btc["date"] <= "2025-10-16")]
    expected = 100 * (window["close"].iloc[-1] / window["close"].iloc[0] - 1) / 3
    btc_line = next(line for line in table.splitlines() if line.startswith("BTC/USDT:USDT"))
    assert btc_line.rstrip().endswith(f"{expected:+.2f}")
    median = float(np.median(placebos["BTC/USDT:USDT"]))
    assert f"{median:+.2f}" in btc_line
