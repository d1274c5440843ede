"""The boundary: raw frames are checked here once, and trusted afterwards.

Every problem either raises :class:`LiqInputError` naming the pair, the source (file or
frame) and the first bad row, or is a documented repair whose extent is logged:

=====================================  =====================================================
input problem                          handling
=====================================  =====================================================
empty candles / missing column         error
non-numeric OHLCV column               error (names the column and its dtype)
NaN or non-positive price, high < low  error (batch); in dry-run/live the candle is
open or close outside [low, high],     quarantined instead: no features for it, flagged
a price jump (see "Jump" below)        ``liq_stale``, logged once (see
                                       :func:`bad_candle_rows`)
NaN or negative volume                 error (batch), quarantined (dry-run/live)
unsorted or duplicate dates            error (freqtrade data is sorted; a mix-up is a bug)
gaps between candles                   allowed, counted and logged; the book decays over
                                       the real elapsed time
open interest NaN / missing rows       allowed: those candles run in volume mode, flagged
                                       ``liq_stale`` and counted in the log
open interest zero, negative,          quarantined: the row is dropped (logged once with
infinite or a jump                     pair, file and row) and read as missing, so it
                                       costs only the candle that reads it
                                       (:func:`quarantine`)
open interest step not a whole         error (a 1h series under 5m candles is fine; 1m
multiple of the candles' timeframe     or 7m under 5m, or stamps off the series' own
                                       step, are not)
open interest in USD only              converted to contracts (value ÷ candle open at the
                                       snapshot time) by :func:`open_interest_contracts`,
                                       count logged; a bad value is quarantined as above
mark price NaN / bad / jump            quarantined (logged once); mark rows missing ->
                                       trade high/low for them
metrics sidecar NaN                    allowed: no taker tilt for that candle, ``liq_stale``
taker_net_base with |net| >= volume    allowed: volume is not gross there, so the share is
                                       unknown (no tilt, not stale), count logged
taker ratio negative, infinite, jump;  quarantined (logged once): no tilt for that
taker_net_base infinite                candle, ``liq_stale``
=====================================  =====================================================

"Jump": a value more than :data:`JUMP_MAX_RATIO` times, or less than 1 / that, the median
of the valid values among the :data:`JUMP_WINDOW` rows before it (past rows only, so the
rule is causal and the batch run and the dry-run decide alike; no check before
:data:`JUMP_MIN_HISTORY` such rows exist).  Open interest, prices and taker ratios do not
move tenfold within a dozen rows; a ×1000 row is a unit or parsing error upstream.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
import pandas as pd
from freqtrade.exceptions import OperationalException

from liq_signals.columns import OI_AMOUNT, OI_VALUE, TAKER_NET_BASE, TAKER_RATIO
from liq_signals.data.oi_sources import fill_open_interest_amount
from liq_signals.errors import InputError

logger = logging.getLogger(__name__)

CANDLE_COLUMNS = ("date", "open", "high", "low", "close", "volume")
OI_COLUMNS = ("date", OI_AMOUNT)
MARK_COLUMNS = ("date", "high", "low")
#: frame attribute (``DataFrame.attrs``) naming the file a frame was read from; set by
#: :mod:`liq_signals.data.load` and the sidecar reader, so messages name the file
FILE_ATTR = "file"
#: a value beyond this multiple (or below its inverse) of the median of the past rows is
#: implausible (see the module doc)
JUMP_MAX_RATIO = 10.0
#: how many rows before a value its median is taken over
JUMP_WINDOW = 12
#: fewer valid rows than this in the window: no jump check yet
JUMP_MIN_HISTORY = 3
#: quarantined rows named one by one per call; the rest are counted
QUARANTINE_LOG_ROWS = 5


class LiqInputError(InputError, ValueError, OperationalException):
    """Input that the model cannot use; the message names pair, source and first bad row.

    Also a freqtrade ``OperationalException``: raised inside a freqtrade run (the
    strategy's feature path), freqtrade prints the message as one line and exits non-zero
    instead of a traceback.

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


def source_name(df: object, source: str) -> str:
    """``source`` plus the file the frame was read from, when it says so
    (:data:`FILE_ATTR`): ``open_interest file /x/BTC_USDT_USDT-5m-open_interest.feather``."""
    path = getattr(df, "attrs", {}).get(FILE_ATTR) if isinstance(df, pd.DataFrame) else None
    return f"{source} file {path}" if path else source


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


def _check_numeric(df: pd.DataFrame, cols: Iterable[str], pair: str, source: str) -> None:
    """Columns must hold numbers (a text or date column is a broken file, not a value)."""
    for col in cols:
        dtype = df[col].dtype
        if not (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)):
            raise _fail(
                pair,
                source,
                f"column {col!r} has dtype {dtype}, expected numbers (float64)",
                "re-download the file (freqtrade download-data) or convert the column",
            )


