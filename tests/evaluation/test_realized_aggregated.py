"""The aggregated per-period record: the shipped CoinGlass 4-hour Binance record
(user_data/realized/coinglass-binance-4h), a hand-computed case, the record's period
(scored at it or coarser, never finer) and the bad inputs the loader refuses."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from liq_signals.cli import main
from liq_signals.errors import ConfigError
from liq_signals.evaluation.inputs import describe_record, scoring_period
from liq_signals.evaluation.realized import (
    LiquidationDataError,
    RealizedRecord,
    load_aggregated,
    load_realized,
)
from liq_signals.evaluation.runner import ValidationError, realized_per_period

PAIR = "BTC/USDT:USDT"
SHIPPED = "user_data/realized/coinglass-binance-4h/liquidations"
HEADER = "timestamp,long_usd,short_usd\n"
T0 = 1731528000000  # 2024-11-13 20:00 UTC, a 4-hour boundary
STEP = 4 * 3600 * 1000


def _write(path, rows: list[str], header: str = HEADER):
    path.write_text(header + "".join(r + "\n" for r in rows))
    return path


@pytest.fixture
def hand(tmp_path):
    """Four 4-hour periods of BTC and one of ETH in the same folder."""
    folder = tmp_path / "rec"
    folder.mkdir()
    _write(
        folder / "BTC-4h-liquidations.csv",
        [f"{T0},100,10", f"{T0 + STEP},0,20.5", f"{T0 + 2 * STEP},300,0", f"{T0 + 3 * STEP},50,5"],
    )
    _write(folder / "ETH-4h-liquidations.csv", [f"{T0},7,7", f"{T0 + STEP},7,7"])
    (folder / "record.json").write_text(
        '{"exchange": "binance", "period": "4h", "complete": false, '
        '"description": "hand-made lower bound"}'
    )
    return folder


def test_hand_computed_record_keeps_its_coin_period_and_meaning(hand):
    record = load_realized(hand, pair=PAIR)
    assert record.sources == (str(hand / "BTC-4h-liquidations.csv"),)  # ETH left out
    assert record.period == pd.Timedelta(hours=4)
    assert (record.exchange, record.complete) == ("binance", False)
    agg = record.aggregated
    assert list(agg.index) == list(
        pd.date_range("2024-11-13 20:00", periods=4, freq="4h", tz="UTC")
    )
    assert agg["long_usd"].tolist() == [100.0, 0.0, 300.0, 50.0]
    assert agg["short_usd"].tolist() == [10.0, 20.5, 0.0, 5.0]
    assert describe_record(record) == "aggregated 4h totals: hand-made lower bound"
    # 8-hour scoring: only the periods covered from start to end; 20:00 + 00:00 is one
    # 8-hour period only if 8h periods start at 16:00 -> they start at 00:00, 08:00, 16:00
    per, span = realized_per_period(record, "8h")
    assert list(per.index) == [pd.Timestamp("2024-11-14 00:00", tz="UTC")]
    assert per["long_usd"].tolist() == [300.0]  # 00:00 (0) + 04:00 (300)
    assert per["short_usd"].tolist() == [20.5]
    assert span == (per.index[0], per.index[0])
    per4, _ = realized_per_period(record, "4h")
    assert per4["long_usd"].sum() == 450.0


def test_record_is_never_scored_finer_than_its_period(hand):
    record = load_realized(hand, pair=PAIR)
    assert scoring_period(None, record) == "4h"
    assert scoring_period("1D", record) == "1D"
    assert scoring_period(None, None) == "1h"
    for finer in ("1h", "6h"):
        with pytest.raises(ConfigError, match=r"holds 4h totals"):
            scoring_period(finer, record)
        with pytest.raises(ValidationError, match=r"totals of 0 days 04:00:00"):
            realized_per_period(record, finer)


def test_folder_of_several_coins_needs_the_pair(hand):
    with pytest.raises(LiquidationDataError, match=r"several coins \['BTC', 'ETH'\]"):
        load_realized(hand)


def test_period_in_name_and_record_json_must_agree(hand):
    (hand / "record.json").write_text('{"period": "1h"}')
    with pytest.raises(LiquidationDataError, match=r"name says 4h periods.*record.json says 1h"):
        load_realized(hand, pair=PAIR)


def test_open_interest_file_is_not_taken_for_liquidations(tmp_path):
    path = _write(
        tmp_path / "BTC-4h-open-interest.csv",
        [f"{T0},1,2,0.5,1.5"],
        header="timestamp,open_usd,high_usd,low_usd,close_usd\n",
    )
    with pytest.raises(LiquidationDataError, match=r"open-interest file"):
        load_realized(path, pair=PAIR)


@pytest.mark.parametrize(
    ("rows", "header", "message"),
    [
        ([f"{T0},1"], "timestamp,long_usd\n", r"bad\.csv: missing column\(s\) \['short_usd'\]"),
        ([f"{T0},1,2", f"{T0 + STEP},abc,2"], HEADER, r"bad\.csv: line 3: long_usd .*'abc'"),
        ([f"{T0},1,2", f"{T0 + STEP},1,-2"], HEADER, r"bad\.csv: line 3: short_usd .*'-2'"),
        ([f"{T0},1,2", f"{T0 + STEP},1,nan"], HEADER, r"bad\.csv: line 3: short_usd"),
        (
            [f"{T0 + STEP},1,2", f"{T0},1,2"],
            HEADER,
            r"bad\.csv: line 3: periods must be in increasing time order: '1731528000000'",
        ),
        (
            [f"{T0},1,2", f"{T0 + STEP},1,2", f"{T0 + STEP},3,4"],
            HEADER,
            r"bad\.csv: line 4: duplicate period: '1731542400000'",
        ),
        (
            [f"{T0},1,2", f"{T0 + STEP + 60_000},1,2"],
            HEADER,
            r"bad\.csv: line 3: timestamp is not the start of a 4h period",
        ),
        (
            [f"{T0},1,2", "yesterday,1,2"],
            HEADER,
            r"bad\.csv: line 3: timestamp is not epoch milliseconds: 'yesterday'",
        ),
        (["2024-11-13T20:00:00Z,1,2", "yesterday,1,2"], HEADER, r"bad\.csv: line 3: .*not a time"),
    ],
)
def test_bad_aggregated_rows_name_file_and_first_bad_line(tmp_path, rows, header, message):
    path = _write(tmp_path / "bad.csv", rows, header)
    with pytest.raises(LiquidationDataError, match=message) as info:
        load_aggregated(path, "4h")
    assert "\n" not in str(info.value)


def test_bad_row_in_a_shipped_format_file_stops_load_realized(tmp_path):
    folder = tmp_path / "rec"
    folder.mkdir()
    _write(folder / "BTC-4h-liquidations.csv", [f"{T0},1,2", f"{T0 + STEP},-1,2"])
    with pytest.raises(LiquidationDataError, match=r"BTC-4h-liquidations\.csv: line 3: long_usd"):
        load_realized(folder, pair=PAIR)


def test_shipped_record_loads_as_it_is(repo):
    record = load_realized(repo / SHIPPED, pair=PAIR)
    assert isinstance(record, RealizedRecord)
    assert record.events.empty
    assert record.period == pd.Timedelta(hours=4)
    assert (record.exchange, record.complete) == ("binance", False)
    assert len(record.aggregated) == 2195
    assert record.aggregated.index[0] == pd.Timestamp("2024-11-13 20:00", tz="UTC")
    assert record.aggregated.index[-1] == pd.Timestamp("2025-11-14 12:00", tz="UTC")
    assert "LOWER BOUND" in describe_record(record)
    eth = load_realized(repo / SHIPPED, pair="ETH/USDT:USDT")
    assert eth.sources == (str(repo / SHIPPED / "ETH-4h-liquidations.csv"),)


def test_validate_scores_the_shipped_record_at_4h(repo, tmp_path, capsys):
    report = tmp_path / "out" / "btc-4h.md"
    rc = main(
        [
            "validate",
            "--realized",
            str(repo / SHIPPED),
            "--pair",
            PAIR,
            "--datadir",
            str(repo / "user_data/data/binance"),
            "--out",
            str(report),
        ]
    )
    assert rc == 0
    text = report.read_text()
    assert "BTC-4h-liquidations.csv" in text
    assert "ETH-4h-liquidations.csv" not in text
    assert "aggregated 4h totals" in text
    assert "LOWER BOUND" in text
    line = next(x for x in text.splitlines() if x.startswith("- scored:"))
    assert line.endswith("periods of 4h")
    periods = int(line.split(", ")[-1].split()[0])
    assert periods > 1500  # 2025-01-01 → 2025-11-14 16:00 with a 7-day warm-up
    out = capsys.readouterr().out
    assert f"{periods} periods scored" in out


def test_validate_refuses_a_finer_period_than_the_record(repo, tmp_path, capsys):
    rc = main(
        [
            "validate",
            "--realized",
            str(repo / SHIPPED),
            "--pair",
            PAIR,
            "--period",
            "1h",
            "--out",
            str(tmp_path / "r.md"),
        ]
    )
    assert rc == 2
    assert "holds 4h totals" in capsys.readouterr().err


def test_calibrate_reads_the_shipped_record_and_keeps_participation(repo, tmp_path, capsys):
    out = tmp_path / "fitted.json"
    rc = main(
        [
            "calibrate",
            "--realized",
            str(repo / SHIPPED),
            "--pair",
            PAIR,
            "--datadir",
            str(repo / "user_data/data/binance"),
            "--fit-range",
            "20250301-20250401",
            "--test-range",
            "20250401-20250501",
            "--grid",
            "decay_half_life_hours=24,72",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    fit = json.loads(out.read_text())["fit"]
    assert fit["period"] == "4h"
    assert fit["participation"].startswith("not fitted: the aggregated record says it is a lower")
    assert "LOWER BOUND" in fit["realized_is"]
    assert "periods 186" in capsys.readouterr().out  # March: 31 days × 6


@pytest.mark.parametrize(
    ("time_text", "period"),
    [
        (("1735689600000", "1735693200000", "1735696800000"), pd.Timedelta("1h")),
        (
            ("2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z", "2025-01-03T00:00:00Z"),
            pd.Timedelta("1D"),
        ),
    ],
)
def test_coinglass_column_names_any_period(tmp_path, time_text, period):
    """CoinGlass exports: ``longUsd``/``shortUsd``, ms or ISO times; the period is the
    step between rows when the name does not say it."""
    path = tmp_path / "export.csv"
    path.write_text(
        "timestamp,longUsd,shortUsd\n"
        + "".join(f"{t},{10 * (i + 1)},{i}\n" for i, t in enumerate(time_text)),
        encoding="utf-8",
    )
    rec = load_realized(path)
    assert rec.period == period
    assert rec.aggregated["long_usd"].tolist() == [10.0, 20.0, 30.0]
    assert rec.aggregated["short_usd"].tolist() == [0.0, 1.0, 2.0]
    both = tmp_path / "both.csv"
    both.write_text("timestamp,longUsd,long_usd,shortUsd\n1735689600000,1,1,1\n")
    with pytest.raises(LiquidationDataError, match="both longUsd and long_usd"):
        load_realized(both)
