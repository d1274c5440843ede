"""Fixtures shared by the dry-run provider and state-store tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

OI_SAMPLE_FUTURES = (
    Path(__file__).resolve().parents[2] / "user_data" / "data" / "binance-oi-2026-06" / "futures"
)


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first 700 candles of the embedded 2026-06 OI sample and its open interest."""
    candles = pd.read_feather(OI_SAMPLE_FUTURES / "BTC_USDT_USDT-5m-futures.feather").iloc[:700]
    oi = pd.read_feather(OI_SAMPLE_FUTURES / "BTC_USDT_USDT-5m-open_interest.feather")
    return candles, oi
