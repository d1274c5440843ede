"""Import Binance Vision daily metrics into a freqtrade datadir.

For each pair and UTC day: download the zip and its ``.CHECKSUM`` (in parallel, bounded),
verify, parse, repair the archive's quirks (counted, see
:class:`~liq_signals.data.importers.binance_vision.QuirkCounts`), then merge into

* freqtrade's own ``<PAIR>-5m-open_interest.feather`` (written by freqtrade's data handler;
  ``open_interest_amount`` = ``sum_open_interest`` in contracts/base units,
  ``open_interest_value`` = ``sum_open_interest_value`` in USD), and
* the sidecar ``<PAIR>-5m-metrics.arrow`` for the ratios (:mod:`liq_signals.data.sidecar`).

Resuming: a small manifest per symbol (``<datadir>/futures/.binance-vision/<SYMBOL>-metrics.json``)
lists the days whose rows are on disk; it is written after the data files, so a crash
between the two only makes the next run redo (idempotently) a chunk.  Days the archive
does not have (404) are reported and asked for again on the next run.

Merge rule, which makes any sequence of overlapping runs equal a one-shot import: for every
(timestamp, column), a value from the file of the day that owns the timestamp wins; else
what is already on disk; else a value that spilled from a neighbouring day's file.  A NaN
never erases a known value.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from liq_signals.atomic import atomic_path, atomic_write_text
from liq_signals.data import sidecar
from liq_signals.data.importers import binance_vision as bv
from liq_signals.data.importers.archive_http import DownloadError, Fetcher, RetryPolicy
from liq_signals.errors import ConfigError, InputError
from liq_signals.timeframes import timeframe_ms, timeframe_seconds

logger = logging.getLogger(__name__)

MANIFEST_DIR = ".binance-vision"
_MANIFEST_VERSION = 1
_TMP_PREFIX = ".liq-import-"


@dataclass(frozen=True)
class ImportConfig:
    """What to import and how.

    :param pairs: freqtrade futures pairs, e.g. ``("BTC/USDT:USDT",)``
    :param start: first instant wanted (inclusive, tz-aware)
    :param stop: end (exclusive, tz-aware); the days covering ``[start, stop)`` are fetched
    :param datadir: the exchange folder, as freqtrade's ``--datadir`` (files go to ``futures/``)
    :param base_url: archive root; the real host by default, a mirror or the emulator otherwise
    :param workers: parallel downloads
    :param chunk_days: days written (and recorded for resuming) together
    :param retry: per-file retry policy
    :param progress: show a progress bar (rich)
    :param timeframes: timeframes to write ``open_interest`` files for; ``5m`` is always
        written, coarser ones (multiples of 5m, e.g. ``1h``) hold the 5m snapshots that fall
        on their grid — what Binance's ``openInterestHist`` answers for that period.  The
        sidecar is 5m only: a window ratio (taker buy/sell) of a coarser period cannot be
        rebuilt from 5m ratios
    :param force: fetch every day again, ignoring the manifest (the archive re-publishes
        repaired days; the merge keeps the result identical to a one-shot import)
    :raise ConfigError: empty pairs, ``stop <= start``, ``workers``/``chunk_days`` < 1, naive
        datetimes or a pair without daily metrics
    """

    pairs: tuple[str, ...]
    start: datetime
    stop: datetime
    datadir: Path
    base_url: str = bv.ARCHIVE_BASE_URL
    workers: int = 8
    chunk_days: int = 31
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    progress: bool = False
    timeframes: tuple[str, ...] = (bv.METRICS_TIMEFRAME,)
    force: bool = False

    def __post_init__(self) -> None:
        if not self.pairs:
            raise ConfigError("no pairs given")
        if self.start.tzinfo is None or self.stop.tzinfo is None:
            raise ConfigError("start and stop must be timezone-aware (UTC)")
        if self.stop <= self.start:
            raise ConfigError(f"empty time range: {self.start} .. {self.stop}")
        if self.workers < 1 or self.chunk_days < 1:
            raise ConfigError("workers and chunk_days must be >= 1")
        for pair in self.pairs:
            bv.binance_symbol(pair)
        for tf in self.timeframes:
            try:
                seconds = timeframe_seconds(tf)
            except ValueError as exc:
                raise ConfigError(f"bad timeframe {tf!r}: {exc}") from None
            if seconds % 300:
                raise ConfigError(f"timeframe {tf!r} is not a multiple of the archive's 5m")


@dataclass
class PairReport:
    """Outcome of one pair's import."""

    pair: str
    symbol: str
    days_requested: int = 0
    days_skipped: int = 0
    days_imported: int = 0
    missing_days: list[date] = field(default_factory=list)
    #: days whose file holds no row (header only): skipped, counted, fetched again next run
    empty_days: list[date] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    counts: bv.QuirkCounts = field(default_factory=bv.QuirkCounts)
    oi_rows: int = 0
    sidecar_rows: int = 0


