"""Static PNG of the heatmap and of the liquidation map, drawn with matplotlib.

Why matplotlib and not plotly's own exporter: kaleido >= 1 drives a Chrome/Chromium binary,
which a fresh machine (or a CI container) may not have; matplotlib's Agg backend is a plain
wheel with no browser and no network.  Both renderers draw the same
:class:`~liq_signals.viz.model.HeatmapData`, with the colours of :mod:`liq_signals.viz.style`.
The image has exactly the requested pixel size (figure inches x dpi, no tight bbox).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402 - backend must be chosen first
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from liq_signals.viz import grid, style  # noqa: E402
from liq_signals.viz.liqmap import LiqMapData  # noqa: E402
from liq_signals.viz.model import (  # noqa: E402
    HeatmapData,
    cluster_label,
    format_usd,
    price_label,
)

DPI = 100
#: share of the one-moment map's height kept free above the bars and curves for the legends
LEGEND_HEADROOM = 0.25


def _dollars(value: float) -> str:
    """:func:`format_usd` with the dollar escaped (matplotlib reads ``$..$`` as math)."""
    return format_usd(value).replace("$", r"\$")


def _cmap(name: str, ramp: tuple[tuple[float, tuple[int, int, int, float]], ...]):  # noqa: ANN202
    stops = [(pos, (r / 255, g / 255, b / 255, a)) for pos, (r, g, b, a) in ramp]
    return LinearSegmentedColormap.from_list(name, stops)


def _new_figure(width: int, height: int):  # noqa: ANN202
    if width < 200 or height < 150:
        raise ValueError(f"PNG size {width}x{height} is too small (min 200x150 pixels)")
    fig = plt.figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor=style.BACKGROUND)
    ax = fig.add_axes((0.07, 0.08, 0.82, 0.80), facecolor=style.BACKGROUND)
    ax.tick_params(colors=style.TEXT, labelsize=8)
    for spine in ax.spines.values():
        spine.set_color(style.GRID)
    ax.grid(color=style.GRID, linewidth=0.5)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    return fig, ax


def _save(fig, path: Path) -> None:  # noqa: ANN001
    fig.savefig(path, dpi=DPI, facecolor=style.BACKGROUND)
    plt.close(fig)


def write_heatmap_png(data: HeatmapData, path: Path, *, width: int, height: int) -> None:
    """
    Draw the heatmap figure to a PNG of exactly ``width`` x ``height`` pixels.

    :raise ValueError: if the size is too small to draw anything legible
    """
    _save(heatmap_figure(data, width=width, height=height), path)


def heatmap_figure(data: HeatmapData, *, width: int, height: int) -> Figure:
    """The figure :func:`write_heatmap_png` saves (its axes: ``fig.axes[0]``).

    :raise ValueError: if the size is too small to draw anything legible
    """
    fig, ax = _new_figure(width, height)
    x = mdates.date2num(data.x.tz_convert(None).to_pydatetime())
    step = np.median(np.diff(x)) if len(x) > 1 else data.bucket_minutes / 1440.0
    x_edges = np.append(x - step / 2, x[-1] + step / 2)
    for rows, name, ramp in (
        (data.long_rows, "longs", style.LONG_RAMP),
        (data.short_rows, "shorts", style.SHORT_RAMP),
    ):
        mesh = ax.pcolormesh(
            x_edges,
            data.row_edges,
            rows,
            cmap=_cmap(name, ramp),
            vmin=data.zmin,
            vmax=data.zmax,
            shading="flat",
            rasterized=True,
        )
        cax = fig.add_axes(
            (0.905, 0.08 if name == "longs" else 0.49, 0.012, 0.38), facecolor=style.BACKGROUND
        )
        bar = fig.colorbar(mesh, cax=cax)
        bar.set_label(f"{name} $", color=style.TEXT, fontsize=8)
        bar.ax.tick_params(colors=style.TEXT, labelsize=7)
        bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _dollars(v)))
    up = data.close >= data.open
    body_w = step * 0.7
    for mask, colour in ((up, style.CANDLE_UP), (~up, style.CANDLE_DOWN)):
        ax.vlines(x[mask], data.low[mask], data.high[mask], color=colour, linewidth=0.6)
        ax.bar(
            x[mask],
            np.maximum(np.abs(data.close - data.open)[mask], 1e-9),
            bottom=np.minimum(data.open, data.close)[mask],
            width=body_w,
            color=colour,
            linewidth=0,
        )
    for magnet, colour, where in (
        (data.magnet_up, style.MAGNET_UP_COLOUR, "above"),
        (data.magnet_down, style.MAGNET_DOWN_COLOUR, "below"),
    ):
        ax.step(x, magnet, where="post", color=colour, lw=1.1, label=f"magnet {where} (held)")
    _, masks, sizes = style.sweep_marker_scale(data.swept_short_usd, data.swept_long_usd)
    for price, colour, marker, label, keep, size in (
        (data.high, style.SWEPT_SHORT_COLOUR, "^", "shorts swept", masks[0], sizes[0]),
        (data.low, style.SWEPT_LONG_COLOUR, "v", "longs swept", masks[1], sizes[1]),
    ):
        ax.scatter(
            x[keep],
            price[keep],
            s=(size * 8 + 3) ** 2,
            c=colour,
            marker=marker,
            linewidths=0,
            label=label,
            zorder=5,
        )
    ax.axhline(data.price, color=style.PRICE_LINE, lw=0.9, ls="--", zorder=6)
    ax.annotate(
        price_label(data),
        xy=(x_edges[0], data.price),
        xytext=(4, 3),
        textcoords="offset points",
        color=style.PRICE_LINE,
        fontsize=8,
        zorder=11,
        bbox=dict(facecolor=style.BACKGROUND, edgecolor="none", alpha=0.8, pad=1),
    )
    # in the empty strip right of the last column: never over the bright cells
    _label_clusters(
        ax,
        data,
        lambda c: (x_edges[-1], c.price),
        xytext=(6, 0),
        ha="left",
        va="center",
        fontsize=7.5,
        zorder=11,
    )
    _mode_bands(ax, data, x_edges)
    right = x_edges[-1]
    if data.clusters_above or data.clusters_below:
        share = style.LABEL_STRIP_SHARE
        right += (x_edges[-1] - x_edges[0]) * share / (1.0 - share)
    ax.set_xlim(x_edges[0], right)
    ax.set_ylim(data.row_edges[0], data.row_edges[-1])
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_ylabel("Price (USDT)", color=style.TEXT, fontsize=9)
    _legend(ax, "upper left", ncols=4).set_zorder(10)
    fig.suptitle(
        data.title, color=style.TEXT, fontsize=10, x=0.07, ha="left", y=0.975, parse_math=False
    )
    fig.text(
        0.07,
        0.905,
        "brighter = more notional would be liquidated there "
        "(red-yellow: longs, below price; blue-cyan: shorts, above price)",
        color=style.TEXT,
        fontsize=7.5,
        ha="left",
    )
    return fig


def _mode_bands(ax, data: HeatmapData, x_edges: np.ndarray) -> None:  # noqa: ANN001
    """Stale stretches veiled over the whole height, volume-mode stretches (in a figure
    with open interest too) as a strip along the bottom: as the HTML page marks them."""
    for name, flags, ymax, colour in (
        ("stale inputs (no entries)", data.stale, 1.0, style.STALE_VEIL),
        (
            "volume mode",
            data.volume if data.mixed_modes else None,
            style.VOLUME_STRIP_HEIGHT,
            style.VOLUME_STRIP,
        ),
    ):
        for i, (first, last) in enumerate(grid.runs(flags) if flags is not None else []):
            ax.axvspan(
                x_edges[first],
                x_edges[last + 1],
                ymin=0.0,
                ymax=ymax,
                color=_rgba(colour),
                linewidth=0,
                zorder=4,
                label=name if i == 0 else "_nolegend_",
            )


def _rgba(css: str) -> tuple[float, float, float, float]:
    """``rgba(r,g,b,a)`` as matplotlib's 0..1 tuple."""
    r, g, b, a = (float(v) for v in css[css.index("(") + 1 : -1].split(","))
    return r / 255, g / 255, b / 255, a


