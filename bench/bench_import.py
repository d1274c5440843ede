"""Import speed: one year of one pair's Binance Vision daily metrics from the emulator.

Target (issue #5): 365 daily files imported in <= 60 s on this machine.  The archive is
synthetic-from-real: the real 2026-06 BTCUSDT open interest (tests/testdata), tiled over
2025 (288 rows a day, ratio columns filled), zipped with checksums exactly like the real
archive and served by the loopback emulator's /data route.  Figures, each with its ratio
to a baseline measured in the same run:

- the import as users run it (CLI defaults: 8 workers) and with 1 worker;
- baseline: plain sequential GETs of the same 730 files (zip + .CHECKSUM) with requests —
  the transfer cost alone, no parsing, no writing.

Run: ``.venv/bin/python bench/bench_import.py`` (from the repository root).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SAMPLE = REPO / "tests" / "testdata" / "BTCUSDT-5m-ohlc-oi-funding-cvd.csv"
PAIR = "BTC/USDT:USDT"
SYMBOL = "BTCUSDT"
YEAR_START = date(2025, 1, 1)
DAYS = 365
TARGET_SECONDS = 60.0


def _build_archive(root: Path) -> int:
    """Write 365 days of real-format zips; returns the number of rows."""
    import numpy as np
    import pandas as pd

    from liq_signals.data.importers import binance_vision as bv
    from liq_signals.data.importers import vision_mirror as vm

    src = pd.read_csv(SAMPLE)
    src = src[src["open_interest_value_usd"].notna()].reset_index(drop=True)
    value = src["open_interest_value_usd"].to_numpy()
    amount = value / src["close"].to_numpy()
    n = DAYS * 288
    reps = -(-n // len(value))
    stamps = pd.date_range(YEAR_START, periods=n, freq="5min", tz="UTC")
    rng = np.random.default_rng(0)
    rows = pd.DataFrame(
        {
            bv.CREATE_TIME: stamps,
            bv.SUM_OPEN_INTEREST: np.tile(amount, reps)[:n],
            bv.SUM_OPEN_INTEREST_VALUE: np.tile(value, reps)[:n],
        }
    )
    for col in bv.RATIO_TO_SIDECAR:
        rows[col] = np.round(rng.uniform(0.5, 2.5, n), 8)
    for day, part in vm.split_days(rows).items():
        vm.write_metrics_day(root, SYMBOL, day, part)
    return n


def _import(url: str, datadir: Path, workers: int) -> float:
    from liq_signals.data.importers.metrics_import import ImportConfig, import_metrics

    start = datetime(YEAR_START.year, 1, 1, tzinfo=UTC)
    config = ImportConfig(
        pairs=(PAIR,),
        start=start,
        stop=start + timedelta(days=DAYS),
        datadir=datadir,
        base_url=url,
        workers=workers,
    )
    t0 = time.perf_counter()
    report = import_metrics(config)
    elapsed = time.perf_counter() - t0
    rep = report.pairs[0]
    if not report.ok or rep.days_imported != DAYS or rep.oi_rows != DAYS * 288:
        raise SystemExit(f"import incomplete: {rep}")
    return elapsed


def _raw_fetch(url: str) -> float:
    import requests

    from liq_signals.data.importers import binance_vision as bv

    session = requests.Session()
    t0 = time.perf_counter()
    for i in range(DAYS):
        file_url = bv.metrics_url(url, SYMBOL, YEAR_START + timedelta(days=i))
        for u in (file_url, file_url + ".CHECKSUM"):
            resp = session.get(u, timeout=30)
            resp.raise_for_status()
    return time.perf_counter() - t0


def main() -> int:
    from liq_signals.offline import Emulator

    work = Path(
        tempfile.mkdtemp(prefix="bench_import_", dir=REPO / ".pytest_tmp")
        if (REPO / ".pytest_tmp").is_dir()
        else tempfile.mkdtemp(prefix="bench_import_")
    )
    try:
        t0 = time.perf_counter()
        rows = _build_archive(work / "mirror")
        build = time.perf_counter() - t0
        with Emulator(None, archive_root=work / "mirror") as emu:
            raw = _raw_fetch(emu.url)
            par = _import(emu.url, work / "dd8", workers=8)
            one = _import(emu.url, work / "dd1", workers=1)
        print(f"archive build (365 zips, {rows} rows, not timed against target): {build:.2f} s")
        print(f"baseline: sequential GET of 730 files (zip + CHECKSUM): {raw:.2f} s")
        print(
            f"import 1 year / 1 pair, 8 workers: {par:.2f} s "
            f"(target <= {TARGET_SECONDS:.0f} s: {'OK' if par <= TARGET_SECONDS else 'MISSED'}; "
            f"{par / raw:.2f}x baseline)"
        )
        print(f"import 1 year / 1 pair, 1 worker: {one:.2f} s ({one / raw:.2f}x baseline)")
        return 0 if par <= TARGET_SECONDS else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
