"""The documented freqtrade route: ``plot-dataframe`` draws the strategy's plot_config.

Runs the real freqtrade command against the loopback emulator (docs/heatmap.md shows the
same command line) and checks that every column the strategy's plot_config names is a
trace of freqtrade's page.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATADIR = REPO / "user_data" / "data" / "binance"


@pytest.mark.freqtrade
def test_plot_dataframe_draws_the_strategy_plot_config(freqtrade_offline, tmp_path: Path):
    uddir = tmp_path / "user_data"
    uddir.mkdir()
    result = freqtrade_offline(
        [
            "plot-dataframe",
            "--config",
            "user_data/config_backtest.json",
            "--strategy",
            "LiquidationMagnetStrategy",
            "--strategy-path",
            "strategies",
            "--pairs",
            "BTC/USDT:USDT",
            "--timerange",
            "20251010-20251011",
            "--datadir",
            str(DATADIR),
            "--user-data-dir",
            str(uddir),
            "--trade-source",
            "DB",
            "--db-url",
            f"sqlite:///{tmp_path / 'no-trades.sqlite'}",
        ],
        datadir=DATADIR,
    )
    page = uddir / "plot" / "freqtrade-plot-BTC_USDT_USDT-5m.html"
    assert result.returncode == 0, result.output[-2000:]
    assert page.exists(), result.output[-2000:]
    html = page.read_text(encoding="utf-8")
    spec = re.search(r"Plotly\.newPlot\(\s*\"[^\"]+\",\s*(\[.*?\]),\s*\{", html, re.S)
    assert spec, "no Plotly.newPlot call in freqtrade's page"
    names = {t.get("name") for t in json.loads(spec.group(1))}
    for wanted in ("liq_magnet_up_price", "liq_magnet_down_price", "liq_imbalance_log_5pct"):
        assert wanted in names, sorted(n for n in names if n)
