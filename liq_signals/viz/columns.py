"""The feature columns the figures read, taken from :mod:`liq_signals.columns`."""

from __future__ import annotations

from liq_signals.columns import (
    LONG_SWEPT_USD as SWEPT_LONG,
)
from liq_signals.columns import (
    MAGNET_DOWN_PRICE as MAGNET_DOWN,
)
from liq_signals.columns import (
    MAGNET_UP_PRICE as MAGNET_UP,
)
from liq_signals.columns import (
    MODE,
    MODE_VOLUME,
    STALE,
)
from liq_signals.columns import (
    SHORT_SWEPT_USD as SWEPT_SHORT,
)
from liq_signals.columns import (
    long_below_usd as long_below,
)
from liq_signals.columns import (
    short_above_usd as short_above,
)

#: Bands (percent of close) whose imbalance is shown in the hover.
IMBALANCE_BAND_PCT: tuple[float, ...] = (2.0, 5.0, 10.0)

__all__ = [
    "IMBALANCE_BAND_PCT",
    "MAGNET_DOWN",
    "MAGNET_UP",
    "MODE",
    "MODE_VOLUME",
    "STALE",
    "SWEPT_LONG",
    "SWEPT_SHORT",
    "long_below",
    "short_above",
]
