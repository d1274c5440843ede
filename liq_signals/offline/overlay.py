"""The freqtrade config overlay that points ccxt at the loopback emulator."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

#: freqtrade's default ``internals.heartbeat_interval`` (freqtrade/worker.py), seconds
HEARTBEAT_INTERVAL_S = 60


def binance_url_map(base_url: str) -> dict[str, str]:
    """Every key of ``ccxt.binance().urls["api"]`` re-pointed at ``base_url`` with the same
    path suffix, so that no ccxt request (public or private, spot, futures, options,
    portfolio margin) can leave the machine (docs/offline.md)."""
    import ccxt  # slow import; only when a run actually starts

    out = {}
    for key, url in ccxt.binance().urls["api"].items():
        if isinstance(url, str):
            out[key] = base_url.rstrip("/") + urlsplit(url).path
    return out


def build_overlay(base_url: str) -> dict[str, Any]:
    """Config keys merged last (``--config overlay.json``) into the user's configs.

    - ``ccxt_config.urls.api``: all Binance API roots -> the emulator;
    - ``options.fetchMarkets.types = ["linear"]``: start-up needs only
      ``/fapi/v1/exchangeInfo``;
    - ``enable_ws: false``: the emulator has no websocket;
    - ``only_from_ccxt: true``: freqtrade otherwise downloads 1m-30m futures candles from
      data.binance.vision (a real host) during ``download-data``;
    - order-book pricing: Binance futures tickers carry no last price.
    """
    ccxt_cfg = {
        "urls": {"api": binance_url_map(base_url)},
        "options": {"fetchMarkets": {"types": ["linear"]}},
    }
    return {
        "exchange": {
            "name": "binance",
            "enable_ws": False,
            "only_from_ccxt": True,
            "ccxt_config": ccxt_cfg,
        },
        "entry_pricing": {"use_order_book": True, "order_book_top": 1},
        "exit_pricing": {"use_order_book": True, "order_book_top": 1},
    }


def replay_internals(config: dict[str, Any], speed: float) -> dict[str, Any]:
    """Config keys merged last into a ``trade`` run whose clock runs at ``speed``.

    In a replay freqtrade's clock is the replay clock (:mod:`liq_signals.offline.replay_time`),
    so its heartbeat (every ``internals.heartbeat_interval`` seconds, default 60) fires
    ``speed`` times as often in wall time: at 240x four times a wall second, most of the
    log.  Unless the user's configs set the interval (then it is theirs, in replay
    seconds), it becomes ``60 x speed`` replay seconds: one heartbeat per wall minute, as
    a bot on the real clock.

    :param config: the user's merged configs
    :param speed: replay seconds per wall second
    :return: ``{"internals": {"heartbeat_interval": …}}``, or ``{}`` when nothing changes
    """
    if speed == 1.0 or "heartbeat_interval" in config.get("internals", {}):
        return {}
    return {"internals": {"heartbeat_interval": round(HEARTBEAT_INTERVAL_S * speed)}}
