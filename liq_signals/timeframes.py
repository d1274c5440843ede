"""The one parser of freqtrade timeframe strings (``5m``, ``1h``, ``1d``).

Same units as ``ccxt.Exchange.parse_timeframe`` (which freqtrade's
``timeframe_to_seconds`` wraps; a test checks they agree).  Parsed here so that the CLI,
batch jobs and the offline emulator need not import ccxt (~100 MB, ~0.6 s) just for this;
months are rejected because their length varies.
"""

from __future__ import annotations

import re

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_TIMEFRAME = re.compile(r"([0-9]+)([smhdw])")


def timeframe_seconds(timeframe: str) -> int:
    """Seconds per candle of a timeframe string (``5m`` -> 300).

    :raise ValueError: unknown or zero-length timeframe.
    """
    m = _TIMEFRAME.fullmatch(timeframe)
    if not m or int(m.group(1)) < 1:
        raise ValueError(f"unsupported timeframe {timeframe!r} (use e.g. 1m, 5m, 1h, 1d)")
    return int(m.group(1)) * _UNIT_SECONDS[m.group(2)]


def timeframe_ms(timeframe: str) -> int:
    """Milliseconds per candle (exchange APIs count in ms)."""
    return timeframe_seconds(timeframe) * 1000
