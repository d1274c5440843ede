"""Scores of an estimated liquidation map against realized liquidations (docs/validation.md).

Pure functions on NumPy arrays, so each can be checked on hand-built cases where the
answer is known.  The statistics come from :mod:`scipy.stats`; the only formulas written
here are the partial rank correlation and the Fisher-z interval, both textbook:

* partial correlation of x and y given z (Pearson on ranks = Spearman):
  ``r_xy·z = (r_xy − r_xz·r_yz) / sqrt((1 − r_xz²)(1 − r_yz²))``;
* 95 % interval of a Spearman ρ: ``tanh(atanh(ρ) ± 1.96·sqrt(1.06 / (n − 3 − k)))``
  (Fieller, Hartley & Pearson 1957; k = number of controlled variables).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

Z95 = 1.959963984540054  # two-sided 95 % normal quantile
MIN_PERIODS = 5  # fewer periods than this give no correlation at all (NaN), not a number


@dataclass(frozen=True)
class Correlation:
    """A rank correlation with its 95 % interval.

    :param rho: Spearman (or partial Spearman) coefficient; NaN when undefined
    :param low: lower 95 % bound (Fisher z)
    :param high: upper 95 % bound
    :param p_value: two-sided p-value of ρ = 0
    :param n: number of periods used
    """

    rho: float
    low: float
    high: float
    p_value: float
    n: int


_NAN_CORR = Correlation(math.nan, math.nan, math.nan, math.nan, 0)


def _fisher_interval(rho: float, n: int, controlled: int) -> tuple[float, float]:
    dof = n - 3 - controlled
    if dof <= 0 or not math.isfinite(rho):
        return math.nan, math.nan
    if abs(rho) >= 1.0:
        return rho, rho
    half = Z95 * math.sqrt(1.06 / dof)
    z = math.atanh(rho)
    return math.tanh(z - half), math.tanh(z + half)


def _clean(*arrays: np.ndarray) -> list[np.ndarray]:
    arrs = [np.asarray(a, dtype=float) for a in arrays]
    ok = np.logical_and.reduce([np.isfinite(a) for a in arrs])
    return [a[ok] for a in arrs]


def spearman(x: np.ndarray, y: np.ndarray) -> Correlation:
    """Spearman ρ of two per-period series (NaN pairs dropped) with a 95 % interval.

    A constant series has no rank order: the result is NaN rather than a made-up 0.
    """
    x, y = _clean(x, y)
    n = len(x)
    if n < MIN_PERIODS or np.ptp(x) == 0 or np.ptp(y) == 0:
        return Correlation(math.nan, math.nan, math.nan, math.nan, n)
    res = stats.spearmanr(x, y)
    rho = float(res.statistic)
    low, high = _fisher_interval(rho, n, 0)
    return Correlation(rho, low, high, float(res.pvalue), n)


def partial_spearman(x: np.ndarray, y: np.ndarray, control: np.ndarray) -> Correlation:
    """Rank correlation of x and y after removing what ``control`` explains of both.

    Used as "does the model know more than the naive baseline": x = implied, y = realized,
    control = baseline.  A model that merely re-encodes range × volume scores ≈ 0 here.
    """
    x, y, z = _clean(x, y, control)
    n = len(x)
    if n < MIN_PERIODS + 1 or min(np.ptp(x), np.ptp(y), np.ptp(z)) == 0:
        return Correlation(math.nan, math.nan, math.nan, math.nan, n)
    rx, ry, rz = (stats.rankdata(a) for a in (x, y, z))
    r = np.corrcoef(np.vstack([rx, ry, rz]))
    rxy, rxz, ryz = r[0, 1], r[0, 2], r[1, 2]
    denom = math.sqrt(max((1 - rxz**2) * (1 - ryz**2), 0.0))
    if denom == 0:
        return Correlation(math.nan, math.nan, math.nan, math.nan, n)
    rho = float(np.clip((rxy - rxz * ryz) / denom, -1.0, 1.0))
    dof = n - 3
    if abs(rho) < 1:
        t = rho * math.sqrt(dof / (1 - rho**2))
        p = float(2 * stats.t.sf(abs(t), dof))
    else:
        p = 0.0
    low, high = _fisher_interval(rho, n, 1)
    return Correlation(rho, low, high, p, n)


def naive_baselines(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, quote_volume: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The naive per-period predictors a liquidation map has to beat.

    Longs are liquidated when price falls and shorts when it rises, more so when much
    is traded: long baseline = (open − low)/open × quote volume, short baseline =
    (high − open)/open × quote volume.

    :return: ``(long_baseline, short_baseline)``
    """
    open_ = np.asarray(open_, dtype=float)
    down = (open_ - np.asarray(low, dtype=float)) / open_
    up = (np.asarray(high, dtype=float) - open_) / open_
    qv = np.asarray(quote_volume, dtype=float)
    return down * qv, up * qv


