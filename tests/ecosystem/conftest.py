"""A freqtrade user directory outside the repository's layout: the embedded June 2026 BTC
data (candles + 5m open interest + taker-flow sidecar), a config with comments naming a
model file with comments."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import DATADIR_OI

PAIR = "BTC/USDT:USDT"

CONFIG = """{
    // a user's futures config: only what the liq-signals commands read
    "trading_mode": "futures",
    "margin_mode": "isolated",
    "timeframe": "5m",
    "stake_currency": "USDT",
    "stake_amount": "unlimited",
    "dry_run": true,
    "exchange": {"name": "binance", "pair_whitelist": ["BTC/USDT:USDT"]},
    "pairlists": [{"method": "StaticPairList"}],
    "liq_signals": {"model_config": "liq_model.json"},
}
"""

MODEL = """{
    "model_config": {
        /* a shorter memory than the default */
        "decay_half_life_hours": 24.0,  // trailing comma next
    },
}
"""


@pytest.fixture
def userdir(tmp_path: Path) -> Path:
    """``<tmp>/user_data`` with ``config.json``, ``liq_model.json`` and
    ``data/binance`` (a copy of the embedded open-interest sample)."""
    user = tmp_path / "user_data"
    shutil.copytree(DATADIR_OI, user / "data" / "binance")
    (user / "config.json").write_text(CONFIG, encoding="utf-8")
    (user / "liq_model.json").write_text(MODEL, encoding="utf-8")
    return user
