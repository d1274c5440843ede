"""Real-data fixtures for the feature tests (embedded BTC data)."""

from __future__ import annotations

import pytest

from liq_signals.data.load import load_pair_inputs
from tests.conftest import DATADIR_2023, DATADIR_OI

PAIR = "BTC/USDT:USDT"


@pytest.fixture(scope="session")
def oi_data():
    """2026-06 BTC: candles, open interest (with real gaps) and the taker metrics sidecar."""
    return load_pair_inputs(DATADIR_OI, PAIR, "5m")


@pytest.fixture(scope="session")
def data_2023():
    """2023-24 BTC 5m candles (no open interest: volume mode)."""
    return load_pair_inputs(DATADIR_2023, PAIR, "5m")