@dataclass
class ImportReport:
    """Outcome of a whole import: per pair, plus request statistics."""

    pairs: list[PairReport] = field(default_factory=list)
    requests: int = 0
    retries: int = 0

    @property
    def ok(self) -> bool:
        """True when no file failed (404 days are not failures)."""
        return not any(p.failures for p in self.pairs)


@dataclass(frozen=True)
class _DayResult:
    day: date
    clean: bv.CleanDay | None = None
    sha256: str = ""
    missing: bool = False
    empty: bool = False
    error: str = ""


def oi_path(datadir: Path, pair: str, timeframe: str = bv.METRICS_TIMEFRAME) -> Path:
    """Where freqtrade keeps the pair's open interest (its own naming, feather)."""
    from freqtrade.data.history import get_datahandler
    from freqtrade.enums import CandleType

    handler = get_datahandler(datadir, "feather")
    return handler._pair_data_filename(datadir, pair, timeframe, CandleType.OPEN_INTEREST)


class Manifest:
    """Days of one symbol already on disk (and days the archive did not have).

    :param datadir: the exchange folder
    :param symbol: archive symbol
    """

    def __init__(self, datadir: Path, symbol: str) -> None:
        self.path = datadir / "futures" / MANIFEST_DIR / f"{symbol}-metrics.json"
        self.days: dict[str, dict] = {}
        self.missing: set[str] = set()

    def load(self, outputs_present: bool) -> None:
        """Read the manifest; ignore it (with a warning) if its data files are gone.

        :param outputs_present: whether the data files it describes exist
        :raise InputError: an unreadable manifest (names the file; delete it to start over)
        """
        if not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text())
            days, missing = data["days"], data["missing"]
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(
                f"{self.path}: unreadable import manifest ({exc}); delete it to re-import"
            ) from exc
        if days and not outputs_present:
            logger.warning(
                "%s lists %d imported days but their data files are gone; re-importing",
                self.path,
                len(days),
            )
            return
        self.days, self.missing = dict(days), set(missing)

    def done(self, day: date) -> bool:
        return day.isoformat() in self.days

    def record(self, results: list[_DayResult]) -> None:
        for r in results:
            key = r.day.isoformat()
            if r.missing:
                self.missing.add(key)
            elif r.clean is not None:
                self.missing.discard(key)
                self.days[key] = {"sha256": r.sha256, "rows": len(r.clean.own)}

    def save(self) -> None:
        body = {
            "version": _MANIFEST_VERSION,
            "days": dict(sorted(self.days.items())),
            "missing": sorted(self.missing),
        }
        atomic_write_text(self.path, json.dumps(body, indent=1))


def _fetch_day(fetcher: Fetcher, base_url: str, symbol: str, day: date) -> _DayResult:
    url = bv.metrics_url(base_url, symbol, day)
    name = bv.metrics_file_name(symbol, day)
    try:
        payload = fetcher.get(url)
        if payload is None:
            return _DayResult(day, missing=True)
        published = fetcher.get(url + ".CHECKSUM")
        if published is None:
            raise bv.ArchiveError(f"{name}: the archive has the file but no .CHECKSUM")
        digest = bv.verify_checksum(payload, published.decode("utf-8", "replace"), name)
        raw = bv.read_metrics_zip(payload, name, symbol)
        if raw.empty:  # a header-only file: nothing to import that day, not an error
            return _DayResult(day, empty=True, sha256=digest)
        return _DayResult(day, clean=bv.clean_day(raw, day), sha256=digest)
    except (DownloadError, bv.ArchiveError) as exc:
        return _DayResult(day, error=str(exc))