@dataclass(frozen=True)
class Proportion:
    """k successes out of n, with a Wilson 95 % interval and the two-sided binomial
    p-value against ``null``."""

    k: int
    n: int
    rate: float
    low: float
    high: float
    p_value: float
    null: float


def proportion(k: int, n: int, null: float = 0.5) -> Proportion:
    """Wilson interval (scipy's ``binomtest(...).proportion_ci(method="wilson")``)."""
    if n == 0:
        return Proportion(0, 0, math.nan, math.nan, math.nan, math.nan, null)
    res = stats.binomtest(int(k), int(n), null)
    ci = res.proportion_ci(confidence_level=0.95, method="wilson")
    return Proportion(int(k), int(n), k / n, float(ci.low), float(ci.high), float(res.pvalue), null)


# --- top-decile zones ------------------------------------------------------------------------
@dataclass(frozen=True)
class ZonePrecision:
    """Do the zones the map ranks highest actually see liquidations when price gets there?

    Only zones that price *crossed* within the horizon are scored (a liquidation can only
    happen where price traded), which makes "random zone" a fair baseline: it is the hit
    rate of every crossed zone, near or far.

    :param top: hits among crossed top-decile zones
    :param random: hits among all crossed zones (the expected precision of random picks)
    :param lift: top.rate / random.rate
    :param snapshots: number of map snapshots scored
    """

    top: Proportion
    random: Proportion
    lift: float
    snapshots: int


def zone_precision(
    zone_edges: np.ndarray,
    zone_usd: np.ndarray,
    ref_price: np.ndarray,
    reach: np.ndarray,
    event_zone_hit: np.ndarray,
    side: str,
    band_pct: float,
    top_quantile: float = 0.9,
) -> ZonePrecision:
    """Precision of the top-decile zones of one side's map against a random-zone baseline.

    :param zone_edges: price edges of the zones, length ``n_zones + 1``, increasing
    :param zone_usd: model notional per snapshot and zone, ``[n_snap, n_zones]``
    :param ref_price: price at each snapshot (the close the map was known at)
    :param reach: furthest price reached during each snapshot's horizon — the lowest low
        for ``side="long"``, the highest high for ``"short"``
    :param event_zone_hit: bool ``[n_snap, n_zones]``: a realized liquidation of this
        side happened in the zone during the horizon
    :param side: ``long`` (zones below price) or ``short`` (zones above)
    :param band_pct: only zones within this distance of ``ref_price`` are ranked
    :param top_quantile: zones at or above this quantile of the positive notional in the
        band are "top" (0.9 = top decile)
    """
    lower, upper = zone_edges[:-1], zone_edges[1:]
    top_k = top_n = all_k = all_n = snaps = 0
    for i in range(zone_usd.shape[0]):
        p = ref_price[i]
        if side == "long":
            in_band = (upper <= p) & (lower >= p * (1 - band_pct / 100))
            crossed = upper > reach[i]
        else:
            in_band = (lower >= p) & (upper <= p * (1 + band_pct / 100))
            crossed = lower < reach[i]
        values = zone_usd[i, in_band]
        positive = values[values > 0]
        if positive.size < 10:
            continue
        snaps += 1
        threshold = np.quantile(positive, top_quantile)
        is_top = in_band & (zone_usd[i] >= threshold) & (zone_usd[i] > 0)
        scored = in_band & crossed
        hits = event_zone_hit[i]
        top_n += int(np.sum(is_top & scored))
        top_k += int(np.sum(is_top & scored & hits))
        all_n += int(np.sum(scored))
        all_k += int(np.sum(scored & hits))
    top = proportion(top_k, top_n, null=all_k / all_n if all_n else 0.5)
    rnd = proportion(all_k, all_n, null=all_k / all_n if all_n else 0.5)
    lift = top.rate / rnd.rate if rnd.n and rnd.rate > 0 and top.n else math.nan
    return ZonePrecision(top, rnd, lift, snaps)


