"""The magnet test's null is calibrated: on a random walk the excess is ≈ 0; a path that
really is pulled towards the larger cluster shows a positive excess."""

from __future__ import annotations

import numpy as np

from liq_signals.study.magnet import driftless_null_magnet_test, null_probability


def _clusters(n: int, close: np.ndarray, rng: np.random.Generator):
    """Random clusters 1-6 % away on each side, random sizes (no link to the path)."""
    up = close * (1 + rng.uniform(0.01, 0.06, n))
    down = close * (1 - rng.uniform(0.01, 0.06, n))
    return up, rng.uniform(1, 3, n), down, rng.uniform(1, 3, n)


def test_random_walk_has_no_magnet_excess() -> None:
    rng = np.random.default_rng(11)
    n = 120_000
    close = 100 * np.exp(np.cumsum(0.002 * rng.standard_normal(n)))
    up, up_usd, down, down_usd = _clusters(n, close, rng)
    result = driftless_null_magnet_test(
        close, up, up_usd, down, down_usd, every=48, horizon=864, ratio=1.25, replicates=400
    )
    assert result.decisions > 1000
    assert result.excess.covers(0.0), result
    assert abs(result.excess.value) < 0.03, result


def test_a_real_pull_is_detected() -> None:
    """Drift towards whichever cluster is larger (decided per day): excess > 0."""
    rng = np.random.default_rng(12)
    n, day = 120_000, 288
    larger_up = np.repeat(rng.random(n // day + 1) < 0.5, day)[:n]
    drift = np.where(larger_up, 0.0004, -0.0004)
    close = 100 * np.exp(np.cumsum(drift + 0.002 * rng.standard_normal(n)))
    up, _, down, _ = _clusters(n, close, rng)
    up_usd = np.where(larger_up, 3.0, 1.0)
    down_usd = np.where(larger_up, 1.0, 3.0)
    result = driftless_null_magnet_test(
        close, up, up_usd, down, down_usd, every=48, horizon=288, replicates=400
    )
    assert result.excess.low > 0.05, result


def test_null_matches_the_gamblers_ruin_when_the_horizon_is_long() -> None:
    """Driftless walk, barriers a above and b below, horizon long enough to resolve:
    P(hit +a first) = b / (a + b)."""
    a = np.array([0.02, 0.05, 0.01])
    b = np.array([0.02, 0.01, 0.04])
    sigma = np.full(3, 0.002)
    p = null_probability(a, b, sigma, np.ones(3, bool), horizon=20_000, paths=2000, seed=3)
    np.testing.assert_allclose(p, b / (a + b), atol=0.04)
