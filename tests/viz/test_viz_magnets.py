"""Held magnets: the engine's magnet at margin 0, steadier with the margin, and causal.

The books after every candle of the three days around the 10 Oct 2025 crash (the session
engine run); the engine's own ``liq_magnet_*_price`` columns are the reference.
"""

from __future__ import annotations

import numpy as np
import pytest

from liq_signals import columns as C
from liq_signals.engine.history import book_history
from liq_signals.viz.magnets import MAGNET_SWITCH_MARGIN, ClusterGrid, column_clusters, held_magnets


@pytest.fixture(scope="module")
def every_candle(engine_run):
    hist = book_history(engine_run.inputs, engine_run.params, every=1, start=engine_run.show)
    cfg = engine_run.params.cfg
    grid = ClusterGrid(cfg.grid_step, cfg.cluster_bins, max(cfg.bands_pct))
    k = np.arange(hist.k0, hist.k0 + hist.long_usd.shape[1])
    close = engine_run.frame["close"].to_numpy()[hist.index]
    return hist, grid, k, close


def _bucket(price: np.ndarray, grid: ClusterGrid) -> np.ndarray:
    """The engine's cluster bucket of each magnet price (-1 where there is none)."""
    out = np.full(len(price), -1, dtype=np.int64)
    ok = np.isfinite(price)
    out[ok] = np.round(np.log(price[ok]) / grid.grid_step).astype(np.int64) // grid.cluster_bins
    return out


def _moves(price: np.ndarray, grid: ClusterGrid) -> int:
    b = _bucket(price, grid)
    return int(np.sum(b[1:] != b[:-1]))


def _flip_backs(price: np.ndarray, grid: ClusterGrid) -> int:
    """Bucket A -> B -> A on three consecutive columns: the flicker a reader sees."""
    b = _bucket(price, grid)
    return int(np.sum((b[:-2] == b[2:]) & (b[1:-1] != b[:-2])))


@pytest.mark.parametrize(
    ("above", "book", "column"),
    [
        (True, "short_usd", C.MAGNET_UP_PRICE),
        (False, "long_usd", C.MAGNET_DOWN_PRICE),
    ],
)
def test_margin_zero_is_the_engines_magnet(every_candle, engine_run, above, book, column):
    hist, grid, k, close = every_candle
    price, usd = held_magnets(k, getattr(hist, book), close, grid, above=above, margin=0.0)
    feature = engine_run.frame[column].to_numpy()[hist.index]
    assert np.isfinite(feature).sum() > 800
    np.testing.assert_array_equal(np.isnan(price), np.isnan(feature))
    np.testing.assert_allclose(price, feature, rtol=1e-12)
    usd_col = C.MAGNET_UP_USD if above else C.MAGNET_DOWN_USD
    np.testing.assert_allclose(usd, engine_run.frame[usd_col].to_numpy()[hist.index], rtol=1e-9)


@pytest.mark.parametrize(("above", "book"), [(True, "short_usd"), (False, "long_usd")])
def test_held_magnet_moves_less_and_never_flips_back(every_candle, above, book):
    hist, grid, k, close = every_candle
    raw, _ = held_magnets(k, getattr(hist, book), close, grid, above=above, margin=0.0)
    held, held_usd = held_magnets(k, getattr(hist, book), close, grid, above=above)
    assert _flip_backs(raw, grid) > 5  # the engine's magnet flickers on these days
    assert _flip_backs(held, grid) == 0
    assert _moves(held, grid) < 0.5 * _moves(raw, grid)
    # a held magnet is never much smaller than the largest cluster of its column
    raw_usd = held_magnets(k, getattr(hist, book), close, grid, above=above, margin=0.0)[1]
    ok = raw_usd > 0
    assert np.all(held_usd[ok] * (1 + MAGNET_SWITCH_MARGIN) >= raw_usd[ok] * (1 - 1e-12))


def test_held_magnet_is_causal(every_candle):
    """Column j depends on columns <= j only: a prefix gives the same lines."""
    hist, grid, k, close = every_candle
    full, _ = held_magnets(k, hist.short_usd, close, grid, above=True)
    for stop in (1, 137, 500, len(close) - 1):
        part, _ = held_magnets(k, hist.short_usd[:stop], close[:stop], grid, above=True)
        np.testing.assert_array_equal(part, full[:stop])


def test_labels_are_the_largest_clusters_and_apart(every_candle):
    hist, grid, k, close = every_candle
    above, below = column_clusters(k, hist.long_usd[-1], hist.short_usd[-1], close[-1], grid, 3)
    assert len(above) == len(below) == 3
    for side, book, sign in ((above, hist.short_usd[-1], 1), (below, hist.long_usd[-1], -1)):
        usd = [c.usd for c in side]
        assert usd == sorted(usd, reverse=True)
        assert all(sign * (c.price - close[-1]) > 0 for c in side)
        prices = sorted(c.price for c in side)
        assert all(b / a - 1 >= 0.01 for a, b in zip(prices, prices[1:], strict=False))
        # the first label is the largest bucket of the whole side (within the band)
        bucket = k // grid.cluster_bins
        inside = (sign * (np.exp(k * grid.grid_step) - close[-1]) > 0) & (
            np.abs(np.exp(k * grid.grid_step) / close[-1] - 1) <= grid.max_pct / 100
        )
        sums = np.bincount(bucket[inside] - bucket[inside].min(), weights=book[inside])
        assert side[0].usd == pytest.approx(sums.max(), rel=1e-9)
