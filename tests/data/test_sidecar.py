"""The metrics sidecar: schema, merge-on-date, atomic writes, and why it is not ``.feather``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from liq_signals import columns as C
from liq_signals.data import sidecar as sc

PAIR = "BTC/USDT:USDT"
REPO = Path(__file__).resolve().parents[2]
DATADIR_OI = REPO / "user_data" / "data" / "binance-oi-2026-06"


def _frame(start: str, n: int, **cols: list[float]) -> pd.DataFrame:
    dates = pd.date_range(start, periods=n, freq="5min", tz="UTC")
    return pd.DataFrame({sc.DATE: dates, **cols})


def test_path_sits_beside_the_candles(tmp_path):
    assert sc.sidecar_path(tmp_path, PAIR, "5m") == (
        tmp_path / "futures" / "BTC_USDT_USDT-5m-metrics.arrow"
    )


def test_roundtrip_fills_absent_columns_with_nan(tmp_path):
    frame = _frame("2024-01-01", 3, taker_net_base=[1.0, -2.0, 3.5])
    sc.write_sidecar(tmp_path, PAIR, "5m", frame)
    back = sc.read_sidecar(tmp_path, PAIR, "5m")
    assert list(back.columns) == list(sc.SIDECAR_COLUMNS)
    assert str(back[sc.DATE].dtype) == "datetime64[ms, UTC]"
    assert all(back[c].dtype == np.float64 for c in sc.VALUE_COLUMNS)
    assert back[C.TAKER_NET_BASE].tolist() == [1.0, -2.0, 3.5]
    assert back[C.GLOBAL_LS_RATIO].isna().all()


def test_missing_file_gives_typed_empty_frame(tmp_path):
    back = sc.read_sidecar(tmp_path, PAIR, "5m")
    assert back.empty
    assert list(back.columns) == list(sc.SIDECAR_COLUMNS)
    assert str(back[sc.DATE].dtype) == "datetime64[ms, UTC]"


def test_merge_on_date_never_duplicates_and_nan_never_erases(tmp_path):
    sc.write_sidecar(
        tmp_path, PAIR, "5m", _frame("2024-01-01", 4, taker_net_base=[1.0, 2.0, 3.0, 4.0])
    )
    sc.write_sidecar(
        tmp_path,
        PAIR,
        "5m",
        _frame(
            "2024-01-01 00:10",
            4,
            taker_net_base=[np.nan, 40.0, 50.0, 60.0],
            global_long_short_ratio=[1.1, 1.2, 1.3, 1.4],
        ),
    )
    back = sc.read_sidecar(tmp_path, PAIR, "5m")
    assert len(back) == 6
    assert back[sc.DATE].is_unique
    assert back[C.TAKER_NET_BASE].tolist() == [1.0, 2.0, 3.0, 40.0, 50.0, 60.0]
    assert back[C.GLOBAL_LS_RATIO].tolist()[2:] == [1.1, 1.2, 1.3, 1.4]


def test_merge_fill_only_keeps_existing_values():
    old = sc.validate_sidecar(_frame("2024-01-01", 2, taker_net_base=[1.0, np.nan]), "old")
    new = sc.validate_sidecar(_frame("2024-01-01", 2, taker_net_base=[9.0, 8.0]), "new")
    merged = sc.merge_sidecar(old, new, new_wins=False)
    assert merged[C.TAKER_NET_BASE].tolist() == [1.0, 8.0]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"x": [1.0]}), "no 'date' column"),
        (_frame("2024-01-01", 1, bogus=[1.0]), r"unknown sidecar columns \['bogus'\]"),
        (
            pd.DataFrame(
                {
                    sc.DATE: pd.date_range("2024-01-01", periods=2, freq="5min"),
                    C.TAKER_NET_BASE: [1.0, 2.0],
                }
            ),
            "must be a UTC datetime",
        ),
        (_frame("2024-01-01", 1, taker_net_base=["a"]), "must be numeric"),
        (
            pd.concat(
                [_frame("2024-01-01", 3, taker_net_base=[1.0, 2.0, 3.0])] * 2, ignore_index=True
            ),
            r"duplicated date 2024-01-01 00:00:00\+00:00 \(row 3\)",
        ),
    ],
)
def test_schema_errors_name_the_source_and_row(frame, message):
    with pytest.raises(sc.SidecarError, match=message) as err:
        sc.validate_sidecar(frame, "my.arrow")
    assert str(err.value).startswith("my.arrow: ")


def test_a_failed_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    """A crash at the swap (simulated: os.replace fails) keeps the previous file intact and
    leaves no temporary file behind."""
    sc.write_sidecar(tmp_path, PAIR, "5m", _frame("2024-01-01", 3, taker_net_base=[1.0, 2.0, 3.0]))
    path = sc.sidecar_path(tmp_path, PAIR, "5m")
    before = path.read_bytes()

    def crash(_src, _dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        sc.write_sidecar(tmp_path, PAIR, "5m", _frame("2024-01-02", 3, taker_net_base=[7.0] * 3))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_unreadable_existing_file_is_an_error_not_empty(tmp_path):
    path = sc.sidecar_path(tmp_path, PAIR, "5m")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not arrow")
    with pytest.raises(sc.SidecarError, match="cannot read sidecar file"):
        sc.write_sidecar(tmp_path, PAIR, "5m", _frame("2024-01-01", 1, taker_net_base=[1.0]))
    assert path.read_bytes() == b"not arrow"


def test_legacy_feather_name_is_still_read(tmp_path):
    real = sc.read_sidecar(DATADIR_OI, PAIR, "5m")  # the embedded real sample
    legacy = sc.legacy_sidecar_path(tmp_path, PAIR, "5m")
    assert legacy.name == "BTC_USDT_USDT-5m-metrics.feather"
    sc.atomic_write_feather(real, legacy)
    back = sc.read_sidecar(tmp_path, PAIR, "5m")
    assert len(back) == 4406
    assert back[C.TAKER_NET_BASE].notna().sum() > 4000
    pd.testing.assert_frame_equal(back, real)


def test_freqtrade_datadir_listing_survives_the_sidecar_but_not_the_legacy_name(tmp_path):
    """Why the sidecar is ``.arrow``: freqtrade parses every ``*.feather`` name as a candle
    type; futures backtesting lists the datadir at start-up (migrate_data)."""
    from freqtrade.data.history import get_datahandler
    from freqtrade.enums import TradingMode

    sc.write_sidecar(tmp_path, PAIR, "5m", _frame("2024-01-01", 1, taker_net_base=[1.0]))
    handler = get_datahandler(tmp_path, "feather")
    assert handler.ohlcv_get_available_data(tmp_path, TradingMode.FUTURES) == []
    shutil.copy(sc.sidecar_path(tmp_path, PAIR, "5m"), sc.legacy_sidecar_path(tmp_path, PAIR, "5m"))
    with pytest.raises(ValueError, match="'metrics' is not a valid CandleType"):
        handler.ohlcv_get_available_data(tmp_path, TradingMode.FUTURES)
