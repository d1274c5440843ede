"""The standing-book scores on real candles with records whose answer is known: generated
from the model's own standing book (ρ = 1, side balance exactly 1), shuffled (ρ ≈ 0),
side-swapped (side balance fails), and the venue coverage (magnitudes move, ranks and
ratios do not)."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from liq_signals.cli import main
from liq_signals.data.frames import PairFrames
from liq_signals.evaluation.inputs import load_window
from liq_signals.evaluation.metrics import partial_spearman, partial_spearman_multi
from liq_signals.evaluation.realized import RealizedRecord, load_realized
from liq_signals.evaluation.runner import P_REALIZED_LONG, ValidationSettings, validate
from liq_signals.evaluation.standing import S_LONG, S_SHORT, block_indices, largest_legs

PAIR = "BTC/USDT:USDT"
START = pd.Timestamp("2025-08-01", tz="UTC")
STOP = pd.Timestamp("2025-11-14", tz="UTC")
WARMUP = pd.Timedelta("3D")
FAST = ValidationSettings(period="4h", n_boot=200, sensitivity=False)


def _record(long_usd, short_usd, index) -> RealizedRecord:
    agg = pd.DataFrame(
        {"long_usd": np.asarray(long_usd, float), "short_usd": np.asarray(short_usd, float)},
        index=pd.DatetimeIndex(index, name="date"),
    )
    return RealizedRecord(pd.DataFrame(), agg, ("constructed",), period=pd.Timedelta("4h"))


@pytest.fixture(scope="module")
def window(repo):
    return load_window(repo / "user_data/data/binance", PAIR, "5m", START, STOP, WARMUP)


@pytest.fixture(scope="module")
def own(window, repo):
    """The model's own standing book per 4-hour period (scored against the shipped record
    once only to get the period table)."""
    shipped = load_realized(repo / "user_data/realized/coinglass-binance-4h/liquidations", PAIR)
    shipped = replace(shipped, aggregated=shipped.aggregated.loc[START : STOP - pd.Timedelta("4h")])
    res = validate(PairFrames(window.candles, mark=window.mark), shipped, pair=PAIR, settings=FAST)
    return res.periods


def _score(window, record, settings=FAST):
    return validate(
        PairFrames(window.candles, mark=window.mark), record, pair=PAIR, settings=settings
    )


def test_own_standing_book_scores_rho_one_and_exact_side_balance(window, own):
    res = _score(window, _record(own[S_LONG], own[S_SHORT], own.index))
    card = res.standing
    assert card["periods"] == len(own) > 500
    for side in ("long", "short"):
        assert card["standing"][side]["model"]["rho"] == pytest.approx(1.0)
        # the record carries no volume: a perfect book beats every naive baseline
        d = card["standing"][side]["minus_best_baseline"]
        assert d["low"] > 0
    bal = card["side_balance"]["standing"]
    assert bal["overall"]["implied_over_realized"] == pytest.approx(1.0)
    assert bal["largest_up_leg"]["implied_over_realized"] == pytest.approx(1.0)
    assert bal["largest_down_leg"]["implied_over_realized"] == pytest.approx(1.0)
    assert card["side_split"]["model"]["rho"] == pytest.approx(1.0)


def test_shuffled_standing_book_scores_near_zero(window, own):
    rng = np.random.default_rng(3)
    rec = _record(rng.permutation(own[S_LONG]), rng.permutation(own[S_SHORT]), own.index)
    card = _score(window, rec).standing
    for side in ("long", "short"):
        m = card["standing"][side]["model"]
        assert abs(m["rho"]) < 0.12
        assert m["low"] < 0 < m["high"]
        # the baselines know nothing of a shuffled record either: no difference
        d = card["standing"][side]["minus_best_baseline"]
        assert d["low"] < 0 < d["high"]


def test_side_swapped_record_fails_side_balance(window, own):
    card = _score(window, _record(own[S_SHORT], own[S_LONG], own.index)).standing
    bal = card["side_balance"]["standing"]
    ratio = bal["overall"]["implied_over_realized"]
    # swapping the sides squares the imbalance: outside ±15 % overall ...
    assert not 1 / 1.15 <= ratio <= 1.15
    assert bal["overall"]["low"] < ratio < bal["overall"]["high"]
    # ... and beyond 1.5× on at least one of the largest legs
    legs = [bal[k]["implied_over_realized"] for k in ("largest_up_leg", "largest_down_leg")]
    assert max(max(x, 1 / x) for x in legs) > 1.5
    assert card["side_split"]["model"]["rho"] < -0.5


def test_coverage_changes_magnitudes_never_ranks(window, own):
    rec = _record(own[S_LONG] * 3 + 1, own[S_SHORT] * 2 + 1, own.index)
    full = _score(window, rec)
    part = _score(window, rec, replace(FAST, coverage=0.4))
    assert part.periods[P_REALIZED_LONG].to_numpy() == pytest.approx(
        0.4 * full.periods[P_REALIZED_LONG].to_numpy()
    )
    a, b = full.standing, part.standing
    assert b["magnitude"]["realized_long_usd"] == pytest.approx(
        0.4 * a["magnitude"]["realized_long_usd"]
    )
    assert b["magnitude"]["standing_long_usd"] == a["magnitude"]["standing_long_usd"]
    for key in ("standing", "nowcast"):
        for side in ("long", "short"):
            assert b[key][side]["model"]["rho"] == a[key][side]["model"]["rho"]
            assert b[key][side]["minus_best_baseline"] == a[key][side]["minus_best_baseline"]
    assert b["side_balance"]["standing"]["overall"]["implied_over_realized"] == pytest.approx(
        a["side_balance"]["standing"]["overall"]["implied_over_realized"]
    )
    assert full.long.implied.rho == part.long.implied.rho


def test_sensitivity_flags_a_score_the_sweep_cannot_move(window, own):
    res = _score(window, _record(own[S_LONG], own[S_SHORT], own.index), replace(FAST, n_boot=0))
    assert res.sensitivity is None
    res = _score(
        window, _record(own[S_LONG], own[S_SHORT], own.index), replace(FAST, sensitivity=True)
    )
    sens = res.sensitivity
    assert len(sens["configs"]) == 7
    # volume mode throughout this window: participation scales both books alike, so no
    # rank score moves with it
    rows = sens["configs"]
    assert rows["participation ×0.2"]["standing_long_rho"] == rows["model"]["standing_long_rho"]
    # even on the model's own record the standing-book rank score hardly moves (every
    # book crossed by a wider range holds more: ranks follow the range) and is flagged;
    # the log-ratio dispersion sees the book's shape and moves
    assert not sens["scores"]["standing_long_rho"]["moves"]
    assert sens["scores"]["standing_long_dispersion"]["moves"]
    assert rows["model"]["standing_long_dispersion"] == 0.0


def test_block_bootstrap_draws_contiguous_blocks_of_the_given_length():
    idx = block_indices(100, 7, 50, seed=1)
    assert idx.shape == (50, 100)
    for row in idx:
        blocks = row[:98].reshape(14, 7)
        assert (np.diff(blocks, axis=1) == 1).all()
    assert idx.min() >= 0
    assert idx.max() <= 99
    assert block_indices(10, 50, 3, seed=0).shape == (3, 10)  # block cut to the length


def test_partial_with_one_control_equals_the_textbook_formula():
    rng = np.random.default_rng(0)
    z = rng.normal(size=300)
    x = z + rng.normal(size=300)
    y = z + 0.5 * x + rng.normal(size=300)
    one = partial_spearman(x, y, z)
    multi = partial_spearman_multi(x, y, z[:, None])
    assert multi.rho == pytest.approx(one.rho, abs=1e-12)
    # a control that is y itself leaves no rank order to correlate
    assert math.isnan(partial_spearman_multi(x, y, np.column_stack([y, z])).rho)


def test_largest_legs_find_the_run_up_and_the_drawdown():
    path = np.array([10.0, 9.0, 12.0, 15.0, 11.0, 6.0, 7.0])
    legs = largest_legs(path)
    assert legs["up"] == (1, 3)
    assert legs["down"] == (3, 5)


def test_validate_cli_writes_json_with_stable_keys(repo, tmp_path, own):
    csv = tmp_path / "rec.csv"
    frame = pd.DataFrame(
        {
            "timestamp": (own.index.as_unit("ms").asi8).astype(np.int64),
            "longUsd": own[S_LONG].to_numpy(),
            "shortUsd": own[S_SHORT].to_numpy(),
        }
    )
    frame.to_csv(csv, index=False)
    out = tmp_path / "r" / "report.md"
    js = tmp_path / "r" / "report.json"
    base = [
        "validate",
        "--realized",
        str(csv),
        "--pair",
        PAIR,
        "--datadir",
        str(repo / "user_data/data/binance"),
        "--warmup",
        "3D",
        "--out",
        str(out),
    ]
    assert main([*base, "--json", str(js), "--bootstrap", "200", "--no-sensitivity"]) == 0
    data = json.loads(js.read_text())
    assert data["schema"] == 1
    assert data["period"] == "4h"
    s = data["scores"]
    assert set(s) >= {
        "standing",
        "nowcast",
        "side_split",
        "density",
        "side_balance",
        "bootstrap",
        "coverage",
        "magnitude",
        "periods",
    }
    assert s["bootstrap"]["block"] == "7D"
    assert s["bootstrap"]["block_periods"] == 42
    assert math.isclose(s["standing"]["long"]["model"]["rho"], 1.0)
    assert set(s["standing"]["long"]["minus_baseline"]) == {
        "move",
        "move_trailing_volume",
        "range_volume",
        "candle_range_volume",
        "new_extreme_volume",
    }
    assert "## 4. The standing book" in out.read_text()
    # bootstrap blocks shorter than a day and unknown venue shares are refused (exit 2)
    assert main([*base, "--block", "12h"]) == 2
    assert main([*base, "--venues", "binance,bybit"]) == 2
    assert main([*base, "--venues", "okx", "--coverage", "0.5"]) == 2
    assert main([*base, "--coverage", "1.5"]) == 2