def _read_existing_oi(path: Path) -> pd.DataFrame:
    """The OI file on disk, read directly so an unreadable file stops the import.

    freqtrade's loader turns a broken file into an empty frame (and logs); merging into that
    would overwrite the user's data, hence the direct read.
    """
    if not path.exists():
        return pd.DataFrame(
            {
                sidecar.DATE: pd.Series(dtype="datetime64[ms, UTC]"),
                bv.OI_AMOUNT: pd.Series(dtype="float64"),
                bv.OI_VALUE: pd.Series(dtype="float64"),
            }
        )
    try:
        frame = pd.read_feather(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a broken file
        raise InputError(f"{path}: cannot read existing open-interest file: {exc}") from exc
    if sidecar.DATE not in frame:
        raise InputError(f"{path}: open-interest file has no 'date' column")
    dates = pd.to_datetime(frame[sidecar.DATE], utc=True).dt.as_unit("ms")
    out = pd.DataFrame({sidecar.DATE: dates})
    for col in bv.OI_COLUMNS:
        out[col] = frame[col].astype("float64") if col in frame else float("nan")
    return out


def _priority_merge(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """Cell-wise merge on ``date``: the first frame with a known value wins."""
    present = [
        f.drop_duplicates(sidecar.DATE).set_index(sidecar.DATE)[columns]
        for f in frames
        if not f.empty
    ]
    if not present:
        return pd.DataFrame(columns=[sidecar.DATE, *columns])
    merged = present[0]
    for other in present[1:]:
        merged = merged.combine_first(other)
    return merged.reindex(columns=columns).astype("float64").sort_index().reset_index()


def _store_oi(
    datadir: Path, pair: str, frame: pd.DataFrame, timeframe: str = bv.METRICS_TIMEFRAME
) -> Path:
    """Write the OI frame with freqtrade's handler into a temp datadir, then swap it in."""
    from freqtrade.data.history import get_datahandler
    from freqtrade.enums import CandleType

    final = oi_path(datadir, pair, timeframe)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp_root = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=final.parent))
    try:
        handler = get_datahandler(tmp_root, "feather")
        handler.ohlcv_store(pair, timeframe, frame, CandleType.OPEN_INTEREST)
        with atomic_path(final) as tmp:
            os.replace(oi_path(tmp_root, pair, timeframe), tmp)
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    return final


def _write_chunk(
    datadir: Path, pair: str, results: list[_DayResult], timeframes: tuple[str, ...]
) -> tuple[int, int]:
    """Merge one chunk of days into the OI file and the sidecar. Returns their row counts."""
    cleans = [r.clean for r in results if r.clean is not None]
    if not cleans:
        return -1, -1
    own = pd.concat([c.own for c in cleans], ignore_index=True)
    spill = pd.concat([c.spill for c in cleans], ignore_index=True)
    oi_cols = list(bv.OI_COLUMNS)
    path = oi_path(datadir, pair)
    oi = _priority_merge([own, _read_existing_oi(path), spill], oi_cols)
    oi = oi.loc[oi[oi_cols].notna().any(axis=1)].reset_index(drop=True)
    side_cols = list(bv.RATIO_TO_SIDECAR.values())
    existing_side = sidecar.read_sidecar(datadir, pair, bv.METRICS_TIMEFRAME)
    own_side = sidecar.validate_sidecar(own[[sidecar.DATE, *side_cols]], f"{pair} import")
    spill_side = sidecar.validate_sidecar(
        spill[[sidecar.DATE, *side_cols]].drop_duplicates(sidecar.DATE), f"{pair} import"
    )
    merged = sidecar.merge_sidecar(existing_side, own_side, new_wins=True)
    merged = sidecar.merge_sidecar(merged, spill_side, new_wins=False)
    # Write the sidecar first: the OI file is what tells a user "imported", and both
    # writes are atomic, so a crash between them leaves a consistent (older) OI file.
    sidecar.write_sidecar(datadir, pair, bv.METRICS_TIMEFRAME, merged, merge=False)
    if not oi.empty:
        _store_oi(datadir, pair, oi)
        _store_coarser_oi(datadir, pair, oi, timeframes)
    return len(oi), len(merged)


def _store_coarser_oi(
    datadir: Path, pair: str, oi_5m: pd.DataFrame, timeframes: tuple[str, ...]
) -> None:
    """OI files of coarser timeframes: the 5m snapshots on their grid, merged over what is
    there (e.g. freqtrade's own 1h download) with the same "known value wins" rule."""
    oi_cols = list(bv.OI_COLUMNS)
    stamps_ms = oi_5m[sidecar.DATE].dt.as_unit("ms").astype("int64")
    for tf in timeframes:
        if tf == bv.METRICS_TIMEFRAME:
            continue
        on_grid = oi_5m.loc[(stamps_ms % timeframe_ms(tf)) == 0]
        existing = _read_existing_oi(oi_path(datadir, pair, tf))
        merged = _priority_merge([on_grid, existing], oi_cols)
        if not merged.empty:
            _store_oi(datadir, pair, merged, tf)


def _remove_stale_temps(datadir: Path) -> None:
    folder = datadir / "futures"
    if not folder.is_dir():
        return
    stale = list(folder.glob(f"{_TMP_PREFIX}*")) + list(folder.glob(".*.tmp"))
    stale += list((folder / MANIFEST_DIR).glob(".*.tmp"))
    for p in stale:
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    if stale:
        logger.info("removed %d temporary files left by an interrupted run", len(stale))


@contextmanager
def _progress_bar(enabled: bool, total: int) -> Iterator:
    if not enabled:
        yield lambda _n=1: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("metrics"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=False,
    ) as bar:
        task = bar.add_task("days", total=total)
        yield lambda n=1: bar.advance(task, n)


