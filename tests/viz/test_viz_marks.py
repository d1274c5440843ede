"""What the figures mark and where they put things (issue 22, item 9), checked on the
figure objects both renderers draw (no browser needed):

* stale-input and volume-mode stretches are marked (HTML shapes, PNG spans);
* ``--leverage-bands`` draws only the chosen bands' books;
* the magnet lines take no hover (the cells under them answer);
* cluster labels sit in an empty strip right of the last column, never on the cells;
* the ``--at`` PNG's legends cover no curve.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest

from liq_signals.cli import main
from liq_signals.viz import engine_glue, style
from liq_signals.viz.plotly_figure import (
    CLUSTER_LABEL,
    MAGNET_ABOVE,
    MAGNET_BELOW,
    STALE_BAND,
    VOLUME_BAND,
    build_figure,
)
from liq_signals.viz.render import heatmap_data_for, liqmap_data_for, select_window

REPO = Path(__file__).resolve().parents[2]
OI_DATADIR = REPO / "user_data" / "data" / "binance-oi-2026-06"
PAIR = "BTC/USDT:USDT"


@pytest.fixture(scope="module")
def outage_run():
    """The OI sample around the end of its open-interest outage (2026-06-20 11:00)."""
    loaded = engine_glue.load(OI_DATADIR, PAIR, "5m")
    window = select_window(loaded.candles["date"], "20260619-20260622", 1.0, pair=PAIR, source="")
    return engine_glue.run_engine(loaded, window)


def _right_edge(data) -> pd.Timestamp:  # noqa: ANN001
    return data.x[-1] + pd.Timedelta(minutes=data.bucket_minutes) / 2


def test_stale_and_volume_stretches_are_marked(outage_run):
    data = heatmap_data_for(outage_run, max_columns=200, max_rows=80, tf_minutes=5)
    shown = outage_run.frame.iloc[outage_run.show :]
    stale_dates = pd.DatetimeIndex(shown.loc[shown["liq_stale"].astype(bool), "date"])
    fresh_dates = pd.DatetimeIndex(shown.loc[~shown["liq_stale"].astype(bool), "date"])
    assert len(stale_dates) > 100  # the window spans the end of the outage
    assert len(fresh_dates) > 100
    assert data.mixed_modes

    fig = build_figure(data)
    stale = [s for s in fig.layout.shapes if s.name == STALE_BAND]
    volume = [s for s in fig.layout.shapes if s.name == VOLUME_BAND]
    assert stale, "no stale stretch marked"
    assert volume, "no volume-mode stretch marked"
    assert [s.showlegend for s in stale] == [True] + [False] * (len(stale) - 1)
    spans = [(pd.Timestamp(s.x0), pd.Timestamp(s.x1)) for s in stale]

    def marked(date: pd.Timestamp) -> bool:
        return any(a <= date <= b for a, b in spans)

    # a column is veiled exactly when one of its candles is stale
    column = pd.Timedelta(minutes=data.bucket_minutes)
    for x in data.x:
        has_stale = bool(((stale_dates >= x) & (stale_dates < x + column)).any())
        assert marked(x) == has_stale, x
    assert all(s.y1 <= style.VOLUME_STRIP_HEIGHT for s in volume)  # a strip at the bottom

    # the layer on freqtrade's figure (price chart = row 1 of 2) carries the same marks
    from plotly.subplots import make_subplots

    from liq_signals.viz.plotly_figure import add_heatmap_layer

    layered = add_heatmap_layer(make_subplots(rows=2, cols=1), data, row=1, col=1)
    marks = [(s.name, s.x0, s.x1, s.yref) for s in layered.layout.shapes]
    assert marks == [(s.name, s.x0, s.x1, "y domain") for s in stale + volume]
    import plotly.graph_objects as go

    plain = add_heatmap_layer(go.Figure(), data, row=None)  # a figure without subplots
    assert [s.name for s in plain.layout.shapes] == [s.name for s in stale + volume]
    assert len(plain.data) == len(layered.data)

    from liq_signals.viz.matplotlib_figure import heatmap_figure

    png = heatmap_figure(data, width=800, height=500)
    legend = [t.get_text() for t in png.axes[0].get_legend().get_texts()]
    assert "stale inputs (no entries)" in legend
    assert "volume mode" in legend


def test_leverage_band_filter_draws_only_those_bands(engine_run, heatmap_data):
    kw = dict(max_columns=200, max_rows=120, tf_minutes=5)
    every_band = heatmap_data_for(engine_run, leverage_bands=(0, 1, 2, 3), **kw)
    np.testing.assert_array_equal(every_band.row_edges, heatmap_data.row_edges)
    for rows, engine in (
        (every_band.long_rows, heatmap_data.long_rows),
        (every_band.short_rows, heatmap_data.short_rows),
    ):
        np.testing.assert_allclose(rows, engine, rtol=1e-6, atol=1e-6 * engine.max())

    high = heatmap_data_for(engine_run, leverage_bands=(3,), **kw)
    assert "- >50x leverage only -" in high.title
    # >50x positions liquidate within ~2 % of entry: a narrower, smaller book
    assert 0 < high.long_rows.sum() < 0.8 * heatmap_data.long_rows.sum()
    assert 0 < high.short_rows.sum() < 0.8 * heatmap_data.short_rows.sum()


def test_an_unknown_leverage_band_is_one_line_and_exit_2(tmp_path: Path, capsys):
    rc = main(
        ["heatmap", "--datadir", str(OI_DATADIR), "-p", PAIR, "--leverage-bands", "7x",
         "--out", str(tmp_path / "m.html")]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.count("\n") == 1, err
    assert "unknown leverage band '7x': use <=10x, 10-25x, 25-50x, >50x" in err


def test_magnet_lines_take_no_hover(heatmap_data):
    fig = build_figure(heatmap_data)
    lines = {t.name: t for t in fig.data if t.name in (MAGNET_ABOVE, MAGNET_BELOW)}
    assert set(lines) == {MAGNET_ABOVE, MAGNET_BELOW}
    assert all(t.hoverinfo == "skip" for t in lines.values())
    assert all("liquidate at" in t.hovertemplate for t in fig.data[:2])  # the books answer


def test_cluster_labels_sit_right_of_the_cells(heatmap_data):
    right = _right_edge(heatmap_data)
    fig = build_figure(heatmap_data)
    labels = [a for a in fig.layout.annotations if a.name == CLUSTER_LABEL]
    assert len(labels) == 6
    for a in labels:
        assert pd.Timestamp(a.x) == right
        assert a.xanchor == "left"
        assert a.ax > 0  # the text starts right of its arrow, outside the last column
    lo, hi = (pd.Timestamp(v) for v in fig.layout.xaxis.range)
    assert lo == heatmap_data.x[0] - (right - heatmap_data.x[-1])
    assert (hi - right) / (hi - lo) == pytest.approx(style.LABEL_STRIP_SHARE)

    from liq_signals.viz.matplotlib_figure import heatmap_figure

    png = heatmap_figure(heatmap_data, width=1400, height=850)
    png.canvas.draw()
    ax = png.axes[0]
    x_right = mdates.date2num(right.tz_convert(None).to_pydatetime())
    edge_px = ax.transData.transform((x_right, heatmap_data.price))[0]
    texts = [t for t in ax.texts if " at " in t.get_text() and "%)" in t.get_text()]
    assert len(texts) == 6
    for t in texts:
        box = t.get_window_extent()
        assert box.x0 > edge_px, t.get_text()
        assert box.x1 < ax.get_window_extent().x1, t.get_text()  # inside the plot


def test_at_png_legends_cover_no_curve(run_until):
    from liq_signals.viz.matplotlib_figure import liqmap_figure

    cut, _ = run_until("2025-10-10T18:00")
    fig, _ = liqmap_figure(liqmap_data_for(cut, window_pct=15.0), width=1600, height=900)
    fig.canvas.draw()
    legends = [ax.get_legend().get_window_extent() for ax in fig.axes if ax.get_legend()]
    assert len(legends) == 2
    curves = [
        line for ax in fig.axes for line in ax.get_lines() if "cumulative" in line.get_label()
    ]
    assert len(curves) == 2
    for line in curves:
        points = line.get_transform().transform(line.get_xydata())
        for box in legends:
            inside = (
                (points[:, 0] >= box.x0)
                & (points[:, 0] <= box.x1)
                & (points[:, 1] >= box.y0)
                & (points[:, 1] <= box.y1)
            )
            assert not inside.any(), (line.get_label(), points[inside][:3])
