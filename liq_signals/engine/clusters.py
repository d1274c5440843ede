"""Cluster views of a book snapshot (for people: the snapshot text, heatmap labels)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Cluster:
    """One cluster: USD-weighted mean price, distance from the reference in %, USD size."""

    price: float
    dist_pct: float
    usd: float


def top_clusters(
    bin_index: np.ndarray,
    price: np.ndarray,
    usd: np.ndarray,
    reference: float,
    *,
    above: bool,
    cluster_bins: int,
    max_pct: float,
    count: int,
) -> list[Cluster]:
    """Largest clusters on one side of ``reference`` within ``max_pct``.

    Bins are grouped into buckets of ``cluster_bins`` aligned on the absolute grid
    (``k // cluster_bins``), exactly as the engine's magnet feature does.

    :param bin_index: absolute grid index of each bin.
    :param price: price of each bin.
    :param usd: notional of each bin.
    :param reference: the price the distances are measured from (the close).
    :param above: True for levels above ``reference`` (shorts), False for below (longs).
    :param cluster_bins: bins per bucket.
    :param max_pct: only levels within this distance (percent).
    :param count: number of clusters returned, largest first.
    :return: up to ``count`` :class:`Cluster` objects, largest first.
    """
    if above:
        sel = (price > reference) & (price <= reference * (1 + max_pct / 100)) & (usd > 0)
    else:
        sel = (price < reference) & (price >= reference * (1 - max_pct / 100)) & (usd > 0)
    if not sel.any():
        return []
    bucket = bin_index[sel] // cluster_bins
    uniq, inv = np.unique(bucket, return_inverse=True)
    size = np.bincount(inv, weights=usd[sel], minlength=len(uniq))
    weighted = np.bincount(inv, weights=usd[sel] * price[sel], minlength=len(uniq))
    order = np.argsort(-size, kind="stable")[:count]
    out = []
    for i in order:
        p = weighted[i] / size[i]
        dist = (p / reference - 1) * 100 if above else (1 - p / reference) * 100
        out.append(Cluster(float(p), float(dist), float(size[i])))
    return out
