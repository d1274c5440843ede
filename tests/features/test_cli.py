"""The ``features`` and ``snapshot`` commands on the embedded data (in-process CLI)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liq_signals import columns as C
from liq_signals.cli import main
from liq_signals.features.pipeline import compute_features
from tests.conftest import DATADIR_OI

PAIR = "BTC/USDT:USDT"


@pytest.fixture(scope="module")
def full(oi_data):
    return compute_features(
        oi_data.candles, pair=PAIR, open_interest=oi_data.open_interest, metrics=oi_data.metrics
    )


@pytest.mark.parametrize("suffix", [".feather", ".csv"])
def test_features_writes_only_the_timerange_with_full_history_values(
    tmp_path, capsys, full, suffix
) -> None:
    out = tmp_path / f"f{suffix}"
    rc = main(
        [
            "features",
            "--datadir",
            str(DATADIR_OI),
            "--pair",
            PAIR,
            "--timeframe",
            "5m",
            "--timerange",
            "20260615-20260616",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    got = pd.read_feather(out) if suffix == ".feather" else pd.read_csv(out, parse_dates=["date"])
    assert list(got.columns) == ["date", *C.FEATURE_COLUMNS]
    assert len(got) == 288
    assert got["date"].iloc[0] == pd.Timestamp("2026-06-15", tz="UTC")
    assert got["date"].iloc[-1] == pd.Timestamp("2026-06-15 23:55", tz="UTC")
    want = full[full["date"].isin(got["date"])].reset_index(drop=True)
    for col in (C.LONG_BELOW_USD_5PCT, C.MAGNET_UP_PRICE, C.COVERAGE, C.SWEPT_SHORT_USD_RECENT):
        np.testing.assert_allclose(got[col].to_numpy(float), want[col].to_numpy(float), rtol=1e-12)
    assert (got[C.MODE].to_numpy() == want[C.MODE].to_numpy()).all()
    text = capsys.readouterr().out
    assert "wrote 288 rows" in text
    assert "open_interest" in text
    assert "mode:" in text


def test_features_missing_data_names_file_and_download_command(tmp_path, capsys) -> None:
    (tmp_path / "futures").mkdir()
    rc = main(
        ["features", "--datadir", str(tmp_path), "--pair", PAIR, "--out", str(tmp_path / "x.csv")]
    )
    err = capsys.readouterr().err
    assert rc == 1
    assert "BTC_USDT_USDT-5m-futures.feather" in err
    assert "freqtrade download-data" in err


def test_features_rejects_unknown_output_format(tmp_path) -> None:
    assert (
        main(
            [
                "features",
                "--datadir",
                str(DATADIR_OI),
                "--pair",
                PAIR,
                "--out",
                str(tmp_path / "x.xlsx"),
            ]
        )
        == 2
    )


def test_snapshot_prints_bands_ratio_and_clusters(capsys, full) -> None:
    rc = main(
        [
            "snapshot",
            "--datadir",
            str(DATADIR_OI),
            "--pair",
            PAIR,
            "--timeframe",
            "5m",
            "--at",
            "2026-06-20 12:00",
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    row = full[full["date"] == pd.Timestamp("2026-06-20 12:00", tz="UTC")].iloc[0]
    assert f"price {row['close']:,.2f}" in text
    assert "±2%" in text
    assert "±10%" in text
    assert ":1" in text
    assert "Top short-liquidation clusters above:" in text
    assert "Top long-liquidation clusters below:" in text
    s, lo = row[C.SHORT_ABOVE_USD_5PCT], row[C.LONG_BELOW_USD_5PCT]
    ratio = f"{s / lo:.1f}:1" if s >= lo else f"1:{lo / s:.1f}"
    assert ratio in text
    # the largest cluster above is the magnet feature (same buckets)
    first_up = text.split("clusters above:\n")[1].splitlines()[0].split()
    assert float(first_up[0].replace(",", "")) == pytest.approx(row[C.MAGNET_UP_PRICE], rel=1e-6)


def test_snapshot_before_first_candle_is_an_error(capsys) -> None:
    rc = main(["snapshot", "--datadir", str(DATADIR_OI), "--pair", PAIR, "--at", "2020-01-01"])
    assert rc == 2  # an --at outside the data is a bad argument, as in heatmap
    assert "no candle contains --at" in capsys.readouterr().err


def test_zero_open_interest_row_is_dropped_naming_file_and_row(tmp_path, caplog) -> None:
    """A zero row is quarantined (a documented, logged repair), not fatal: the log names
    the file and the row, and only the candle reading it (lag 1) is stale."""
    import shutil

    fut = tmp_path / "futures"
    fut.mkdir()
    for f in (DATADIR_OI / "futures").glob("BTC_USDT_USDT-5m-*.feather"):
        shutil.copy(f, fut / f.name)
    oi_path = fut / "BTC_USDT_USDT-5m-open_interest.feather"
    oi = pd.read_feather(oi_path)
    oi.loc[7, "open_interest_amount"] = 0.0
    oi.to_feather(oi_path)
    out = tmp_path / "f.feather"
    rc = main(["features", "--datadir", str(tmp_path), "--pair", PAIR, "--out", str(out)])
    assert rc == 0
    line = next(r.getMessage() for r in caplog.records if "dropped" in r.getMessage())
    assert str(oi_path) in line
    assert "row 7 " in line
    stale = pd.read_feather(out).set_index("date")[C.STALE]
    assert stale.loc[oi["date"].iloc[7] + pd.Timedelta("5min")]
