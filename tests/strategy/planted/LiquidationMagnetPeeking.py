"""A deliberately biased copy of LiquidationMagnetStrategy: the gates must catch it.

Lives in the tests, never in strategies/.  The traded term peeks one candle ahead
(``shift(-1)``), the classic look-ahead bug; everything else is the real strategy.
"""

from __future__ import annotations

from pathlib import Path

from freqtrade.resolvers.iresolver import PathModifier
from pandas import DataFrame

# freqtrade makes only this file's folder importable while loading it: import the real
# strategy from the project's strategies folder the same way.
with PathModifier(Path(__file__).resolve().parents[3] / "strategies"):
    from LiquidationMagnetStrategy import LiquidationMagnetStrategy


class LiquidationMagnetPeeking(LiquidationMagnetStrategy):
    """The real strategy with ``liq_term_pull_excess`` taken from the next candle."""

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe = super().populate_indicators(dataframe, metadata)
        dataframe["liq_term_pull_excess"] = dataframe["liq_term_pull_excess"].shift(-1)
        return dataframe
