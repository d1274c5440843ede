"""The interactive heatmap (plotly) and the layer that goes onto freqtrade's figure.

Trace names are constants: the tests find the traces by name in the figure and in the
rendered page's legend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.graph_objects as go

from liq_signals.viz import style
from liq_signals.viz.model import HeatmapData

LONG_BOOK = "Long liquidations (long book)"
SHORT_BOOK = "Short liquidations (short book)"
PRICE = "Price"
MAGNET_ABOVE = "Magnet above"
MAGNET_BELOW = "Magnet below"
SWEPT_SHORTS = "Shorts swept"
SWEPT_LONGS = "Longs swept"

SWEEP_MARKER_MAX_PX = 12.0
# On freqtrade's figure the books sit under many more lines than on ours: dim them a bit.
LAYER_OPACITY = 0.75


def heatmap_traces(data: HeatmapData, *, show_scale: bool = True) -> list[go.Heatmap]:
    """
    The two books as heatmaps on the price x time grid, sharing one colour range.

    Row edges are passed as ``y`` (``nrows + 1`` values), so every cell spans exactly the
    engine bins it sums.  ``z`` holds USD as float32: half the bytes of float64, and
    7 significant digits are more than a colour can show.
    """
    zmax = style.colour_max(data.long_rows, data.short_rows)
    common = dict(
        x=data.x,
        y=data.row_edges,
        zmin=0.0,
        zmax=zmax,
        hoverongaps=False,
        showscale=show_scale,
    )
    long_hm = go.Heatmap(
        z=data.long_rows.astype(np.float32),
        name=LONG_BOOK,
        colorscale=style.plotly_colorscale(style.LONG_RAMP),
        hovertemplate="%{x}<br>longs liquidate near %{y:,.0f}: %{z:$.3s}<extra></extra>",
        colorbar=dict(title="longs $", x=1.0, len=0.45, y=0.25, thickness=10),
        showlegend=True,
        **common,
    )
    short_hm = go.Heatmap(
        z=data.short_rows.astype(np.float32),
        name=SHORT_BOOK,
        colorscale=style.plotly_colorscale(style.SHORT_RAMP),
        hovertemplate="%{x}<br>shorts liquidate near %{y:,.0f}: %{z:$.3s}<extra></extra>",
        colorbar=dict(title="shorts $", x=1.0, len=0.45, y=0.75, thickness=10),
        showlegend=True,
        **common,
    )
    return [long_hm, short_hm]


def overlay_traces(data: HeatmapData) -> list[go.Scatter]:
    """Magnet lines and swept-liquidation markers."""
    traces = [
        go.Scatter(
            x=data.x,
            y=data.magnet_up,
            name=MAGNET_ABOVE,
            mode="lines",
            line=dict(color=style.MAGNET_UP_COLOUR, width=1.5, shape="hv"),
            hovertemplate="largest short cluster above: %{y:,.0f}<extra></extra>",
        ),
        go.Scatter(
            x=data.x,
            y=data.magnet_down,
            name=MAGNET_BELOW,
            mode="lines",
            line=dict(color=style.MAGNET_DOWN_COLOUR, width=1.5, shape="hv"),
            hovertemplate="largest long cluster below: %{y:,.0f}<extra></extra>",
        ),
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


def build_figure(data: HeatmapData) -> go.Figure:
    """
    The whole heatmap page: books behind candles, magnets and sweeps on top.

    :param data: from :func:`liq_signals.viz.model.build_heatmap_data`
    :return: a plotly figure (dark theme, full-window)
    """
    fig = go.Figure(heatmap_traces(data) + [candle_trace(data)] + overlay_traces(data))
    subtitle = (
        "brighter = more notional would be liquidated there; walls vanish when price sweeps "
        "them; hover a candle for the imbalance"
    )
    if data.outside_share > 0.001:
        subtitle += f"; {data.outside_share:.1%} of the books lie outside this price window"
    fig.update_layout(
        title=dict(text=f"{data.title}<br><sup>{subtitle}</sup>", x=0.01),
        template="plotly_dark",
        paper_bgcolor=style.BACKGROUND,
        plot_bgcolor=style.BACKGROUND,
        font=dict(color=style.TEXT),
        xaxis=dict(rangeslider=dict(visible=False), gridcolor=style.GRID, type="date"),
        yaxis=dict(
            title="Price (USDT)",
            gridcolor=style.GRID,
            side="left",
            tickformat=",.0f",
            range=[float(data.row_edges[0]), float(data.row_edges[-1])],
        ),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
        margin=dict(l=70, r=80, t=90, b=40),
        hovermode="closest",
    )
    return fig


def add_heatmap_layer(
    fig: go.Figure, data: HeatmapData, *, row: int = 1, col: int = 1, magnets: bool = True
) -> go.Figure:
    """
    Put the books, magnets and sweeps onto an existing figure, e.g. freqtrade's.

    The heatmaps are moved to the front of ``fig.data`` so they are drawn *behind* the
    candles, signals and trades freqtrade added; the overlays go on top.  Colour bars are
    hidden: freqtrade's figure has subplots on the right edge that they would cover.

    :param fig: a figure made with ``plotly.subplots.make_subplots`` (freqtrade's
        ``generate_candlestick_graph`` output) or a plain figure (``row``/``col`` ignored)
    :param data: the heatmap data for the same pair and period
    :param row: subplot row of the price chart (1 in freqtrade's figure)
    :param col: subplot column
    :param magnets: also draw our magnet lines (off when the figure already plots the
        magnet columns, as the strategy's ``plot_config`` does)
    :return: the same figure, modified in place
    """
    subplots = fig._grid_ref is not None  # noqa: SLF001 - plotly has no public accessor
    place = dict(row=row, col=col) if subplots else {}
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
