"""A tiny strategy for the wrapper's own tests (independent of the project's strategies):
RSI(14) mean reversion, long and short, on 5m futures candles."""

import talib.abstract as ta
from freqtrade.strategy import IStrategy
from pandas import DataFrame


class OfflineProbeStrategy(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "5m"
    can_short = True
    minimal_roi = {"0": 0.01}
    stoploss = -0.02
    startup_candle_count = 30

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["rsi"] = ta.RSI(dataframe, timeperiod=14)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[dataframe["rsi"] < 25, "enter_long"] = 1
        dataframe.loc[dataframe["rsi"] > 75, "enter_short"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[dataframe["rsi"] > 55, "exit_long"] = 1
        dataframe.loc[dataframe["rsi"] < 45, "exit_short"] = 1
        return dataframe
