"""Read everything the model can use for one pair from a freqtrade datadir.

Files are the ones ``freqtrade download-data`` writes, in any of its candle formats
(``dataformat_ohlcv``: feather, parquet, json, jsongz), named by freqtrade's rule and read
as freqtrade's data handler for that format reads one file (:func:`pair_data_path`,
:func:`read_candle_file`; the arrow formats with the same pandas reader, without importing
freqtrade's data package).  We read per file rather than with ``ohlcv_load`` because it turns an
unreadable file into an empty frame, where we want an error naming the file.  A test
checks that the frames equal freqtrade's ``ohlcv_load(fill_missing=False)`` on the
embedded data.  Nothing here fills gaps: :mod:`liq_signals.data.boundary` decides what a
gap means.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from liq_signals.columns import OI_AMOUNT, OI_VALUE
from liq_signals.data.boundary import FILE_ATTR, LiqInputError
from liq_signals.data.frames import PairFrames
from liq_signals.paths import DEFAULT_DATADIR
from liq_signals.timeframes import timeframe_seconds

logger = logging.getLogger(__name__)

#: the candle formats freqtrade writes; a datadir is searched in this order, after the
#: format asked for (freqtrade's ``dataformat_ohlcv``)
DATA_FORMATS = ("feather", "parquet", "json", "jsongz")
#: each format's file extension (freqtrade's handlers' ``_get_file_extension``)
_EXTENSIONS = {"feather": "feather", "parquet": "parquet", "json": "json", "jsongz": "json.gz"}
#: the arrow formats, read as freqtrade's handlers read them (``_load_dataframe``), without
#: importing ``freqtrade.data.history``: that package loads ccxt, aiohttp, sqlalchemy and
#: pydantic, ~120 MB of resident memory a command or the bench reading files does not need
_ARROW_READERS = {"feather": pd.read_feather, "parquet": pd.read_parquet}
OHLCV = ["date", "open", "high", "low", "close", "volume"]
OPEN_INTEREST = ["date", OI_AMOUNT, OI_VALUE]
#: freqtrade allows either open-interest column to be all-NaN (Bybit linear fills only the
#: amount); a file lacking one of them is read with that column all-NaN.
OPEN_INTEREST_EITHER = (OI_AMOUNT, OI_VALUE)
#: coarser open-interest timeframes tried, in order, when the candles' own is absent
#: (features.align: a coarser series' row T is used from T + its timeframe)
OI_FALLBACK_TIMEFRAMES = ("1h",)
#: freqtrade config section and key of the explicit volume fallback for an unreadable
#: open-interest file (docs/data.md)
OI_FALLBACK_SECTION = "liq_signals"
OI_FALLBACK_KEY = "oi_volume_fallback"
#: funding-rate files written by older freqtrade versions are OHLCV-shaped, rate in "open"
FUNDING_LEGACY = {"open": "funding_rate"}


@dataclass(frozen=True, kw_only=True)
class PairInputs(PairFrames):
    """The :class:`PairFrames` of one pair as read from a datadir, with where they came from.

    :param funding: funding-rate candles (read for the CLI's report; the model does not
        use them).
    :param files: what was read, kind -> path (for messages and the CLI's report).
    """

    pair: str
    timeframe: str
    funding: pd.DataFrame | None = None
    files: dict[str, Path] = field(default_factory=dict)


def pair_data_path(
    datadir: Path | str, pair: str, timeframe: str, candle_type: str, data_format: str = "feather"
) -> Path:
    """freqtrade's file name for a pair's candles of ``candle_type`` in ``data_format``.

    ``spot`` candles live in the exchange folder, every other type under ``futures/`` with
    ``-<candle_type>`` appended; the ``M`` (month) timeframe is written ``Mo``.

    :param candle_type: a value of ``freqtrade.enums.CandleType`` (``spot``, ``futures``,
        ``mark``, ``funding_rate``, ``open_interest``, ...).
    """
    from freqtrade.misc import pair_to_filename  # not freqtrade.data: see _ARROW_READERS

    if data_format not in _EXTENSIONS:
        raise ValueError(f"no data format {data_format!r}; one of {', '.join(DATA_FORMATS)}")
    folder, suffix = Path(datadir), ""
    if candle_type != "spot":
        folder, suffix = folder / "futures", f"-{candle_type}"
    tf = timeframe.replace("M", "Mo")
    return folder / f"{pair_to_filename(pair)}-{tf}{suffix}.{_EXTENSIONS[data_format]}"


def _read_stored(path: Path, pair: str, candle_type: str) -> pd.DataFrame:
    """The frame stored in ``path``, read by freqtrade's handler for its format: arrow
    files (feather, parquet) as written; json files are lists of rows, named by position
    as freqtrade names them.

    :raise Exception: whatever the reader raises for a broken file (the caller names it)
    """
    suffix = "jsongz" if path.name.endswith(".json.gz") else path.suffix.lstrip(".")
    if suffix in _ARROW_READERS:
        return _ARROW_READERS[suffix](path)
    from freqtrade.data.history.datahandlers.idatahandler import get_datahandlerclass
    from freqtrade.enums import CandleType

    handler = get_datahandlerclass(suffix)
    frame = pd.read_json(path, orient="values")
    if frame.empty:
        return frame
    frame = handler._normalize_columns(frame, pair, CandleType(candle_type))
    frame["date"] = pd.to_datetime(frame["date"], unit="ms", utc=True)
    return frame


def _download_hint(pair: str, timeframe: str, trading_mode: str, candle_types: str = "") -> str:
    extra = f" --candle-types {candle_types}" if candle_types else ""
    return (
        f"freqtrade download-data --exchange binance --trading-mode {trading_mode} "
        f"--pairs {pair} --timeframes {timeframe}{extra}"
    )


def _archive_hint(pair: str) -> str:
    return f"liq-signals import-binance-metrics --pairs {pair} --timerange YYYYMMDD-YYYYMMDD"


def read_candle_file(
    path: Path,
    columns: list[str],
    pair: str,
    either: tuple[str, ...] = (),
    candle_type: str = "futures",
) -> pd.DataFrame | None:
    """Read one data file (any of :data:`DATA_FORMATS`): None when absent or empty, the
    named columns otherwise.

    :param either: columns of ``columns`` of which at least one must exist; an absent one
        is added all-NaN (logged), the same as a column freqtrade wrote but left empty.
    :param candle_type: what the file holds (names the columns of a json file)
    :raise LiqInputError: the file exists but cannot be read or lacks a column.
    """
    if not path.exists():
        return None
    try:
        frame = _read_stored(path, pair, candle_type)
    except Exception as exc:  # pyarrow raises several unrelated types for a broken file
        raise LiqInputError(
            f"{pair} [{path}]: cannot read file: {' '.join(str(exc).split())} — re-download "
            "it with freqtrade download-data (--erase)",
            pair=pair,
            source=str(path),
        ) from exc
    if "funding_rate" in columns and "funding_rate" not in frame.columns:
        frame = frame.rename(columns=FUNDING_LEGACY)
    missing = [c for c in columns if c not in frame.columns]
    absent_ok = [c for c in missing if c in either]
    if either and len(absent_ok) == len(either):
        absent_ok = []
    missing = [c for c in missing if c not in absent_ok]
    if missing:
        need = f" (at least one of {list(either)})" if either else ""
        raise LiqInputError(
            f"{pair} [{path}]: missing column(s) {missing}{need}; have {list(frame.columns)}",
            pair=pair,
            source=str(path),
        )
    if frame.empty:
        return None
    if absent_ok:
        logger.info(
            "%s [%s]: no column(s) %s — read as all-NaN (%d rows).",
            pair,
            path,
            absent_ok,
            len(frame),
        )
        frame = frame.assign(**{c: np.nan for c in absent_ok})
    frame = frame.loc[:, columns]
    if isinstance(frame["date"].dtype, pd.DatetimeTZDtype):
        frame["date"] = frame["date"].dt.as_unit("ms")
    frame.attrs[FILE_ATTR] = str(path)  # the boundary's messages name the file
    return frame


def open_interest_timeframes(timeframe: str) -> list[str]:
    """The open-interest timeframes to look for under candles of ``timeframe``, in order:
    its own, then each of :data:`OI_FALLBACK_TIMEFRAMES` that is a whole multiple of it
    and coarser (the strategy declares and reads the same list)."""
    tf_s = timeframe_seconds(timeframe)
    coarser = [
        tf
        for tf in OI_FALLBACK_TIMEFRAMES
        if timeframe_seconds(tf) > tf_s and timeframe_seconds(tf) % tf_s == 0
    ]
    return [timeframe, *coarser]


def _open_interest(
    load: Callable[..., pd.DataFrame | None], pair: str, timeframe: str, fallback: bool
) -> pd.DataFrame | None:
    """The first open-interest file of :func:`open_interest_timeframes` that exists; an
    unreadable one is an error naming the fix, or skipped (logged) with ``fallback``."""
    for tf in open_interest_timeframes(timeframe):
        try:
            frame = load("open_interest", tf, OPEN_INTEREST, "open_interest", OPEN_INTEREST_EITHER)
        except LiqInputError as exc:
            if not fallback:
                raise LiqInputError(
                    f"{exc} (or set the volume fallback to run without it: "
                    f'"{OI_FALLBACK_SECTION}": {{"{OI_FALLBACK_KEY}": true}} in the config)',
                    pair=pair,
                    source=exc.source,
                ) from exc
            logger.warning(
                "%s — skipped (%s.%s is set): volume mode.",
                exc,
                OI_FALLBACK_SECTION,
                OI_FALLBACK_KEY,
            )
            return None
        if frame is not None:
            return frame
    return None


def load_pair_inputs(
    datadir: Path | str,
    pair: str,
    timeframe: str,
    trading_mode: str = "futures",
    data_format: str | None = None,
    *,
    oi_volume_fallback: bool = False,
) -> PairInputs:
    """Load candles (required) and OI, mark, funding, metrics (optional) for ``pair``.

    :param datadir: the exchange folder, as freqtrade's ``--datadir`` (``user_data/data/binance``).
    :param pair: freqtrade pair, ``BTC/USDT:USDT`` for futures, ``BTC/USDT`` for spot.
    :param timeframe: candle timeframe, e.g. ``5m``.
    :param trading_mode: ``futures`` or ``spot`` (spot has no OI/mark: volume mode).
    :param data_format: freqtrade's ``dataformat_ohlcv`` looked for first (default
        feather); each file is read in the first of :data:`DATA_FORMATS` that exists.
    :return: :class:`PairInputs`.  Open interest is read from the candles' timeframe, else
        from a coarser one (:func:`open_interest_timeframes`: 1h under 5m candles; its
        file is in ``files["open_interest"]``).  An open-interest file lacking one of its
        two columns has it all-NaN; USD-only rows become contracts later, in ``prepare_inputs``.
    :param oi_volume_fallback: an open-interest file that exists but cannot be read is
        skipped with a warning (volume mode) instead of being an error; off by default, so
        a truncated file never silently changes the model's mode.
    :raise LiqInputError: the datadir or the candle file does not exist (the message names
        the file and the download-data command that creates it), or a file is unreadable.
    """
    datadir = Path(datadir)
    if not datadir.is_dir():
        raise LiqInputError(
            f"{pair}: datadir {datadir} does not exist — pass the exchange folder "
            f"(e.g. {DEFAULT_DATADIR}) or run `{_download_hint(pair, timeframe, trading_mode)}`"
        )
    futures = trading_mode == "futures"
    files: dict[str, Path] = {}
    formats = list(dict.fromkeys([data_format or DATA_FORMATS[0], *DATA_FORMATS]))

    def load(
        ctype: str, tf: str, columns: list[str], label: str, either: tuple[str, ...] = ()
    ) -> pd.DataFrame | None:
        paths = [pair_data_path(datadir, pair, tf, ctype, fmt) for fmt in formats]
        path = next((p for p in paths if p.exists()), paths[0])
        frame = read_candle_file(path, columns, pair, either, ctype)
        if frame is not None:
            files[label] = path
        return frame

    kind = "futures" if futures else "spot"
    candles = load(kind, timeframe, OHLCV, "candles")
    if candles is None:
        raise LiqInputError(
            f"{pair}: no candles in {pair_data_path(datadir, pair, timeframe, kind, formats[0])} "
            f"(nor as {', '.join(formats[1:])}) — run "
            f"`{_download_hint(pair, timeframe, trading_mode)}`"
        )
    oi = mark = funding = metrics = None
    if futures:
        oi = _open_interest(load, pair, timeframe, oi_volume_fallback)
        mark = load("mark", timeframe, OHLCV, "mark")
        funding = next(
            (
                frame
                for tf in ("1h", "8h", timeframe)
                if (frame := load("funding_rate", tf, ["date", "funding_rate"], "funding"))
                is not None
            ),
            None,
        )
        from liq_signals.data import sidecar

        candidates = [sidecar.sidecar_path(datadir, pair, timeframe)]
        if hasattr(sidecar, "legacy_sidecar_path"):
            candidates.append(sidecar.legacy_sidecar_path(datadir, pair, timeframe))
        side = next((p for p in candidates if p.exists()), None)
        if side is not None:
            try:
                frame = sidecar.read_sidecar(datadir, pair, timeframe)
            except sidecar.SidecarError as exc:
                raise LiqInputError(str(exc), pair=pair, source=str(side)) from exc
            files["metrics"] = side
            metrics = frame if len(frame) else None
        if oi is None:
            logger.info(
                "%s: no open-interest file %s — volume mode (get the last 30 days with `%s`, "
                "longer histories from the Binance Vision archive with `%s`).",
                pair,
                pair_data_path(datadir, pair, timeframe, "open_interest"),
                _download_hint(pair, timeframe, trading_mode, "open_interest"),
                _archive_hint(pair),
            )
    return PairInputs(
        candles=candles,
        open_interest=oi,
        mark=mark,
        metrics=metrics,
        pair=pair,
        timeframe=timeframe,
        funding=funding,
        files=files,
    )
