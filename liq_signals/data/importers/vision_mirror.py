"""Write files in the Binance Vision ``metrics`` layout: a local mirror of the archive.

Used to serve recorded data through the loopback emulator (tests, benchmarks, offline
replays) and by users who keep their own mirror.  The zip, its CSV and its ``.CHECKSUM``
are byte-for-byte what the importer expects from the real host, so the importer is
exercised on the real format, not on a shortcut.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from liq_signals.data.importers import binance_vision as bv

_ZIP_TIME = (2020, 1, 1, 0, 0, 0)  # fixed member time: identical input -> identical bytes


def _cell(value: float, decimals: int) -> str:
    return "" if value is None or np.isnan(value) else f"{value:.{decimals}f}"


def metrics_csv(rows: pd.DataFrame, symbol: str, *, header: bool = True) -> bytes:
    """Render rows as a metrics CSV.

    :param rows: frame with ``create_time`` (tz-aware or naive UTC timestamps) and any of
        the archive's numeric columns (absent or NaN -> empty cell, as on blank days)
    :param symbol: value of the ``symbol`` column
    :param header: write the header line (the archive does)
    :return: CSV bytes
    """
    stamps = pd.to_datetime(rows[bv.CREATE_TIME])
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    times = stamps.dt.strftime("%Y-%m-%d %H:%M:%S").tolist()
    columns = {}
    for col in bv.METRICS_CSV_COLUMNS[2:]:
        decimals = 16 if col in (bv.SUM_OPEN_INTEREST, bv.SUM_OPEN_INTEREST_VALUE) else 8
        values = rows[col].to_numpy(dtype="float64") if col in rows else np.full(len(rows), np.nan)
        columns[col] = [_cell(v, decimals) for v in values]
    lines = [",".join(bv.METRICS_CSV_COLUMNS)] if header else []
    for i, t in enumerate(times):
        lines.append(",".join([t, symbol, *(columns[c][i] for c in bv.METRICS_CSV_COLUMNS[2:])]))
    return ("\n".join(lines) + "\n").encode()


def zip_bytes(csv: bytes, csv_name: str) -> bytes:
    """Deflate one CSV into a zip, deterministically (fixed member timestamp)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo(csv_name, date_time=_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, csv)
    return buf.getvalue()


def write_day(
    root: Path | str, symbol: str, day: date, payload: bytes, *, checksum: str | None = None
) -> Path:
    """Store a day's zip and its ``.CHECKSUM`` under ``root`` in the archive's layout.

    :param root: mirror root (the folder that ``--base-url`` points at)
    :param symbol: e.g. ``BTCUSDT``
    :param day: the file's day
    :param payload: zip bytes
    :param checksum: ``.CHECKSUM`` body to publish; ``None`` computes the true one
    :return: path of the zip
    """
    path = Path(root) / bv.metrics_path(symbol, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    name = bv.metrics_file_name(symbol, day)
    body = checksum if checksum is not None else bv.checksum_text(payload, name)
    path.with_name(name + ".CHECKSUM").write_text(body)
    return path


def write_metrics_day(root: Path | str, symbol: str, day: date, rows: pd.DataFrame) -> Path:
    """Render, zip and store one day of metrics rows (see :func:`metrics_csv`)."""
    name = bv.metrics_file_name(symbol, day)
    csv_name = name.removesuffix(".zip") + ".csv"
    return write_day(root, symbol, day, zip_bytes(metrics_csv(rows, symbol), csv_name))


def split_days(rows: pd.DataFrame) -> dict[date, pd.DataFrame]:
    """Group archive rows by the UTC day of ``create_time`` (how the archive files them)."""
    stamps = pd.to_datetime(rows[bv.CREATE_TIME], utc=True)
    return {
        day: part
        for day, part in rows.groupby(stamps.dt.date, sort=True)  # type: ignore[misc]
    }
