"""load_pair_inputs reads the same frames as freqtrade's own data handler."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from liq_signals.data.boundary import LiqInputError
from liq_signals.data.load import DATA_FORMATS, load_pair_inputs, pair_data_path
from tests.conftest import DATADIR_2023, DATADIR_2025, DATADIR_OI

PAIR = "BTC/USDT:USDT"


@pytest.mark.parametrize(
    "ctype", ["spot", "futures", "mark", "funding_rate", "open_interest", "premiumIndex"]
)
@pytest.mark.parametrize("tf", ["5m", "1h", "1M"])
@pytest.mark.parametrize("fmt", DATA_FORMATS)
def test_file_names_follow_freqtrade(ctype, tf, fmt) -> None:
    from freqtrade.data.history.datahandlers.idatahandler import get_datahandlerclass
    from freqtrade.enums import CandleType

    handler = get_datahandlerclass(fmt)
    want = handler._pair_data_filename(Path("dd"), PAIR, tf, CandleType(ctype))
    assert pair_data_path("dd", PAIR, tf, ctype, fmt) == want


@pytest.mark.parametrize("datadir", [DATADIR_OI, DATADIR_2025, DATADIR_2023])
def test_frames_equal_freqtrades_ohlcv_load(datadir) -> None:
    from freqtrade.data.history import get_datahandler
    from freqtrade.enums import CandleType

    ours = load_pair_inputs(datadir, PAIR, "5m")
    handler = get_datahandler(datadir, "feather")
    theirs = handler.ohlcv_load(
        PAIR, "5m", CandleType.FUTURES, fill_missing=False, warn_no_data=False
    )
    pd.testing.assert_frame_equal(
        ours.candles.reset_index(drop=True), theirs.reset_index(drop=True)
    )
    # open interest of the candles' timeframe, else the first coarser one on file (1h)
    for tf in ("5m", "1h"):
        oi = handler.ohlcv_load(
            PAIR, tf, CandleType.OPEN_INTEREST, fill_missing=False, warn_no_data=False
        )
        if len(oi):
            break
    if len(oi):
        pd.testing.assert_frame_equal(
            ours.open_interest.reset_index(drop=True), oi.reset_index(drop=True)
        )
    else:
        assert ours.open_interest is None


def test_oi_datadir_has_all_inputs() -> None:
    ours = load_pair_inputs(DATADIR_OI, PAIR, "5m")
    assert set(ours.files) == {"candles", "open_interest", "funding", "metrics"}
    assert "taker_net_base" in ours.metrics.columns


def test_broken_file_is_an_error_naming_it(tmp_path) -> None:
    fut = tmp_path / "futures"
    fut.mkdir()
    (fut / "BTC_USDT_USDT-5m-futures.feather").write_bytes(b"not a feather file")
    with pytest.raises(LiqInputError, match="BTC_USDT_USDT-5m-futures.feather"):
        load_pair_inputs(tmp_path, PAIR, "5m")


def test_missing_datadir_names_download_command(tmp_path) -> None:
    with pytest.raises(LiqInputError, match="freqtrade download-data"):
        load_pair_inputs(tmp_path / "nope", PAIR, "5m")


def test_broken_metrics_sidecar_is_an_input_error_naming_it(tmp_path) -> None:
    import shutil

    fut = tmp_path / "futures"
    fut.mkdir()
    from liq_signals.data.sidecar import sidecar_path

    shutil.copy(DATADIR_OI / "futures" / "BTC_USDT_USDT-5m-futures.feather", fut)
    side = sidecar_path(tmp_path, PAIR, "5m")
    side.write_bytes(b"garbage")
    with pytest.raises(LiqInputError, match=side.name):
        load_pair_inputs(tmp_path, PAIR, "5m")


def _datadir_with_oi(tmp_path: Path, oi: pd.DataFrame) -> Path:
    import shutil

    fut = tmp_path / "futures"
    fut.mkdir()
    shutil.copy(DATADIR_OI / "futures" / "BTC_USDT_USDT-5m-futures.feather", fut)
    oi.to_feather(fut / "BTC_USDT_USDT-5m-open_interest.feather")
    return tmp_path


def test_open_interest_file_missing_one_column_reads_it_as_nan(tmp_path, caplog) -> None:
    caplog.set_level("INFO")
    oi = pd.read_feather(DATADIR_OI / "futures" / "BTC_USDT_USDT-5m-open_interest.feather")
    datadir = _datadir_with_oi(tmp_path, oi.drop(columns=["open_interest_value"]))
    got = load_pair_inputs(datadir, PAIR, "5m").open_interest
    assert list(got.columns) == ["date", "open_interest_amount", "open_interest_value"]
    assert got["open_interest_value"].isna().all()
    pd.testing.assert_series_equal(got["open_interest_amount"], oi["open_interest_amount"])
    assert "no column(s) ['open_interest_value'] — read as all-NaN" in caplog.text


def test_open_interest_file_without_either_column_is_an_error(tmp_path) -> None:
    oi = pd.read_feather(DATADIR_OI / "futures" / "BTC_USDT_USDT-5m-open_interest.feather")
    datadir = _datadir_with_oi(tmp_path, oi[["date"]])
    with pytest.raises(LiqInputError, match=r"open_interest.feather.*at least one of"):
        load_pair_inputs(datadir, PAIR, "5m")


def test_missing_open_interest_hint_names_both_ways_to_get_it(caplog) -> None:
    caplog.set_level("INFO")
    load_pair_inputs(DATADIR_2023, PAIR, "5m")
    assert "freqtrade download-data" in caplog.text
    assert "--candle-types open_interest" in caplog.text
    assert f"liq-signals import-binance-metrics --pairs {PAIR}" in caplog.text
