"""The study's estimators on generated series: a planted effect of known size is found
with an interval covering it; no effect gives an interval covering 0."""

from __future__ import annotations

import numpy as np
import pytest

from liq_signals.study.estimators import (
    block_indices,
    information_coefficient,
    matched_difference,
    ranks,
)


def _ar1(n: int, phi: float, rng: np.random.Generator) -> np.ndarray:
    """A persistent series (features are persistent; the bootstrap must respect it)."""
    e = rng.standard_normal(n)
    out = np.empty(n)
    out[0] = e[0]
    for i in range(1, n):
        out[i] = phi * out[i - 1] + np.sqrt(1 - phi**2) * e[i]
    return out


def _spearman_of_gaussian(rho: float) -> float:
    """Spearman correlation of a bivariate normal with Pearson ``rho``."""
    return 6 / np.pi * np.arcsin(rho / 2)


def _coverage(rho: float, phi: float, block: int, runs: int = 100) -> tuple[float, float]:
    """Share of ``runs`` generated samples whose 90 % interval covers the true IC, and the
    share whose interval excludes 0 (power)."""
    truth = _spearman_of_gaussian(rho)
    covered = found = 0
    for seed in range(runs):
        rng = np.random.default_rng(seed)
        x = _ar1(3000, phi, rng)
        noise = _ar1(3000, phi, rng)
        y = rho * x + np.sqrt(1 - rho**2) * noise
        est = information_coefficient(x, y, block=block, replicates=300, seed=seed)
        covered += est.covers(truth)
        found += not est.covers(0.0)
    return covered / runs, found / runs


def test_planted_ic_is_found_with_an_interval_covering_it() -> None:
    """IC 0.15 planted in persistent series: the 90 % interval covers the truth in most
    samples and excludes 0 in most.  (The percentile block bootstrap undercovers a little
    on persistent series: ~0.81-0.89 measured for a nominal 0.90; docs/study.md.)"""
    coverage, power = _coverage(rho=0.15, phi=0.8, block=50)
    assert 0.75 <= coverage <= 0.99, coverage
    assert power >= 0.7, power


def test_no_effect_gives_an_interval_covering_zero() -> None:
    """No effect, both series persistent (a naive i.i.d. interval would be far too narrow):
    the interval covers 0 in about 90 % of samples."""
    coverage, _ = _coverage(rho=0.0, phi=0.9, block=100)
    assert 0.75 <= coverage <= 0.99, coverage


def test_partial_ic_removes_what_the_control_explains() -> None:
    """A feature that is momentum in disguise: raw IC clearly non-zero, partial ≈ 0."""
    rng = np.random.default_rng(7)
    n = 6000
    momentum = rng.standard_normal(n)
    feature = momentum + 0.3 * rng.standard_normal(n)
    forward = -0.2 * momentum + rng.standard_normal(n)
    raw = information_coefficient(feature, forward, block=24, replicates=300)
    partial = information_coefficient(feature, forward, momentum[:, None], block=24, replicates=300)
    assert raw.high < -0.1, raw
    assert partial.covers(0.0), partial


def test_matched_difference_finds_a_planted_effect_and_not_the_confounder() -> None:
    """Treated rows sit in high strata where the outcome is higher anyway: the matched
    difference must report only the planted +0.5, not the stratum effect."""
    rng = np.random.default_rng(8)
    n = 8000
    strata = rng.integers(0, 5, n)
    treated = rng.random(n) < 0.05 + 0.05 * strata
    control = ~treated
    y = 1.0 * strata + 0.5 * treated + rng.standard_normal(n)
    diff, a, b = matched_difference(y, treated, control, strata, block=10, replicates=400)
    assert diff.covers(0.5), diff
    assert a - b == pytest.approx(diff.value)  # the matched means behind the difference
    assert y[treated].mean() - y[control].mean() > 0.8  # unmatched: confounded
    null, _, _ = matched_difference(
        y - 0.5 * treated, treated, control, strata, block=10, replicates=400
    )
    assert null.covers(0.0), null


def test_block_indices_are_consecutive_runs() -> None:
    idx = block_indices(100, 10, 5, np.random.default_rng(0))
    assert idx.shape == (5, 100)
    steps = np.diff(idx[:, :10], axis=1)
    assert (steps == 1).all()
    assert idx.min() >= 0
    assert idx.max() < 100


def test_ranks_average_ties() -> None:
    np.testing.assert_allclose(ranks(np.array([3.0, 1.0, 3.0, 2.0])), [2.5 / 3, 0, 2.5 / 3, 1 / 3])
