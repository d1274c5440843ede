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

from liq_signals.viz import grid, style
from liq_signals.viz.model import format_ratio, format_usd

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
    max_rows: int = 400,
) -> LiqMapData:
    """
    Cut one snapshot of the books to a window around price and add the cumulative curves.

    :param edges: engine bin edges ``(nbins + 1,)``
    :param long_usd: long book ``(nbins,)`` at the candle's close
    :param short_usd: short book ``(nbins,)`` at the candle's close
    :param window_pct: half-width of the price window, percent of price
    :param max_rows: most bars to draw (adjacent engine bins are summed beyond that)
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
    )


def build_liqmap_figure(data: LiqMapData) -> go.Figure:
    """Bars per price level (left axis) and cumulative curves (right axis)."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    mid = data.price_mid
    width = np.diff(data.edges)
    fig.add_trace(
        go.Bar(
            x=mid,
            y=data.long_usd,
            width=width,
            name=LONG_BARS,
            marker=dict(color=style.LONG_BAR, line=dict(width=0)),
            hovertemplate="longs liquidate at %{x:,.0f}: %{y:$.3s}<extra></extra>",
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Bar(
            x=mid,
            y=data.short_usd,
            width=width,
            name=SHORT_BARS,
            marker=dict(color=style.SHORT_BAR, line=dict(width=0)),
            hovertemplate="shorts liquidate at %{x:,.0f}: %{y:$.3s}<extra></extra>",
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=mid[data.below],
            y=data.cum_long_below[data.below],
            name=CUM_LONGS,
            mode="lines",
            line=dict(color=style.LONG_CUM, width=2),
            hovertemplate="a fall to %{x:,.0f} liquidates %{y:$.3s} of longs<extra></extra>",
        ),
        secondary_y=True,
    )
    fig.add_trace(
        go.Scatter(
            x=mid[data.above],
            y=data.cum_short_above[data.above],
            name=CUM_SHORTS,
            mode="lines",
            line=dict(color=style.SHORT_CUM, width=2),
            hovertemplate="a rise to %{x:,.0f} liquidates %{y:$.3s} of shorts<extra></extra>",
        ),
        secondary_y=True,
    )
    fig.add_vline(x=data.price, line=dict(color=style.TEXT, dash="dash", width=1))
    fig.update_layout(
        title=dict(text=f"{data.title}<br><sup>{data.subtitle}</sup>", x=0.01),
        template="plotly_dark",
        paper_bgcolor=style.BACKGROUND,
        plot_bgcolor=style.BACKGROUND,
        font=dict(color=style.TEXT),
        barmode="overlay",
        bargap=0,
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
        xaxis=dict(title="Price (USDT)", tickformat=",.0f", gridcolor=style.GRID),
        margin=dict(l=70, r=70, t=90, b=50),
    )
    fig.update_yaxes(
        title_text="notional per price level",
        tickformat="$.3s",
        gridcolor=style.GRID,
        secondary_y=False,
    )
    fig.update_yaxes(
        title_text="cumulative from price", tickformat="$.3s", showgrid=False, secondary_y=True
    )
    return fig
