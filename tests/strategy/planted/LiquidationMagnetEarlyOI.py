"""A deliberately biased copy of LiquidationMagnetStrategy: the coarse-OI tests must catch it.

Lives in the tests, never in strategies/.  It reads an hourly open-interest row one period
early: the row stamped T (the value at T + 1h) is restamped T − 1h, so the model uses it from
the candle opening at T instead of T + 1h — the off-by-one-period bug of coarse series.
Everything else is the real strategy.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from freqtrade.resolvers.iresolver import PathModifier
from pandas import DataFrame

# freqtrade makes only this file's folder importable while loading it: import the real
# strategy from the project's strategies folder the same way.
with PathModifier(Path(__file__).resolve().parents[3] / "strategies"):
    from LiquidationMagnetStrategy import LiquidationMagnetStrategy


class LiquidationMagnetEarlyOI(LiquidationMagnetStrategy):
    """The real strategy with every hourly open-interest row used one hour early."""

    def _open_interest(self, pair: str) -> DataFrame | None:
        frame = super()._open_interest(pair)
        if frame is None or len(frame) < 2:
            return frame
        step = frame["date"].diff().min()
        return frame.assign(date=frame["date"] - step) if step > pd.Timedelta("5min") else frame
