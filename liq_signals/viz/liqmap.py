"""The one-moment "liquidation map": notional by price level with cumulative curves.

This is the view traders post when they say "$14B of shorts above": bars of the long book
(below price) and the short book (above price) at one candle's close, and, from the current
price outwards, the running total a move would liquidate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from liq_signals.engine.clusters import Cluster
from liq_signals.viz import grid, style
from liq_signals.viz.leverage_bands import BandBooks
from liq_signals.viz.magnets import ClusterGrid, column_clusters
from liq_signals.viz.model import cluster_label, format_ratio, format_usd

LONG_BARS = "Long liquidations (below price)"
SHORT_BARS = "Short liquidations (above price)"
CUM_LONGS = "Cumulative longs (price falling)"
CUM_SHORTS = "Cumulative shorts (price rising)"


@dataclass(frozen=True)
class LiqMapData:
    """
    The books at one moment, on price rows inside ``price*(1 ± window_pct/100)``.

    :ivar at: open time of the candle at whose close the books are shown
    :ivar price: that candle's close
    :ivar edges: row price edges ``(nrows + 1,)``; rows are runs of engine bins
    :ivar long_usd: long-book notional per row
    :ivar short_usd: short-book notional per row
    :ivar cum_long_below: for rows below price, long notional between the row and price
        (what a fall to that row would liquidate); 0 above price
    :ivar cum_short_above: for rows above price, short notional between price and the row;
        0 below price
    :ivar band_labels: leverage bands (``≤10x`` ...), empty when the books are not split
    :ivar long_by_band: long notional per band and row ``(nbands, nrows)``; sums to
        ``long_usd``
    :ivar short_by_band: short notional per band and row; sums to ``short_usd``
    :ivar clusters_above: largest short clusters above price inside the window
    :ivar clusters_below: largest long clusters below price inside the window
    """

    pair: str
    mode: str
    at: pd.Timestamp
    price: float
    window_pct: float
    edges: np.ndarray
    long_usd: np.ndarray
    short_usd: np.ndarray
    cum_long_below: np.ndarray
    cum_short_above: np.ndarray
    band_labels: tuple[str, ...] = ()
    long_by_band: np.ndarray | None = None
    short_by_band: np.ndarray | None = None
    clusters_above: tuple[Cluster, ...] = ()
    clusters_below: tuple[Cluster, ...] = ()

    @property
    def price_mid(self) -> np.ndarray:
        """Geometric middle of each row (the grid is logarithmic)."""
        return np.sqrt(self.edges[:-1] * self.edges[1:])

    @property
    def below(self) -> np.ndarray:
        """Rows entirely below price."""
        return self.edges[1:] <= self.price

    @property
    def above(self) -> np.ndarray:
        """Rows entirely above price."""
        return self.edges[:-1] >= self.price

    @property
    def shorts_above_usd(self) -> float:
        """Total short notional above price inside the window."""
        return float(self.short_usd[self.above].sum())

    @property
    def longs_below_usd(self) -> float:
        """Total long notional below price inside the window."""
        return float(self.long_usd[self.below].sum())

    @property
    def title(self) -> str:
        """Pair, moment, price and mode."""
        return (
            f"{self.pair} liquidation map at {self.at:%Y-%m-%d %H:%M} UTC candle close - "
            f"price {self.price:,.2f} - {self.mode} mode"
        )

    @property
    def subtitle(self) -> str:
        """The sentence traders quote."""
        w = f"{self.window_pct:g}"
        return (
            f"{format_usd(self.shorts_above_usd)} of shorts above (to +{w}%), "
            f"{format_usd(self.longs_below_usd)} of longs below (to -{w}%): "
            f"{format_ratio(self.shorts_above_usd, self.longs_below_usd)}"
        )


def build_liqmap_data(
    *,
    pair: str,
    mode: str,
    at: pd.Timestamp,
    price: float,
    edges: np.ndarray,
    long_usd: np.ndarray,
    short_usd: np.ndarray,
    window_pct: float = 15.0,
    max_rows: int = 200,
    bands: BandBooks | None = None,
    clusters: ClusterGrid | None = None,
    label_count: int = 3,
) -> LiqMapData:
    """
    Cut one snapshot of the books to a window around price and add the cumulative curves.

    :param edges: engine bin edges ``(nbins + 1,)``
    :param long_usd: long book ``(nbins,)`` at the candle's close
    :param short_usd: short book ``(nbins,)`` at the candle's close
    :param window_pct: half-width of the price window, percent of price
    :param max_rows: most bars to draw (adjacent engine bins are summed beyond that)
    :param bands: the same books split by leverage band (on the same absolute grid)
    :param clusters: the engine's cluster grid, to label the ``label_count`` largest
        clusters on each side (inside the window)
    :raise ValueError: on a non-positive price or window
    """
    if not price > 0:
        raise ValueError(f"{pair}: price at {at} is {price!r}, cannot centre a map on it")
    if not 0 < window_pct < 100:
        raise ValueError(f"window must be in (0, 100) %, got {window_pct}")
    lo, hi = price * (1 - window_pct / 100), price * (1 + window_pct / 100)
    row_edges, long_rows, short_rows, _ = grid.group_price_bins(
        edges, long_usd[None, :], short_usd[None, :], lo, hi, max_rows
    )
    long_rows, short_rows = long_rows[:, 0], short_rows[:, 0]
    below = row_edges[1:] <= price
    above = row_edges[:-1] >= price
    cum_long = np.where(below, np.cumsum((long_rows * below)[::-1])[::-1], 0.0)
    cum_short = np.where(above, np.cumsum(short_rows * above), 0.0)
    extra: dict = {}
    if bands is not None:
        rows_by_band = [
            grid.group_price_bins(bands.edges, bl[None, :], bs[None, :], lo, hi, max_rows)
            for bl, bs in zip(bands.long_usd, bands.short_usd, strict=True)
        ]
        for band_edges, *_ in rows_by_band:
            if not np.allclose(band_edges, row_edges, rtol=1e-12):
                raise ValueError("leverage-band books are not on the engine's grid")
        extra.update(
            band_labels=bands.labels,
            long_by_band=np.array([r[1][:, 0] for r in rows_by_band]),
            short_by_band=np.array([r[2][:, 0] for r in rows_by_band]),
        )
    if clusters is not None and label_count > 0:
        k = np.round(np.log(np.sqrt(edges[:-1] * edges[1:])) / clusters.grid_step).astype(int)
        near = ClusterGrid(clusters.grid_step, clusters.cluster_bins, float(window_pct))
        up, down = column_clusters(k, long_usd, short_usd, float(price), near, label_count)
        extra.update(clusters_above=tuple(up), clusters_below=tuple(down))
    return LiqMapData(
        pair=pair,
        mode=mode,
        at=at,
        price=float(price),
        window_pct=float(window_pct),
        edges=row_edges,
        long_usd=long_rows,
        short_usd=short_rows,
        cum_long_below=cum_long,
        cum_short_above=cum_short,
        **extra,
    )


def _bar_traces(data: LiqMapData) -> list[go.Bar]:
    """Bars per price level: one stacked bar per leverage band, or the two books."""
    mid = data.price_mid
    width = np.diff(data.edges)
    if data.long_by_band is None or data.short_by_band is None:
        return [
            go.Bar(
                x=mid,
                y=usd,
                width=width,
                name=name,
                marker=dict(color=colour, line=dict(width=0)),
                hovertemplate=f"{book} liquidate at %{{x:,.0f}}: %{{y:$,.0f}}<extra></extra>",
            )
            for usd, name, colour, book in (
                (data.long_usd, LONG_BARS, style.LONG_BAR, "longs"),
                (data.short_usd, SHORT_BARS, style.SHORT_BAR, "shorts"),
            )
        ]
    bars = []
    for b, label in enumerate(data.band_labels):
        lb, sb = data.long_by_band[b], data.short_by_band[b]
        bars.append(
            go.Bar(
                x=mid,
                y=lb + sb,
                width=width,
                name=f"{label} leverage",
                marker=dict(color=style.LEVERAGE_COLOURS[b], line=dict(width=0)),
                customdata=np.stack([lb, sb], axis=1),
                hovertemplate=f"{label} at %{{x:,.0f}}: longs %{{customdata[0]:$,.0f}}, "
                "shorts %{customdata[1]:$,.0f}<extra></extra>",
            )
        )
    return bars


def build_liqmap_figure(data: LiqMapData) -> go.Figure:
    """Bars per price level (left axis; stacked by leverage band when split), cumulative
    curves (right axis, from zero), the labelled price line and the largest clusters."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    mid = data.price_mid
    for bar in _bar_traces(data):
        fig.add_trace(bar, secondary_y=False)
    for side, cum, name, colour, move, book in (
        (data.below, data.cum_long_below, CUM_LONGS, style.LONG_CUM, "a fall", "longs"),
        (data.above, data.cum_short_above, CUM_SHORTS, style.SHORT_CUM, "a rise", "shorts"),
    ):
        fig.add_trace(
            go.Scatter(
                x=mid[side],
                y=cum[side],
                name=name,
                mode="lines",
                line=dict(color=colour, width=2),
                hovertemplate=f"{move} to %{{x:,.0f}} liquidates %{{y:$,.0f}} of {book}"
                "<extra></extra>",
            ),
            secondary_y=True,
        )
    fig.add_vline(
        x=data.price,
        line=dict(color=style.PRICE_LINE, dash="dash", width=1),
        annotation=dict(
            text=f"price {data.price:,.2f}",
            font=dict(color=style.PRICE_LINE, size=11),
            bgcolor=style.BACKGROUND,
        ),
        annotation_position="top right",
    )
    bar_top = float(np.max(data.long_usd + data.short_usd, initial=0.0))
    for clusters, above, colour in (
        (data.clusters_above, True, style.SHORT_BAR),
        (data.clusters_below, False, style.LONG_BAR),
    ):
        for c in clusters:
            level = float(np.interp(c.price, mid, data.long_usd + data.short_usd))
            fig.add_annotation(
                x=c.price,
                y=level,
                yref="y",
                text=cluster_label(c, above=above),
                showarrow=True,
                arrowcolor=colour,
                ax=0,
                ay=-25,
                font=dict(color=colour, size=10),
                bgcolor="rgba(14,17,23,0.75)",
            )
    cum_top = float(
        max(data.cum_long_below.max(initial=0.0), data.cum_short_above.max(initial=0.0))
    )
    fig.update_layout(
        **style.plotly_page_layout(data.title, data.subtitle),
        barmode="stack" if data.long_by_band is not None else "overlay",
        bargap=0,
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
        xaxis=dict(title="Price (USDT)", tickformat=",.0f", gridcolor=style.GRID),
        margin=dict(l=70, r=70, t=90, b=50),
    )
    fig.update_yaxes(
        title_text="notional per price level",
        tickformat="$.3s",
        gridcolor=style.GRID,
        range=[0.0, max(bar_top, 1.0) * 1.15],
        secondary_y=False,
    )
    fig.update_yaxes(
        title_text="cumulative from price",
        tickformat="$.3s",
        showgrid=False,
        range=[0.0, max(cum_top, 1.0) * 1.05],
        secondary_y=True,
    )
    return fig
