"""Magnet lines that hold still, and the cluster labels, from the books of each column.

The engine's magnet feature is the cluster bucket holding the most notional; when two
buckets hold about the same, it jumps between them from one candle to the next and the
drawn line flickers.  :func:`held_magnets` recomputes the engine's buckets from the
column's books and keeps the magnet of the previous column while it still holds at least
``1 / (1 + margin)`` of the largest bucket (and still lies on its side of price, inside the
search band): a challenger must be ``margin`` larger to take over.  Each column depends on
itself and the columns before it only (causal).  With ``margin = 0`` it is the engine's
magnet, which the tests check.

Pure NumPy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from liq_signals.engine.clusters import Cluster, top_clusters

#: a new largest cluster replaces the held magnet when it holds this much more (25 %)
MAGNET_SWITCH_MARGIN = 0.25


@dataclass(frozen=True)
class ClusterGrid:
    """How the engine groups bins into clusters and how far it searches.

    :ivar grid_step: δ of the log-price grid
    :ivar cluster_bins: bins per cluster bucket (aligned on the absolute grid)
    :ivar max_pct: the widest band, percent of close: the magnet search limit
    """

    grid_step: float
    cluster_bins: int
    max_pct: float


def _side_buckets(
    k: np.ndarray, usd: np.ndarray, close: float, grid: ClusterGrid, *, above: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bucket ids, USD and USD-weighted price of one side's buckets, nearest first.

    The bins are those the engine measures: strictly past the close, up to the widest band
    (``_reach`` rounding: ``floor`` above, ``ceil`` below).
    """
    delta = grid.grid_step
    ln_c = math.log(close)
    if above:
        first = math.floor(ln_c / delta) + 1
        last = math.floor((ln_c + math.log1p(grid.max_pct / 100.0)) / delta)
        sel = (k >= first) & (k <= last) & (usd != 0)
    else:
        first = math.ceil(ln_c / delta) - 1
        last = math.ceil((ln_c + math.log1p(-grid.max_pct / 100.0)) / delta)
        sel = (k <= first) & (k >= last) & (usd != 0)
    ks, us = k[sel], usd[sel]
    bucket = ks // grid.cluster_bins
    ids, inv = np.unique(bucket, return_inverse=True)
    size = np.bincount(inv, weights=us, minlength=len(ids))
    weighted = np.bincount(inv, weights=us * np.exp(ks * delta), minlength=len(ids))
    order = np.arange(len(ids)) if above else np.arange(len(ids))[::-1]  # nearest first
    with np.errstate(invalid="ignore", divide="ignore"):
        return ids[order], size[order], (weighted / size)[order]


def held_magnets(
    k: np.ndarray,
    usd: np.ndarray,
    close: np.ndarray,
    grid: ClusterGrid,
    *,
    above: bool,
    margin: float = MAGNET_SWITCH_MARGIN,
) -> tuple[np.ndarray, np.ndarray]:
    """The magnet of every column, held while no cluster is ``margin`` larger.

    :param k: absolute grid index of each bin, shape ``(nbins,)``
    :param usd: one side's book per column and bin, shape ``(ncols, nbins)``
    :param close: the close each column's books are measured from, ``(ncols,)``
    :param above: the short book above price (True) or the long book below (False)
    :param margin: 0 gives the engine's magnet (the largest bucket, the nearest on ties)
    :return: magnet price and USD per column (NaN / 0 where the side is empty)
    """
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    ncols = usd.shape[0]
    price = np.full(ncols, np.nan)
    size = np.zeros(ncols)
    held: int | None = None
    for j in range(ncols):
        ids, sizes, prices = _side_buckets(k, usd[j], float(close[j]), grid, above=above)
        if not len(ids):
            held = None
            continue
        top = int(np.argmax(sizes))  # first maximum = nearest, as the engine's strict '>'
        pick = top
        if held is not None:
            where = np.flatnonzero(ids == held)
            if where.size and sizes[where[0]] * (1.0 + margin) >= sizes[top]:
                pick = int(where[0])
        held = int(ids[pick])
        price[j], size[j] = prices[pick], sizes[pick]
    return price, size


#: labelled clusters lie at least this far apart (percent of price): three neighbouring
#: buckets of one wall would otherwise stack three labels on one spot
LABEL_MIN_GAP_PCT = 1.0


def column_clusters(
    k: np.ndarray,
    long_usd: np.ndarray,
    short_usd: np.ndarray,
    close: float,
    grid: ClusterGrid,
    count: int,
    min_gap_pct: float = LABEL_MIN_GAP_PCT,
) -> tuple[list[Cluster], list[Cluster]]:
    """The ``count`` largest clusters above (shorts) and below (longs) one column's close,
    largest first, skipping any within ``min_gap_pct`` of a larger one already taken."""
    price = np.exp(k * grid.grid_step)
    above, below = (
        top_clusters(
            k,
            price,
            book,
            close,
            above=side,
            cluster_bins=grid.cluster_bins,
            max_pct=grid.max_pct,
            count=len(k),
        )
        for book, side in ((short_usd, True), (long_usd, False))
    )
    return _spread(above, count, min_gap_pct), _spread(below, count, min_gap_pct)


def _spread(clusters: list[Cluster], count: int, min_gap_pct: float) -> list[Cluster]:
    kept: list[Cluster] = []
    for c in clusters:
        if len(kept) == count:
            break
        if all(abs(c.price / o.price - 1.0) * 100.0 >= min_gap_pct for o in kept):
            kept.append(c)
    return kept
