"""The one-moment liquidation map: cumulative curves and the quoted totals, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liq_signals.viz.liqmap import CUM_LONGS, CUM_SHORTS, build_liqmap_data, build_liqmap_figure


def _map():
    edges = np.array([90.0, 95, 100, 105, 110])  # price 100 sits on an edge
    return build_liqmap_data(
        pair="X/USDT:USDT",
        mode="oi",
        at=pd.Timestamp("2025-01-01 00:00", tz="UTC"),
        price=100.0,
        edges=edges,
        long_usd=np.array([4e9, 1e9, 0, 0]),
        short_usd=np.array([0, 0, 2e9, 12e9]),
        window_pct=10.0,
    )


def test_cumulative_curves_run_outwards_from_price():
    data = _map()
    assert data.below.tolist() == [True, True, False, False]
    assert data.above.tolist() == [False, False, True, True]
    # falling to 90..95 liquidates both long rows; to 95..100 only the nearer one
    assert data.cum_long_below.tolist() == [5e9, 1e9, 0, 0]
    assert data.cum_short_above.tolist() == [0, 0, 2e9, 14e9]
    assert data.shorts_above_usd == 14e9
    assert data.longs_below_usd == 5e9
    assert "$14B of shorts above (to +10%)" in data.subtitle
    assert "$5B of longs below" in data.subtitle
    assert "2.8:1 shorts above" in data.subtitle


def test_figure_carries_the_same_numbers():
    data = _map()
    fig = build_liqmap_figure(data)
    by_name = {t.name: t for t in fig.data}
    assert np.asarray(by_name[CUM_SHORTS].y).tolist() == [2e9, 14e9]
    assert np.asarray(by_name[CUM_LONGS].y).tolist() == [5e9, 1e9]
    assert "$14B of shorts above" in fig.layout.title.text


def test_window_limits_the_rows():
    edges = np.exp(np.arange(0, 101) * 0.01) * 50  # 50 .. ~136
    book = np.ones(100)
    data = build_liqmap_data(
        pair="X",
        mode="volume",
        at=pd.Timestamp("2025-01-01", tz="UTC"),
        price=100.0,
        edges=edges,
        long_usd=book,
        short_usd=book,
        window_pct=5.0,
    )
    assert data.edges[0] <= 95.0 < data.edges[1]
    assert data.edges[-2] < 105.0 <= data.edges[-1]
    with pytest.raises(ValueError, match="window"):
        build_liqmap_data(
            pair="X",
            mode="oi",
            at=data.at,
            price=100.0,
            edges=edges,
            long_usd=book,
            short_usd=book,
            window_pct=0,
        )
