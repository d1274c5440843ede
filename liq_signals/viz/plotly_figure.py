"""The interactive heatmap (plotly) and the layer that goes onto freqtrade's figure.

Trace names are constants: the tests find the traces by name in the figure and in the
rendered page's legend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from liq_signals.display import format_usd
from liq_signals.viz import grid, style
from liq_signals.viz.model import HeatmapData, cluster_label, price_label

LONG_BOOK = "Long liquidations (long book)"
SHORT_BOOK = "Short liquidations (short book)"
PRICE = "Price"
MAGNET_ABOVE = "Magnet above"
MAGNET_BELOW = "Magnet below"
SWEPT_SHORTS = "Shorts swept"
SWEPT_LONGS = "Longs swept"
CLUSTER_LABEL = "cluster label"
STALE_BAND = "stale inputs (no entries)"
VOLUME_BAND = "volume mode (no open interest)"
SATURATION_SLIDER = "saturation"
THRESHOLD_SLIDER = "threshold"

#: hover of a heatmap cell: its side and its own notional, in whole dollars
LONG_HOVER = "%{x}<br>longs liquidate at %{y:,.0f}: %{z:$,.0f}<extra>long book</extra>"
SHORT_HOVER = "%{x}<br>shorts liquidate at %{y:,.0f}: %{z:$,.0f}<extra>short book</extra>"

SWEEP_MARKER_MAX_PX = 12.0
#: gap between the last column and a cluster label, pixels
LABEL_OFFSET_PX = 8
# On freqtrade's figure the books sit under many more lines than on ours: dim them a bit.
LAYER_OPACITY = 0.75


def _cells(rows: np.ndarray) -> np.ndarray:
    """USD per cell as float32, empty cells as gaps (NaN): a gap takes no hover, so the
    book drawn underneath answers there."""
    z = rows.astype(np.float32)
    z[~(rows > 0)] = np.nan
    return z


def heatmap_traces(data: HeatmapData, *, show_scale: bool = True) -> list[go.Heatmap]:
    """
    The two books as heatmaps on the price x time grid, sharing one colour range.

    Row edges are passed as ``y`` (``nrows + 1`` values), so every cell spans exactly the
    engine bins it sums.  ``z`` holds USD as float32: half the bytes of float64, and
    7 significant digits are more than a colour can show.  Empty cells are gaps
    (``hoverongaps=False``), so hovering a level of one book shows that book's side and
    notional, never the other book's empty cell drawn on top of it.
    """
    return [
        go.Heatmap(
            z=_cells(rows),
            name=name,
            colorscale=style.plotly_colorscale(ramp),
            hovertemplate=hover,
            colorbar=dict(title=title, x=1.0, len=0.45, y=y, thickness=10),
            showlegend=True,
            x=data.x,
            y=data.row_edges,
            zmin=data.zmin,
            zmax=data.zmax,
            hoverongaps=False,
            showscale=show_scale,
        )
        for rows, name, ramp, hover, title, y in (
            (data.long_rows, LONG_BOOK, style.LONG_RAMP, LONG_HOVER, "longs $", 0.25),
            (data.short_rows, SHORT_BOOK, style.SHORT_RAMP, SHORT_HOVER, "shorts $", 0.75),
        )
    ]


def overlay_traces(data: HeatmapData) -> list[go.Scatter]:
    """Magnet lines and swept-liquidation markers.  The magnet lines take no hover: they
    run over the very cells whose notional a trader hovers for."""
    traces = [
        go.Scatter(
            x=data.x,
            y=magnet,
            name=name,
            mode="lines",
            line=dict(color=colour, width=1.5, shape="hv"),
            hoverinfo="skip",  # the cells under the line answer the hover, not the line
        )
        for magnet, name, colour in (
            (data.magnet_up, MAGNET_ABOVE, style.MAGNET_UP_COLOUR),
            (data.magnet_down, MAGNET_BELOW, style.MAGNET_DOWN_COLOUR),
        )
    ]
    _, masks, sizes = style.sweep_marker_scale(data.swept_short_usd, data.swept_long_usd)
    for name, usd, price, colour, symbol, keep, size in (
        (
            SWEPT_SHORTS,
            data.swept_short_usd,
            data.high,
            style.SWEPT_SHORT_COLOUR,
            "triangle-up",
            masks[0],
            sizes[0],
        ),
        (
            SWEPT_LONGS,
            data.swept_long_usd,
            data.low,
            style.SWEPT_LONG_COLOUR,
            "triangle-down",
            masks[1],
            sizes[1],
        ),
    ):
        traces.append(
            go.Scatter(
                x=data.x[keep],
                y=price[keep],
                name=name,
                mode="markers",
                marker=dict(
                    color=colour,
                    symbol=symbol,
                    size=size * SWEEP_MARKER_MAX_PX + 4,
                    line=dict(width=0),
                ),
                customdata=usd[keep],
                hovertemplate=f"{name.lower()}: %{{customdata:$.3s}}<extra></extra>",
            )
        )
    return traces


def candle_trace(data: HeatmapData) -> go.Candlestick:
    """Candles (one per column) whose hover carries the imbalance of that moment."""
    return go.Candlestick(
        x=data.x,
        open=data.open,
        high=data.high,
        low=data.low,
        close=data.close,
        name=PRICE,
        hovertext=data.hover,
        increasing=dict(line=dict(color=style.CANDLE_UP, width=1), fillcolor=style.CANDLE_UP),
        decreasing=dict(line=dict(color=style.CANDLE_DOWN, width=1), fillcolor=style.CANDLE_DOWN),
    )


def add_price_and_labels(fig: go.Figure, data: HeatmapData) -> None:
    """The labelled current-price line and the labels of the largest clusters."""
    fig.add_hline(
        y=data.price,
        line=dict(color=style.PRICE_LINE, dash="dash", width=1),
        annotation=dict(
            text=price_label(data),
            font=dict(color=style.PRICE_LINE, size=11),
            bgcolor=style.BACKGROUND,
        ),
        annotation_position="top left",
    )
    right = data.x[-1] + _half_column(data)
    for clusters, above, colour in (
        (data.clusters_above, True, style.SHORT_BAR),
        (data.clusters_below, False, style.LONG_BAR),
    ):
        for c in clusters:
            # in the empty strip right of the last column (:func:`x_range`): a label never
            # hides the bright cells it is about
            fig.add_annotation(
                x=right,
                y=c.price,
                text=cluster_label(c, above=above),
                showarrow=True,
                arrowhead=0,
                arrowcolor=colour,
                ax=LABEL_OFFSET_PX,
                ay=0,
                xanchor="left",
                font=dict(color=colour, size=10),
                bgcolor="rgba(14,17,23,0.75)",
                name=CLUSTER_LABEL,
            )


def add_mode_bands(fig: go.Figure, data: HeatmapData, **place: int) -> int:
    """Mark the stretches the map is weaker on: stale inputs as a veil over the whole
    height, volume mode (when the figure also has open-interest columns) as a strip along
    the bottom.  One legend entry per kind.

    :return: number of shapes added
    """
    half = _half_column(data)
    added = 0
    for name, flags, shape in (
        (STALE_BAND, data.stale, dict(y0=0.0, y1=1.0, fillcolor=style.STALE_VEIL)),
        (
            VOLUME_BAND,
            data.volume if data.mixed_modes else None,
            dict(y0=0.0, y1=style.VOLUME_STRIP_HEIGHT, fillcolor=style.VOLUME_STRIP),
        ),
    ):
        for i, (first, last) in enumerate(grid.runs(flags) if flags is not None else []):
            fig.add_shape(
                type="rect",
                xref="x",
                yref="y domain",
                x0=data.x[first] - half,
                x1=data.x[last] + half,
                line=dict(width=0),
                layer="above",
                name=name,
                legendgroup=name,
                showlegend=i == 0,
                **shape,
                **place,
            )
            added += 1
    return added


def _half_column(data: HeatmapData) -> pd.Timedelta:
    return pd.Timedelta(minutes=data.bucket_minutes) / 2


def x_range(data: HeatmapData, *, labels: bool = True) -> list[pd.Timestamp]:
    """The time axis: every column, plus (with cluster labels) an empty strip of
    :data:`style.LABEL_STRIP_SHARE` of the width on the right where the labels go."""
    lo = data.x[0] - _half_column(data)
    hi = data.x[-1] + _half_column(data)
    if labels and (data.clusters_above or data.clusters_below):
        hi = hi + (hi - lo) * style.LABEL_STRIP_SHARE / (1.0 - style.LABEL_STRIP_SHARE)
    return [lo, hi]


def colour_sliders(data: HeatmapData) -> list[dict]:
    """Two sliders restyling both heatmaps: where the colour saturates, and below which
    notional cells are not coloured (the ramp's first colour is transparent)."""
    books = [0, 1]  # the two heatmaps are the figure's first traces
    grids = (data.long_rows, data.short_rows)
    sat = style.cell_percentiles(style.SATURATION_STEPS_PCT, *grids)
    thr = style.cell_percentiles(style.THRESHOLD_STEPS_PCT, *grids)
    sat_steps = [
        dict(
            label=f"p{p:g} {format_usd(v)}" if p < 100 else f"max {format_usd(v)}",
            method="restyle",
            args=[{"zmax": [max(v, data.zmin + 1e-9)] * 2}, books],
        )
        for p, v in zip(style.SATURATION_STEPS_PCT, sat, strict=True)
    ]
    thr_steps = [
        dict(
            label="none" if p == 0 else f"p{p:g} {format_usd(v)}",
            method="restyle",
            args=[{"zmin": [0.0 if p == 0 else v] * 2}, books],
        )
        for p, v in zip(style.THRESHOLD_STEPS_PCT, thr, strict=True)
    ]
    active_sat = int(np.argmin(np.abs(np.asarray(sat) - data.zmax)))
    active_thr = int(np.argmin(np.abs(np.asarray([0.0, *thr[1:]]) - data.zmin)))
    common = dict(
        len=0.42,
        y=0.0,
        yanchor="top",
        pad=dict(t=22, b=0, l=0, r=0),
        font=dict(color=style.TEXT, size=9),
        ticklen=3,
        minorticklen=0,
        bgcolor=style.GRID,
        activebgcolor=style.TEXT,
        bordercolor=style.GRID,
        tickcolor=style.TEXT,
    )
    return [
        dict(
            name=name,
            steps=steps,
            active=active,
            x=x,
            currentvalue=dict(prefix=prefix, font=dict(size=10), offset=4),
            **common,
        )
        for name, steps, active, x, prefix in (
            (SATURATION_SLIDER, sat_steps, active_sat, 0.0, "colour saturates at: "),
            (THRESHOLD_SLIDER, thr_steps, active_thr, 0.55, "hide cells below: "),
        )
    ]


def build_figure(data: HeatmapData) -> go.Figure:
    """
    The whole heatmap page: books behind candles, magnets and sweeps on top, the labelled
    price line, the largest clusters labelled, and the colour sliders below.

    :param data: from :func:`liq_signals.viz.model.build_heatmap_data`
    :return: a plotly figure (dark theme, full-window)
    """
    fig = go.Figure(heatmap_traces(data) + [candle_trace(data)] + overlay_traces(data))
    subtitle = (
        "brighter = more notional would be liquidated there; walls vanish when price sweeps "
        "them; hover a cell for its book and notional, a candle for the imbalance"
    )
    if data.outside_share > 0.001:
        subtitle += f"; {data.outside_share:.1%} of the books lie outside this price window"
    add_price_and_labels(fig, data)
    add_mode_bands(fig, data)
    fig.update_layout(
        **style.plotly_page_layout(data.title, subtitle),
        xaxis=dict(
            rangeslider=dict(visible=False),
            gridcolor=style.GRID,
            type="date",
            range=x_range(data),
        ),
        yaxis=dict(
            title="Price (USDT)",
            gridcolor=style.GRID,
            side="left",
            tickformat=",.0f",
            range=[float(data.row_edges[0]), float(data.row_edges[-1])],
        ),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
        margin=dict(l=70, r=80, t=90, b=10),
        hovermode="closest",
        sliders=colour_sliders(data),
    )
    return fig


def add_heatmap_layer(
    fig: go.Figure,
    data: HeatmapData,
    *,
    row: int | None = 1,
    col: int = 1,
    magnets: bool = True,
) -> go.Figure:
    """
    Put the books, magnets, sweeps and the stale / volume-mode marks
    (:func:`add_mode_bands`) onto an existing figure, e.g. freqtrade's.

    The heatmaps are moved to the front of ``fig.data`` so they are drawn *behind* the
    candles, signals and trades freqtrade added; the overlays go on top.  Colour bars are
    hidden: freqtrade's figure has subplots on the right edge that they would cover.

    :param fig: a figure made with ``plotly.subplots.make_subplots`` (freqtrade's
        ``generate_candlestick_graph`` output) or a plain figure (``row=None``)
    :param data: the heatmap data for the same pair and period
    :param row: subplot row of the price chart (1 in freqtrade's figure); ``None`` for a
        figure without subplots
    :param col: subplot column
    :param magnets: also draw our magnet lines (off when the figure already plots the
        magnet columns, as the strategy's ``plot_config`` does)
    :return: the same figure, modified in place
    """
    place = {} if row is None else dict(row=row, col=col)
    n_before = len(fig.data)
    for trace in heatmap_traces(data, show_scale=False):
        trace.opacity = LAYER_OPACITY
        fig.add_trace(trace, **place)
    n_heat = len(fig.data) - n_before
    for trace in overlay_traces(data):
        if magnets or trace.name not in (MAGNET_ABOVE, MAGNET_BELOW):
            fig.add_trace(trace, **place)
    traces = list(fig.data)
    heat = traces[n_before : n_before + n_heat]
    fig.data = tuple(heat + traces[:n_before] + traces[n_before + n_heat :])
    add_mode_bands(fig, data, **place)
    return fig


def write_html(fig: go.Figure, path: Path) -> int:
    """
    Write a self-contained page: plotly.js is inlined, so it opens with no network.

    :return: size of the written file in bytes
    """
    html = fig.to_html(
        include_plotlyjs=True,
        full_html=True,
        default_width="100%",
        default_height="100vh",
        config={"scrollZoom": True, "displaylogo": False, "responsive": True},
    )
    html = html.replace("<head>", f"<head><style>{_PAGE_CSS}</style>", 1)
    path.write_text(html, encoding="utf-8")
    return path.stat().st_size


# The figure fills the window: no body margin (it would add a scrollbar to a 100vh plot).
_PAGE_CSS = f"html,body{{margin:0;padding:0;height:100%;background:{style.BACKGROUND};}}"