def write_liqmap_png(
    data: LiqMapData, path: Path, *, width: int, height: int
) -> dict[str, tuple[float, float]]:
    """
    Draw the one-moment liquidation map to a PNG of exactly ``width`` x ``height`` pixels.

    Bars are stacked by leverage band when the books are split (one colour per band),
    else drawn per book; cumulative curves on the right axis (from zero), the labelled
    price line and the largest clusters.

    :return: per drawn bar series (band label, or ``longs`` / ``shorts``), the notional
        its bars hold below and above price, read back from the drawn bar heights
    :raise ValueError: if the size is too small to draw anything legible
    """
    fig, drawn = liqmap_figure(data, width=width, height=height)
    _save(fig, path)
    return drawn


def liqmap_figure(
    data: LiqMapData, *, width: int, height: int
) -> tuple[Figure, dict[str, tuple[float, float]]]:
    """The figure :func:`write_liqmap_png` saves, and what its bars hold.

    Both axes keep :data:`LEGEND_HEADROOM` of their height above the highest bar and
    curve, where the two legends sit: a legend never covers a curve or a bar.
    """
    fig, ax = _new_figure(width, height)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _dollars(v)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    widths = np.diff(data.edges)
    if data.long_by_band is not None and data.short_by_band is not None:
        series = [
            (f"{label} leverage", lb + sb, style.LEVERAGE_COLOURS[b])
            for b, (label, lb, sb) in enumerate(
                zip(data.band_labels, data.long_by_band, data.short_by_band, strict=True)
            )
        ]
        stacked = True
    else:
        series = [
            ("long liquidations (below)", data.long_usd, style.LONG_BAR),
            ("short liquidations (above)", data.short_usd, style.SHORT_BAR),
        ]
        stacked = False
    bottom = np.zeros(len(widths))
    drawn: dict[str, tuple[float, float]] = {}
    for label, heights, colour in series:
        bars = ax.bar(
            data.edges[:-1],
            heights,
            width=widths,
            bottom=bottom if stacked else None,
            align="edge",
            color=colour,
            label=label,
            linewidth=0,
            alpha=0.9 if stacked else 0.85,
        )
        h = np.array([r.get_height() for r in bars.patches])
        drawn[label.split(" leverage")[0]] = (
            float(h[data.below].sum()),
            float(h[data.above].sum()),
        )
        if stacked:
            bottom = bottom + heights
    ax.set_ylim(
        0,
        max(float(bottom.max() if stacked else (data.long_usd + data.short_usd).max()), 1.0)
        / (1.0 - LEGEND_HEADROOM),
    )
    ax.set_ylabel("notional per price level", color=style.TEXT, fontsize=9)
    ax.set_xlabel("Price (USDT)", color=style.TEXT, fontsize=9)
    cum = ax.twinx()
    cum.tick_params(colors=style.TEXT, labelsize=8)
    cum.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _dollars(v)))
    for side, curve, colour, label in (
        (data.below, data.cum_long_below, style.LONG_CUM, "longs (price falling)"),
        (data.above, data.cum_short_above, style.SHORT_CUM, "shorts (price rising)"),
    ):
        cum.plot(
            data.price_mid[side], curve[side], color=colour, lw=2.0, label=f"cumulative {label}"
        )
    cum_top = max(
        float(data.cum_long_below.max(initial=0.0)),
        float(data.cum_short_above.max(initial=0.0)),
        1.0,
    )
    cum.set_ylim(0, cum_top / (1.0 - LEGEND_HEADROOM))
    _legend(cum, "upper right")
    cum.set_ylabel("cumulative notional from price", color=style.TEXT, fontsize=9)
    ax.axvline(data.price, color=style.PRICE_LINE, lw=1, ls="--")
    ax.annotate(
        f"price {data.price:,.2f}",
        xy=(data.price, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(4, -12),
        textcoords="offset points",
        color=style.PRICE_LINE,
        fontsize=8,
        bbox=dict(facecolor=style.BACKGROUND, edgecolor="none", alpha=0.8, pad=1),
    )
    total = data.long_usd + data.short_usd
    _label_clusters(
        ax,
        data,
        lambda c: (c.price, float(np.interp(c.price, data.price_mid, total))),
        xytext=(0, 14),
        ha="center",
        fontsize=7,
        zorder=10,
    )
    _legend(ax, "upper left")
    fig.suptitle(
        data.title, color=style.TEXT, fontsize=10, x=0.07, ha="left", y=0.975, parse_math=False
    )
    fig.text(0.07, 0.905, data.subtitle, color=style.TEXT, fontsize=8, ha="left", parse_math=False)
    return fig, drawn


def _label_clusters(
    ax: Any, data: HeatmapData | LiqMapData, xy: Callable[[Any], tuple[float, float]], **text: Any
) -> None:
    """Label the largest clusters of ``data`` (shorts above, longs below, in their book's
    colour) with a thin line from the label to ``xy(cluster)``; ``text``: where the label
    stands and how it is set (matplotlib's ``annotate`` keywords)."""
    for clusters, above, colour in (
        (data.clusters_above, True, style.SHORT_BAR),
        (data.clusters_below, False, style.LONG_BAR),
    ):
        for c in clusters:
            ax.annotate(
                cluster_label(c, above=above).replace("$", r"\$"),
                xy=xy(c),
                textcoords="offset points",
                color=colour,
                arrowprops=dict(arrowstyle="-", color=colour, lw=0.8),
                bbox=dict(facecolor=style.BACKGROUND, edgecolor="none", alpha=0.75, pad=1),
                **text,
            )


def _legend(ax: Any, loc: str, **more: Any) -> Any:
    """A legend in the figures' colours (``more``: matplotlib's other ``legend`` keywords)."""
    return ax.legend(
        loc=loc,
        fontsize=7,
        facecolor=style.BACKGROUND,
        edgecolor=style.GRID,
        labelcolor=style.TEXT,
        **more,
    )
