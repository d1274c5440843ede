"""The score functions on hand-built arrays where the right answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from liq_signals.evaluation.metrics import (
    log_ratio,
    matched_distance_magnet_test,
    naive_baselines,
    partial_spearman,
    proportion,
    spearman,
    zone_precision,
)


def test_spearman_is_one_for_a_monotone_transform_and_near_zero_for_a_shuffle():
    rng = np.random.default_rng(7)
    x = rng.lognormal(size=400)
    assert spearman(x, 3 * x**2 + 1).rho == pytest.approx(1.0)
    shuffled = spearman(x, rng.permutation(x))
    assert abs(shuffled.rho) < 0.15
    assert shuffled.low < 0 < shuffled.high  # the interval covers "no relation"
    assert spearman(x, -x).rho == pytest.approx(-1.0)


def test_spearman_refuses_constant_or_tiny_input_instead_of_inventing_a_number():
    assert math.isnan(spearman(np.ones(50), np.arange(50)).rho)
    assert math.isnan(spearman(np.arange(3), np.arange(3)).rho)
    nan_pairs = spearman(np.r_[np.arange(20.0), np.nan], np.r_[np.arange(20.0), 5.0])
    assert nan_pairs.n == 20
    assert nan_pairs.rho == pytest.approx(1.0)


def test_partial_spearman_removes_what_the_baseline_explains():
    rng = np.random.default_rng(1)
    base = rng.normal(size=3000)
    model_only = rng.normal(size=3000)
    realized = base + 0.8 * model_only + 0.3 * rng.normal(size=3000)
    # a "model" that is just the baseline plus noise knows nothing beyond it
    copycat = base + 0.05 * rng.normal(size=3000)
    assert spearman(copycat, realized).rho > 0.5
    assert abs(partial_spearman(copycat, realized, base).rho) < 0.1
    # a model carrying the extra component keeps a large partial correlation
    informed = model_only + 0.05 * rng.normal(size=3000)
    assert partial_spearman(informed, realized, base).rho > 0.6


def test_partial_spearman_matches_pearson_on_ranks_of_residuals():
    rng = np.random.default_rng(3)
    x, y, z = rng.normal(size=(3, 200))
    y = y + x + z
    rx, ry, rz = (stats.rankdata(a) for a in (x, y, z))
    res_x = rx - np.polyval(np.polyfit(rz, rx, 1), rz)
    res_y = ry - np.polyval(np.polyfit(rz, ry, 1), rz)
    assert partial_spearman(x, y, z).rho == pytest.approx(np.corrcoef(res_x, res_y)[0, 1])


def test_naive_baselines_are_move_times_quote_volume():
    long_b, short_b = naive_baselines(
        np.array([100.0, 200.0]),
        np.array([110.0, 200.0]),
        np.array([95.0, 150.0]),
        np.array([1000.0, 10.0]),
    )
    assert long_b.tolist() == [50.0, 2.5]
    assert short_b.tolist() == [100.0, 0.0]


def test_wilson_interval_matches_the_closed_form():
    p = proportion(30, 50)
    z = 1.959963984540054
    centre = (0.6 + z * z / 100) / (1 + z * z / 50)
    half = z / (1 + z * z / 50) * math.sqrt(0.6 * 0.4 / 50 + z * z / (4 * 2500))
    assert (p.low, p.high) == pytest.approx((centre - half, centre + half))
    assert p.rate == 0.6
    assert p.p_value > 0.05


def _zone_case(informative: bool, seed: int = 0):
    """Snapshots of a map over 40 zones below a price of 100; realized liquidations
    happen in the zones the map holds most (informative) or in random zones."""
    rng = np.random.default_rng(seed)
    edges = np.linspace(80.0, 100.0, 41)
    n_snap = 300
    usd = rng.lognormal(size=(n_snap, 40))
    reach = np.full(n_snap, 85.0)  # price fell to 85 within every horizon
    if informative:
        hits = usd >= np.quantile(usd, 0.9, axis=1, keepdims=True)
    else:
        hits = rng.random((n_snap, 40)) < 0.1
    return edges, usd, np.full(n_snap, 100.0), reach, hits


def test_zone_precision_is_perfect_when_liquidations_sit_in_the_top_zones():
    res = zone_precision(*_zone_case(True), side="long", band_pct=20.0)
    assert res.top.rate == 1.0
    assert res.lift > 5
    # only zones price reached (>= 85) are scored: 30 of the 40 zones per snapshot
    assert res.random.n == 300 * 30


def test_zone_precision_shows_no_lift_for_an_uninformative_map():
    res = zone_precision(*_zone_case(False), side="long", band_pct=20.0)
    assert res.random.rate == pytest.approx(0.1, abs=0.02)
    assert res.top.low < res.random.rate < res.top.high
    assert 0.6 < res.lift < 1.5


def _magnet_path(larger_wins: bool, seed: int, n_points: int = 400):
    """Decision points every 10 candles with clusters at ±2 ATR; the path then moves
    straight to one of them."""
    rng = np.random.default_rng(seed)
    n = n_points * 10
    close = np.full(n, 100.0)
    high = np.full(n, 100.5)
    low = np.full(n, 99.5)
    atr = np.ones(n)
    up_p, down_p = np.full(n, 102.0), np.full(n, 98.0)
    up_usd = rng.choice([1e6, 3e6], size=n)
    down_usd = np.where(up_usd > 2e6, 1e6, 3e6)
    idx = np.arange(0, n, 10)
    for i in idx:
        go_up = (up_usd[i] > down_usd[i]) if larger_wins else bool(rng.random() < 0.5)
        if go_up:
            high[i + 3] = 102.5
        else:
            low[i + 3] = 97.5
    return close, high, low, atr, up_p, up_usd, down_p, down_usd, idx


def test_matched_distance_magnet_test_detects_a_path_that_always_visits_the_larger_cluster():
    res = matched_distance_magnet_test(*_magnet_path(True, 0), horizon=8)
    assert res.larger_first.k == res.larger_first.n == res.matched == 400
    assert res.larger_first.low > 0.98


def test_matched_distance_magnet_test_reports_about_half_for_a_coin_flip_path():
    res = matched_distance_magnet_test(*_magnet_path(False, 1), horizon=8)
    assert res.larger_first.n == 400
    assert res.larger_first.low < 0.5 < res.larger_first.high


def test_matched_distance_magnet_test_skips_unmatched_distances_and_counts_unresolved():
    close, high, low, atr, up_p, up_usd, down_p, down_usd, idx = _magnet_path(True, 2)
    up_far = up_p.copy()
    up_far[idx[:100]] = 105.0  # 5 ATR above vs 2 below: not distance-matched
    res = matched_distance_magnet_test(
        close, high, low, atr, up_far, up_usd, down_p, down_usd, idx, horizon=8
    )
    assert res.matched == 300
    assert res.candidates == 400
    res = matched_distance_magnet_test(
        close, high, low, atr, up_p, up_usd, down_p, down_usd, idx, horizon=2
    )
    assert res.unresolved == 400
    assert res.larger_first.n == 0


def test_log_ratio_is_zero_for_a_constant_fraction_and_grows_with_distortion():
    rng = np.random.default_rng(4)
    implied = rng.lognormal(mean=10, sigma=2, size=500)
    lower_bound = log_ratio(implied, 0.2 * implied)  # e.g. a throttled feed
    assert lower_bound.dispersion == pytest.approx(0.0, abs=1e-12)
    assert lower_bound.median == pytest.approx(math.log(0.2))
    squashed = log_ratio(implied, implied**0.7)  # large sweeps over-estimated
    assert squashed.dispersion > 0.3  # MAD of 0.3·N(0, 2) ≈ 0.40
    zeros = log_ratio(np.r_[implied[:3], np.zeros(10)], np.r_[implied[:3], np.ones(10)])
    assert zeros.n == 3
    assert math.isnan(zeros.dispersion)


def test_zone_grid_puts_each_price_between_its_zone_edges():
    from liq_signals.evaluation.runner import ZoneGrid

    delta, width = 0.001, 5
    centers = np.exp(np.arange(11000, 11600) * delta)  # ~60k-107k, the engine's bin centres
    grid = ZoneGrid.around(centers, delta, width)
    prices = np.random.default_rng(9).uniform(61000, 105000, size=5000)
    col = grid.index_of(prices)
    assert (col >= 0).all()
    assert (col < len(grid.zones)).all()
    assert (grid.edges[col] <= prices * (1 + 1e-12)).all()
    assert (prices < grid.edges[col + 1] * (1 + 1e-12)).all()
    # each bin centre falls in the zone holding its bin
    k = np.arange(11000, 11600)
    assert (grid.index_of(centers) == k // width - grid.zones[0]).all()
