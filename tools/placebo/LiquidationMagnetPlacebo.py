"""Placebos of LiquidationMagnetStrategy: the same strategy fed its own map shifted in time.

The candle at time t sees the map of t - ``SHIFT_DAYS`` days (computed once per pair over
the whole datadir file, so the shift reaches before the backtest's startup window).  The
map keeps its distributions, its persistence and its correlation with *past* prices, but
is no longer aligned with the present one.  What a placebo earns comes from the
strategy's structure (thresholds, exits, the momentum fit of the pull), not from what the
map knows; the walk-forward (tools/compare.py) sets the liquidation strategy next to them.
Causal: the shift only looks back.  Not shipped as a strategy (it lives under tools/).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from freqtrade.resolvers.iresolver import PathModifier
from pandas import DataFrame

from liq_signals import columns as C
from liq_signals import compute_features, load_pair_inputs

# freqtrade makes only this file's folder importable while loading it: the real strategy
# is copied next to it (tools/compare.py) or found in the project's strategies folder.
with PathModifier(Path(__file__).resolve().parents[2] / "strategies"):
    from LiquidationMagnetStrategy import LiquidationMagnetStrategy


class LiquidationMagnetPlacebo20(LiquidationMagnetStrategy):
    """The liquidation strategy trading the map of 20 days earlier."""

    SHIFT_DAYS = 20

    def _map_features(self, dataframe: DataFrame, pair: str) -> DataFrame:
        cache = self.__dict__.setdefault("_placebo_maps", {})
        if pair not in cache:
            inputs = load_pair_inputs(self.config["datadir"], pair, self.timeframe)
            cache[pair] = compute_features(
                inputs.candles,
                pair=pair,
                open_interest=inputs.open_interest,
                metrics=inputs.metrics,
                timeframe=self.timeframe,
                config=self.model,
            ).set_index("date")
        full = cache[pair]
        shifted = full.reindex(dataframe["date"] - pd.Timedelta(days=self.SHIFT_DAYS))
        shifted = shifted.drop(columns=["open", "high", "low", "close", "volume"], errors="ignore")
        shifted[C.STALE] = shifted[C.STALE].astype("boolean").fillna(True).astype(bool)
        shifted.index = dataframe.index
        shifted.insert(0, "date", dataframe["date"].to_numpy())
        return shifted


class LiquidationMagnetPlacebo40(LiquidationMagnetPlacebo20):
    """The liquidation strategy trading the map of 40 days earlier."""

    SHIFT_DAYS = 40
