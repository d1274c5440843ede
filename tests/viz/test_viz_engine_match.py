"""The figure shows the engine's books: sampled columns rebuilt independently.

The figure asks the engine for one snapshot per column (``every`` = candles per column);
here the engine is asked for a snapshot after *every* candle and the expected cells are
summed by hand from its bins, so an off-by-one in the column -> candle mapping, a wrong
row grouping or a transposed grid all fail.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liq_signals.engine.history import book_history
from liq_signals.viz.plotly_figure import LONG_BOOK, PRICE, SHORT_BOOK, build_figure

CANDLES_PER_COLUMN = 6  # 864 candles of 5m in <= 200 columns -> 30m columns


@pytest.fixture(scope="module")
def every_candle(engine_run):
    return book_history(engine_run.inputs, engine_run.params, every=1, start=engine_run.show)


def _expected_rows(edges_fig: np.ndarray, centers: np.ndarray, book: np.ndarray) -> np.ndarray:
    out = np.zeros(len(edges_fig) - 1)
    for r in range(len(out)):
        inside = (centers >= edges_fig[r]) & (centers < edges_fig[r + 1])
        out[r] = book[inside].sum()
    return out


def test_columns_are_30_minutes_of_candles(heatmap_data, engine_run):
    shown = engine_run.frame.iloc[engine_run.show :].reset_index(drop=True)
    assert heatmap_data.bucket_minutes == 30
    assert len(heatmap_data.x) == -(-len(shown) // CANDLES_PER_COLUMN)
    j = 37
    block = shown.iloc[j * CANDLES_PER_COLUMN : (j + 1) * CANDLES_PER_COLUMN]
    assert heatmap_data.x[j] == pd.Timestamp(block["date"].iloc[0])
    assert heatmap_data.open[j] == block["open"].iloc[0]
    assert heatmap_data.high[j] == block["high"].max()
    assert heatmap_data.low[j] == block["low"].min()
    assert heatmap_data.close[j] == block["close"].iloc[-1]


@pytest.mark.parametrize("column", [0, 57, 58, -1])  # 58: first column after the 10 Oct crash
def test_sampled_column_matches_engine_books(heatmap_data, engine_run, every_candle, column):
    fig = build_figure(heatmap_data)
    traces = {t.name: t for t in fig.data}
    n_shown = len(engine_run.frame) - engine_run.show
    ncols = len(heatmap_data.x)
    j = column % ncols
    last = min((j + 1) * CANDLES_PER_COLUMN, n_shown) - 1  # last candle of the column
    snap = int(np.flatnonzero(every_candle.index == engine_run.show + last)[0])
    edges = np.asarray(traces[LONG_BOOK].y, dtype=float)
    for name, book in ((LONG_BOOK, every_candle.long_usd), (SHORT_BOOK, every_candle.short_usd)):
        z = np.nan_to_num(np.asarray(traces[name].z, dtype=float))  # empty cells are gaps
        assert z.shape == (len(edges) - 1, ncols)
        expected = _expected_rows(edges, every_candle.centers, book[snap])
        assert expected.sum() > 0, f"{name}: engine book empty in the window at column {j}"
        np.testing.assert_allclose(z[:, j], expected, rtol=1e-5, atol=1.0)
    candle = np.asarray(traces[PRICE].close, dtype=float)
    assert candle[j] == engine_run.frame["close"].iloc[engine_run.show + last]


def test_long_book_below_and_short_book_above_price(heatmap_data):
    """Consumed levels are gone: no long level above the column's low, no short below its high."""
    mid = np.sqrt(heatmap_data.row_edges[1:] * heatmap_data.row_edges[:-1])
    for j in range(len(heatmap_data.x)):
        assert heatmap_data.long_rows[mid > heatmap_data.high[j] * 1.002, j].sum() == 0
        assert heatmap_data.short_rows[mid < heatmap_data.low[j] / 1.002, j].sum() == 0
