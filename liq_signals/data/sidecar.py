"""The metrics sidecar: the public series freqtrade has no candle type for.

freqtrade stores open interest natively (``<PAIR>-<tf>-open_interest.feather``, columns
``date, open_interest_amount, open_interest_value``).  Taker flow and the long/short ratios
have no home there, so they live next to it, in the same folder and naming scheme::

    <datadir>/futures/<PAIR>-<timeframe>-metrics.arrow      e.g. BTC_USDT_USDT-5m-metrics.arrow

The file is Arrow IPC ("feather" v2, lz4, as freqtrade writes); the ``.arrow`` extension is
deliberate.  freqtrade lists a datadir by globbing ``*.feather`` and parsing the last part
of each name as a ``CandleType``; a ``-metrics.feather`` file makes that raise
``ValueError: 'metrics' is not a valid CandleType``, and futures ``backtesting``/
``download-data`` list the datadir at start-up (``migrate_data``), so they would crash.
A sidecar under the older name ``<PAIR>-<tf>-metrics.feather`` is still read (with a warning
to rename it).

Schema (every value column float64, NaN = not known for that timestamp):

=========================================  ================================================
column                                     meaning
=========================================  ================================================
``date``                                   UTC timestamp of the snapshot (candle open time)
``taker_buy_sell_ratio``                   taker buy volume / taker sell volume over the 5m
                                           window (Binance ``buySellRatio``;
                                           Vision ``sum_taker_long_short_vol_ratio``)
``top_trader_long_short_ratio_accounts``   top-trader long/short ratio by accounts
                                           (Vision ``count_toptrader_long_short_ratio``)
``top_trader_long_short_ratio_positions``  top-trader long/short ratio by positions
                                           (Vision ``sum_toptrader_long_short_ratio``)
``global_long_short_ratio``                all-accounts long/short ratio
                                           (Vision ``count_long_short_ratio``)
``taker_net_base``                         taker buy − taker sell volume in base units over
                                           the window (optional; REST ``buyVol − sellVol``)
=========================================  ================================================

A file may hold any subset of the value columns; :func:`read_sidecar` always returns all
of them (absent ones all-NaN) so callers never branch on the file's age or source.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from freqtrade.exceptions import OperationalException

from liq_signals.atomic import atomic_path
from liq_signals.columns import (
    SIDECAR_VALUE_COLUMNS,
)
from liq_signals.errors import InputError

logger = logging.getLogger(__name__)

DATE = "date"
#: Value columns of the sidecar, in file order (names declared in :mod:`liq_signals.columns`).
VALUE_COLUMNS: tuple[str, ...] = SIDECAR_VALUE_COLUMNS
#: All columns of the sidecar, in file order.
SIDECAR_COLUMNS: tuple[str, ...] = (DATE, *VALUE_COLUMNS)
#: Suffix used in place of freqtrade's candle type in the file name.
SIDECAR_KIND = "metrics"
#: Extension of the sidecar: Arrow IPC, deliberately not ``.feather`` (see module docstring).
SIDECAR_EXTENSION = "arrow"
_LEGACY_EXTENSION = "feather"
_WARNED_LEGACY: set[Path] = set()  # warn once per file, not on every dry-run candle


class SidecarError(InputError, ValueError, OperationalException):
    """A sidecar frame or file that does not follow the schema (a freqtrade
    ``OperationalException`` too: the strategy reads the sidecar, and freqtrade prints
    such an error as one line, no traceback)."""


def sidecar_path(datadir: Path | str, pair: str, timeframe: str) -> Path:
    """Where the sidecar of ``pair``/``timeframe`` lives in a freqtrade exchange datadir.

    Uses freqtrade's own pair-to-filename rule so the file sits beside the candles.

    :param datadir: the exchange folder, e.g. ``user_data/data/binance``
    :param pair: freqtrade pair, e.g. ``BTC/USDT:USDT``
    :param timeframe: e.g. ``5m``
    :return: ``<datadir>/futures/<PAIR>-<timeframe>-metrics.arrow``
    """
    return _named(datadir, pair, timeframe, SIDECAR_EXTENSION)


def legacy_sidecar_path(datadir: Path | str, pair: str, timeframe: str) -> Path:
    """The older ``-metrics.feather`` name (read for compatibility; freqtrade trips on it)."""
    return _named(datadir, pair, timeframe, _LEGACY_EXTENSION)


def _named(datadir: Path | str, pair: str, timeframe: str, extension: str) -> Path:
    from freqtrade.misc import pair_to_filename

    name = f"{pair_to_filename(pair)}-{timeframe}-{SIDECAR_KIND}.{extension}"
    return Path(datadir) / "futures" / name


def empty_sidecar() -> pd.DataFrame:
    """A typed, empty sidecar frame (never ``None`` for "no data")."""
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in VALUE_COLUMNS})
    frame.insert(0, DATE, pd.Series(dtype="datetime64[ms, UTC]"))
    return frame


def validate_sidecar(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Check a sidecar frame against the schema and return it in canonical form.

    Canonical form: columns exactly :data:`SIDECAR_COLUMNS` (absent value columns added as
    NaN), ``date`` as ``datetime64[ms, UTC]``, values float64, sorted by date.  Integer or
    float32 values are widened to float64 (lossless); nothing else is converted.

    :param frame: candidate frame
    :param source: file or pair named in error messages
    :return: the canonical frame (a copy)
    :raise SidecarError: missing ``date``, unknown columns, naive or non-datetime dates,
        non-numeric values or duplicated dates — the message names ``source`` and the first
        bad row
    """
    if DATE not in frame.columns:
        raise SidecarError(
            f"{source}: sidecar has no '{DATE}' column (columns: {list(frame.columns)})"
        )
    unknown = [c for c in frame.columns if c not in SIDECAR_COLUMNS]
    if unknown:
        raise SidecarError(
            f"{source}: unknown sidecar columns {unknown}; allowed {list(SIDECAR_COLUMNS)}"
        )
    dates = frame[DATE]
    if not isinstance(dates.dtype, pd.DatetimeTZDtype) or str(dates.dt.tz) != "UTC":
        raise SidecarError(
            f"{source}: '{DATE}' must be a UTC datetime column, got dtype {dates.dtype}"
        )
    out = pd.DataFrame({DATE: dates.dt.as_unit("ms")}, index=frame.index)
    for col in VALUE_COLUMNS:
        if col not in frame.columns:
            out[col] = np.nan
            continue
        values = frame[col]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise SidecarError(f"{source}: column '{col}' must be numeric, got {values.dtype}")
        out[col] = values.astype("float64")
    if out[DATE].isna().any():
        pos = int(np.flatnonzero(out[DATE].isna().to_numpy())[0])
        raise SidecarError(f"{source}: '{DATE}' is empty in row {pos}")
    dup = out[DATE].duplicated(keep="first")
    if dup.any():
        pos = int(np.flatnonzero(dup.to_numpy())[0])
        raise SidecarError(
            f"{source}: duplicated date {out[DATE].iloc[pos]} (row {pos}); "
            "de-duplicate before writing"
        )
    return out.sort_values(DATE, kind="stable").reset_index(drop=True)


