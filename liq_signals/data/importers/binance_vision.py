"""Binance Vision daily ``metrics`` files: where they are, how to read them, their quirks.

The archive (``{base}/data/futures/um/daily/metrics/{SYMBOL}/{SYMBOL}-metrics-{YYYY-MM-DD}.zip``
plus ``.zip.CHECKSUM``) holds one zipped CSV per symbol and day, 5-minute snapshots::

    create_time,symbol,sum_open_interest,sum_open_interest_value,
    count_toptrader_long_short_ratio,sum_toptrader_long_short_ratio,
    count_long_short_ratio,sum_taker_long_short_vol_ratio
    2024-01-01 00:05:00,BTCUSDT,73105.1190000000000000,3099574640.4869940000000000,...

This module is pure: bytes in, frames and counts out.  Downloading, resuming and writing
live in :mod:`liq_signals.data.importers.metrics_import`.  Every repair it makes is counted in a
:class:`QuirkCounts` so the importer can log its extent (STYLE "check input once").
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

from liq_signals import columns as C
from liq_signals.columns import OI_AMOUNT, OI_VALUE
from liq_signals.data import sidecar
from liq_signals.errors import ConfigError, FetchError

#: The public archive host root (a user default only; tests point elsewhere).
ARCHIVE_BASE_URL = "https://data.binance.vision"
#: Sampling period of the metrics files.
METRICS_TIMEFRAME = "5m"
METRICS_PERIOD = pd.Timedelta(minutes=5)
_PERIOD_MS = 300_000

CREATE_TIME = "create_time"
SYMBOL = "symbol"
SUM_OPEN_INTEREST = "sum_open_interest"
SUM_OPEN_INTEREST_VALUE = "sum_open_interest_value"
COUNT_TOPTRADER_LS_RATIO = "count_toptrader_long_short_ratio"
SUM_TOPTRADER_LS_RATIO = "sum_toptrader_long_short_ratio"
COUNT_LS_RATIO = "count_long_short_ratio"
SUM_TAKER_LS_VOL_RATIO = "sum_taker_long_short_vol_ratio"

#: Header of a metrics CSV, in file order.
METRICS_CSV_COLUMNS: tuple[str, ...] = (
    CREATE_TIME,
    SYMBOL,
    SUM_OPEN_INTEREST,
    SUM_OPEN_INTEREST_VALUE,
    COUNT_TOPTRADER_LS_RATIO,
    SUM_TOPTRADER_LS_RATIO,
    COUNT_LS_RATIO,
    SUM_TAKER_LS_VOL_RATIO,
)

#: freqtrade's open-interest columns.
OI_COLUMNS: tuple[str, ...] = (OI_AMOUNT, OI_VALUE)

#: Archive ratio column -> sidecar column.  The archive's names are terse: ``count_*`` are
#: account-count ratios, ``sum_*`` position/volume-weighted ones (the REST endpoints
#: topLongShortAccountRatio, topLongShortPositionRatio, globalLongShortAccountRatio and
#: takerlongshortRatio publish the same numbers).
RATIO_TO_SIDECAR: dict[str, str] = {
    SUM_TAKER_LS_VOL_RATIO: C.TAKER_RATIO,
    COUNT_TOPTRADER_LS_RATIO: C.TOP_TRADER_LS_RATIO_ACCOUNTS,
    SUM_TOPTRADER_LS_RATIO: C.TOP_TRADER_LS_RATIO_POSITIONS,
    COUNT_LS_RATIO: C.GLOBAL_LS_RATIO,
}
#: Columns of a cleaned day: date, OI amount/value, the sidecar ratio columns.
CLEAN_COLUMNS: tuple[str, ...] = (sidecar.DATE, *OI_COLUMNS, *RATIO_TO_SIDECAR.values())

_NUMERIC_COLUMNS = METRICS_CSV_COLUMNS[2:]
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class ArchiveError(FetchError):
    """An archive file that cannot be used; the message names the file."""


class ChecksumMismatch(ArchiveError):
    """A downloaded file whose SHA-256 differs from the published ``.CHECKSUM``."""


class CorruptArchive(ArchiveError):
    """A file that is not a readable zip holding one metrics CSV of the expected shape."""


#: decompressed size cap of one daily CSV (a real day of 5m metrics is ~40 KB)
MAX_CSV_BYTES = 16 * 2**20


def binance_symbol(pair: str) -> str:
    """Binance's id of a USDⓈ-M linear contract from a freqtrade pair.

    ``BTC/USDT:USDT`` -> ``BTCUSDT``; ``1000PEPE/USDT:USDT`` -> ``1000PEPEUSDT``.  Dated
    delivery contracts (``BTC/USDT:USDT-240329``) have no daily metrics and are refused.

    :param pair: freqtrade futures pair
    :return: the archive's symbol
    :raise ConfigError: for anything that is not ``BASE/QUOTE:SETTLE`` with SETTLE == QUOTE
    """
    try:
        base_quote, settle = pair.split(":")
        base, quote = base_quote.split("/")
    except ValueError:
        raise ConfigError(f"pair {pair!r} is not a futures pair like BTC/USDT:USDT") from None
    if not base or settle != quote:
        raise ConfigError(f"pair {pair!r}: only USDⓈ-M perpetuals (BASE/QUOTE:QUOTE) have metrics")
    return f"{base}{quote}".upper()


def metrics_file_name(symbol: str, day: date) -> str:
    """``BTCUSDT-metrics-2024-01-01.zip``."""
    return f"{symbol}-metrics-{day.isoformat()}.zip"


def metrics_path(symbol: str, day: date) -> str:
    """Path of a day's zip below the archive root (no leading slash)."""
    return f"data/futures/um/daily/metrics/{symbol}/{metrics_file_name(symbol, day)}"


