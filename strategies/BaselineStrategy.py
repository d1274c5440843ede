"""BaselineStrategy: the control arm of every liquidation result (TA-Lib only).

It is the *skeleton* LiquidationMagnetStrategy is built on (that strategy subclasses this
one), with the liquidation terms absent:

* **Entry score** per candle, in ``[-1, 1]`` for the TA part:
  ``score = ta_confirmation + liquidation_terms`` where ``ta_confirmation`` is half EMA
  trend (EMA50 vs EMA200) and half RSI momentum (RSI over ``RSI_CANDLES`` = 168 candles,
  14 hours on 5m: a 5m RSI14 crosses any threshold many times a day, and a twin entering
  on it made 100-375 trades per pair and quarter, paying 20-75 % of its slot in fees), and
  ``liquidation_terms`` is ``0`` here.
  Long when the score crosses above ``entry_threshold``, short when it crosses below
  ``-entry_threshold``; both only when ADX says the market is moving (``adx >= adx_min``).
* **Exit signal** when the technical part (``ta_confirmation``) turns against the
  position by ``exit_threshold``.  Exits never read the liquidation terms, so in
  LiquidationMagnetStrategy a stale map (NaN terms) can block an entry, never an exit.
* **Stop** (``custom_stoploss``): ``stop_atr_mult`` ATRs beyond price (a trailing ATR stop,
  freqtrade only ever tightens it), never tighter than ``min_stop_pct`` of price, never
  looser than ``stoploss``.
* **Take profit** (``custom_exit``): ``target_atr_mult`` ATRs from the entry.
* 2x isolated leverage, cooldown and stoploss-guard protections.

LiquidationMagnetStrategy overrides one hook, ``_liquidation_score`` (plus
``populate_indicators`` to build the map), and keeps every parameter default of this
file, so "switching the liquidation features off" is this file.  The walk-forward
(tools/compare.py) tunes both strategies separately on each fold's training window
(hyperopt writes one JSON per strategy); docs/strategy.md says how the defaults were found.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import talib.abstract as ta
from freqtrade.persistence import Trade
from freqtrade.strategy import (
    DecimalParameter,
    IntParameter,
    IStrategy,
    stoploss_from_absolute,
    timeframe_to_minutes,
)
from pandas import DataFrame

logger = logging.getLogger(__name__)

#: EMA lengths of the trend term.  EMA200 on 5m ~ 17 hours.
EMA_FAST = 50
EMA_SLOW = 200
#: RSI length in candles: 14 hours on 5m (about an hourly RSI14), so that momentum moves
#: over hours, not minutes, and entries on its crossings do not churn.
RSI_CANDLES = 168
#: RSI distance from 50 that counts as full momentum (RSI 70 -> +1, RSI 30 -> -1).
RSI_FULL_SCALE = 20.0
#: custom_data key of the take-profit price fixed at entry.
TARGET_KEY = "target_rate"
TARGET_TAG_KEY = "target_tag"


class BaselineStrategy(IStrategy):
    """EMA trend + RSI momentum + ADX filter; ATR stop and ATR target; no liquidation terms."""

    INTERFACE_VERSION = 3

    timeframe = "5m"
    # Futures long and short; switched off automatically on spot (see __init__).
    can_short = True
    # The slow RSI's Wilder smoothing (1/168 per candle) needs ~7x its length to forget its
    # seed to < 0.1 % (EMA200 needs 4x; checked by `freqtrade recursive-analysis`, tests/strategy).
    startup_candle_count: int = 1200

    # A safety net only: targets and exit signals do the work.
    minimal_roi = {"0": 0.20}
    # Hard cap of the (leveraged) loss; custom_stoploss never goes looser than this.
    stoploss = -0.10
    trailing_stop = False
    use_custom_stoploss = True
    use_exit_signal = True
    exit_profit_only = False
    process_only_new_candles = True

    #: Leverage used when the exchange allows it (isolated margin).
    leverage_default = 2.0

    # Defaults: chosen on BTC, ETH, SOL 2025-01-01 -> 2025-07-01 only (a training window:
    # before every 2025-26 test window of the walk-forward, docs/strategy.md).  Of the
    # entry / exit thresholds 0.6 / 0.73 / 0.9 x 0.3 / 0.66 (the rest as below), 0.73 / 0.3
    # made the most among those trading at least 10 times per pair and quarter there (0.6
    # made 50 trades per pair and quarter and lost 29 %; 0.9 made 6 trades in all).
    # The search space keeps away from what churned: thresholds below 0.6, exits on a
    # technical score barely against the trade, stops tighter than 0.8 % of price.
    # LiquidationMagnetStrategy inherits all of them.
    # --- buy space: when to enter -------------------------------------------------------
    entry_threshold = DecimalParameter(0.6, 1.2, default=0.73, decimals=2, space="buy")
    adx_min = IntParameter(10, 40, default=35, space="buy")
    # --- sell space: when to leave ------------------------------------------------------
    exit_threshold = DecimalParameter(0.2, 1.0, default=0.3, decimals=2, space="sell")
    stop_atr_mult = DecimalParameter(1.0, 6.0, default=3.8, decimals=1, space="sell")
    target_atr_mult = DecimalParameter(2.0, 12.0, default=7.3, decimals=1, space="sell")
    min_stop_pct = DecimalParameter(0.008, 0.02, default=0.017, decimals=3, space="sell")
    # --- protection space ---------------------------------------------------------------
    cooldown_candles = IntParameter(0, 24, default=6, space="protection")
    guard_lookback_candles = IntParameter(12, 144, default=72, space="protection")
    guard_trade_limit = IntParameter(1, 4, default=2, space="protection")
    guard_stop_candles = IntParameter(6, 72, default=24, space="protection")

    class HyperOpt:
        """Narrower stoploss range than freqtrade's default (-0.35..-0.02) at 2x leverage."""

        @staticmethod
        def stoploss_space():
            from freqtrade.optimize.space import SKDecimal

            return [SKDecimal(-0.20, -0.04, decimals=3, name="stoploss")]

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        if config.get("trading_mode", "spot") == "spot":
            # Spot: long only (freqtrade refuses short strategies on spot).
            self.can_short = False

    @property
    def plot_config(self) -> dict[str, Any]:
        return {
            "main_plot": {
                f"ema_{EMA_FAST}": {"color": "orange"},
                f"ema_{EMA_SLOW}": {"color": "purple"},
            },
            "subplots": {
                "score": {"entry_score": {"color": "black"}},
                "RSI / ADX": {"rsi": {"color": "red"}, "adx": {"color": "blue"}},
            },
        }

    @property
    def protections(self) -> list[dict[str, Any]]:
        return [
            {"method": "CooldownPeriod", "stop_duration_candles": self.cooldown_candles.value},
            {
                "method": "StoplossGuard",
                "lookback_period_candles": self.guard_lookback_candles.value,
                "trade_limit": self.guard_trade_limit.value,
                "stop_duration_candles": self.guard_stop_candles.value,
                "only_per_pair": False,
            },
        ]

    # --- indicators: computed once, reused by every hyperopt epoch ----------------------
    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe[f"ema_{EMA_FAST}"] = ta.EMA(dataframe, timeperiod=EMA_FAST)
        dataframe[f"ema_{EMA_SLOW}"] = ta.EMA(dataframe, timeperiod=EMA_SLOW)
        dataframe["rsi"] = ta.RSI(dataframe, timeperiod=RSI_CANDLES)
        dataframe["adx"] = ta.ADX(dataframe, timeperiod=14)
        dataframe["atr"] = ta.ATR(dataframe, timeperiod=14)
        trend = np.sign(dataframe[f"ema_{EMA_FAST}"] - dataframe[f"ema_{EMA_SLOW}"])
        momentum = ((dataframe["rsi"] - 50.0) / RSI_FULL_SCALE).clip(-1.0, 1.0)
        # NaN during warm-up on purpose: NaN compares False, so no entries.
        dataframe["ta_confirmation"] = 0.5 * trend + 0.5 * momentum
        return dataframe

    def _liquidation_score(self, dataframe: DataFrame) -> pd.Series | float:
        """Liquidation part of the entry score (long-positive).  None in the baseline.

        :param dataframe: analysed candles
        :return: a Series aligned to ``dataframe`` or a scalar
        """
        return 0.0

    # --- signals: only parameter arithmetic, so hyperopt epochs stay cheap -------------
    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        score = dataframe["ta_confirmation"] + self._liquidation_score(dataframe)
        dataframe["entry_score"] = score
        moving = dataframe["adx"] >= self.adx_min.value
        threshold = self.entry_threshold.value
        # Enter when the score *crosses* the threshold, not while it stays beyond it:
        # a state signal re-enters after every exit and pays the fees again.
        previous = score.shift(1)
        long_cross = (score >= threshold) & (previous < threshold)
        short_cross = (score <= -threshold) & (previous > -threshold)
        dataframe.loc[moving & long_cross, ["enter_long", "enter_tag"]] = (1, "long")
        dataframe.loc[moving & short_cross, ["enter_short", "enter_tag"]] = (1, "short")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        # The technical part only: an exit must not wait for (or depend on) the map.
        score = dataframe["ta_confirmation"]
        dataframe.loc[score <= -self.exit_threshold.value, "exit_long"] = 1
        dataframe.loc[score >= self.exit_threshold.value, "exit_short"] = 1
        return dataframe

    # --- callbacks ----------------------------------------------------------------------
    def _last_row(self, pair: str) -> pd.Series | None:
        """Last closed candle of the analysed dataframe (the one freqtrade acted on)."""
        dataframe, _ = self.dp.get_analyzed_dataframe(pair, self.timeframe)
        if dataframe.empty:
            return None
        return dataframe.iloc[-1]

    def _stop_anchor(self, row: pd.Series, current_rate: float, is_short: bool) -> float:
        """Price at which the trade is wrong: ``stop_atr_mult`` ATRs beyond price.

        :param row: last closed candle
        :param current_rate: current price
        :param is_short: trade direction
        :return: stop price (may be NaN during warm-up; the caller then keeps the stop)
        """
        distance = self.stop_atr_mult.value * row["atr"]
        return current_rate + distance if is_short else current_rate - distance

    def _target(self, row: pd.Series, entry_rate: float, is_short: bool) -> tuple[float, str]:
        """Take-profit price fixed at entry from the signal candle, and its exit reason.

        :param row: the signal candle (the candle before the entry)
        :param entry_rate: the trade's open rate
        :param is_short: trade direction
        :return: (price, exit reason)
        """
        distance = self.target_atr_mult.value * row["atr"]
        price = entry_rate - distance if is_short else entry_rate + distance
        return price, "atr_target"

    def custom_stoploss(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        after_fill: bool,
        **kwargs: Any,
    ) -> float | None:
        row = self._last_row(pair)
        if row is None:
            return None
        stop_rate = self._stop_anchor(row, current_rate, trade.is_short)
        if not np.isfinite(stop_rate):
            return None
        # Clamp in price terms, then express as freqtrade's leveraged ratio.
        distance = abs(current_rate - stop_rate) / current_rate
        max_distance = abs(self.stoploss) / trade.leverage
        distance = min(max(distance, self.min_stop_pct.value), max_distance)
        stop_rate = current_rate * (1 + distance if trade.is_short else 1 - distance)
        return -stoploss_from_absolute(
            stop_rate, current_rate, is_short=trade.is_short, leverage=trade.leverage
        )

    def _trade_target(self, pair: str, trade: Trade) -> tuple[float, str] | None:
        """The trade's take-profit, computed once from its signal candle and kept."""
        price = trade.get_custom_data(TARGET_KEY)
        if price is not None:
            return float(price), str(trade.get_custom_data(TARGET_TAG_KEY))
        dataframe, _ = self.dp.get_analyzed_dataframe(pair, self.timeframe)
        signal_date = trade.open_date_utc - timedelta(minutes=timeframe_to_minutes(self.timeframe))
        idx = dataframe["date"].searchsorted(signal_date)
        if idx >= len(dataframe) or dataframe["date"].iloc[idx] != signal_date:
            return None
        price, tag = self._target(dataframe.iloc[idx], trade.open_rate, trade.is_short)
        if not np.isfinite(price):
            return None
        trade.set_custom_data(TARGET_KEY, float(price))
        trade.set_custom_data(TARGET_TAG_KEY, tag)
        return float(price), tag

    def custom_exit(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        **kwargs: Any,
    ) -> str | None:
        target = self._trade_target(pair, trade)
        if target is None:
            return None
        price, tag = target
        if (current_rate <= price) if trade.is_short else (current_rate >= price):
            return f"{tag}_reached"
        row = self._last_row(pair)
        if row is None:
            return None
        if (row["low"] <= price) if trade.is_short else (row["high"] >= price):
            # The last candle's wick went through the target but price came back.
            return f"{tag}_swept"
        return None

    def leverage(
        self,
        pair: str,
        current_time: datetime,
        current_rate: float,
        proposed_leverage: float,
        max_leverage: float,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float:
        return min(self.leverage_default, max_leverage)