def read_sidecar(datadir: Path | str, pair: str, timeframe: str) -> pd.DataFrame:
    """Load the sidecar of a pair, or a typed empty frame when there is none.

    :param datadir: the exchange folder
    :param pair: freqtrade pair
    :param timeframe: e.g. ``5m``
    :return: canonical sidecar frame (see :func:`validate_sidecar`)
    :raise SidecarError: the file exists but is unreadable or breaks the schema (the message
        names the file) — an unreadable file is never treated as "no data", so a later
        merge cannot overwrite it
    """
    path = sidecar_path(datadir, pair, timeframe)
    legacy = legacy_sidecar_path(datadir, pair, timeframe)
    if not path.exists() and legacy.exists():
        if legacy not in _WARNED_LEGACY:
            _WARNED_LEGACY.add(legacy)
            logger.warning(
                "%s: reading a sidecar under its old name; rename it to %s — freqtrade's "
                "datadir listing (run by futures backtesting) fails on '-metrics.feather' files",
                legacy,
                path.name,
            )
        path = legacy
    try:
        return read_sidecar_file(path)
    except SidecarError as exc:  # the strategy calls this: its message names the pair too
        raise SidecarError(f"{pair}: {exc}") from exc


def read_sidecar_file(path: Path | str) -> pd.DataFrame:
    """Load one sidecar file by path (see :func:`read_sidecar`)."""
    path = Path(path)
    if not path.exists():
        return empty_sidecar()
    try:
        frame = pd.read_feather(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a broken file
        raise SidecarError(
            f"{path}: cannot read sidecar file: {' '.join(str(exc).split())} — re-create it "
            "(liq-signals import-binance-metrics) or delete it"
        ) from exc
    frame = validate_sidecar(frame, str(path))
    frame.attrs["file"] = str(path)  # the input boundary's messages name the file
    return frame


def merge_sidecar(
    existing: pd.DataFrame, new: pd.DataFrame, *, new_wins: bool = True
) -> pd.DataFrame:
    """Merge two canonical sidecar frames on ``date``, cell by cell.

    A NaN never erases a known value: for every (date, column) the preferred frame's value
    is used when it is known, else the other frame's.  Re-running an import over an
    overlapping range therefore neither duplicates rows nor loses a column that came from
    another source (e.g. ``taker_net_base`` from REST next to ratios from the archive).

    :param existing: what is on disk
    :param new: what arrived
    :param new_wins: prefer ``new`` where both are known (``False``: only fill holes)
    :return: canonical merged frame
    """
    first, second = (new, existing) if new_wins else (existing, new)
    if first.empty:
        return second.copy()
    if second.empty:
        return first.copy()
    merged = first.set_index(DATE).combine_first(second.set_index(DATE))
    merged = merged.reindex(columns=list(VALUE_COLUMNS)).astype("float64")
    return merged.sort_index().reset_index()


def atomic_write_feather(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` so that readers see the old file or the new one, never half.

    See :func:`liq_signals.atomic.atomic_path`: on any error the previous file is untouched.

    :param frame: frame to store (freqtrade's feather settings: lz4, level 9)
    :param path: final location
    """
    with atomic_path(path) as tmp:
        frame.reset_index(drop=True).to_feather(tmp, compression="lz4", compression_level=9)


def write_sidecar(
    datadir: Path | str,
    pair: str,
    timeframe: str,
    frame: pd.DataFrame,
    *,
    merge: bool = True,
    new_wins: bool = True,
) -> Path:
    """Validate ``frame`` and store it as the pair's sidecar, atomically.

    :param datadir: the exchange folder
    :param pair: freqtrade pair
    :param timeframe: e.g. ``5m``
    :param frame: rows to store (any subset of the value columns)
    :param merge: merge with the file on disk (see :func:`merge_sidecar`); ``False``
        replaces it
    :param new_wins: with ``merge``, prefer ``frame`` where both know a value
    :return: the path written (value columns that are entirely NaN are not stored)
    :raise SidecarError: ``frame`` or the existing file breaks the schema (nothing written)
    """
    path = sidecar_path(datadir, pair, timeframe)
    new = validate_sidecar(frame, f"{pair} {timeframe} sidecar")
    if merge:
        new = merge_sidecar(read_sidecar(datadir, pair, timeframe), new, new_wins=new_wins)
    # store only the columns that hold something: a reader cannot tell "all NaN" from
    # "absent" anyway (read_sidecar adds absent columns back), and consumers that look at
    # the file's columns (the emulator, other tools) are not misled by empty ones
    empty = [c for c in VALUE_COLUMNS if new[c].isna().all()]
    atomic_write_feather(new.drop(columns=empty), path)
    return path
