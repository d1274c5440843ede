"""Placebos of LiquidationMagnetStrategy: the same strategy trading its map of N days earlier.

A placebo breaks only the *timing* of the map.  For the frame freqtrade hands the strategy
(candles ``start`` -> ``end``, startup included), the placebo takes the same span of the
datadir translated ``SHIFT_DAYS`` back (``start - N`` -> ``end - N``: candles from the
file, open interest translated the same way), runs the strategy's own map code on it
(``LiquidationMagnetStrategy._map_features``, nothing re-implemented), and gives the candle
at ``t`` the map row of ``t - N``.  Then the strategy's own ``liquidation_terms`` and
signals run on top, against the *current* price.  Hence:

* **no look-ahead, no wrap-around**: the row for ``t`` is computed from data up to
  ``t - N`` only (the map code is causal); nothing from the end of a window reaches its
  beginning;
* **warm-up not moved into the window**: the translated span has the strategy's own
  startup in front of it, so its map is warmed up exactly as long as the strategy's; a
  shift the datadir cannot serve (``start - N`` before the file's first candle) is
  refused (:class:`ShiftOutOfData`) instead of trading a cold map;
* **the 0-day placebo is the strategy**: with ``SHIFT_DAYS = 0`` the translated span *is*
  the strategy's frame and open interest, so it trades exactly like it
  (tests/strategy/test_placebo.py runs both through freqtrade and compares the trades).

Why not one map over the whole file, shifted?  The strategy's backtest map starts at its
startup window (as in dry-run after a restart); a whole-file map inherits a few percent of
older history, so its 0-day version would not trade like the strategy.

``SHIFTS_DAYS`` are the walk-forward's placebos (tools/compare.py), one class each:
``LiquidationMagnetPlacebo10`` ... ``LiquidationMagnetPlacebo170``.  Not shipped as a
strategy (it lives under tools/).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from freqtrade.exceptions import OperationalException
from freqtrade.resolvers.iresolver import PathModifier
from pandas import DataFrame

from liq_signals import columns as C

# freqtrade makes only this file's folder importable while loading it: the real strategy
# is copied next to it (tools/compare.py) or found in the project's strategies folder.
with PathModifier(Path(__file__).resolve().parents[2] / "strategies"):
    from LiquidationMagnetStrategy import LiquidationMagnetStrategy

#: The walk-forward's shifts (days).  170, not 180, is the longest: the earliest folds' test
#: windows start 181 days after their datadir's first candle, minus 8 days of startup.
SHIFTS_DAYS = (10, 20, 30, 40, 50, 60, 75, 90, 105, 120, 145, 170)
CANDLE_COLUMNS = ["date", "open", "high", "low", "close", "volume"]


class ShiftOutOfData(OperationalException):
    """The datadir does not reach ``SHIFT_DAYS`` before the strategy's first candle."""


def translate(own: DataFrame, file_rows: DataFrame, shift: pd.Timedelta) -> DataFrame:
    """The span of ``own`` moved ``shift`` back in time, rows from ``own`` where it has them.

    Rows before ``own``'s first date come from ``file_rows`` (the datadir, loaded as
    freqtrade loads it); from that date on ``own``'s rows are used, so a shift of 0 returns
    ``own`` itself, row for row.

    :param own: the series the strategy sees (``date`` column, sorted)
    :param file_rows: the same series over the whole datadir file
    :param shift: how far back
    :return: rows with ``own.date[0] - shift <= date <= own.date[-1] - shift``
    """
    first, last = own["date"].iloc[0], own["date"].iloc[-1]
    earlier = file_rows.loc[file_rows["date"] < first, own.columns]
    longer = pd.concat([earlier, own], ignore_index=True)
    keep = (longer["date"] >= first - shift) & (longer["date"] <= last - shift)
    return longer.loc[keep].reset_index(drop=True)


