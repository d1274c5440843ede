"""Fixtures of the strategy tests (helpers live in strategy_harness.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from strategy_harness import CONFIG_BACKTEST, REPO

@pytest.fixture
def offline(tmp_path: Path):
    """Run ``freqtrade <args>`` offline with a private user-data dir under ``tmp_path``.

    Returns ``run(args, datadir) -> Result``; ``--user-data-dir`` and ``--config
    config_backtest.json`` are added unless ``args`` carries its own.
    """
    from liq_signals.offline.runner import run_freqtrade

    userdir = tmp_path / "ud"
    (userdir / "strategies").mkdir(parents=True, exist_ok=True)

    def run(args: Sequence[str], datadir: Path, timeout: float = 900):
        args = list(args)
        if "--user-data-dir" not in args:
            args += ["--user-data-dir", str(userdir)]
        if "--config" not in args and "-c" not in args:
            args += ["--config", str(CONFIG_BACKTEST)]
        return run_freqtrade(
            args, datadir=datadir, overlay_dir=tmp_path / "overlay", cwd=REPO, timeout=timeout
        )

    run.userdir = userdir  # type: ignore[attr-defined]
    return run


