"""The window a validation or calibration scores, and the candles (and OI / mark /
metrics) it needs: planned here once, so ``validate`` and ``calibrate`` score the same
periods of the same record."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from liq_signals.data.boundary import LiqInputError
from liq_signals.data.load import PairInputs, load_pair_inputs
from liq_signals.errors import ConfigError
from liq_signals.evaluation.realized import (
    COL_DATE,
    EXCHANGE_BINANCE,
    RealizedRecord,
    period_text,
)


def download_hint(pair: str, start: pd.Timestamp, stop: pd.Timestamp, timeframe: str) -> str:
    """The freqtrade command that fetches the candles a window needs."""
    return (
        "freqtrade download-data --exchange binance --trading-mode futures "
        f"--pairs {pair} --timeframes {timeframe} --candle-types futures mark "
        f"--timerange {start:%Y%m%d}-{(stop + pd.Timedelta(days=1)):%Y%m%d}"
    )


def load_window(
    datadir: Path,
    pair: str,
    timeframe: str,
    start: pd.Timestamp,
    stop: pd.Timestamp,
    warmup: pd.Timedelta,
) -> PairInputs:
    """Inputs from ``start - warmup`` to ``stop``.

    :raise LiqInputError: when the candles on file do not reach into ``[start, stop)``;
        the message names the span on file and the download command for the window
    """
    inputs = load_pair_inputs(datadir, pair, timeframe)
    first = start - warmup
    window = inputs.between(first, stop)
    if not len(window.candles) or window.candles["date"].iloc[-1] < start:
        on_file = inputs.candles["date"]
        raise LiqInputError(
            f"{pair}: the candles in {inputs.files.get('candles')} span {on_file.iloc[0]} → "
            f"{on_file.iloc[-1]} and do not cover {start} → {stop}. Get them with "
            f"`{download_hint(pair, first, stop, timeframe)}` and pass that --datadir."
        )
    return window


def record_span(realized: RealizedRecord) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last time the record covers."""
    if not realized.events.empty:
        return realized.events[COL_DATE].iloc[0], realized.events[COL_DATE].iloc[-1]
    return realized.aggregated.index[0], realized.aggregated.index[-1]


def period_start(time: pd.Timestamp, period: str) -> pd.Timestamp:
    """The first ``period`` boundary at or after ``time``: the start of the first whole
    period from ``time`` on.

    The one rounding rule of a scored window's start.  Rounding up, never down: a record
    (or a warm-up) that begins inside a period does not cover that period's start, and a
    partial first period would be scored as if the liquidations before the record began
    (or the positions opened before the candles began) were zero.
    """
    return time.ceil(period)


def plan_window(
    realized: RealizedRecord,
    period: str,
    start: pd.Timestamp | None = None,
    stop: pd.Timestamp | None = None,
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The window ``[start, stop)`` scored against ``realized``, in whole periods.

    :param start, stop: the user's ``--timerange`` (``None``: where the record begins / ends)
    :return: ``start`` (or the record's first time) moved to :func:`period_start`; ``stop``
        as given, else the end of the last period the record reaches into (for totals of
        ``realized.period``: the end of their last whole ``period``)
    """
    first, last = record_span(realized)
    begin = period_start(start if start is not None else first, period)
    if stop is None:
        stop = (last + (realized.period or pd.Timedelta(period))).floor(period)
    return begin, stop


def warmed_start(
    start: pd.Timestamp, first_candle: pd.Timestamp, warmup: pd.Timedelta, period: str
) -> pd.Timestamp:
    """``start``, or later when the candles begin too late to give it ``warmup`` of book:
    the first period (:func:`period_start`) with the full warm-up behind it."""
    return max(start, period_start(first_candle + warmup, period))


def restrict(realized: RealizedRecord, start, stop) -> RealizedRecord:  # noqa: ANN001
    """The part of the record inside ``[start, stop)`` (None = open)."""
    events, agg = realized.events, realized.aggregated
    if start is not None:
        events = events[events[COL_DATE] >= start]
        agg = agg[agg.index >= start]
    if stop is not None:
        events = events[events[COL_DATE] < stop]
        agg = agg[agg.index < stop]
    return replace(realized, events=events.reset_index(drop=True), aggregated=agg)


def describe_record(realized: RealizedRecord) -> str:
    """What the record is, in words the report carries next to every number."""
    if realized.events.empty:
        period = period_text(realized.period) if realized.period is not None else "?"
        if realized.description:
            return f"aggregated {period} totals: {realized.description}"
        return (
            f"aggregated {period} totals supplied by the user (completeness unknown to liq-signals)"
        )
    exchanges = sorted(set(realized.events["exchange"]))
    parts = []
    for ex in exchanges:
        if ex == EXCHANGE_BINANCE:
            parts.append(
                "Binance forceOrder stream: at most one event per symbol per second "
                "is published, so totals are a LOWER BOUND; periods without events "
                "may be recording gaps"
            )
        else:
            parts.append(
                "Bybit allLiquidation stream (complete by Bybit's documentation); "
                "periods without events may still be recording gaps"
            )
    return "; ".join(parts)


def scoring_period(requested: str | None, realized: RealizedRecord | None) -> str:
    """The period to score at: ``requested``, else the record's own period, else ``1h``.

    :raise ConfigError: when ``requested`` is finer than the record's period or not a
        multiple of it (a 4-hour total cannot be split into hours)
    """
    own = realized.period if realized is not None else None
    if requested is None:
        return period_text(own) if own is not None else "1h"
    if own is not None:
        asked = pd.Timedelta(requested)
        if asked < own or asked % own != pd.Timedelta(0):
            raise ConfigError(
                f"--period {requested}: the record holds {period_text(own)} totals; score at "
                f"{period_text(own)} or a multiple of it (omit --period to use "
                f"{period_text(own)})"
            )
    return requested
