"""Helpers for the data-pipeline tests (imported as ``vision_helpers``).

The archive rows come from the real 2026-06 recording in tests/testdata: open interest
value (``sumOpenInterestValue``) as recorded, amount = value / close (the recording has no
amount column), ratio columns empty — the recording has none, and blank ratio columns are
a real archive quirk.  Rows whose OI is empty (the real outage 2026-06-14 15:05 ->
2026-06-20 10:55) are left out, as the archive has no snapshot there; days wholly inside
the outage have no file (HTTP 404).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from liq_signals.data.importers import binance_vision as bv
from liq_signals.data.importers import vision_mirror as vm
from liq_signals.offline import Emulator

REPO = Path(__file__).resolve().parents[2]
SAMPLE_CSV = REPO / "tests" / "testdata" / "BTCUSDT-5m-ohlc-oi-funding-cvd.csv"
PAIR = "BTC/USDT:USDT"
SYMBOL = "BTCUSDT"
#: Days of the sample that have at least one OI row (11) and days inside the outage (5).
SAMPLE_FIRST_DAY = date(2026, 6, 7)
SAMPLE_LAST_DAY = date(2026, 6, 22)
OUTAGE_DAYS = [date(2026, 6, d) for d in range(15, 20)]


def sample_rows() -> pd.DataFrame:
    """The real sample as archive rows (columns of the metrics CSV minus ``symbol``)."""
    src = pd.read_csv(SAMPLE_CSV)
    src = src[src["open_interest_value_usd"].notna()].reset_index(drop=True)
    rows = pd.DataFrame(
        {
            bv.CREATE_TIME: pd.to_datetime(src["timestamp_ms"], unit="ms", utc=True),
            bv.SUM_OPEN_INTEREST: src["open_interest_value_usd"] / src["close"],
            bv.SUM_OPEN_INTEREST_VALUE: src["open_interest_value_usd"],
        }
    )
    for col in bv.RATIO_TO_SIDECAR:
        rows[col] = np.nan
    return rows


def synthetic_ratios(rows: pd.DataFrame, seed: int = 7) -> pd.DataFrame:
    """Rows with plausible ratio values filled in (for tests of the ratio columns)."""
    rng = np.random.default_rng(seed)
    out = rows.copy()
    for col in bv.RATIO_TO_SIDECAR:
        out[col] = np.round(rng.uniform(0.5, 2.5, len(out)), 8)
    return out


def write_mirror(root: Path, rows: pd.DataFrame, symbol: str = SYMBOL) -> list[date]:
    """Write ``rows`` as daily archive files under ``root``; returns the days written."""
    days = vm.split_days(rows)
    for day, part in days.items():
        vm.write_metrics_day(root, symbol, day, part)
    return sorted(days)


def expected_oi(rows: pd.DataFrame) -> pd.DataFrame:
    """The open_interest frame an import of ``rows`` must produce (zero OI dropped)."""
    keep = (rows[bv.SUM_OPEN_INTEREST] > 0) & (rows[bv.SUM_OPEN_INTEREST_VALUE] > 0)
    r = rows.loc[keep]
    return (
        pd.DataFrame(
            {
                "date": pd.to_datetime(r[bv.CREATE_TIME], utc=True).dt.as_unit("ms").to_numpy(),
                "open_interest_amount": r[bv.SUM_OPEN_INTEREST].to_numpy(),
                "open_interest_value": r[bv.SUM_OPEN_INTEREST_VALUE].to_numpy(),
            }
        )
        .sort_values("date")
        .reset_index(drop=True)
    )


@contextmanager
def archive_server(root: Path) -> Iterator[Emulator]:
    """The loopback emulator serving ``root`` as the archive (no market data)."""
    emu = Emulator(None, archive_root=root).start()
    try:
        yield emu
    finally:
        emu.stop()


def archive_requests(emu: Emulator) -> list[str]:
    """Paths of the archive requests the emulator saw, in order."""
    return [r.path for r in emu.requests("archive")]