def _check_dates(df: pd.DataFrame, pair: str, source: str) -> np.ndarray:
    """Dates as int64 nanoseconds UTC, strictly increasing; error otherwise."""
    dates = df["date"]
    if not isinstance(dates.dtype, pd.DatetimeTZDtype):
        if pd.api.types.is_datetime64_any_dtype(dates.dtype):
            raise _fail(pair, source, "'date' is timezone-naive", "localize it to UTC")
        raise _fail(pair, source, f"'date' has dtype {dates.dtype}, expected datetime64[UTC]")
    ns = pd.DatetimeIndex(dates).as_unit("ns").asi8
    nat = missing_dates(ns)
    if nat.any():
        raise _fail(pair, source, f"missing date at {_where(df, _first_bad(nat))}")
    if len(ns) > 1:
        bad = np.flatnonzero(unordered_dates(ns))
        if bad.size:
            pos = int(bad[0]) + 1
            kind = "duplicate" if ns[pos] == ns[pos - 1] else "unsorted"
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


def _first_row(mask: np.ndarray) -> int | None:
    """The first row that breaks a rule (``mask`` True), or None when none does."""
    return int(np.argmax(mask)) if mask.any() else None


# ---------------------------------------------------------------- the rules, one each
# Masks over already-extracted arrays (True = the row breaks the rule).  The whole-frame
# validators below and the dry-run fast path
# (:class:`liq_signals.features.incremental.IncrementalFeatures`) both call these, so a
# row is accepted by one exactly when it is accepted by the other.

#: what a missing date (NaT) reads as in int64 nanoseconds
NAT_NS = np.iinfo(np.int64).min


def missing_dates(ns: np.ndarray) -> np.ndarray:
    """Dates that are NaT.

    :param ns: dates as int64 nanoseconds (NaT as the minimum int64, as pandas stores it).
    :return: mask, same length.
    """
    return ns == NAT_NS


def unordered_dates(ns: np.ndarray) -> np.ndarray:
    """Rows ``1:`` whose date does not come strictly after the previous row's.

    freqtrade data is sorted and unique, so a duplicate or a step back is a bug upstream,
    not something to silently reorder.

    :param ns: dates as int64 nanoseconds.
    :return: mask of length ``len(ns) - 1`` (entry i is about row i + 1).
    """
    return np.diff(ns) <= 0


def bad_prices(values: np.ndarray) -> np.ndarray:
    """Prices that are NaN, infinite or not > 0 (the log price grid needs a positive
    finite price)."""
    return ~(values > 0) | ~np.isfinite(values)


