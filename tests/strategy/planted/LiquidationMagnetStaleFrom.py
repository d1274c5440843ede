"""LiquidationMagnetStrategy whose map goes stale from a given time on (an outage).

Lives in the tests, never in strategies/.  From ``config["liq_signals_test"]["stale_from"]``
(ISO time) every ``liq_*`` value is NaN and ``liq_stale`` is set, as the provider reports
an open-interest outage; everything else is the real strategy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from freqtrade.resolvers.iresolver import PathModifier
from pandas import DataFrame

from liq_signals import columns as C

with PathModifier(Path(__file__).resolve().parents[3] / "strategies"):
    from LiquidationMagnetStrategy import LiquidationMagnetStrategy


class LiquidationMagnetStaleFrom(LiquidationMagnetStrategy):
    """The real strategy with its map stale from ``stale_from`` on."""

    def _map_features(self, dataframe: DataFrame, pair: str) -> DataFrame:
        features = super()._map_features(dataframe, pair).copy()
        start = pd.Timestamp(self.config["liq_signals_test"]["stale_from"])
        outage = (dataframe["date"] >= start).to_numpy()
        values = [c for c in features.columns if c.startswith("liq_") and c != C.STALE]
        numeric = [c for c in values if features[c].dtype.kind == "f"]
        features.loc[outage, numeric] = np.nan
        features.loc[outage, C.STALE] = True
        return features