def import_metrics(config: ImportConfig) -> ImportReport:
    """Run an import (see the module docstring).

    :param config: what to import
    :return: per-pair report; failed files are listed there (the run goes on past them so
        every good day is kept), 404 days in ``missing_days``
    :raise InputError: an unreadable existing data file or manifest (names the file) —
        nothing is written for that pair
    """
    datadir = Path(config.datadir)
    days = bv.utc_days(config.start, config.stop)
    fetcher = Fetcher(config.retry)
    report = ImportReport()
    _remove_stale_temps(datadir)
    with (
        ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="vision") as pool,
        _progress_bar(config.progress, len(days) * len(config.pairs)) as advance,
    ):
        for pair in config.pairs:
            report.pairs.append(_import_pair(config, datadir, pair, days, fetcher, pool, advance))
    report.requests, report.retries = fetcher.requests, fetcher.retries
    return report


def _import_pair(
    config: ImportConfig,
    datadir: Path,
    pair: str,
    days: list[date],
    fetcher: Fetcher,
    pool: ThreadPoolExecutor,
    advance,  # noqa: ANN001 - progress callback
) -> PairReport:
    symbol = bv.binance_symbol(pair)
    rep = PairReport(pair=pair, symbol=symbol, days_requested=len(days))
    manifest = Manifest(datadir, symbol)
    side_file = sidecar.sidecar_path(datadir, pair, bv.METRICS_TIMEFRAME)
    manifest.load(outputs_present=side_file.exists())
    todo = list(days) if config.force else [d for d in days if not manifest.done(d)]
    rep.days_skipped = len(days) - len(todo)
    advance(rep.days_skipped)
    if rep.days_skipped:
        logger.info("%s: %d days already imported (manifest), skipped", pair, rep.days_skipped)
    futures: list[Future[_DayResult]] = [
        pool.submit(_fetch_day, fetcher, config.base_url, symbol, d) for d in todo
    ]
    imported_dates: list[pd.Series] = []
    try:
        for start in range(0, len(futures), config.chunk_days):
            chunk: list[_DayResult] = []
            for fut in futures[start : start + config.chunk_days]:
                res = fut.result()
                chunk.append(res)
                advance(1)
            imported_dates += _tally(rep, chunk)
            oi_rows, side_rows = _write_chunk(datadir, pair, chunk, config.timeframes)
            if oi_rows >= 0:
                rep.oi_rows, rep.sidecar_rows = oi_rows, side_rows
            manifest.record(chunk)
            manifest.save()
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise
    if rep.days_imported == 0:  # nothing written this run: report what is on disk
        rep.oi_rows = len(_read_existing_oi(oi_path(datadir, pair)))
        rep.sidecar_rows = len(sidecar.read_sidecar(datadir, pair, bv.METRICS_TIMEFRAME))
    if imported_dates:
        stamps = pd.concat(imported_dates).drop_duplicates().sort_values()
        rep.counts.gaps, rep.counts.missing_slots = bv.count_gaps(stamps)
    _log_pair(rep)
    return rep


def _tally(rep: PairReport, chunk: list[_DayResult]) -> list[pd.Series]:
    """Count a fetched chunk into ``rep``; return the candle dates it imported."""
    dates: list[pd.Series] = []
    for res in chunk:
        if res.missing:
            rep.missing_days.append(res.day)
        elif res.empty:
            rep.empty_days.append(res.day)
        elif res.error:
            rep.failures.append(res.error)
            logger.error("%s: %s", rep.pair, res.error)
        elif res.clean is not None:
            rep.days_imported += 1
            rep.counts.add(res.clean.counts)
            dates += [res.clean.own[sidecar.DATE], res.clean.spill[sidecar.DATE]]
    return dates


def _log_pair(rep: PairReport) -> None:
    logger.info(
        "%s: %d days requested, %d already imported, %d imported, %d not in the archive, "
        "%d failed; open_interest file: %d rows, metrics sidecar: %d rows",
        rep.pair,
        rep.days_requested,
        rep.days_skipped,
        rep.days_imported,
        len(rep.missing_days),
        len(rep.failures),
        rep.oi_rows,
        rep.sidecar_rows,
    )
    if rep.missing_days:
        logger.warning(
            "%s: days not in the archive (HTTP 404): %s",
            rep.pair,
            ", ".join(d.isoformat() for d in rep.missing_days),
        )
    if rep.empty_days:
        logger.warning(
            "%s: days whose archive file holds no rows (header only), skipped: %s",
            rep.pair,
            ", ".join(d.isoformat() for d in rep.empty_days),
        )
    for line in rep.counts.summary():
        logger.info("%s: %s", rep.pair, line)