def metrics_url(base_url: str, symbol: str, day: date) -> str:
    """URL of a day's zip; its checksum is the same URL + ``.CHECKSUM``."""
    return f"{base_url.rstrip('/')}/{metrics_path(symbol, day)}"


def checksum_text(data: bytes, name: str) -> str:
    """The ``.CHECKSUM`` body Binance publishes for ``data``: ``<sha256 hex>  <name>``."""
    return f"{hashlib.sha256(data).hexdigest()}  {name}\n"


def verify_checksum(data: bytes, published: str, name: str) -> str:
    """Check ``data`` against a published ``.CHECKSUM`` body.

    :param data: the downloaded zip
    :param published: text of the ``.CHECKSUM`` file (``<hex>  <file name>``)
    :param name: file name, for messages
    :return: the verified hex digest
    :raise ChecksumMismatch: the digests differ, or the checksum file is unreadable
    """
    parts = published.split()
    if not parts or len(parts[0]) != 64:
        raise ChecksumMismatch(f"{name}: unreadable .CHECKSUM file: {published[:80]!r}")
    expected = parts[0].lower()
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ChecksumMismatch(
            f"{name}: checksum mismatch (published {expected}, downloaded file {actual}); "
            "the download is corrupt or the mirror is stale — nothing from it was written"
        )
    return actual


