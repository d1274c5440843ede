"""Convert the recorded 2026-06 Binance REST sample into freqtrade's datadir layout.

One-off provenance script (run once; its output is committed under
``user_data/data/binance-oi-2026-06/futures/``).  Source: the CSV of Binance public REST
5m OHLC, ``openInterestHist.sumOpenInterestValue``, funding and taker CVD, kept in
``tests/testdata/BTCUSDT-5m-ohlc-oi-funding-cvd.csv``.

Choices, stated so nobody has to guess:

* The recording has no traded volume.  ``volume`` is written as ``|Δ taker CVD|``
  (BTC): the net taker volume of the candle, a documented *lower bound* of the real
  volume.  OI mode does not use volume to size opens, so the engine is unaffected;
  strategies that filter on volume see a conservative number.
* ``open_interest_amount`` (contracts = BTC) is ``value / open``: the snapshot stamped T
  is priced at T, which is the open of the candle stamped T.
* The real recording outage (2026-06-14 15:05 -> 2026-06-20 10:55) stays a gap: no OI
  rows are written for it.
* ``taker_cvd_btc`` becomes ``taker_net_base`` (per-candle taker buy − sell, BTC) in the
  metrics sidecar ``BTC_USDT_USDT-5m-metrics.arrow`` (schema: ``liq_signals.data.sidecar``).
  The other sidecar series (taker buy/sell ratio, long/short ratios) were not recorded.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
from freqtrade.data.history import get_datahandler
from freqtrade.enums import CandleType


def main(src: Path, datadir: Path) -> None:
    raw = pd.read_csv(src)
    raw["date"] = pd.to_datetime(raw["timestamp_ms"], unit="ms", utc=True)
    raw = raw.sort_values("date").reset_index(drop=True)
    if raw["date"].duplicated().any():
        raise ValueError(f"{src}: duplicated timestamps")
    # The CVD is recorded to 0.001 BTC; rounding its differences to that precision keeps
    # volume (= |net|) and net exactly representable as served by an exchange (3 decimals),
    # so backtest (file) and dry-run (emulator) see bit-identical inputs.
    net_taker = raw["taker_cvd_btc"].diff().round(3)
    candles = pd.DataFrame(
        {
            "date": raw["date"],
            "open": raw["open"],
            "high": raw["high"],
            "low": raw["low"],
            "close": raw["close"],
            "volume": net_taker.abs().fillna(0.0),
        }
    )
    has_oi = raw["open_interest_value_usd"].notna()
    oi = raw.loc[has_oi, ["date", "open", "open_interest_value_usd"]]
    oi = pd.DataFrame(
        {
            "date": oi["date"],
            "open_interest_amount": oi["open_interest_value_usd"] / oi["open"],
            "open_interest_value": oi["open_interest_value_usd"],
        }
    )
    funding = raw[["date", "funding_rate"]]
    metrics = pd.DataFrame({"date": raw["date"], "taker_net_base": net_taker})

    handler = get_datahandler(datadir, "feather")
    pair = "BTC/USDT:USDT"
    handler.ohlcv_store(pair, "5m", candles, CandleType.FUTURES)
    handler.ohlcv_store(pair, "5m", oi.reset_index(drop=True), CandleType.OPEN_INTEREST)
    # Funding settles every 8h; the recording repeats the current rate on every 5m row.
    settle = funding[funding["date"].dt.hour.isin([0, 8, 16]) & (funding["date"].dt.minute == 0)]
    handler.ohlcv_store(pair, "1h", settle.reset_index(drop=True), CandleType.FUNDING_RATE)
    metrics.to_feather(datadir / "futures" / "BTC_USDT_USDT-5m-metrics.arrow")
    print(f"candles {len(candles)}, oi rows {len(oi)}, funding rows {len(settle)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
