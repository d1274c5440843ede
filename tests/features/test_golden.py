"""Golden values on the embedded real data.

The numbers were produced once by this engine (default ModelConfig, commit of this file)
and sanity-checked by hand: in volume mode each book holds ≈ participation × volume × τ
(0.05 × ~940 BTC × 1246 candles ≈ 58k BTC without sweeps; the engine has 48k after sweeps
took ~6 % of the outflow), magnets lie inside the 10 % band on the right side of the
close, and OI-mode coverage stays below 1 (11–23 %: the book only knows positions opened
since the first candle on file, 15 days here, and net ΔQ+ averages 26 BTC per candle
against ~100k BTC of open interest).  They guard against unintended changes of the
model: a deliberate model change must update them (and say so in its commit).
"""

from __future__ import annotations

import numpy as np
import pytest

from liq_signals import columns as C
from liq_signals.features import compute_features

PAIR = "BTC/USDT:USDT"
RTOL = 1e-6

GOLDEN_2023 = {
    100000: {
        "close": 42769.5,
        C.LONG_BELOW_USD_10PCT: 288062140.850427865982,
        C.SHORT_ABOVE_USD_2PCT: 14954044.435189779848,
        C.MAGNET_UP_PRICE: 46714.637397807353,
        C.MAGNET_DOWN_PRICE: 40016.759632256399,
        C.SWEPT_LONG_USD_RECENT: 0.0,
        C.IMBALANCE_LOG_5PCT: 1.336649739309,
        C.CASCADE_UP_USD_PER_PCT: 1324592.948568824911,
        C.NEAREST_DOWN_PRICE: 40199.091275023267,
    },
    143899: {
        "close": 61833.0,
        C.LONG_BELOW_USD_10PCT: 416471956.797742664814,
        C.SHORT_ABOVE_USD_2PCT: 12281724.725350733846,
        C.MAGNET_UP_PRICE: 67646.436799333751,
        C.MAGNET_DOWN_PRICE: 59991.357153484008,
        C.SWEPT_LONG_USD_RECENT: 325326.203132017865,
        C.IMBALANCE_LOG_5PCT: -0.12656835623,
        C.CASCADE_UP_USD_PER_PCT: 3228866.970527498517,
        C.NEAREST_DOWN_PRICE: 60295.843141270016,
    },
}

GOLDEN_OI = {
    2000: {
        "close": 64482.2,
        C.LONG_BELOW_USD_10PCT: 232637536.43390465,
        C.SHORT_ABOVE_USD_2PCT: 58545872.59492691,
        C.MAGNET_UP_PRICE: 64987.1552442914,
        C.MAGNET_DOWN_PRICE: 60580.75334389911,
        C.SWEPT_LONG_USD_RECENT: 58544.28361786104,
        C.IMBALANCE_LOG_5PCT: 0.6042417797584071,
        C.CASCADE_UP_USD_PER_PCT: 24462995.746855404,
        C.NEAREST_DOWN_PRICE: 63367.76717653248,
        C.COVERAGE: 0.22029955310167748,
        C.MODE: "oi",
        C.STALE: False,
    },
    3500: {
        "close": 62669.5,
        C.LONG_BELOW_USD_10PCT: 133047335.98685975,
        C.SHORT_ABOVE_USD_2PCT: 3474323.3535915767,
        C.MAGNET_UP_PRICE: 67642.19119342261,
        C.MAGNET_DOWN_PRICE: 60586.12668342174,
        C.SWEPT_LONG_USD_RECENT: 25690.314843768545,
        C.IMBALANCE_LOG_5PCT: -1.5082682866105348,
        C.CASCADE_UP_USD_PER_PCT: 817436.6450011751,
        C.NEAREST_DOWN_PRICE: 62102.559447268955,
        C.COVERAGE: np.nan,
        C.MODE: "volume",
        C.STALE: True,
    },
    4405: {
        "close": 64543.0,
        C.LONG_BELOW_USD_10PCT: 172269497.36558875,
        C.SHORT_ABOVE_USD_2PCT: 29305241.445547283,
        C.MAGNET_UP_PRICE: 70051.68856176232,
        C.MAGNET_DOWN_PRICE: 62122.4133931572,
        C.SWEPT_LONG_USD_RECENT: 0.0,
        C.IMBALANCE_LOG_5PCT: 0.10940242282549241,
        C.CASCADE_UP_USD_PER_PCT: 14307352.888082461,
        C.NEAREST_DOWN_PRICE: 63070.597284807125,
        C.COVERAGE: 0.14707599752045183,
        C.MODE: "oi",
        C.STALE: False,
    },
}


def check(row, expected: dict) -> None:
    for col, want in expected.items():
        got = row[col]
        if isinstance(want, str | bool):
            assert got == want, col
        else:
            assert got == pytest.approx(want, rel=RTOL, abs=1e-9, nan_ok=True), col


def test_golden_values_2023_volume_mode(data_2023) -> None:
    out = compute_features(data_2023.candles, pair=PAIR)
    assert len(out) == 143_900
    for idx, expected in GOLDEN_2023.items():
        check(out.loc[idx], expected)


def test_golden_values_2026_open_interest(oi_data) -> None:
    out = compute_features(
        oi_data.candles, pair=PAIR, open_interest=oi_data.open_interest, metrics=oi_data.metrics
    )
    for idx, expected in GOLDEN_OI.items():
        check(out.loc[idx], expected)