def read_metrics_zip(data: bytes, name: str, symbol: str) -> pd.DataFrame:
    """Parse one daily metrics zip into typed columns.

    Empty cells become NaN (a real quirk: ratio columns are blank on some days); any other
    unparsable cell is an error.

    :param data: zip bytes
    :param name: file name, for messages
    :param symbol: expected ``symbol`` column value
    :return: frame with ``date`` (UTC) and the six numeric archive columns, in file order
    :raise CorruptArchive: not a zip, not exactly one CSV inside, a CSV inflating beyond
        :data:`MAX_CSV_BYTES`, wrong header, a bad
        timestamp or number (naming the first bad row, 1-based as in the CSV incl. header),
        or a row of another symbol
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = [m for m in zf.namelist() if not m.endswith("/")]
            if len(members) != 1 or not members[0].lower().endswith(".csv"):
                raise CorruptArchive(f"{name}: expected one CSV inside, found {members}")
            # read at most the cap (+1 byte to notice more): the size in the zip's own
            # header is the sender's word, so a zip bomb is cut off while inflating
            with zf.open(members[0]) as fh:
                text = fh.read(MAX_CSV_BYTES + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise CorruptArchive(f"{name}: not a readable zip file ({exc})") from exc
    if len(text) > MAX_CSV_BYTES:
        raise CorruptArchive(
            f"{name}: the CSV inflates beyond {MAX_CSV_BYTES // 2**20} MiB (a day of 5m "
            "metrics is ~40 KB); refusing it"
        )
    first_line = text.split(b"\n", 1)[0].decode("utf-8", "replace").strip().lstrip("\ufeff")
    has_header = first_line.startswith(CREATE_TIME)
    if has_header and tuple(c.strip() for c in first_line.split(",")) != METRICS_CSV_COLUMNS:
        raise CorruptArchive(
            f"{name}: unexpected header {first_line!r}; expected {','.join(METRICS_CSV_COLUMNS)}"
        )
    try:
        raw = pd.read_csv(
            io.BytesIO(text),
            header=0 if has_header else None,
            names=list(METRICS_CSV_COLUMNS),
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=True,
        )
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CorruptArchive(f"{name}: unreadable CSV ({exc})") from exc
    line_offset = 2 if has_header else 1
    if raw[SUM_TAKER_LS_VOL_RATIO].isna().any():
        row = int(np.flatnonzero(raw[SUM_TAKER_LS_VOL_RATIO].isna().to_numpy())[0])
        raise CorruptArchive(f"{name}: line {row + line_offset} has fewer than 8 fields")
    stamps = pd.to_datetime(raw[CREATE_TIME].str.strip(), format=_TIME_FORMAT, errors="coerce")
    if stamps.isna().any():
        row = int(np.flatnonzero(stamps.isna().to_numpy())[0])
        raise CorruptArchive(
            f"{name}: line {row + line_offset}: bad create_time {raw[CREATE_TIME].iloc[row]!r}"
        )
    wrong_symbol = raw[SYMBOL].str.strip() != symbol
    if wrong_symbol.any():
        row = int(np.flatnonzero(wrong_symbol.to_numpy())[0])
        raise CorruptArchive(
            f"{name}: line {row + line_offset}: symbol {raw[SYMBOL].iloc[row]!r}, expected {symbol}"
        )
    out = pd.DataFrame({sidecar.DATE: stamps.dt.tz_localize("UTC").dt.as_unit("ms")})
    for col in _NUMERIC_COLUMNS:
        cells = raw[col].str.strip()
        values = pd.to_numeric(cells.where(cells != ""), errors="coerce")
        bad = values.isna() & (cells != "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise CorruptArchive(
                f"{name}: line {row + line_offset}: {col} is not a number: {cells.iloc[row]!r}"
            )
        out[col] = values.astype("float64")
    negative = (out[SUM_OPEN_INTEREST] < 0) | (out[SUM_OPEN_INTEREST_VALUE] < 0)
    if negative.any():
        row = int(np.flatnonzero(negative.to_numpy())[0])
        raise CorruptArchive(f"{name}: line {row + line_offset}: negative open interest")
    return out


@dataclass
class QuirkCounts:
    """How often each archive quirk was met and repaired (all counts are rows unless named).

    :ivar files: metrics files read
    :ivar duplicated_rows: rows dropped because their timestamp repeats within a file (the
        first is kept)
    :ivar conflicting_duplicates: of those, rows whose values differed from the kept one
    :ivar out_of_order_rows: rows whose timestamp is earlier than the row before (sorted)
    :ivar off_grid_rows: rows not on the 5-minute grid (dropped: a snapshot cannot be placed
        on a candle without guessing)
    :ivar zero_open_interest_rows: rows with open interest 0 or empty (OI treated as missing:
        the row is absent from the open_interest file, its ratios are kept)
    :ivar spill_rows: rows stamped outside the file's own UTC day (kept only where the
        owning day's file has no value)
    :ivar empty_ratio_cells: blank ratio cells, per sidecar column (left NaN)
    :ivar empty_ratio_days: files in which a ratio column is entirely blank, per column
    :ivar gaps: holes of one or more missing 5-minute snapshots between imported rows
    :ivar missing_slots: 5-minute snapshots missing inside those holes (left missing, not
        filled; whole 404 days included)
    """

    files: int = 0
    duplicated_rows: int = 0
    conflicting_duplicates: int = 0
    out_of_order_rows: int = 0
    off_grid_rows: int = 0
    zero_open_interest_rows: int = 0
    spill_rows: int = 0
    empty_ratio_cells: dict[str, int] = field(default_factory=dict)
    empty_ratio_days: dict[str, int] = field(default_factory=dict)
    gaps: int = 0
    missing_slots: int = 0

    def add(self, other: QuirkCounts) -> None:
        """Accumulate ``other`` into this one."""
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if isinstance(mine, dict):
                for key, value in theirs.items():
                    mine[key] = mine.get(key, 0) + value
            else:
                setattr(self, f.name, mine + theirs)

    def summary(self) -> list[str]:
        """One human line per quirk met (nothing for quirks with a zero count)."""
        lines = []
        if self.duplicated_rows:
            lines.append(
                f"{self.duplicated_rows} duplicated rows dropped (first kept; "
                f"{self.conflicting_duplicates} had different values)"
            )
        if self.out_of_order_rows:
            lines.append(f"{self.out_of_order_rows} rows out of order (sorted)")
        if self.off_grid_rows:
            lines.append(f"{self.off_grid_rows} rows off the 5-minute grid (dropped)")
        if self.zero_open_interest_rows:
            lines.append(
                f"{self.zero_open_interest_rows} rows with zero/empty open interest "
                "(treated as missing OI; ratios kept)"
            )
        if self.spill_rows:
            lines.append(
                f"{self.spill_rows} rows stamped outside their file's day (used only where "
                "the owning day has no value)"
            )
        for col, n in sorted(self.empty_ratio_cells.items()):
            days = self.empty_ratio_days.get(col, 0)
            lines.append(f"{n} empty {col} cells left NaN ({days} files with the column empty)")
        if self.gaps:
            lines.append(
                f"{self.gaps} gaps, {self.missing_slots} missing 5m snapshots (left missing)"
            )
        return lines


@dataclass(frozen=True)
class CleanDay:
    """A day's rows split by ownership.

    :ivar own: rows stamped inside the file's UTC day, columns :data:`CLEAN_COLUMNS`
    :ivar spill: rows stamped outside it (same columns)
    :ivar counts: the quirks met in this file
    """

    own: pd.DataFrame
    spill: pd.DataFrame
    counts: QuirkCounts


def clean_day(raw: pd.DataFrame, day: date) -> CleanDay:
    """Repair one parsed file's quirks, counting each, and map it to freqtrade/sidecar names.

    Order matters and is fixed: off-grid rows are dropped, rows are sorted (stable, so the
    file's first occurrence of a timestamp stays first), duplicates dropped keeping the
    first, zero OI set to NaN, then rows are split into own-day and spill.

    :param raw: output of :func:`read_metrics_zip`
    :param day: the UTC day the file is named for
    :return: the cleaned day
    """
    counts = QuirkCounts(files=1)
    stamps = raw[sidecar.DATE]
    on_grid = (stamps.dt.as_unit("ms").astype("int64") % _PERIOD_MS) == 0
    counts.off_grid_rows = int((~on_grid).sum())
    frame = raw.loc[on_grid]
    ts = frame[sidecar.DATE].astype("int64").to_numpy()
    counts.out_of_order_rows = int((np.diff(ts) < 0).sum()) if len(ts) > 1 else 0
    if counts.out_of_order_rows:
        frame = frame.sort_values(sidecar.DATE, kind="stable")
    dup = frame[sidecar.DATE].duplicated(keep="first")
    counts.duplicated_rows = int(dup.sum())
    if counts.duplicated_rows:
        value_cols = list(_NUMERIC_COLUMNS)
        distinct = frame.drop_duplicates(subset=[sidecar.DATE, *value_cols], keep="first")
        counts.conflicting_duplicates = int(distinct[sidecar.DATE].duplicated().sum())
        frame = frame.loc[~dup]
    out = pd.DataFrame({sidecar.DATE: frame[sidecar.DATE].to_numpy()})
    amount = frame[SUM_OPEN_INTEREST].to_numpy(dtype="float64")
    value = frame[SUM_OPEN_INTEREST_VALUE].to_numpy(dtype="float64")
    missing_oi = ~(amount > 0) | ~(value > 0)
    counts.zero_open_interest_rows = int(missing_oi.sum())
    out[OI_AMOUNT] = np.where(missing_oi, np.nan, amount)
    out[OI_VALUE] = np.where(missing_oi, np.nan, value)
    for archive_col, side_col in RATIO_TO_SIDECAR.items():
        values = frame[archive_col].to_numpy(dtype="float64")
        empty = int(np.isnan(values).sum())
        if empty:
            counts.empty_ratio_cells[side_col] = empty
            if empty == len(values):
                counts.empty_ratio_days[side_col] = 1
        out[side_col] = values
    day_start = pd.Timestamp(day, tz="UTC")
    day_end = day_start + pd.Timedelta(days=1)
    own_mask = (out[sidecar.DATE] >= day_start) & (out[sidecar.DATE] < day_end)
    counts.spill_rows = int((~own_mask).sum())
    return CleanDay(
        own=out.loc[own_mask].reset_index(drop=True),
        spill=out.loc[~own_mask].reset_index(drop=True),
        counts=counts,
    )


def count_gaps(dates: pd.Series) -> tuple[int, int]:
    """Holes in a sorted series of 5-minute stamps.

    :param dates: sorted, unique UTC timestamps
    :return: (number of holes, number of missing 5-minute snapshots inside them)
    """
    if len(dates) < 2:
        return 0, 0
    steps = np.diff(dates.dt.as_unit("ms").astype("int64").to_numpy()) // _PERIOD_MS
    holes = steps > 1
    return int(holes.sum()), int((steps[holes] - 1).sum())


def utc_days(start: datetime, stop: datetime) -> list[date]:
    """UTC days whose files cover ``[start, stop)``.

    :param start: inclusive, tz-aware
    :param stop: exclusive, tz-aware
    :return: days in order
    """
    first = start.astimezone(UTC).date()
    last = (stop.astimezone(UTC) - timedelta(microseconds=1)).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
