"""The one parser of freqtrade timeframe strings (``5m``, ``1h``, ``1d``) and of
``--timerange`` values.

Timeframes: the same units as ``ccxt.Exchange.parse_timeframe`` (which freqtrade's
``timeframe_to_seconds`` wraps; a test checks they agree).  Parsed here so that the CLI,
batch jobs and the offline emulator need not import ccxt (~100 MB, ~1 s) just for this;
months are rejected because their length varies.

``--at``: the one rule of which candle holds a time (:func:`candle_at`).

Timeranges: read by freqtrade's own ``TimeRange.parse_timerange`` (every spelling freqtrade
accepts), returned as UTC timestamps; freqtrade is imported only when a range is parsed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from liq_signals.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

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


def parse_timerange(
    text: str | None, flag: str = "--timerange"
) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """A freqtrade timerange (``YYYYMMDD-YYYYMMDD``, either side may be empty; freqtrade's
    other spellings too) as UTC timestamps, the end exclusive as in freqtrade.

    :param flag: the option the text came from, named in the message
    :return: ``(start, stop)``, ``None`` for an open side (both for an empty text)
    :raise ConfigError: freqtrade's ``TimeRange`` rejects ``text``
    """
    import pandas as pd
    from freqtrade.configuration import TimeRange
    from freqtrade.exceptions import OperationalException

    try:
        tr = TimeRange.parse_timerange(text)
    except OperationalException as exc:
        raise ConfigError(f"bad {flag} {text!r}: {exc}") from None
    start = pd.Timestamp(tr.startts, unit="s", tz="UTC") if tr.starttype else None
    stop = pd.Timestamp(tr.stopts, unit="s", tz="UTC") if tr.stoptype else None
    return start, stop


def parse_closed_timerange(text: str, flag: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """:func:`parse_timerange` for an option that needs both ends.

    :raise ConfigError: malformed, or a side left open
    """
    start, stop = parse_timerange(text, flag)
    if start is None or stop is None:
        raise ConfigError(f"{flag} {text!r}: need both a start and an end date")
    return start, stop


def in_timerange(
    dates: pd.Series, start: pd.Timestamp | None, stop: pd.Timestamp | None
) -> pd.Series:
    """Which ``dates`` lie in ``[start, stop)`` (``None``: that side is open)."""
    import pandas as pd

    keep = pd.Series(True, index=dates.index)
    if start is not None:
        keep &= dates >= start
    if stop is not None:
        keep &= dates < stop
    return keep


def candle_at(dates: pd.Series, at: str, timeframe: str, *, pair: str) -> int:
    """Position of the candle containing ``at`` (open <= at < open + timeframe) in the
    sorted UTC ``dates``: the rule of ``snapshot --at`` and ``heatmap --at`` alike.

    :raise ConfigError: ``at`` is not a timestamp, or no candle contains it (before the
        first or after the last candle's close); the message gives the data's span
    """
    import numpy as np
    import pandas as pd

    try:
        ts = pd.Timestamp(at)
    except ValueError as err:
        raise ConfigError(f"--at {at!r} is not a timestamp (use 2025-10-10T21:00)") from err
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    opens = pd.DatetimeIndex(dates).as_unit("ns").asi8
    pos = int(np.searchsorted(opens, ts.value, side="right")) - 1
    if pos < 0 or ts.value >= opens[pos] + timeframe_seconds(timeframe) * 10**9:
        have = f"{dates.iloc[0]:%Y-%m-%d %H:%M} .. {dates.iloc[-1]:%Y-%m-%d %H:%M} UTC"
        raise ConfigError(f"{pair}: no candle contains --at {ts} (data covers {have})")
    return pos
