"""Loaders of realized liquidations on the real Binance forceOrder sample and on bad files."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from liq_signals.evaluation.realized import (
    LiquidationDataError,
    aggregate_events,
    load_aggregated,
    load_binance_force_orders,
    load_message_log,
    load_realized,
    parse_binance_message,
    parse_bybit_message,
)

SAMPLE = "tests/testdata/BTCUSDT-forceOrder-2024-12-04_06.csv"


@pytest.fixture(scope="module")
def sample(repo):
    return load_binance_force_orders(repo / SAMPLE)


def test_sell_order_means_a_long_was_liquidated_on_known_rows(sample):
    # row 1 of the file: SELL 0.013 BTC, average 94809.6, trade time 1733330785584
    first = sample.iloc[0]
    assert first.side == "long"
    assert first.date == pd.Timestamp(1733330785584, unit="ms", tz="UTC")
    assert first.quantity == 0.013
    assert first.price == 94809.6
    assert first.notional_usd == pytest.approx(0.013 * 94809.6)
    # row 2: partially reported fill - the accumulated quantity (0.033), not the last (0.002)
    assert sample.iloc[1].quantity == 0.033


def test_buy_order_means_a_short_was_liquidated_and_totals_match_the_file(repo, sample):
    raw = pd.read_csv(repo / SAMPLE)
    assert len(sample) == 1844
    assert (sample.side == "short").sum() == (raw.side == "BUY").sum() == 1115
    assert (sample.side == "long").sum() == (raw.side == "SELL").sum() == 729
    buy = raw[raw.side == "BUY"].iloc[0]
    row = sample[sample.date == pd.Timestamp(int(buy.trade_time_ms), unit="ms", tz="UTC")].iloc[0]
    assert row.side == "short"
    assert row.price == buy.average_price
    assert sample.date.is_monotonic_increasing
    assert set(sample.pair) == {"BTC/USDT:USDT"}


def test_aggregation_conserves_notional_per_side(sample):
    hourly = aggregate_events(sample, "1h")
    assert hourly.long_usd.sum() == pytest.approx(sample[sample.side == "long"].notional_usd.sum())
    assert hourly.short_usd.sum() == pytest.approx(
        sample[sample.side == "short"].notional_usd.sum()
    )
    assert hourly.index[0] == pd.Timestamp("2024-12-04 16:00", tz="UTC")


def test_bad_side_names_file_and_line(repo, tmp_path):
    lines = (repo / SAMPLE).read_text().splitlines()
    lines[5] = lines[5].replace(",SELL,", ",HOLD,").replace(",BUY,", ",HOLD,")
    bad = tmp_path / "bad-forceOrder.csv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        LiquidationDataError, match=r"bad-forceOrder\.csv: line 6: side must be BUY or SELL"
    ):
        load_realized(bad)


def test_non_positive_quantity_is_rejected_not_coerced(repo, tmp_path):
    raw = pd.read_csv(repo / SAMPLE, dtype=str)
    raw.loc[9, "accumulated_filled_quantity"] = "0"
    bad = tmp_path / "zero-qty.csv"
    raw.to_csv(bad, index=False)
    with pytest.raises(
        LiquidationDataError, match=r"zero-qty\.csv: line 11: accumulated_filled_quantity"
    ):
        load_binance_force_orders(bad)


def test_aggregated_csv_accepts_ms_and_iso_and_rejects_negative(tmp_path):
    ms = tmp_path / "agg-ms.csv"
    ms.write_text("timestamp,long_usd,short_usd\n1733331600000,10.5,0\n1733335200000,0,7\n")
    iso = tmp_path / "agg-iso.csv"
    iso.write_text(
        "date,long_usd,short_usd\n2024-12-04T17:00:00Z,10.5,0\n2024-12-04 18:00:00,0,7\n"
    )
    a, b = load_aggregated(ms), load_aggregated(iso)
    pd.testing.assert_frame_equal(a, b, check_index_type=False, check_dtype=False)
    assert a.index[0] == pd.Timestamp("2024-12-04 17:00", tz="UTC")
    bad = tmp_path / "agg-bad.csv"
    bad.write_text("date,long_usd,short_usd\n2024-12-04T17:00:00Z,1,2\n2024-12-04T18:00:00Z,-3,2\n")
    with pytest.raises(LiquidationDataError, match=r"agg-bad\.csv: line 3: long_usd"):
        load_aggregated(bad)


def test_message_log_of_raw_bybit_frames(tmp_path):
    frame = {
        "topic": "allLiquidation.ETHUSDT",
        "type": "snapshot",
        "ts": 1739502303204,
        "data": [
            {"T": 1739502302929, "s": "ETHUSDT", "S": "Sell", "v": "2", "p": "2700.5"},
            {"T": 1739502302930, "s": "ETHUSDT", "S": "Buy", "v": "0.5", "p": "2699"},
        ],
    }
    log = tmp_path / "bybit.jsonl"
    log.write_text(
        json.dumps({"op": "subscribe", "success": True}) + "\n" + json.dumps(frame) + "\n"
    )
    events = load_message_log(log)
    assert events.side.tolist() == ["short", "long"]
    assert events.pair.tolist() == ["ETH/USDT:USDT"] * 2
    assert events.notional_usd.tolist() == [2 * 2700.5, 0.5 * 2699]
    log.write_text(json.dumps(frame) + "\n{broken\n")
    with pytest.raises(LiquidationDataError, match=r"bybit\.jsonl: line 2"):
        load_message_log(log)


def test_parsers_disagree_on_side_words_exactly_as_documented():
    binance = {
        "e": "forceOrder",
        "E": 2,
        "o": {"s": "BTCUSDT", "S": "SELL", "q": "1", "p": "90", "ap": "0", "z": "1", "T": 1},
    }
    bybit = {
        "topic": "allLiquidation.BTCUSDT",
        "data": [{"T": 1, "s": "BTCUSDT", "S": "Sell", "v": "1", "p": "90"}],
    }
    assert parse_binance_message(binance)[0].side == "long"
    assert parse_binance_message(binance)[0].price == 90.0  # ap == 0 -> order price
    assert parse_bybit_message(bybit)[0].side == "short"


def test_recorder_file_with_an_unfinished_last_line_loads_the_finished_rows(tmp_path, caplog):
    path = tmp_path / "BTC_USDT_USDT-2024-12-05.csv"
    path.write_text(
        "time_ms,pair,side,price,quantity,notional_usd,exchange\n"
        "1733356800000,BTC/USDT:USDT,long,98000.5,0.5,49000.25,binance\n"
        "1733356801000,BTC/USDT:USDT,sh"
    )
    events = load_realized(path).events
    assert events.side.tolist() == ["long"]
    assert "unfinished last line of 30 bytes" in caplog.text
    # a finished but broken row is an error, not a repair
    path.write_text(
        "time_ms,pair,side,price,quantity,notional_usd,exchange\n"
        "1733356800000,BTC/USDT:USDT,long,98000.5,0.5,49000.25,binance\n"
        "1733356801000,BTC/USDT:USDT,sh,1,1,1,binance\n"
    )
    with pytest.raises(LiquidationDataError, match=r"line 3: side must be long or short"):
        load_realized(path)


def test_real_sample_rally_liquidates_shorts_and_drop_liquidates_longs(sample):
    """Golden values of the shipped record: the 2024-12-04 evening rally (fills 95.7k ->
    98.7k) is short-dominated, the 2024-12-05 evening drop (101.4k -> 98.8k) long-heavy."""
    six_hours = aggregate_events(sample, "6h")
    rally = six_hours.loc[pd.Timestamp("2024-12-04 18:00", tz="UTC")]
    drop = six_hours.loc[pd.Timestamp("2024-12-05 18:00", tz="UTC")]
    assert rally.short_usd == pytest.approx(12.085e6, rel=1e-3)
    assert rally.long_usd == pytest.approx(0.768e6, rel=1e-3)
    assert drop.long_usd == pytest.approx(5.392e6, rel=1e-3)
    assert drop.long_usd > drop.short_usd
