"""Helpers shared by the offline tests (imported as ``emu_helpers``; the test folder is on
``sys.path`` under pytest's default import mode)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from liq_signals.offline import Emulator
from liq_signals.offline.overlay import binance_url_map

REPO = Path(__file__).resolve().parents[2]
DATADIR_2025 = REPO / "user_data" / "data" / "binance"
DATADIR_OI = REPO / "user_data" / "data" / "binance-oi-2026-06"
# a replay instant inside both embedded datasets' ranges, 2.5 min into a 5m candle
REPLAY_2025 = "2026-01-10T12:02:30Z"
REPLAY_OI = "2026-06-20T12:07:00Z"


def get(url: str, timeout: float = 10) -> tuple[int, Any, dict[str, str]]:
    """GET ``url`` -> (status, decoded JSON or bytes, headers), without raising on 4xx/5xx."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            body, status, headers = r.read(), r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        body, status, headers = e.read(), e.code, dict(e.headers)
    try:
        return status, json.loads(body), headers
    except ValueError:
        return status, body, headers


def make_ccxt(emu: Emulator, **config: Any):  # noqa: ANN201 - ccxt exchange
    """A real ``ccxt.binanceusdm`` pointed at the emulator (same overlay as freqtrade)."""
    import ccxt

    return ccxt.binanceusdm(
        {
            "urls": {"api": binance_url_map(emu.url)},
            "options": {"fetchMarkets": {"types": ["linear"]}},
            **config,
        }
    )
