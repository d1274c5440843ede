"""Estimators with honest intervals: rank IC, partial IC, matched differences.

Every interval is a moving-block bootstrap (blocks of consecutive observations, so the
overlap of multi-hour forward returns and the persistence of the features are kept inside
a block instead of being counted as independent evidence).  All of it is plain NumPy and
vectorised over the replicates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Two-sided coverage of every interval.
LEVEL = 0.90


@dataclass(frozen=True)
class Estimate:
    """A point estimate, its bootstrap interval and the number of observations used."""

    value: float
    low: float
    high: float
    n: int

    def covers(self, x: float) -> bool:
        return bool(self.low <= x <= self.high)

    def as_dict(self) -> dict[str, float | int]:
        return {"value": self.value, "low": self.low, "high": self.high, "n": self.n}


NAN_ESTIMATE = Estimate(float("nan"), float("nan"), float("nan"), 0)


def block_indices(n: int, block: int, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """``replicates`` × ``n`` moving-block bootstrap indices (blocks of ``block``)."""
    block = int(max(1, min(block, n)))
    blocks = -(-n // block)
    starts = rng.integers(0, n - block + 1, size=(replicates, blocks))
    idx = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(replicates, -1)
    return idx[:, :n]


def ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks scaled to [0, 1] (ties share a rank), for Spearman correlations."""
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    first = np.r_[True, sorted_x[1:] != sorted_x[:-1]]
    group = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], len(x)]
    mean_rank = (starts + ends - 1) / 2.0
    out = np.empty(len(x))
    out[order] = mean_rank[group]
    return out / max(len(x) - 1, 1)


def residualise(y: np.ndarray, controls: np.ndarray | None) -> np.ndarray:
    """``y`` minus its least-squares fit on ``controls`` (plus a constant)."""
    if controls is None or controls.size == 0:
        return y - y.mean()
    design = np.column_stack([np.ones(len(y)), controls])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    return y - design @ beta


def _rowwise_corr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=-1) * (b * b).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (a * b).sum(axis=-1) / den, np.nan)


def information_coefficient(
    feature: np.ndarray,
    forward: np.ndarray,
    controls: np.ndarray | None = None,
    *,
    block: int,
    replicates: int = 500,
    seed: int = 0,
) -> Estimate:
    """Spearman IC of ``feature`` with ``forward`` (partial on ``controls`` if given).

    Rows with a NaN anywhere are dropped.  The partial IC correlates the ranks of feature
    and outcome after each is residualised on the ranks of the controls (once, on the whole
    sample: the controls' fit is a nuisance, the interval is for the correlation).

    :param block: bootstrap block length in observations (at least the forward horizon)
    """
    columns = [feature, forward] + (
        [] if controls is None else [controls.reshape(len(feature), -1)]
    )
    ok = np.all(np.isfinite(np.column_stack(columns)), axis=1)
    n = int(ok.sum())
    if n < max(30, 3 * block):
        return Estimate(float("nan"), float("nan"), float("nan"), n)
    x, y = ranks(feature[ok]), ranks(forward[ok])
    if controls is not None:
        c = controls.reshape(len(feature), -1)[ok]
        c = np.column_stack([ranks(c[:, j]) for j in range(c.shape[1])])
        x, y = residualise(x, c), residualise(y, c)
    if np.std(x) == 0 or np.std(y) == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), n)
    value = float(_rowwise_corr(x, y))
    idx = block_indices(n, block, replicates, np.random.default_rng(seed))
    boot = _rowwise_corr(x[idx], y[idx])
    low, high = np.nanquantile(boot, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return Estimate(value, float(low), float(high), n)


def matched_difference(
    outcome: np.ndarray,
    treated: np.ndarray,
    control: np.ndarray,
    strata: np.ndarray,
    *,
    block: int,
    replicates: int = 500,
    seed: int = 0,
) -> tuple[Estimate, float, float]:
    """Mean outcome of treated minus matched controls, strata weighted by treated counts.

    ``strata`` (integer labels) holds what the two groups are matched on (move size,
    volume, ...): within each stratum the treated mean minus the control mean, averaged
    with the number of treated rows as weight; strata lacking either group are left out.
    The bootstrap resamples whole blocks of the time-ordered rows, both groups together.

    :return: (difference, mean outcome of the treated, mean outcome of their controls)
    """
    ok = np.isfinite(outcome) & (treated | control) & (strata >= 0)
    t, c, s, y = treated[ok], control[ok], strata[ok].astype(np.int64), outcome[ok]
    n = len(y)
    if t.sum() < 10 or c.sum() < 10:
        return Estimate(float("nan"), float("nan"), float("nan"), int(t.sum())), np.nan, np.nan
    labels, s = np.unique(s, return_inverse=True)
    k = len(labels)

    def stats(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per replicate row-set: difference, treated mean, control mean (vectorised)."""
        rows = np.atleast_2d(rows)
        key = s[rows]
        tw, cw, yy = t[rows].astype(float), c[rows].astype(float), y[rows]
        off = (np.arange(rows.shape[0]) * k)[:, None]
        size = rows.shape[0] * k

        def bins(w: np.ndarray) -> np.ndarray:
            return np.bincount((key + off).ravel(), w.ravel(), minlength=size).reshape(-1, k)

        nt, nc = bins(tw), bins(cw)
        st, sc = bins(tw * yy), bins(cw * yy)
        both = (nt > 0) & (nc > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mt, mc = st / nt, sc / nc
            w = np.where(both, nt, 0.0)
            total = w.sum(axis=1)
            diff = np.where(both, mt - mc, 0.0)
            d = (w * diff).sum(axis=1) / total
            a = (w * np.where(both, mt, 0.0)).sum(axis=1) / total
            b = (w * np.where(both, mc, 0.0)).sum(axis=1) / total
        return d, a, b

    d, a, b = stats(np.arange(n))
    idx = block_indices(n, block, replicates, np.random.default_rng(seed))
    boot, _, _ = stats(idx)
    low, high = np.nanquantile(boot, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return Estimate(float(d[0]), float(low), float(high), int(t.sum())), float(a[0]), float(b[0])


def mean_estimate(
    values: np.ndarray, *, block: int, replicates: int = 500, seed: int = 0
) -> Estimate:
    """Mean of ``values`` (NaN dropped) with a moving-block bootstrap interval."""
    v = values[np.isfinite(values)]
    if len(v) < 10:
        return Estimate(float("nan"), float("nan"), float("nan"), len(v))
    idx = block_indices(len(v), block, replicates, np.random.default_rng(seed))
    boot = v[idx].mean(axis=1)
    low, high = np.quantile(boot, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return Estimate(float(v.mean()), float(low), float(high), len(v))


def quantile_bins(x: np.ndarray, q: int) -> np.ndarray:
    """Label 0..q-1 of each value's quantile bin (NaN -> -1)."""
    out = np.full(len(x), -1, dtype=np.int64)
    ok = np.isfinite(x)
    if ok.sum() == 0:
        return out
    edges = np.quantile(x[ok], np.linspace(0, 1, q + 1)[1:-1])
    out[ok] = np.searchsorted(edges, x[ok], side="right")
    return out


def combine_bins(*bins: np.ndarray) -> np.ndarray:
    """One stratum label per row from several bin labels (any -1 -> -1)."""
    out = np.zeros(len(bins[0]), dtype=np.int64)
    missing = np.zeros(len(bins[0]), dtype=bool)
    for b in bins:
        out = out * 1000 + b
        missing |= b < 0
    return np.where(missing, -1, out)
