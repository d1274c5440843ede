"""Down-sampling of books and candles: tiny hand-computed cases and conservation."""

from __future__ import annotations

import numpy as np
import pytest

from liq_signals.viz import grid
from liq_signals.viz.model import BookSnapshots


@pytest.mark.parametrize(
    ("n", "tf", "cols", "expected"),
    [
        (864, 5, 1200, 5),  # 3 days of 5m fit: one candle per column
        (105_120, 5, 1200, 480),  # a year of 5m: 8h columns (1095 of them)
        (2000, 5, 1200, 15),  # 8.3 min needed -> next nice duration
        (10, 60, 1, 720),  # 10 h in one column -> 12h
    ],
)
def test_bucket_duration_is_the_smallest_nice_one_that_fits(n, tf, cols, expected):
    minutes = grid.choose_bucket_minutes(n, tf, cols)
    assert minutes == expected
    assert -(-n // (minutes // tf)) <= cols


def test_bucket_starts_lasts_and_ohlc_by_hand():
    o = np.array([1.0, 2, 3, 4, 5])
    h = np.array([2.0, 9, 4, 5, 6])
    lo = np.array([0.5, 1, 2, 0.1, 4])
    c = np.array([2.0, 3, 4, 5, 5.5])
    starts = grid.bucket_starts(5, 2)
    assert starts.tolist() == [0, 2, 4]
    assert grid.bucket_lasts(starts, 5).tolist() == [1, 3, 4]
    bo, bh, bl, bc = grid.aggregate_ohlc(o, h, lo, c, starts)
    assert bo.tolist() == [1, 3, 5]
    assert bh.tolist() == [9, 5, 6]
    assert bl.tolist() == [0.5, 0.1, 4]
    assert bc.tolist() == [3, 5, 5.5]
    assert grid.bucket_sum(np.array([1.0, np.nan, 2, 3, 4]), starts).tolist() == [1, 5, 4]


def test_price_rows_are_unions_of_engine_bins_and_keep_notional():
    edges = np.array([10.0, 11, 12, 13, 14, 15, 16])  # 6 bins
    long_usd = np.array([[1.0, 2, 3, 4, 5, 6], [0, 0, 1, 0, 0, 1]])
    short_usd = np.array([[10.0, 0, 0, 0, 0, 20], [0, 5, 0, 0, 0, 0]])
    row_edges, lr, sr, outside = grid.group_price_bins(edges, long_usd, short_usd, 10, 16, 3)
    assert row_edges.tolist() == [10, 12, 14, 16]
    assert lr.tolist() == [[3, 0], [7, 1], [11, 1]]  # rows x columns
    assert sr.tolist() == [[10, 5], [0, 0], [20, 0]]
    assert outside == 0.0
    # window 11.5..13.5 keeps bins [11,12) [12,13) [13,14) -> one row per bin
    row_edges, lr, sr, outside = grid.group_price_bins(edges, long_usd, short_usd, 11.5, 13.5, 5)
    assert row_edges.tolist() == [11, 12, 13, 14]
    assert lr[:, 0].tolist() == [2, 3, 4]
    total = long_usd.sum() + short_usd.sum()
    assert outside == pytest.approx(1 - (2 + 3 + 4 + 1 + 5) / total)


def test_price_window_outside_the_grid_is_an_error():
    edges = np.array([10.0, 11, 12])
    z = np.zeros((1, 2))
    with pytest.raises(ValueError, match="outside the book grid"):
        grid.group_price_bins(edges, z, z, 50, 60, 10)


def test_snapshot_lookup_refuses_a_missing_candle():
    books = BookSnapshots(
        candle_index=np.array([1, 3]),
        edges=np.array([1.0, 2.0]),
        long_usd=np.array([[1.0], [2.0]]),
        short_usd=np.array([[3.0], [4.0]]),
    )
    lu, su = books.at(np.array([3, 1]))
    assert lu[:, 0].tolist() == [2.0, 1.0]
    assert su[:, 0].tolist() == [4.0, 3.0]
    with pytest.raises(ValueError, match=r"\[2\]"):
        books.at(np.array([1, 2]))