# --- magnet test -----------------------------------------------------------------------------
@dataclass(frozen=True)
class MagnetResult:
    """Does price reach the larger of two equally distant clusters first?

    :param larger_first: outcome counts (k = larger reached first) with Wilson interval
        and p-value against 50 %
    :param candidates: decision points with both magnets inside the distance window
    :param matched: of those, with distances matched (ratio within tolerance) and a clear
        size difference
    :param unresolved: matched points where neither was reached within the horizon
    :param ambiguous: matched points where both were reached in the same candle
    """

    larger_first: Proportion
    candidates: int
    matched: int
    unresolved: int
    ambiguous: int


def matched_distance_magnet_test(
    close: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    atr: np.ndarray,
    up_price: np.ndarray,
    up_usd: np.ndarray,
    down_price: np.ndarray,
    down_usd: np.ndarray,
    decision_idx: np.ndarray,
    horizon: int,
    *,
    distance_ratio_max: float = 1.25,
    size_ratio_min: float = 1.5,
    atr_min: float = 0.5,
    atr_max: float = 6.0,
) -> MagnetResult:
    """Distance-controlled magnet test.

    At each decision candle i (the map known at i's close), take the largest cluster
    above (``up_*``) and below (``down_*``).  Keep the point only if both lie between
    ``atr_min`` and ``atr_max`` ATR away, their ATR distances differ by at most
    ``distance_ratio_max`` (ratio of the larger to the smaller) and one cluster is at
    least ``size_ratio_min`` times the other.  Then walk candles i+1 … i+horizon and see
    which level is touched first (high ≥ up, low ≤ down).  Without a magnet effect, at
    matched distance the larger one is reached first about half of the time.

    :param decision_idx: candle indices to test (spaced by the caller to limit overlap)
    :param horizon: candles to wait for a touch
    """
    close, high, low, atr = (np.asarray(a, dtype=float) for a in (close, high, low, atr))
    up_price, up_usd, down_price, down_usd = (
        np.asarray(a, dtype=float) for a in (up_price, up_usd, down_price, down_usd)
    )
    n = len(close)
    k = matched = candidates = unresolved = ambiguous = 0
    for i in np.asarray(decision_idx, dtype=np.int64):
        if i + 1 >= n:
            continue
        values = (atr[i], up_price[i], down_price[i], up_usd[i], down_usd[i])
        if not all(math.isfinite(v) and v > 0 for v in values):
            continue
        d_up = (up_price[i] - close[i]) / atr[i]
        d_down = (close[i] - down_price[i]) / atr[i]
        if not (atr_min <= d_up <= atr_max and atr_min <= d_down <= atr_max):
            continue
        candidates += 1
        if max(d_up, d_down) / min(d_up, d_down) > distance_ratio_max:
            continue
        big, small = max(up_usd[i], down_usd[i]), min(up_usd[i], down_usd[i])
        if big < size_ratio_min * small:
            continue
        matched += 1
        larger_is_up = up_usd[i] > down_usd[i]
        stop = min(n, i + 1 + horizon)
        hit_up = high[i + 1 : stop] >= up_price[i]
        hit_down = low[i + 1 : stop] <= down_price[i]
        first_up = int(np.argmax(hit_up)) if hit_up.any() else None
        first_down = int(np.argmax(hit_down)) if hit_down.any() else None
        if first_up is None and first_down is None:
            unresolved += 1
            continue
        if first_up is not None and first_down is not None and first_up == first_down:
            ambiguous += 1
            continue
        up_first = first_down is None or (first_up is not None and first_up < first_down)
        k += int(up_first == larger_is_up)
    resolved = matched - unresolved - ambiguous
    return MagnetResult(proportion(k, resolved, 0.5), candidates, matched, unresolved, ambiguous)


