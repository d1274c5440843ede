"""The frames the model reads for one pair, as one value.

Candles, open interest, mark price and the metrics sidecar travel together from
:mod:`liq_signals.data.load` through the features, the dry-run provider, the evaluation
and the heatmap: one :class:`PairFrames` instead of four arguments, so adding a series
means adding a field here, not a parameter to every signature on the way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Self

import pandas as pd


@dataclass(frozen=True)
class PairFrames:
    """freqtrade frames for one pair (None where there is no such series).

    :param candles: OHLCV candles (``date`` column, UTC, sorted); required.
    :param open_interest: freqtrade ``open_interest`` candles (``open_interest_amount``
        and/or ``open_interest_value``); None -> volume mode throughout.
    :param mark: mark-price candles of the candles' timeframe.
    :param metrics: the metrics sidecar (taker flow).
    """

    candles: pd.DataFrame
    open_interest: pd.DataFrame | None = None
    mark: pd.DataFrame | None = None
    metrics: pd.DataFrame | None = None

    def optional(self) -> dict[str, pd.DataFrame | None]:
        """The optional series by short name (``oi``, ``mark``, ``metrics``)."""
        return {"oi": self.open_interest, "mark": self.mark, "metrics": self.metrics}

    def with_candles(self, candles: pd.DataFrame) -> Self:
        """The same series beside other candles (a quarantine mask, a cut)."""
        return replace(self, candles=candles)

    def between(self, start: pd.Timestamp, stop: pd.Timestamp) -> Self:
        """Every frame's rows with ``start <= date < stop`` (an empty optional one -> None;
        the candles stay a frame, possibly empty)."""

        def cut(frame: pd.DataFrame | None) -> pd.DataFrame | None:
            if frame is None:
                return None
            out = frame[(frame["date"] >= start) & (frame["date"] < stop)].reset_index(drop=True)
            return out if len(out) else None

        candles = self.candles
        candles = candles[(candles["date"] >= start) & (candles["date"] < stop)].reset_index(
            drop=True
        )
        return replace(
            self,
            candles=candles,
            open_interest=cut(self.open_interest),
            mark=cut(self.mark),
            metrics=cut(self.metrics),
        )
