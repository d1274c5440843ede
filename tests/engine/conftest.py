"""Real-data fixtures for the engine tests (embedded BTC data, see tests/conftest.py)."""

from __future__ import annotations

import pytest

from liq_signals.data.frames import PairFrames
from liq_signals.data.load import load_pair_inputs
from liq_signals.features.pipeline import prepare_inputs
from tests.conftest import DATADIR_OI

PAIR = "BTC/USDT:USDT"


@pytest.fixture(scope="session")
def oi_pair_inputs():
    return load_pair_inputs(DATADIR_OI, PAIR, "5m")


@pytest.fixture(scope="session")
def oi_inputs(oi_pair_inputs):
    """Engine inputs of the embedded 2026 data (real OI, taker flow)."""
    p = oi_pair_inputs
    return prepare_inputs(
        PairFrames(p.candles, open_interest=p.open_interest, metrics=p.metrics), pair=PAIR
    ).inputs
