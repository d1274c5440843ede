"""Shared fixtures.  Anything freqtrade-process related lives in tests/offline/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO / "tests" / "testdata"
DATADIR_2025 = REPO / "user_data" / "data" / "binance"
DATADIR_2023 = REPO / "user_data" / "data" / "binance-2023"
DATADIR_OI = REPO / "user_data" / "data" / "binance-oi-2026-06"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO
