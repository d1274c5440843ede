"""Parsing and quirk repair of Binance Vision metrics files (pure: bytes in, frames out)."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
from vision_helpers import SYMBOL, sample_rows, synthetic_ratios

from liq_signals import columns as C
from liq_signals.data import sidecar
from liq_signals.data.importers import binance_vision as bv
from liq_signals.data.importers import vision_mirror as vm
from liq_signals.data.importers.archive_http import RetryPolicy

DAY = date(2026, 6, 8)
NAME = bv.metrics_file_name(SYMBOL, DAY)


def _day_rows() -> pd.DataFrame:
    rows = synthetic_ratios(sample_rows())
    return vm.split_days(rows)[DAY].reset_index(drop=True)


def _zip(rows: pd.DataFrame, header: bool = True) -> bytes:
    return vm.zip_bytes(vm.metrics_csv(rows, SYMBOL, header=header), NAME.replace(".zip", ".csv"))


def _parse_clean(rows: pd.DataFrame) -> bv.CleanDay:
    raw = bv.read_metrics_zip(_zip(rows), NAME, SYMBOL)
    return bv.clean_day(raw, DAY)


def test_url_layout_matches_the_archive():
    assert bv.metrics_url("https://mirror.example/", "BTCUSDT", date(2024, 1, 1)) == (
        "https://mirror.example/data/futures/um/daily/metrics/BTCUSDT/"
        "BTCUSDT-metrics-2024-01-01.zip"
    )


@pytest.mark.parametrize(
    ("pair", "symbol"),
    [
        ("BTC/USDT:USDT", "BTCUSDT"),
        ("1000PEPE/USDT:USDT", "1000PEPEUSDT"),
        ("ETH/USDC:USDC", "ETHUSDC"),
    ],
)
def test_binance_symbol(pair, symbol):
    assert bv.binance_symbol(pair) == symbol


@pytest.mark.parametrize("pair", ["BTC/USDT", "BTC/USD:BTC", "BTCUSDT"])
def test_binance_symbol_refuses_non_linear_pairs(pair):
    with pytest.raises(ValueError, match="pair"):
        bv.binance_symbol(pair)


def test_real_format_day_roundtrips_exactly():
    rows = _day_rows()
    csv = vm.metrics_csv(rows, SYMBOL).decode()
    assert csv.splitlines()[0] == ",".join(bv.METRICS_CSV_COLUMNS)
    assert csv.splitlines()[1].startswith("2026-06-08 00:00:00,BTCUSDT,")
    day = _parse_clean(rows)
    assert len(day.own) == 288
    assert day.spill.empty
    np.testing.assert_array_equal(
        day.own[bv.OI_VALUE].to_numpy(), rows[bv.SUM_OPEN_INTEREST_VALUE].to_numpy()
    )
    np.testing.assert_array_equal(
        day.own[bv.OI_AMOUNT].to_numpy(), rows[bv.SUM_OPEN_INTEREST].to_numpy()
    )
    np.testing.assert_allclose(
        day.own[C.TAKER_RATIO].to_numpy(),
        rows[bv.SUM_TAKER_LS_VOL_RATIO].to_numpy(),
        rtol=0,
        atol=5e-9,
    )
    assert day.counts.summary() == []


def test_headerless_file_is_read_too():
    rows = _day_rows()
    raw = bv.read_metrics_zip(_zip(rows, header=False), NAME, SYMBOL)
    assert len(raw) == 288


def test_duplicated_rows_first_kept_and_conflicts_counted():
    rows = _day_rows()
    dup_same = rows.iloc[[10]]
    dup_diff = rows.iloc[[20]].copy()
    dup_diff[bv.SUM_OPEN_INTEREST] += 1.0
    day = _parse_clean(pd.concat([rows, dup_same, dup_diff], ignore_index=True))
    assert day.counts.duplicated_rows == 2
    assert day.counts.conflicting_duplicates == 1
    assert len(day.own) == 288
    assert day.own[bv.OI_AMOUNT].iloc[20] == rows[bv.SUM_OPEN_INTEREST].iloc[20]


def test_rows_out_of_order_are_sorted_and_counted():
    rows = _day_rows()
    shuffled = pd.concat([rows.iloc[100:], rows.iloc[:100]], ignore_index=True)
    day = _parse_clean(shuffled)
    assert day.counts.out_of_order_rows == 1
    assert day.own[sidecar.DATE].is_monotonic_increasing
    np.testing.assert_array_equal(
        day.own[bv.OI_VALUE].to_numpy(), rows[bv.SUM_OPEN_INTEREST_VALUE].to_numpy()
    )


def test_zero_open_interest_is_missing_not_zero():
    rows = _day_rows()
    rows.loc[5, bv.SUM_OPEN_INTEREST] = 0.0
    rows.loc[6, bv.SUM_OPEN_INTEREST_VALUE] = 0.0
    rows.loc[7, bv.SUM_OPEN_INTEREST] = np.nan
    day = _parse_clean(rows)
    assert day.counts.zero_open_interest_rows == 3
    assert day.own[bv.OI_AMOUNT].iloc[5:8].isna().all()
    assert day.own[bv.OI_VALUE].iloc[5:8].isna().all()
    # the ratios of those rows are still data
    assert day.own[C.GLOBAL_LS_RATIO].iloc[5:8].notna().all()
    assert "3 rows with zero/empty open interest" in " ".join(day.counts.summary())


def test_rows_spilling_into_the_next_day_are_split_off():
    rows = _day_rows()
    nxt = rows.iloc[[0]].copy()
    nxt[bv.CREATE_TIME] = pd.Timestamp("2026-06-09 00:00:00", tz="UTC")
    day = _parse_clean(pd.concat([rows, nxt], ignore_index=True))
    assert day.counts.spill_rows == 1
    assert len(day.own) == 288
    assert list(day.spill[sidecar.DATE]) == [pd.Timestamp("2026-06-09", tz="UTC")]


def test_empty_ratio_columns_are_counted_per_column():
    rows = _day_rows()
    rows[bv.COUNT_LS_RATIO] = np.nan
    rows.loc[:9, bv.SUM_TAKER_LS_VOL_RATIO] = np.nan
    day = _parse_clean(rows)
    assert day.counts.empty_ratio_cells == {
        C.GLOBAL_LS_RATIO: 288,
        C.TAKER_RATIO: 10,
    }
    assert day.counts.empty_ratio_days == {C.GLOBAL_LS_RATIO: 1}
    assert day.own[C.GLOBAL_LS_RATIO].isna().all()


def test_off_grid_rows_are_dropped_and_counted():
    rows = _day_rows()
    odd = rows.iloc[[3]].copy()
    odd[bv.CREATE_TIME] = odd[bv.CREATE_TIME] + pd.Timedelta(seconds=1)
    day = _parse_clean(pd.concat([rows, odd], ignore_index=True))
    assert day.counts.off_grid_rows == 1
    assert len(day.own) == 288


def test_gap_count():
    stamps = pd.Series(
        pd.to_datetime(
            ["2024-01-01 00:00", "2024-01-01 00:05", "2024-01-01 00:20", "2024-01-01 01:00"],
            utc=True,
        )
    ).dt.as_unit("ms")
    assert bv.count_gaps(stamps) == (2, 2 + 7)


def test_corrupt_zip_names_the_file():
    payload = _zip(_day_rows())
    with pytest.raises(bv.CorruptArchive, match=NAME):
        bv.read_metrics_zip(payload[: len(payload) // 2], NAME, SYMBOL)


def test_zip_with_two_members_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.csv", "x")
        zf.writestr("b.csv", "y")
    with pytest.raises(bv.CorruptArchive, match="one CSV"):
        bv.read_metrics_zip(buf.getvalue(), NAME, SYMBOL)


def test_bad_number_names_the_line():
    csv = vm.metrics_csv(_day_rows(), SYMBOL).decode().splitlines()
    fields = csv[4].split(",")
    fields[2] = "12x"
    csv[4] = ",".join(fields)
    payload = vm.zip_bytes(("\n".join(csv) + "\n").encode(), "x.csv")
    with pytest.raises(bv.CorruptArchive, match=rf"{NAME}: line 5: sum_open_interest .*'12x'"):
        bv.read_metrics_zip(payload, NAME, SYMBOL)


def test_wrong_header_and_wrong_symbol_are_refused():
    good = vm.metrics_csv(_day_rows(), SYMBOL).decode()
    renamed = good.replace("sum_open_interest_value", "oi_value", 1).encode()
    with pytest.raises(bv.CorruptArchive, match="unexpected header"):
        bv.read_metrics_zip(vm.zip_bytes(renamed, "x.csv"), NAME, SYMBOL)
    with pytest.raises(bv.CorruptArchive, match="symbol 'BTCUSDT', expected ETHUSDT"):
        bv.read_metrics_zip(vm.zip_bytes(good.encode(), "x.csv"), NAME, "ETHUSDT")


def test_negative_open_interest_is_an_error():
    rows = _day_rows()
    rows.loc[2, bv.SUM_OPEN_INTEREST] = -1.0
    with pytest.raises(bv.CorruptArchive, match="line 4: negative open interest"):
        bv.read_metrics_zip(_zip(rows), NAME, SYMBOL)


def test_checksum_verification():
    payload = _zip(_day_rows())
    good = bv.checksum_text(payload, NAME)
    assert good.endswith(f"  {NAME}\n")
    assert bv.verify_checksum(payload, good, NAME) == good.split()[0]
    with pytest.raises(bv.ChecksumMismatch, match=f"{NAME}: checksum mismatch"):
        bv.verify_checksum(payload + b"x", good, NAME)
    with pytest.raises(bv.ChecksumMismatch, match="unreadable .CHECKSUM"):
        bv.verify_checksum(payload, "<html>not found</html>", NAME)


def test_days_of_a_timerange_end_exclusive():
    days = bv.utc_days(datetime(2024, 1, 30, tzinfo=UTC), datetime(2024, 2, 2, tzinfo=UTC))
    assert days == [date(2024, 1, 30), date(2024, 1, 31), date(2024, 2, 1)]


def test_retry_policy_honours_retry_after_and_caps():
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=3.0, max_retry_after_s=10.0)
    assert [policy.backoff(a, None) for a in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.backoff(1, "7") == 7.0
    assert policy.backoff(1, "3600") == 10.0
    assert policy.backoff(2, "garbage") == 1.0
