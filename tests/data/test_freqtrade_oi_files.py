"""The engine reads the open-interest files `freqtrade download-data` writes.

* Binance: a real `freqtrade download-data --candle-types open_interest` run against the
  loopback emulator (REST openInterestHist; Binance keeps 30 days) — both columns.
* Bybit linear: amount only, value all-NaN (freqtrade's own comment in candle_columns.py);
  the emulator speaks Binance only, so this file is written with freqtrade's data handler.
* The importer merges archive days into a datadir freqtrade already filled, without
  duplicates and without losing the REST rows outside the archive range.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from vision_helpers import PAIR, REPO, archive_server, sample_rows, write_mirror

from liq_signals import columns as C
from liq_signals.data.importers.metrics_import import ImportConfig, import_metrics
from liq_signals.data.load import load_pair_inputs
from liq_signals.data.oi_sources import fill_open_interest_amount
from liq_signals.features.pipeline import compute_features

DATADIR_OI = REPO / "user_data" / "data" / "binance-oi-2026-06"
CANDLES = DATADIR_OI / "futures" / "BTC_USDT_USDT-5m-futures.feather"


def _datadir_with_candles(root: Path) -> Path:
    (root / "futures").mkdir(parents=True)
    shutil.copy(CANDLES, root / "futures")
    return root


def _store_oi(datadir: Path, frame: pd.DataFrame) -> None:
    from freqtrade.data.history import get_datahandler
    from freqtrade.enums import CandleType

    get_datahandler(datadir, "feather").ohlcv_store(PAIR, "5m", frame, CandleType.OPEN_INTEREST)


def _features(datadir: Path) -> pd.DataFrame:
    inputs = load_pair_inputs(datadir, PAIR, "5m")
    return compute_features(
        inputs.candles, pair=PAIR, open_interest=inputs.open_interest, timeframe="5m"
    )


@pytest.fixture(scope="module")
def downloaded(tmp_path_factory) -> Path:
    """A datadir filled by a real `freqtrade download-data` of open interest (REST)."""
    from liq_signals.offline.runner import run_freqtrade

    tmp = tmp_path_factory.mktemp("ft_download")
    datadir = _datadir_with_candles(tmp / "binance")
    (tmp / "ud").mkdir()
    result = run_freqtrade(
        [
            "download-data",
            "--exchange",
            "binance",
            "--trading-mode",
            "futures",
            "--pairs",
            PAIR,
            "--timeframes",
            "5m",
            "--candle-types",
            "open_interest",
            "--timerange",
            "20260610-20260622",
            "--datadir",
            str(datadir),
            "--user-data-dir",
            str(tmp / "ud"),
        ],
        datadir=DATADIR_OI,
        configs=[REPO / "user_data" / "config.json"],
        replay_start="2026-06-22T12:00:00Z",
        timeout=240,
        overlay_dir=tmp / "ov",
        cwd=REPO,
    )
    assert result.returncode == 0, result.output[-3000:]
    assert "Downloaded data for BTC/USDT:USDT, 5m, open_interest" in result.output
    return datadir


def test_engine_reads_what_freqtrade_downloads_for_binance(downloaded):
    inputs = load_pair_inputs(downloaded, PAIR, "5m")
    oi = inputs.open_interest
    assert oi is not None
    assert list(oi.columns) == [
        "date",
        "open_interest_amount",
        "open_interest_value",
    ]
    assert oi["open_interest_amount"].notna().all()
    assert oi["open_interest_value"].notna().all()
    assert oi["date"].min() >= pd.Timestamp("2026-06-10", tz="UTC")
    feats = compute_features(inputs.candles, pair=PAIR, open_interest=oi, timeframe="5m")
    in_window = (feats["date"] > "2026-06-10 01:00") & (feats["date"] < "2026-06-14 15:00")
    assert (feats.loc[in_window, C.MODE] == C.MODE_OI).all()
    assert (feats.loc[feats["date"] < "2026-06-10", C.MODE] == C.MODE_VOLUME).all()


def test_bybit_amount_only_files_give_the_same_features(tmp_path, downloaded):
    """Bybit linear leaves open_interest_value all-NaN; the engine uses contracts only, so
    the features must equal those of the Binance file with both columns."""
    oi = load_pair_inputs(downloaded, PAIR, "5m").open_interest
    bybit = _datadir_with_candles(tmp_path / "bybit")
    _store_oi(bybit, oi.assign(open_interest_value=np.nan))
    back = load_pair_inputs(bybit, PAIR, "5m").open_interest
    assert back["open_interest_value"].isna().all()
    pd.testing.assert_frame_equal(_features(bybit), _features(downloaded))


def test_value_only_files_get_the_amount_derived(tmp_path, downloaded, caplog):
    """An exchange that fills only the USD value: compute_features derives the contracts
    (value / open of the candle at the snapshot time, logged) and runs in OI mode, with
    the same features as an explicit fill_open_interest_amount."""
    caplog.set_level("INFO")
    oi = load_pair_inputs(downloaded, PAIR, "5m").open_interest
    value_only = _datadir_with_candles(tmp_path / "value_only")
    _store_oi(value_only, oi.assign(open_interest_amount=np.nan))
    inputs = load_pair_inputs(value_only, PAIR, "5m")
    assert inputs.open_interest["open_interest_amount"].isna().all()
    feats = compute_features(
        inputs.candles, pair=PAIR, open_interest=inputs.open_interest, timeframe="5m"
    )
    assert f"derived from open_interest_value / candle open for {len(oi)} rows" in caplog.text
    in_window = (feats["date"] > "2026-06-10 01:00") & (feats["date"] < "2026-06-14 15:00")
    assert (feats.loc[in_window, C.MODE] == C.MODE_OI).all()
    filled = fill_open_interest_amount(inputs.open_interest, inputs.candles, pair=PAIR)
    explicit = compute_features(inputs.candles, pair=PAIR, open_interest=filled, timeframe="5m")
    pd.testing.assert_frame_equal(feats, explicit)
    # the derived contracts are close to the real ones (value / open vs freqtrade's amount)
    rel = (filled["open_interest_amount"] / oi["open_interest_amount"] - 1).abs()
    assert rel.max() < 0.02


def test_files_lacking_a_column_read_it_as_all_nan(tmp_path, downloaded):
    """A file without one of the two columns loads like one where it is all-NaN."""
    oi = load_pair_inputs(downloaded, PAIR, "5m").open_interest
    target = "futures/BTC_USDT_USDT-5m-open_interest.feather"
    amount_only = _datadir_with_candles(tmp_path / "amount_only")
    oi.drop(columns=["open_interest_value"]).to_feather(amount_only / target)
    back = load_pair_inputs(amount_only, PAIR, "5m").open_interest
    assert back["open_interest_value"].isna().all()
    pd.testing.assert_frame_equal(_features(amount_only), _features(downloaded))
    value_only = _datadir_with_candles(tmp_path / "value_only")
    oi.drop(columns=["open_interest_amount"]).to_feather(value_only / target)
    assert (
        load_pair_inputs(value_only, PAIR, "5m").open_interest["open_interest_amount"].isna().all()
    )
    assert (_features(value_only)[C.MODE] == C.MODE_OI).sum() > 1000


def test_archive_import_merges_into_a_freqtrade_datadir(tmp_path, downloaded):
    datadir = tmp_path / "binance"
    shutil.copytree(downloaded, datadir)
    rest = load_pair_inputs(datadir, PAIR, "5m").open_interest
    mirror = tmp_path / "mirror"
    write_mirror(mirror, sample_rows())
    with archive_server(mirror) as emu:
        report = import_metrics(
            ImportConfig(
                pairs=(PAIR,),
                start=pd.Timestamp("2026-06-07", tz="UTC").to_pydatetime(),
                stop=pd.Timestamp("2026-06-13", tz="UTC").to_pydatetime(),
                datadir=datadir,
                base_url=emu.url,
            )
        )
    assert report.ok
    merged = load_pair_inputs(datadir, PAIR, "5m").open_interest
    assert merged["date"].is_unique
    assert merged["date"].is_monotonic_increasing
    # REST rows after the imported days are kept as downloaded
    later = rest[rest["date"] >= "2026-06-13"].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        merged[merged["date"] >= "2026-06-13"].reset_index(drop=True), later
    )
    # the archive now covers 06-07 .. 06-12 (REST started 06-10)
    assert merged["date"].min() == pd.Timestamp("2026-06-07 04:40", tz="UTC")
    assert set(merged["date"].dt.date) >= {date(2026, 6, d) for d in range(7, 15)}