# --- magnitude shape ------------------------------------------------------------------------
@dataclass(frozen=True)
class LogRatio:
    """Spread of log(realized / implied) over periods where both are positive.

    :param dispersion: median absolute deviation of the log ratio around its median —
        0 when realized is implied times one constant; scale-free, so a record that is a
        constant fraction of the truth scores like the truth
    :param median: median log ratio (log of the typical realized / implied scale)
    :param n: periods with both positive
    """

    dispersion: float
    median: float
    n: int


def log_ratio(implied: np.ndarray, realized: np.ndarray) -> LogRatio:
    """Shape-of-magnitude score used by calibration.

    Per-period rank correlations barely move with the model's parameters (they mostly
    measure *when* price sweeps levels, which the price path fixes); how the implied
    amounts compare across small and large sweeps does move, and this captures it without
    depending on the record's overall scale (Binance's feed is a lower bound).
    """
    x, y = _clean(implied, realized)
    both = (x > 0) & (y > 0)
    if both.sum() < MIN_PERIODS:
        return LogRatio(math.nan, math.nan, int(both.sum()))
    lr = np.log(y[both]) - np.log(x[both])
    med = float(np.median(lr))
    return LogRatio(float(np.median(np.abs(lr - med))), med, int(both.sum()))


def partial_spearman_multi(x: np.ndarray, y: np.ndarray, controls: np.ndarray) -> Correlation:
    """Rank correlation of x and y beyond several controls: the ranks of x and y are
    regressed on the ranks of every control (least squares with an intercept) and the
    residuals correlated.  With one control it equals :func:`partial_spearman`.

    :param controls: ``[n, k]`` array, one column per control
    """
    z = np.asarray(controls, dtype=float).reshape(len(np.asarray(x)), -1)
    cols = _clean(x, y, *z.T)
    x, y, zs = cols[0], cols[1], cols[2:]
    n, k = len(x), len(zs)
    if n < MIN_PERIODS + k or min(np.ptp(x), np.ptp(y)) == 0:
        return Correlation(math.nan, math.nan, math.nan, math.nan, n)
    design = np.column_stack([np.ones(n)] + [stats.rankdata(c) for c in zs])
    res = []
    for a in (x, y):
        r = stats.rankdata(a)
        coef, *_ = np.linalg.lstsq(design, r, rcond=None)
        e = r - design @ coef
        # a series the controls explain entirely leaves rounding noise, not a rank order
        res.append(e if float(e @ e) > 1e-12 * float((r - r.mean()) @ (r - r.mean())) else 0 * e)
    den = math.sqrt(float(res[0] @ res[0]) * float(res[1] @ res[1]))
    if den == 0:
        return Correlation(math.nan, math.nan, math.nan, math.nan, n)
    rho = float(np.clip(res[0] @ res[1] / den, -1.0, 1.0))
    dof = n - 2 - k
    if abs(rho) < 1 and dof > 0:
        t = rho * math.sqrt(dof / (1 - rho**2))
        p = float(2 * stats.t.sf(abs(t), dof))
    else:
        p = 0.0
    low, high = _fisher_interval(rho, n, k)
    return Correlation(rho, low, high, p, n)
