"""Golden values on the embedded real data.

The numbers were produced once by this engine (default ModelConfig, commit of this file)
and sanity-checked by hand: in volume mode each book holds ≈ participation × volume × τ
(0.05 × ~940 BTC × 1246 candles ≈ 58k BTC without sweeps; the engine has 48k after sweeps
took ~6 % of the outflow), magnets lie inside the 10 % band on the right side of the
close, and OI-mode coverage stays below 1.  They guard against unintended changes of the
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
        "close": 64482.2, C.LONG_BELOW_USD_10PCT: 37667770.51872012, C.SHORT_ABOVE_USD_2PCT: 7813850.65662193,
        C.MAGNET_UP_PRICE: 64989.75958267289, C.MAGNET_DOWN_PRICE: 63696.801093329246,
        C.SWEPT_LONG_USD_RECENT: 55353.98347830617, C.IMBALANCE_LOG_5PCT: -0.11792652198587215,
        C.CASCADE_UP_USD_PER_PCT: 3628132.429789676, C.NEAREST_DOWN_PRICE: 64016.88753473421,
        C.COVERAGE: 0.025608917939324766, C.MODE: "oi", C.STALE: False,
    },
    3500: {
        "close": 62669.5, C.LONG_BELOW_USD_10PCT: 60862803.753454745, C.SHORT_ABOVE_USD_2PCT: 3474323.353591578,
        C.MAGNET_UP_PRICE: 67638.2113120265, C.MAGNET_DOWN_PRICE: 61824.36086467141,
        C.SWEPT_LONG_USD_RECENT: 25690.31484376856, C.IMBALANCE_LOG_5PCT: -0.7667534079749567,
        C.CASCADE_UP_USD_PER_PCT: 817436.645001175, C.NEAREST_DOWN_PRICE: 62103.441339683726,
        C.COVERAGE: np.nan, C.MODE: "volume", C.STALE: True,
    },
    4405: {
        "close": 64543.0, C.LONG_BELOW_USD_10PCT: 62349997.85733498, C.SHORT_ABOVE_USD_2PCT: 13103057.786753293,
        C.MAGNET_UP_PRICE: 64984.98276778048, C.MAGNET_DOWN_PRICE: 63072.73528079292,
        C.SWEPT_LONG_USD_RECENT: 0.0, C.IMBALANCE_LOG_5PCT: 0.07295572964976117,
        C.CASCADE_UP_USD_PER_PCT: 6603358.0110714035, C.NEAREST_DOWN_PRICE: 63699.04322829686,
        C.COVERAGE: 0.047861548063017095, C.MODE: "oi", C.STALE: False,
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
    out = compute_features(oi_data.candles, pair=PAIR, open_interest=oi_data.open_interest, metrics=oi_data.metrics)
    for idx, expected in GOLDEN_OI.items():
        check(out.loc[idx], expected)
