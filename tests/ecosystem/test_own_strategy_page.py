"""docs/own-strategy.md, followed as written: its strategy, config and model file in a user
directory, an offline backtest, the features command with that config, plot-dataframe, a
replayed dry-run, and the shipped strategies installed (tools/own_strategy_check.py, which
.ci/run also runs in fresh venvs on Python 3.12 and 3.13)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

TOOL = REPO / "tools" / "own_strategy_check.py"


def _tool():  # noqa: ANN202 - the tool's module
    sys.path.insert(0, str(TOOL.parent))
    try:
        import own_strategy_check
    finally:
        sys.path.remove(str(TOOL.parent))
    return own_strategy_check


def test_the_page_shows_a_strategy_a_config_and_a_model_file() -> None:
    files = _tool().page_files()
    assert set(files) == {
        "user_data/strategies/MyLiqStrategy.py",
        "user_data/config.json",
        "user_data/liq_model.json",
    }
    strategy = files["user_data/strategies/MyLiqStrategy.py"]
    assert "from liq_signals.freqtrade import informative_pairs, liquidation_features" in strategy
    assert "self.liq_model = model_config(self.config)" in strategy
    assert "//" in files["user_data/liq_model.json"]  # the point: comments are allowed


@pytest.mark.freqtrade
def test_following_the_page_offline_backtests_plots_and_dry_runs(tmp_path: Path) -> None:
    user = tmp_path / "user"
    proc = subprocess.run(
        [sys.executable, str(TOOL), str(user), "--shipped"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=os.environ.copy(),
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "MyLiqStrategy: " in out
    assert "all mode=oi" in out  # dry-run fetched the declared open interest every candle
    assert "draws liq_nearest_up/down_price" in out
    assert "LiquidationMagnetStrategy (installed copy): " in out
    assert (user / "user_data" / "strategies" / "LiquidationMagnetStrategy.py").is_file()


@pytest.mark.freqtrade
def test_a_typo_in_the_section_stops_the_pages_strategy_at_start(tmp_path: Path) -> None:
    tool = _tool()
    user = tmp_path / "user"
    tool.set_up(user)
    config = user / "user_data" / "config.json"
    config.write_text(config.read_text().replace('"model_config"', '"model_confg"'))
    with pytest.raises(tool.CheckFailed) as failed:
        tool.backtest(user, tool.STRATEGY)
    said = " ".join(str(failed.value).split())  # freqtrade wraps its log lines
    assert "unknown key(s) ['model_confg']; valid keys: model_config" in said
    assert not list((user / "user_data" / "backtest_results").glob("*.zip"))