class LiquidationMagnetPlacebo(LiquidationMagnetStrategy):
    """The liquidation strategy trading the map of ``SHIFT_DAYS`` earlier (0: itself)."""

    SHIFT_DAYS = 0

    def _file_series(self, pair: str, timeframe: str, candle_type: str) -> DataFrame:
        """The whole datadir file of one series, loaded as freqtrade's DataProvider does."""
        from freqtrade.data.history import load_pair_history
        from freqtrade.enums import CandleType

        return load_pair_history(
            pair=pair,
            timeframe=timeframe,
            datadir=Path(self.config["datadir"]),
            timerange=None,
            data_format=self.config.get("dataformat_ohlcv", "feather"),
            candle_type=CandleType.from_string(candle_type),
        )

    def _open_interest(self, pair: str) -> DataFrame | None:
        translated = self.__dict__.get("_translated_oi", {})
        if pair in translated:
            return translated[pair]
        return super()._open_interest(pair)

    def _translated_open_interest(
        self, pair: str, span: DataFrame, shift: pd.Timedelta
    ) -> DataFrame | None:
        """The strategy's open interest moved back like the candles; when the strategy has
        none, the file's rows inside the translated candle ``span`` (None if none)."""
        own = super()._open_interest(pair)
        if own is not None:
            timeframe = next(
                tf
                for tf in self._oi_timeframes()
                if self._extra_series(pair, "open_interest", tf) is not None
            )
            file_rows = self._file_series(pair, timeframe, "open_interest")
            moved = translate(own, file_rows, shift)
            return moved if len(moved) else None
        if self.config.get("trading_mode", "spot") == "spot" or not shift:
            return None
        first, last = span["date"].iloc[0], span["date"].iloc[-1]
        for tf in self._oi_timeframes():
            rows = self._file_series(pair, tf, "open_interest")
            rows = rows.loc[(rows["date"] >= first) & (rows["date"] <= last)]
            if len(rows):
                return rows.reset_index(drop=True)
        return None

    def _map_features(self, dataframe: DataFrame, pair: str) -> DataFrame:
        shift = pd.Timedelta(days=self.SHIFT_DAYS)
        own = dataframe[CANDLE_COLUMNS]
        file_candles = self._file_series(pair, self.timeframe, self.config["candle_type_def"])
        if len(file_candles) == 0 or file_candles["date"].iloc[0] > own["date"].iloc[0] - shift:
            first = file_candles["date"].iloc[0] if len(file_candles) else "no candles"
            raise ShiftOutOfData(
                f"{type(self).__name__}: {pair} needs candles from "
                f"{own['date'].iloc[0] - shift} ({self.SHIFT_DAYS} days before the first "
                f"candle with startup); the datadir starts at {first}"
            )
        candles = translate(own, file_candles, shift)
        translated_oi = self.__dict__.setdefault("_translated_oi", {})
        translated_oi[pair] = self._translated_open_interest(pair, candles, shift)
        try:
            earlier = super()._map_features(candles, pair)
        finally:
            del translated_oi[pair]
        earlier = earlier.drop(columns=CANDLE_COLUMNS[1:], errors="ignore")
        moved = earlier.set_index(earlier["date"] + shift).drop(columns="date")
        moved = moved.reindex(own["date"])
        # a candle whose earlier twin is missing (a gap in the file) has no map: stale
        moved[C.STALE] = moved[C.STALE].astype("boolean").fillna(True).astype(bool)
        moved.index = dataframe.index
        moved.insert(0, "date", own["date"].to_numpy())
        return moved


# One class per shift, spelled out: freqtrade's resolver looks for ``class NAME(`` in the
# file's text before importing it.  test_placebo checks they match SHIFTS_DAYS.
class LiquidationMagnetPlacebo0(LiquidationMagnetPlacebo):
    """The 0-day placebo: the strategy itself, through the placebo's code path."""

    SHIFT_DAYS = 0


class LiquidationMagnetPlacebo10(LiquidationMagnetPlacebo):
    SHIFT_DAYS = 10


class LiquidationMagnetPlacebo20(LiquidationMagnetPlacebo):
    SHIFT_DAYS = 20


class LiquidationMagnetPlacebo30(LiquidationMagnetPlacebo):
    SHIFT_DAYS = 30


class LiquidationMagnetPlacebo40(LiquidationMagnetPlacebo):
    SHIFT_DAYS = 40


class LiquidationMagnetPlacebo50(LiquidationMagnetPlacebo):
    SHIFT_DAYS = 50


class LiquidationMagnetPlacebo60(LiquidationMagnetPlacebo):
    SHIFT_DAYS = 60


class LiquidationMagnetPlacebo75(LiquidationMagnetPlacebo):
    SHIFT_DAYS = 75


class LiquidationMagnetPlacebo90(LiquidationMagnetPlacebo):
    SHIFT_DAYS = 90


class LiquidationMagnetPlacebo105(LiquidationMagnetPlacebo):
    SHIFT_DAYS = 105


class LiquidationMagnetPlacebo120(LiquidationMagnetPlacebo):
    SHIFT_DAYS = 120


class LiquidationMagnetPlacebo145(LiquidationMagnetPlacebo):
    SHIFT_DAYS = 145


class LiquidationMagnetPlacebo170(LiquidationMagnetPlacebo):
    SHIFT_DAYS = 170
