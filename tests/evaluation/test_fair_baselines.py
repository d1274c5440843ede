"""The fair baselines of ``validate`` on tiny hand-computed frames (ex-ante ones see only
candles before the period), the walk-forward "adds to" test (fits only on earlier folds),
the paired bootstrap, and one real run on the shipped hourly three-venue record with open
interest (both modes, the command line as typed)."""

from __future__ import annotations

import json
import shlex

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from liq_signals.cli import main
from liq_signals.evaluation.realized import load_realized
from liq_signals.evaluation.standing import (
    B_MOVE_LONG,
    B_MOVE_SHORT,
    B_OI_LONG,
    B_OI_SHORT,
    B_RANGE_SHORT,
    B_TRAIL_LONG,
    B_TRAIL_SHORT,
    add_baselines,
    block_indices,
    paired_difference,
    walk_forward_adds,
)

HOUR = 3600
PAIR = "BTC/USDT:USDT"


def _candles(n: int) -> pd.DataFrame:
    """Hourly candles at a flat 100 (quote volume = 100 × volume), volume i + 1."""
    flat = np.full(n, 100.0)
    return pd.DataFrame(
        {"open": flat, "high": flat, "low": flat, "close": flat, "volume": np.arange(1.0, n + 1)}
    )


def test_ex_ante_baselines_by_hand_and_the_trailing_volume_sees_no_later_candle():
    candles = _candles(30)
    per = pd.DataFrame(
        {"open": [100.0], "high": [103.0], "low": [98.0], "close": [101.0], "quote_volume": [5e4]}
    )
    starts, stops = np.array([26]), np.array([27])
    out = add_baselines(per, candles, starts, stops, HOUR)
    # candles 2 … 25 (volume 3 … 26) are the 24 hours before candle 26: mean 14.5 × 100
    trailing = 1450.0
    assert out[B_MOVE_SHORT].iloc[0] == pytest.approx(0.03)
    assert out[B_MOVE_LONG].iloc[0] == pytest.approx(0.02)
    assert out[B_TRAIL_SHORT].iloc[0] == pytest.approx(0.03 * trailing)
    assert out[B_TRAIL_LONG].iloc[0] == pytest.approx(0.02 * trailing)
    # the ex-post baseline uses the period's own volume
    assert out[B_RANGE_SHORT].iloc[0] == pytest.approx(0.03 * 5e4)
    # the period's own candle (and later ones) traded a fortune: the ex-ante one is unmoved
    loud = candles.copy()
    loud.loc[26:, "volume"] = 1e9
    assert add_baselines(per, loud, starts, stops, HOUR)[B_TRAIL_SHORT].iloc[0] == pytest.approx(
        0.03 * trailing
    )
    # ... while a candle inside the 24 hours before it moves it
    loud.loc[25, "volume"] = 1e9
    assert add_baselines(per, loud, starts, stops, HOUR)[B_TRAIL_SHORT].iloc[0] > 1e6
    # fewer than 24 hours of candles: the mean of those there are (candles 0 … 3)
    early = add_baselines(per, candles, np.array([4]), np.array([5]), HOUR)
    assert early[B_TRAIL_SHORT].iloc[0] == pytest.approx(0.03 * 250.0)


def test_open_interest_baseline_reads_the_last_candle_before_the_period_or_is_absent():
    candles = _candles(30)
    candles.loc[25, "close"] = 200.0
    per = pd.DataFrame(
        {"open": [100.0], "high": [103.0], "low": [98.0], "close": [101.0], "quote_volume": [5e4]}
    )
    oi = np.full(30, 7.0)
    oi[25], oi[26] = 10.0, 1e6  # the period's own candle must not be read
    out = add_baselines(per, candles, np.array([26]), np.array([27]), HOUR, oi=oi)
    assert out[B_OI_SHORT].iloc[0] == pytest.approx(0.03 * 10.0 * 200.0)
    assert out[B_OI_LONG].iloc[0] == pytest.approx(0.02 * 10.0 * 200.0)
    oi[25] = np.nan  # unknown there: the baseline is left out, not filled
    out = add_baselines(per, candles, np.array([26]), np.array([27]), HOUR, oi=oi)
    assert B_OI_SHORT not in out
    assert B_OI_LONG not in out