def high_below_low(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """Candles whose high is below their low (a corrupt row, not a market state)."""
    return high < low


def bad_volumes(volume: np.ndarray) -> np.ndarray:
    """Volumes that are NaN, infinite or negative (zero is a quiet candle)."""
    return ~np.isfinite(volume) | (volume < 0)


def bad_oi_amounts(amount: np.ndarray) -> np.ndarray:
    """Open interest in contracts that is zero, negative or infinite.

    NaN is not bad: a missing row only sends its candle to volume mode.
    """
    return np.isfinite(amount) & (amount <= 0) | np.isinf(amount)


def bad_oi_steps(ns: np.ndarray, timeframe_s: int) -> np.ndarray:
    """Rows ``1:`` of an open-interest series whose date step does not fit the candles.

    The series' timeframe is its smallest date step; every step must be a whole multiple
    of the candles' timeframe (so the series is equal or coarser: hourly OI under 5m
    candles, not 1m or 7m), and of the series' own timeframe (gaps are whole missing
    periods).  The first row breaking the first condition is reported before any row
    breaking the second.

    :param ns: sorted, unique dates as int64 nanoseconds.
    :param timeframe_s: the candles' timeframe in seconds.
    :return: mask of length ``len(ns) - 1`` (entry i is about row i + 1).
    """
    diff = np.diff(ns)
    off_candles = (diff % (timeframe_s * 1_000_000_000)) != 0
    if off_candles.any() or not len(diff):
        return off_candles
    return diff % diff.min() != 0


def bad_oi_values(value: np.ndarray) -> np.ndarray:
    """USD open interest that cannot be turned into contracts (NaN, infinite or not > 0);
    only checked on rows that have no amount, the ones that need the conversion."""
    return ~((value > 0) & np.isfinite(value))


def bad_mark(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """Mark candles with a non-positive/NaN low, high below low or a non-finite high."""
    return ~(low > 0) | ~(high >= low) | ~np.isfinite(high)


def bad_taker_ratios(ratio: np.ndarray) -> np.ndarray:
    """Negative or infinite taker buy/sell ratios (NaN is a missing value, allowed)."""
    return (ratio < 0) | np.isinf(ratio)


def past_median(reference: np.ndarray) -> np.ndarray:
    """Median of the valid (finite, > 0) values among the :data:`JUMP_WINDOW` rows before
    each row; NaN where fewer than :data:`JUMP_MIN_HISTORY` such rows exist."""
    ref = np.asarray(reference, dtype=np.float64)
    n = len(ref)
    if n <= JUMP_MIN_HISTORY:
        return np.full(n, np.nan)
    valid = np.where((ref > 0) & np.isfinite(ref), ref, np.nan)
    past = np.lib.stride_tricks.sliding_window_view(
        np.concatenate([np.full(JUMP_WINDOW, np.nan), valid[:-1]]), JUMP_WINDOW
    )
    # np.nanmedian goes through masked arrays (~1 ms per call even on a few rows): sort
    # instead (NaN sorts last) and take the middle of each row's k valid values
    k = (~np.isnan(past)).sum(axis=1)
    srt = np.sort(past, axis=1)
    rows = np.arange(n)
    median = (srt[rows, np.maximum((k - 1) // 2, 0)] + srt[rows, k // 2]) / 2.0
    return np.where(k >= JUMP_MIN_HISTORY, median, np.nan)


def implausible_jumps(
    values: np.ndarray, reference: np.ndarray | None = None, median: np.ndarray | None = None
) -> np.ndarray:
    """Values beyond :data:`JUMP_MAX_RATIO` times (or below 1 / that) the median of the
    valid (finite, > 0) ``reference`` values among the :data:`JUMP_WINDOW` rows before.

    Past rows only: the answer for row i is the same on rows ``:i+1`` as on the whole
    array, and on rows ``i − JUMP_WINDOW:`` as on rows ``0:`` (callers checking a tail
    pass that much context).  Non-positive or non-finite values are other rules' business.

    :param values: the values to check.
    :param reference: the series whose median they are compared to (default: ``values``;
        candle prices compare to the past closes).
    :param median: :func:`past_median` of ``reference``, when the caller has it already.
    :return: mask, same length.
    """
    values = np.asarray(values, dtype=np.float64)
    if median is None:
        median = past_median(values if reference is None else reference)
    with np.errstate(invalid="ignore", over="ignore"):
        jump = (values > median * JUMP_MAX_RATIO) | (values * JUMP_MAX_RATIO < median)
    return jump & np.isfinite(values) & (values > 0)


def jumps_from(values: np.ndarray, first: int, reference: np.ndarray | None = None) -> np.ndarray:
    """:func:`implausible_jumps` of rows ``first:`` only, reading just the
    :data:`JUMP_WINDOW` rows before them (equal to the whole-array answer's tail)."""
    lo = max(first - JUMP_WINDOW, 0)
    ref = None if reference is None else reference[lo:]
    return implausible_jumps(values[lo:], ref)[first - lo :]


def quarantined_oi(amount: np.ndarray, first: int = 0) -> np.ndarray:
    """Open-interest rows ``first:`` (contracts) that are dropped: zero, negative,
    infinite (:func:`bad_oi_amounts`) or a jump (:func:`implausible_jumps`)."""
    return bad_oi_amounts(amount[first:]) | jumps_from(amount, first)


def quarantined_mark(high: np.ndarray, low: np.ndarray, first: int = 0) -> np.ndarray:
    """Mark rows ``first:`` that are dropped: :func:`bad_mark` or a jump of high or low."""
    return bad_mark(high[first:], low[first:]) | jumps_from(high, first) | jumps_from(low, first)


def quarantined_taker_ratios(ratio: np.ndarray, first: int = 0) -> np.ndarray:
    """Taker buy/sell ratios of rows ``first:`` that are dropped: negative, infinite
    (:func:`bad_taker_ratios`) or a jump."""
    return bad_taker_ratios(ratio[first:]) | jumps_from(ratio, first)


def outside_range(price: np.ndarray, high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """Open or close prices outside their candle's [low, high] (a corrupt row)."""
    return (price > high) | (price < low)


def bad_candle_rows(ohlcv: dict[str, np.ndarray], first: int = 0) -> np.ndarray:
    """Candles (rows ``first:``) breaking any per-row candle rule of
    :func:`validate_candles`: bad price or volume, high < low, open/close outside
    [low, high], a price jump against the past closes.  The dry-run quarantines them.

    :param ohlcv: ``open, high, low, close, volume`` as float64 arrays.
    """
    o, h, lo, c, v = (ohlcv[k] for k in ("open", "high", "low", "close", "volume"))
    bad = bad_volumes(v[first:]) | high_below_low(h[first:], lo[first:])
    ctx = max(first - JUMP_WINDOW, 0)
    median = past_median(c[ctx:])[first - ctx :]
    for col in (o, h, lo, c):
        bad |= bad_prices(col[first:]) | implausible_jumps(col[first:], median=median)
    for col in (o, c):
        bad |= outside_range(col[first:], h[first:], lo[first:])
    return bad


def quarantine(
    values: np.ndarray,
    drop: np.ndarray,
    ns: np.ndarray,
    *,
    pair: str,
    source: str,
    column: str,
    first: int = 0,
    seen: set[tuple[str, int]] | None = None,
) -> np.ndarray:
    """``values`` with the ``drop`` rows set to NaN (read as missing), each dropped row
    logged once: pair, source (file), row and date.

    :param values: the rows checked (a frame's rows ``first:``).
    :param drop: mask of the rows to drop, same length.
    :param ns: their dates (int64 ns).
    :param first: the frame row of ``values[0]`` (row numbers in the log are the frame's).
    :param column: what was checked (``open_interest_amount``, ``high/low`` of the mark,
        ``ohlcv`` of a candle, ...): with the date, the key of a row in ``seen``.
    :param seen: rows already logged (``(column, date ns)``); updated, and its rows
        are dropped too.  A dry-run passes one set for its lifetime, so a row is logged
        once, not every candle, and stays dropped when freqtrade's sliding window leaves
        too few rows before it for the jump rule.
    :return: ``values`` itself when nothing is dropped, else a copy.
    """
    if seen:  # once dropped, always dropped: a row near a window's start has less past
        drop = drop | np.fromiter(((column, int(t)) in seen for t in ns), dtype=bool, count=len(ns))
    if not drop.any():
        return values
    rows = np.flatnonzero(drop)
    # a NaN is missing, not bad: nothing to report, and not kept dropped (it may arrive)
    new = [
        i
        for i in rows
        if not np.isnan(values[i]) and (seen is None or (column, int(ns[i])) not in seen)
    ]
    if seen is not None:
        seen.update((column, int(ns[i])) for i in new)
    for i in new[:QUARANTINE_LOG_ROWS]:
        logger.warning(
            "%s [%s]: %s=%r at row %d (date %s) dropped: zero, negative, non-finite or "
            "beyond %g× the median of the %d rows before; read as missing for that candle.",
            pair,
            source,
            column,
            float(values[i]),
            first + int(i),
            pd.Timestamp(int(ns[i]), tz="UTC"),
            JUMP_MAX_RATIO,
            JUMP_WINDOW,
        )
    if len(new) > QUARANTINE_LOG_ROWS:
        logger.warning(
            "%s [%s]: %d more %s row(s) dropped the same way.",
            pair,
            source,
            len(new) - QUARANTINE_LOG_ROWS,
            column,
        )
    out = np.array(values, dtype=np.float64, copy=True)
    out[rows] = np.nan
    return out


def oi_needs_value(amount: np.ndarray | None, value: np.ndarray) -> np.ndarray:
    """Rows known only in USD: value present, amount missing (or no amount column).

    :param amount: ``open_interest_amount`` (None: the frame has no such column).
    :param value: ``open_interest_value``.
    :return: mask of the rows :func:`liq_signals.data.oi_sources.amount_from_value`
        converts.
    """
    need = ~np.isnan(value)
    return need if amount is None else need & np.isnan(amount)


def _log_gaps(ns: np.ndarray, timeframe_s: int, pair: str, source: str, first_date) -> None:
    """Count and log gaps between candles (allowed: the book decays over real time).

    :param first_date: row position -> the date to print for the first gap.
    """
    step = np.diff(ns) // 1_000_000_000
    gaps = step > timeframe_s
    if gaps.any():
        logger.info(
            "%s [%s]: %d gap(s) between candles (%d candle(s) missing, first after %s); "
            "the book decays over the real elapsed time.",
            pair,
            source,
            int(gaps.sum()),
            int((step[gaps] // timeframe_s - 1).sum()),
            first_date(_first_bad(gaps)),
        )


def _check_candle_values(candles: pd.DataFrame, pair: str, source: str) -> None:
    """The per-row rules of :func:`validate_candles`, in order: prices, high ≥ low, open
    and close inside the range, no implausible jump, volume."""
    fix = "re-download the candles (freqtrade download-data --erase) or drop the row"

    def refuse(what: str, pos: int) -> LiqInputError:
        return _fail(pair, source, f"{what} at {_where(candles, pos)}", fix)

    def prices(col: str) -> np.ndarray:
        return candles[col].to_numpy(dtype=np.float64, na_value=np.nan)

    for col in ("open", "high", "low", "close"):
        vals = prices(col)
        if (pos := _first_row(bad_prices(vals))) is not None:
            raise refuse(f"{col}={float(vals[pos])!r} (NaN/non-positive)", pos)
    high, low, close = prices("high"), prices("low"), prices("close")
    if (pos := _first_row(high_below_low(high, low))) is not None:
        raise refuse(f"high {high[pos]} < low {low[pos]}", pos)
    for col in ("open", "close"):
        vals = prices(col)
        if (pos := _first_row(outside_range(vals, high, low))) is not None:
            raise refuse(f"{col} {vals[pos]} outside [low {low[pos]}, high {high[pos]}]", pos)
    median = past_median(close)
    for col in ("open", "high", "low", "close"):
        vals = prices(col)
        if (pos := _first_row(implausible_jumps(vals, median=median))) is not None:
            raise _fail(
                pair,
                source,
                f"{col}={float(vals[pos])!r} at {_where(candles, pos)} is beyond "
                f"{JUMP_MAX_RATIO:g}× the median of the {JUMP_WINDOW} closes before",
                fix,
            )
    vol = prices("volume")
    if (pos := _first_row(bad_volumes(vol))) is not None:
        raise refuse(f"volume={float(vol[pos])!r} (NaN/negative)", pos)


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
    source = source_name(candles, source)
    _check_columns(candles, CANDLE_COLUMNS, pair, source)
    if len(candles) == 0:
        raise _fail(pair, source, "no candles", "download data first (freqtrade download-data)")
    ns = _check_dates(candles, pair, source)
    _check_numeric(candles, CANDLE_COLUMNS[1:], pair, source)
    _check_candle_values(candles, pair, source)
    if timeframe_s and len(ns) > 1:
        _log_gaps(ns, timeframe_s, pair, source, lambda pos: candles["date"].iloc[pos])
    return ns


def validate_open_interest(
    oi: pd.DataFrame, *, pair: str, source: str = "open_interest", timeframe_s: int | None = None
) -> np.ndarray:
    """Check an open-interest frame (freqtrade ``open_interest`` candle type).

    :param timeframe_s: the candles' timeframe; when given, the series' date steps are
        checked against it (:func:`bad_oi_steps`).
    :return: dates in int64 ns (NaN amounts are kept: they become volume-mode candles;
        bad values are :func:`quarantined_oi` by the caller, row by row).
    :raise LiqInputError: missing or non-numeric columns, bad dates, a step that does not
        fit the candles.
    """
    source = source_name(oi, source)
    _check_columns(oi, OI_COLUMNS, pair, source)
    ns = _check_dates(oi, pair, source)
    _check_numeric(oi, [c for c in (OI_AMOUNT, OI_VALUE) if c in oi.columns], pair, source)
    if timeframe_s:
        bad_step = bad_oi_steps(ns, timeframe_s)
        if bad_step.any():
            pos = _first_bad(bad_step) + 1
            gap = pd.Timedelta(int(ns[pos] - ns[pos - 1]), unit="ns")
            raise _fail(
                pair,
                source,
                f"open-interest step {gap} at {_where(oi, pos)} is not a whole multiple of "
                f"the candles' {timeframe_s}s timeframe or of the series' own smallest step",
                "use an open_interest file of the candles' timeframe or a coarser multiple "
                "of it (e.g. 1h under 5m candles)",
            )
    amount = oi[OI_AMOUNT].to_numpy(dtype=np.float64, na_value=np.nan)
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


def open_interest_contracts(
    open_interest: pd.DataFrame,
    candles: pd.DataFrame,
    *,
    pair: str,
    timeframe_s: int | None = None,
) -> pd.DataFrame:
    """``open_interest`` with ``open_interest_amount`` wherever the USD value is known.

    freqtrade's ``open_interest`` frames may hold only the USD value (the amount column
    all-NaN, or absent from a hand-made frame); the model needs contracts (docs/model.md).
    Rows with a value but no amount get value ÷ the open of the candle starting at the
    snapshot time (:func:`liq_signals.data.oi_sources.fill_open_interest_amount`, which
    logs how many).  Call it after :func:`validate_candles` and before
    :func:`validate_open_interest`.

    :param open_interest: the frame as given.
    :param candles: validated candles of the pair (their opens price the conversion).
    :param pair: pair name for messages.
    :param timeframe_s: the candles' timeframe; when the series is coarser (its smallest
        step is longer), row T is the value at T + step and is priced with the open of the
        candle starting then (:func:`oi_as_of_ns`).
    :return: the frame itself when nothing needs converting (or it has no value column:
        :func:`validate_open_interest` then names what is missing), else a converted copy.
    :raise LiqInputError: bad dates.  A value-only row whose value is not > 0 USD gives a
        non-positive or NaN amount, which the open-interest quarantine drops.
    """
    if not isinstance(open_interest, pd.DataFrame) or OI_VALUE not in open_interest.columns:
        return open_interest
    o_ns = validate_dates(open_interest, pair=pair, source="open_interest")
    has_amount = OI_AMOUNT in open_interest.columns
    value = open_interest[OI_VALUE].to_numpy(dtype=np.float64, na_value=np.nan)
    amount = (
        open_interest[OI_AMOUNT].to_numpy(dtype=np.float64, na_value=np.nan) if has_amount else None
    )
    need = oi_needs_value(amount, value)
    if not need.any():
        return open_interest if has_amount else open_interest.assign(**{OI_AMOUNT: np.nan})
    return fill_open_interest_amount(
        open_interest, candles, pair=pair, as_of_ns=oi_as_of_ns(o_ns, timeframe_s or 0)
    )


def oi_as_of_ns(ns: np.ndarray, timeframe_s: int) -> int:
    """How long after its stamp an open-interest row's value holds, in ns: its period when
    the series is coarser than the candles (row T of an hourly file is the value at
    T + 1h), else 0 (a snapshot at T, as the candles' own timeframe is read)."""
    if len(ns) < 2 or not timeframe_s:
        return 0
    step = int(np.diff(ns).min())
    return step if step > timeframe_s * 1_000_000_000 else 0


def validate_mark(mark: pd.DataFrame, *, pair: str, source: str = "mark") -> np.ndarray:
    """Check mark-price candles (``date, high, low``); return dates in int64 ns.

    Bad rows (NaN/non-positive prices, high < low, jumps) are :func:`quarantined_mark`
    by the caller: those candles use trade high/low.

    :raise LiqInputError: missing or non-numeric columns, bad dates.
    """
    source = source_name(mark, source)
    _check_columns(mark, MARK_COLUMNS, pair, source)
    ns = _check_dates(mark, pair, source)
    _check_numeric(mark, MARK_COLUMNS[1:], pair, source)
    return ns


def validate_metrics(metrics: pd.DataFrame, *, pair: str, source: str = "metrics") -> np.ndarray:
    """Check the metrics sidecar (``date`` plus optional taker / long-short columns).

    Bad taker values are :func:`quarantined_taker_ratios` by the caller (no tilt, stale).

    :raise LiqInputError: missing date, bad dates, a non-numeric taker column.
    """
    source = source_name(metrics, source)
    _check_columns(metrics, ("date",), pair, source)
    ns = _check_dates(metrics, pair, source)
    _check_numeric(
        metrics, [c for c in (TAKER_RATIO, TAKER_NET_BASE) if c in metrics], pair, source
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
    t = ns[max(first - 1, 0) :]
    if not dates_ok(t):
        return False
    if bad_candle_rows(ohlcv, first).any():
        return False
    if timeframe_s and len(t) > 1:
        _log_gaps(t, timeframe_s, pair, source, lambda pos: pd.Timestamp(int(t[pos]), tz="UTC"))
    return True


def dates_ok(ns: np.ndarray) -> bool:
    """No NaT and strictly increasing (:func:`missing_dates`, :func:`unordered_dates`).

    :param ns: dates as int64 nanoseconds.
    """
    return not (missing_dates(ns).any() or unordered_dates(ns).any())
