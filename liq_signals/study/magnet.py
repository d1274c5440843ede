"""Is the larger liquidation cluster reached first more often than chance says?

At decision points every few hours the largest cluster above (distance ``a``) and below
(``b``) are compared; where one outweighs the other by ``ratio`` or more, the outcome is
whether the price path (5m closes) reaches the larger one first within ``horizon``.  The
null is a driftless random walk with the decision's own trailing 5m volatility, run on
the same 5m grid and horizon (Monte Carlo with one set of shared paths): it gives each
decision the probability that the larger cluster comes first by distance and noise alone.
The excess (observed minus null, averaged over decisions) is what a "magnet" would add.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liq_signals.study.estimators import Estimate, mean_estimate


@dataclass(frozen=True)
class MagnetResult:
    """Magnet test outcome: observed and null rates of "larger first", their excess."""

    decisions: int
    observed: float
    null: float
    excess: Estimate
    larger_above_share: float
    resolved_share: float

    def as_dict(self) -> dict[str, object]:
        return {
            "decisions": self.decisions,
            "observed_larger_first": self.observed,
            "null_larger_first": self.null,
            "excess": self.excess.as_dict(),
            "larger_above_share": self.larger_above_share,
            "resolved_share": self.resolved_share,
        }


def first_passage_steps(
    path: np.ndarray, up: np.ndarray, down: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Steps (1-based) at which each row of ``path`` first reaches ``+up`` / ``-down``.

    ``path`` is rows × steps of log moves from the start; ``horizon + 1`` means never.
    """
    horizon = path.shape[1]
    hit_up = path >= up[:, None]
    hit_down = path <= -down[:, None]
    t_up = np.where(hit_up.any(axis=1), hit_up.argmax(axis=1) + 1, horizon + 1)
    t_down = np.where(hit_down.any(axis=1), hit_down.argmax(axis=1) + 1, horizon + 1)
    return t_up, t_down


def _larger_first(t_larger: np.ndarray, t_smaller: np.ndarray, horizon: int) -> np.ndarray:
    """1 when the larger is reached strictly first, 0.5 on the same step, else 0."""
    first = (t_larger < t_smaller).astype(float)
    tie = (t_larger == t_smaller) & (t_larger <= horizon)
    return np.where(tie, 0.5, first)


def null_probability(
    up: np.ndarray,
    down: np.ndarray,
    sigma: np.ndarray,
    larger_up: np.ndarray,
    horizon: int,
    paths: int = 400,
    seed: int = 0,
) -> np.ndarray:
    """P(larger cluster first) per decision under a driftless Gaussian walk of step ``sigma``.

    One set of ``paths`` standard walks serves every decision: the first step at which a
    walk's running maximum reaches ``up / sigma`` is a ``searchsorted`` on it (the running
    maximum never decreases), so the cost is paths × decisions × log(horizon).
    """
    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.standard_normal((paths, horizon)), axis=1)
    run_max = np.maximum.accumulate(walk, axis=1)
    run_min_neg = np.maximum.accumulate(-walk, axis=1)
    u, d = up / sigma, down / sigma
    prob = np.zeros(len(up))
    for m in range(paths):
        t_up = np.searchsorted(run_max[m], u, side="left") + 1
        t_down = np.searchsorted(run_min_neg[m], d, side="left") + 1
        t_larger = np.where(larger_up, t_up, t_down)
        t_smaller = np.where(larger_up, t_down, t_up)
        prob += _larger_first(t_larger, t_smaller, horizon)
    return prob / paths


def driftless_null_magnet_test(
    close: np.ndarray,
    up_price: np.ndarray,
    up_usd: np.ndarray,
    down_price: np.ndarray,
    down_usd: np.ndarray,
    *,
    every: int,
    horizon: int,
    ratio: float = 2.0,
    vol_window: int = 288,
    replicates: int = 500,
    seed: int = 0,
) -> MagnetResult:
    """The magnet test on one series of candles (arrays aligned per candle).

    :param every: candles between decisions
    :param horizon: candles a decision waits for either cluster
    :param ratio: minimum size ratio larger / smaller for a decision to count
    :param vol_window: candles of trailing 5m log returns giving the null's volatility
    """
    logc = np.log(close)
    steps = np.diff(logc, prepend=np.nan)
    csum = np.nancumsum(np.nan_to_num(steps) ** 2)
    var = (csum - np.r_[np.zeros(vol_window), csum[:-vol_window]]) / vol_window
    sigma = np.sqrt(var)
    k = np.arange(vol_window, len(close) - horizon, every)
    a = np.log(up_price[k] / close[k])
    b = np.log(close[k] / down_price[k])
    big = np.maximum(up_usd[k], down_usd[k])
    small = np.minimum(up_usd[k], down_usd[k])
    with np.errstate(invalid="ignore", divide="ignore"):
        keep = (
            np.isfinite(a)
            & np.isfinite(b)
            & (a > 0)
            & (b > 0)
            & (small > 0)
            & (big / small >= ratio)
            & (sigma[k] > 0)
        )
    k, a, b = k[keep], a[keep], b[keep]
    larger_up = up_usd[k] > down_usd[k]
    if len(k) < 10:
        nan = Estimate(float("nan"), float("nan"), float("nan"), len(k))
        return MagnetResult(len(k), float("nan"), float("nan"), nan, float("nan"), float("nan"))
    path = logc[k[:, None] + np.arange(1, horizon + 1)[None, :]] - logc[k][:, None]
    t_up, t_down = first_passage_steps(path, a, b)
    observed = _larger_first(
        np.where(larger_up, t_up, t_down), np.where(larger_up, t_down, t_up), horizon
    )
    null = null_probability(a, b, sigma[k], larger_up, horizon, seed=seed)
    block = max(1, horizon // every)
    excess = mean_estimate(observed - null, block=block, replicates=replicates, seed=seed)
    resolved = np.minimum(t_up, t_down) <= horizon
    return MagnetResult(
        decisions=len(k),
        observed=float(observed.mean()),
        null=float(null.mean()),
        excess=excess,
        larger_above_share=float(larger_up.mean()),
        resolved_share=float(resolved.mean()),
    )