def test_walk_forward_fits_only_on_earlier_folds():
    rng = np.random.default_rng(0)
    n = 40
    book = rng.uniform(1e3, 1e6, n)
    realized = np.expm1(1.0 + 0.5 * np.log1p(book))
    noise = rng.uniform(1.0, 1e6, n)
    # "a" ranks like realized only in fold 0 (not linearly in logs: no collinearity with
    # the book), "b" tracks it everywhere else: over the whole window "b" wins, on fold 0
    # alone "a" does
    a = np.where(np.arange(n) < 10, stats.rankdata(realized), noise)
    b = np.where(np.arange(n) < 10, noise[::-1], realized)
    kw = {"folds": 4, "block_periods": 5, "n_boot": 200, "seed": 0}
    res = walk_forward_adds(realized, book, {"a": a, "b": b}, **kw)
    chosen = [f["baseline"] for f in res["per_fold"]]
    assert chosen[0] == "a"
    assert chosen[2] == "b"
    assert stats.spearmanr(b, realized)[0] > stats.spearmanr(a, realized)[0]
    assert [f["train"] for f in res["per_fold"]] == [[0, 10], [0, 20], [0, 30]]
    # realized is exactly 1 + 0.5·log1p(book) in logs: the fit finds the book's slope
    assert res["per_fold"][0]["book_coef"] == pytest.approx(0.5)
    assert res["oos_periods"] == 30
    assert res["with_book"]["rho"] == pytest.approx(1.0)
    # scrambling the last two folds changes nothing fitted on the folds before them
    late = slice(20, None)
    r2, bk2, a2 = realized.copy(), book.copy(), a.copy()
    r2[late], bk2[late], a2[late] = realized[late][::-1], 1.0, 1e9
    res2 = walk_forward_adds(r2, bk2, {"a": a2, "b": b}, **kw)
    assert res2["per_fold"][:2] == res["per_fold"][:2]


def test_paired_bootstrap_of_identical_books_is_exactly_zero():
    rng = np.random.default_rng(1)
    realized = rng.uniform(0, 1, 100)
    book = realized + rng.normal(0, 0.3, 100)
    idx = block_indices(100, 10, 300, 0)
    same = paired_difference(book, book.copy(), realized, idx, {})
    assert same["a_minus_b"] == {"value": 0.0, "low": 0.0, "high": 0.0}
    worse = paired_difference(book, rng.permutation(book), realized, idx, {})
    assert worse["a_minus_b"]["low"] > 0


def test_shipped_hourly_record_loads_and_scores_both_modes_through_the_cli(repo, tmp_path):
    folder = repo / "user_data/realized/coinglass-btc-1h/liquidations"
    rec = load_realized(folder, pair=PAIR)
    assert len(rec.aggregated) == 1386
    assert rec.period == pd.Timedelta("1h")
    assert rec.complete is False
    assert rec.exchange == "binance+bybit+okx"
    assert rec.aggregated.index[0] == pd.Timestamp("2025-11-23 06:00", tz="UTC")
    assert rec.aggregated["long_usd"].sum() == pytest.approx(1_303_556_844, rel=1e-6)
    js = tmp_path / "r.json"
    argv = [
        "validate",
        "--realized",
        str(folder),
        "-p",
        PAIR,
        "--venues",
        "binance,bybit,okx",
        "--coverage",
        "0.45",
        "--timerange",
        "20251210-20251224",
        "--warmup",
        "3D",
        "--bootstrap",
        "100",
        "--no-sensitivity",
        "--versus-volume-mode",
        "--out",
        str(tmp_path / "r.md"),
        "--json",
        str(js),
    ]
    assert main(argv) == 0
    data = json.loads(js.read_text())
    assert data["command"] == "liq-signals " + shlex.join(argv)
    s = data["scores"]
    assert s["baseline_kinds"] == {
        "ex_ante": ["move", "move_trailing_volume", "move_open_interest"],
        "ex_post": ["range_volume", "candle_range_volume", "new_extreme_volume"],
    }
    st = s["standing"]["short"]
    assert st["best_ex_ante"] in s["baseline_kinds"]["ex_ante"]
    assert st["best_ex_post"] in s["baseline_kinds"]["ex_post"]
    vv = s["versus_volume_mode"]
    assert vv["oi_mode_periods"] == vv["periods"] == s["periods"] == 14 * 24
    # open interest changes the map: the two runs score differently
    for book in ("standing", "nowcast"):
        d = vv[book]["long"]
        assert d["oi"]["rho"] != d["volume"]["rho"]
        assert d["oi_minus_volume"]["value"] == pytest.approx(d["oi"]["rho"] - d["volume"]["rho"])
    assert s["walk_forward"]["long"]["oos_periods"] == 14 * 24 - 84
    text = (tmp_path / "r.md").read_text()
    assert "Open-interest mode vs volume mode" in text
    assert "--ft-config" not in text
