"""The boundary: raw frames are checked here once, and trusted afterwards.

Every problem either raises :class:`LiqInputError` naming the pair, the source (file or
frame) and the first bad row, or is a documented repair whose extent is logged:

=====================================  =====================================================
input problem                          handling
=====================================  =====================================================
empty candles / missing column         error
NaN or non-positive price, high < low  error
NaN or negative volume                 error
unsorted or duplicate dates            error (freqtrade data is sorted; a mix-up is a bug)
gaps between candles                   allowed, counted and logged; the book decays over
                                       the real elapsed time
open interest NaN / missing rows       allowed: those candles run in volume mode, flagged
                                       ``liq_stale`` and counted in the log
open interest zero or negative         error (not a gap: a broken file)
open interest in USD only              converted to contracts (value ÷ candle open at the
                                       snapshot time) in ``features.prepare_inputs``,
                                       count logged
mark price NaN / bad                   error; mark rows missing -> trade high/low for them
metrics sidecar NaN                    allowed: no taker tilt for that candle, ``liq_stale``
taker_net_base with |net| >= volume    allowed: volume is not gross there, so the share is
                                       unknown (no tilt, not stale), count logged
metrics negative taker ratio           error
=====================================  =====================================================
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from liq_signals.errors import InputError

logger = logging.getLogger(__name__)

CANDLE_COLUMNS = ("date", "open", "high", "low", "close", "volume")
OI_AMOUNT = "open_interest_amount"
OI_VALUE = "open_interest_value"
OI_COLUMNS = ("date", OI_AMOUNT)
MARK_COLUMNS = ("date", "high", "low")
TAKER_RATIO = "taker_buy_sell_ratio"
TAKER_NET_BASE = "taker_net_base"


class LiqInputError(InputError, ValueError):
    """Input that the model cannot use; the message names pair, source and first bad row.

    :param pair: the pair concerned (also in the message).
    :param source: which input (``candles``, ``open_interest``, ``mark``, ``metrics``, or a
        file path); callers that know the file behind a frame can name it.
    """

    def __init__(self, message: str, *, pair: str | None = None, source: str | None = None):
        super().__init__(message)
        self.pair = pair
        self.source = source


def _where(df: pd.DataFrame, pos: int) -> str:
    date = df["date"].iloc[pos] if "date" in df.columns else "?"
    return f"row {pos} (date {date})"


def _fail(pair: str, source: str, what: str, fix: str = "") -> LiqInputError:
    tail = f" — {fix}" if fix else ""
    return LiqInputError(f"{pair} [{source}]: {what}{tail}", pair=pair, source=source)


def _check_columns(df: pd.DataFrame, cols: tuple[str, ...], pair: str, source: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise _fail(pair, source, f"expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise _fail(
            pair,
            source,
            f"missing column(s) {missing}; have {list(df.columns)}",
            "freqtrade frames carry a 'date' column (UTC)",
        )


def _check_dates(df: pd.DataFrame, pair: str, source: str) -> np.ndarray:
    """Dates as int64 nanoseconds UTC, strictly increasing; error otherwise."""
    dates = df["date"]
    if not isinstance(dates.dtype, pd.DatetimeTZDtype):
        if pd.api.types.is_datetime64_any_dtype(dates.dtype):
            raise _fail(pair, source, "'date' is timezone-naive", "localize it to UTC")
        raise _fail(pair, source, f"'date' has dtype {dates.dtype}, expected datetime64[UTC]")
    if dates.isna().any():
        raise _fail(pair, source, f"missing date at {_where(df, int(np.argmax(dates.isna())))}")
    ns = pd.DatetimeIndex(dates).as_unit("ns").asi8
    if len(ns) > 1:
        step = np.diff(ns)
        bad = np.flatnonzero(step <= 0)
        if bad.size:
            pos = int(bad[0]) + 1
            kind = "duplicate" if step[bad[0]] == 0 else "unsorted"
            raise _fail(
                pair,
                source,
                f"{kind} date at {_where(df, pos)}",
                "sort by date and drop duplicates before computing features",
            )
    return ns


def validate_dates(df: pd.DataFrame, *, pair: str, source: str) -> np.ndarray:
    """Check that ``df`` has a UTC ``date`` column, strictly increasing.

    :return: dates in int64 nanoseconds since the epoch.
    :raise LiqInputError: not a frame, no ``date``, naive/NaN/unsorted/duplicate dates.
    """
    _check_columns(df, ("date",), pair, source)
    return _check_dates(df, pair, source)


def _first_bad(mask: np.ndarray) -> int:
    return int(np.argmax(mask))


def validate_candles(
    candles: pd.DataFrame, *, pair: str, source: str = "candles", timeframe_s: int | None = None
) -> np.ndarray:
    """Check OHLCV candles; return their open times as int64 ns.

    :param candles: frame with ``date, open, high, low, close, volume``.
    :param pair: pair name for messages.
    :param source: file name or frame description for messages.
    :param timeframe_s: candle length; when given, gaps are counted and logged.
    :return: dates in int64 nanoseconds since the epoch (UTC).
    :raise LiqInputError: on any problem of the table in the module docstring.
    """
    _check_columns(candles, CANDLE_COLUMNS, pair, source)
    if len(candles) == 0:
        raise _fail(pair, source, "no candles", "download data first (freqtrade download-data)")
    ns = _check_dates(candles, pair, source)
    for col in ("open", "high", "low", "close"):
        vals = candles[col].to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~(vals > 0) | ~np.isfinite(vals)
        if bad.any():
            pos = _first_bad(bad)
            raise _fail(
                pair, source, f"{col}={vals[pos]!r} (NaN/non-positive) at {_where(candles, pos)}"
            )
    high = candles["high"].to_numpy(dtype=np.float64)
    low = candles["low"].to_numpy(dtype=np.float64)
    if (high < low).any():
        pos = _first_bad(high < low)
        raise _fail(pair, source, f"high {high[pos]} < low {low[pos]} at {_where(candles, pos)}")
    vol = candles["volume"].to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(vol) | (vol < 0)
    if bad.any():
        pos = _first_bad(bad)
        raise _fail(pair, source, f"volume={vol[pos]!r} (NaN/negative) at {_where(candles, pos)}")
    if timeframe_s and len(ns) > 1:
        step = np.diff(ns) // 1_000_000_000
        gaps = step > timeframe_s
        if gaps.any():
            missing = int((step[gaps] // timeframe_s - 1).sum())
            logger.info(
                "%s [%s]: %d gap(s) between candles (%d candle(s) missing, first after %s); "
                "the book decays over the real elapsed time.",
                pair,
                source,
                int(gaps.sum()),
                missing,
                candles["date"].iloc[_first_bad(gaps)],
            )
    return ns


def validate_open_interest(
    oi: pd.DataFrame, *, pair: str, source: str = "open_interest"
) -> np.ndarray:
    """Check an open-interest frame (freqtrade ``open_interest`` candle type).

    :return: dates in int64 ns (NaN amounts are kept: they become volume-mode candles).
    :raise LiqInputError: missing columns, bad dates, zero or negative open interest.
    """
    _check_columns(oi, OI_COLUMNS, pair, source)
    ns = _check_dates(oi, pair, source)
    amount = oi["open_interest_amount"].to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.isfinite(amount) & (amount <= 0) | np.isinf(amount)
    if bad.any():
        pos = _first_bad(bad)
        raise _fail(
            pair,
            source,
            f"open_interest_amount={amount[pos]!r} at {_where(oi, pos)} (must be > 0 contracts)",
            "re-download with `freqtrade download-data --candle-types open_interest` "
            "or drop the row",
        )
    nan = int(np.isnan(amount).sum())
    if nan:
        logger.info(
            "%s [%s]: %d open-interest row(s) are NaN (first at %s); "
            "those candles use volume mode.",
            pair,
            source,
            nan,
            _where(oi, _first_bad(np.isnan(amount))),
        )
    return ns


def validate_mark(mark: pd.DataFrame, *, pair: str, source: str = "mark") -> np.ndarray:
    """Check mark-price candles (``date, high, low``); return dates in int64 ns.

    :raise LiqInputError: missing columns, bad dates, NaN/non-positive prices, high < low.
    """
    _check_columns(mark, MARK_COLUMNS, pair, source)
    ns = _check_dates(mark, pair, source)
    high = mark["high"].to_numpy(dtype=np.float64, na_value=np.nan)
    low = mark["low"].to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~(low > 0) | ~(high >= low) | ~np.isfinite(high)
    if bad.any():
        pos = _first_bad(bad)
        raise _fail(
            pair, source, f"bad mark high/low {high[pos]}/{low[pos]} at {_where(mark, pos)}"
        )
    return ns


def validate_metrics(metrics: pd.DataFrame, *, pair: str, source: str = "metrics") -> np.ndarray:
    """Check the metrics sidecar (``date`` plus optional taker / long-short columns).

    :raise LiqInputError: missing date, bad dates, negative taker buy/sell ratio.
    """
    _check_columns(metrics, ("date",), pair, source)
    ns = _check_dates(metrics, pair, source)
    if TAKER_RATIO in metrics.columns:
        r = metrics[TAKER_RATIO].to_numpy(dtype=np.float64, na_value=np.nan)
        bad = (r < 0) | np.isinf(r)
        if bad.any():
            pos = _first_bad(bad)
            raise _fail(
                pair, source, f"{TAKER_RATIO}={r[pos]!r} at {_where(metrics, pos)} (must be >= 0)"
            )
    return ns


def candle_rows_ok(
    ns: np.ndarray,
    ohlcv: dict[str, np.ndarray],
    first: int,
    *,
    pair: str,
    source: str = "candles",
    timeframe_s: int | None = None,
) -> bool:
    """Do rows ``first:`` of already-extracted candle arrays pass :func:`validate_candles`?

    For callers that validated the rows before ``first`` on an earlier call and only need
    the new rows checked, plus the seam with the row before them (dates strictly
    increasing from row ``first - 1``).  It only answers yes or no: on "no" the caller
    runs :func:`validate_candles` on the whole frame, which raises the error naming the
    first bad row.  Gaps among the rows checked are logged as there.

    :param ns: open times, int64 ns (NaT as pandas' minimum int64).
    :param ohlcv: ``open, high, low, close, volume`` as float64 arrays, same rows.
    :param first: first row not validated before.
    :return: True when the rows are fine.
    """
    lo = max(first - 1, 0)
    t = ns[lo:]
    if (t == np.iinfo(np.int64).min).any() or (len(t) > 1 and (np.diff(t) <= 0).any()):
        return False
    for col in ("open", "high", "low", "close"):
        vals = ohlcv[col][first:]
        if (~(vals > 0) | ~np.isfinite(vals)).any():
            return False
    if (ohlcv["high"][first:] < ohlcv["low"][first:]).any():
        return False
    vol = ohlcv["volume"][first:]
    if (~np.isfinite(vol) | (vol < 0)).any():
        return False
    if timeframe_s and len(t) > 1:
        step = np.diff(t) // 1_000_000_000
        gaps = step > timeframe_s
        if gaps.any():
            logger.info(
                "%s [%s]: %d gap(s) between candles (%d candle(s) missing, first after %s); "
                "the book decays over the real elapsed time.",
                pair,
                source,
                int(gaps.sum()),
                int((step[gaps] // timeframe_s - 1).sum()),
                pd.Timestamp(int(t[_first_bad(gaps)]), tz="UTC"),
            )
    return True
