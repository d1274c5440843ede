"""Down-sampling of the book history to a drawable price x time grid.

A year of 5-minute candles is 105 120 columns and the engine's log-price grid holds several
hundred bins; a browser cannot draw that and a person cannot read it.  The functions here
shrink both axes without inventing numbers:

- time: candles are grouped into buckets of a "nice" duration (5m, 15m, 1h, 4h, 8h, 1d, ...)
  chosen so that at most ``max_columns`` buckets remain; each bucket is drawn
  as one candle (OHLC aggregated) and one heatmap column showing the books *at the close of
  the bucket's last candle* -- the map a trader would have seen at that moment.
- price: runs of adjacent engine bins are summed into one row, so every row is an exact
  union of engine bins and the notional of a column is conserved (only bins outside the
  displayed price window are left out, and :func:`group_price_bins` says how much).

Pure NumPy, no plotting library: the plotly and matplotlib renderers both draw the
arrays produced here, which is what makes the HTML and the PNG "the same figure".
"""

from __future__ import annotations

import math

import numpy as np

# Bucket durations a chart reader recognises, in minutes, smallest first.
NICE_BUCKET_MINUTES: tuple[int, ...] = (
    1,
    3,
    5,
    15,
    30,
    60,
    120,
    240,
    360,
    480,
    720,
    1440,
    2880,
    4320,
    10080,
)


def choose_bucket_minutes(n_candles: int, timeframe_minutes: int, max_columns: int) -> int:
    """
    Pick the smallest nice bucket duration that leaves at most ``max_columns`` buckets.

    :param n_candles: number of candles to show
    :param timeframe_minutes: duration of one candle
    :param max_columns: upper bound on drawn columns
    :return: bucket duration in minutes (a multiple of the timeframe, never below it)
    :raise ValueError: if ``max_columns`` < 1
    """
    if max_columns < 1:
        raise ValueError(f"max_columns must be >= 1, got {max_columns}")
    needed = n_candles * timeframe_minutes / max_columns
    for minutes in NICE_BUCKET_MINUTES:
        if minutes >= timeframe_minutes and minutes % timeframe_minutes == 0 and minutes >= needed:
            return minutes
    return int(math.ceil(needed / timeframe_minutes)) * timeframe_minutes


def bucket_starts(n_candles: int, candles_per_bucket: int) -> np.ndarray:
    """
    Index of the first candle of every bucket of ``candles_per_bucket`` candles.

    Buckets are counted from the first displayed candle (align the timerange start on a
    round time and they follow the clock), which is exactly the spacing of
    :func:`liq_signals.engine.history.book_history` with ``every=candles_per_bucket``.

    :return: int64 array of start positions, first element 0
    """
    if candles_per_bucket < 1:
        raise ValueError(f"candles_per_bucket must be >= 1, got {candles_per_bucket}")
    return np.arange(0, n_candles, candles_per_bucket, dtype=np.int64)


def aggregate_ohlc(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """
    OHLC of each bucket (first open, highest high, lowest low, last close).

    :param starts: bucket start positions from :func:`bucket_starts`
    :return: open, high, low, close per bucket
    """
    lasts = bucket_lasts(starts, len(close))
    return (
        open_[starts],
        np.maximum.reduceat(high, starts),
        np.minimum.reduceat(low, starts),
        close[lasts],
    )


def bucket_lasts(starts: np.ndarray, n: int) -> np.ndarray:
    """Index of the last candle of every bucket."""
    return np.append(starts[1:] - 1, n - 1).astype(np.int64)


def bucket_sum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over each bucket (NaN counts as 0)."""
    return np.add.reduceat(np.nan_to_num(values, nan=0.0), starts)


def bucket_any(flags: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Is any of ``flags`` set in each bucket?"""
    return np.logical_or.reduceat(flags.astype(bool), starts) if len(flags) else flags


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """``(first, last)`` positions (inclusive) of every run of set ``flags``."""
    padded = np.concatenate([[False], flags.astype(bool), [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def group_price_bins(
    edges: np.ndarray,
    long_usd: np.ndarray,
    short_usd: np.ndarray,
    price_lo: float,
    price_hi: float,
    max_rows: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """
    Sum runs of adjacent engine price bins into at most ``max_rows`` rows.

    Only bins lying entirely inside ``[price_lo, price_hi]`` are kept (a bin straddling a
    limit is kept too, so the window is never narrower than asked).  Each row is the sum of
    ``k`` consecutive bins (the last row may hold fewer), so its edges are engine edges.

    :param edges: engine bin edges, ascending, shape ``(nbins + 1,)``
    :param long_usd: long-book notional, shape ``(ncols, nbins)``
    :param short_usd: short-book notional, shape ``(ncols, nbins)``
    :param price_lo: lowest price to show
    :param price_hi: highest price to show
    :param max_rows: upper bound on rows
    :return: row edges ``(nrows + 1,)``, long ``(nrows, ncols)``, short ``(nrows, ncols)``,
        share of the total notional (both books, all columns) that lies outside the window
    :raise ValueError: on inconsistent shapes or an empty window
    """
    nbins = len(edges) - 1
    if long_usd.shape != short_usd.shape or long_usd.shape[1] != nbins:
        raise ValueError(
            f"book shapes {long_usd.shape}/{short_usd.shape} do not match {nbins} price bins"
        )
    if max_rows < 1:
        raise ValueError(f"max_rows must be >= 1, got {max_rows}")
    first = int(np.searchsorted(edges, price_lo, side="right")) - 1
    last = int(np.searchsorted(edges, price_hi, side="left"))  # exclusive bin end
    first, last = max(first, 0), min(last, nbins)
    if last <= first:
        raise ValueError(
            f"price window {price_lo:.8g}..{price_hi:.8g} lies outside the book grid "
            f"{edges[0]:.8g}..{edges[-1]:.8g}"
        )
    k = int(math.ceil((last - first) / max_rows))
    starts = np.arange(first, last, k)
    row_edges = np.append(edges[starts], edges[last])
    long_rows = np.add.reduceat(long_usd[:, first:last], starts - first, axis=1).T
    short_rows = np.add.reduceat(short_usd[:, first:last], starts - first, axis=1).T
    total = float(long_usd.sum() + short_usd.sum())
    shown = float(long_rows.sum() + short_rows.sum())
    outside = 0.0 if total <= 0 else max(0.0, 1.0 - shown / total)
    return row_edges, long_rows, short_rows, outside
