"""What a heatmap figure shows, independent of the library that draws it.

:func:`build_heatmap_data` turns candles + feature columns + book snapshots into a
:class:`HeatmapData`; :mod:`liq_signals.viz.plotly_figure` (HTML) and
:mod:`liq_signals.viz.matplotlib_figure` (PNG) draw that same object.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from liq_signals.display import format_usd, ratio_text
from liq_signals.engine.clusters import Cluster
from liq_signals.viz import grid, style
from liq_signals.viz.columns import (
    IMBALANCE_BAND_PCT,
    MAGNET_DOWN,
    MAGNET_UP,
    MODE,
    MODE_VOLUME,
    STALE,
    SWEPT_LONG,
    SWEPT_SHORT,
    long_below,
    short_above,
)
from liq_signals.viz.magnets import MAGNET_SWITCH_MARGIN, ClusterGrid, column_clusters, held_magnets

#: the name the liquidation-map figure imports; one renderer: :mod:`liq_signals.display`
format_ratio = ratio_text


@dataclass(frozen=True)
class BookSnapshots:
    """
    The engine's books at selected candles.

    :ivar candle_index: position (in the displayed candle frame) of the candle at whose
        close each snapshot was taken, ascending, shape ``(nt,)``
    :ivar edges: price bin edges, ascending, shape ``(nbins + 1,)``
    :ivar long_usd: long-book notional per bin, shape ``(nt, nbins)``
    :ivar short_usd: short-book notional per bin, shape ``(nt, nbins)``
    :ivar k0: absolute grid index of the first bin
    """

    candle_index: np.ndarray
    edges: np.ndarray
    long_usd: np.ndarray
    short_usd: np.ndarray
    k0: int = 0

    @property
    def bin_index(self) -> np.ndarray:
        """Absolute grid index of every bin."""
        return np.arange(self.k0, self.k0 + self.long_usd.shape[1])

    def at(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """
        Books at exactly the given candle positions.

        :raise ValueError: if a position has no snapshot (the caller asked the engine for
            the wrong candles -- drawing the nearest one would silently shift the map)
        """
        idx = np.searchsorted(self.candle_index, positions)
        ok = (idx < len(self.candle_index)) & (
            self.candle_index[np.minimum(idx, len(self.candle_index) - 1)] == positions
        )
        if not ok.all():
            missing = positions[~ok][:5].tolist()
            raise ValueError(f"no book snapshot for candle positions {missing}")
        return self.long_usd[idx], self.short_usd[idx]


@dataclass(frozen=True)
class HeatmapData:
    """
    Everything one heatmap figure draws, one entry per column (time bucket).

    :ivar row_edges: price edges of the heatmap rows, shape ``(nrows + 1,)``
    :ivar long_rows: long-book notional (USD) per row and column, ``(nrows, ncols)``
    :ivar short_rows: short-book notional (USD) per row and column, ``(nrows, ncols)``
    :ivar outside_share: share of the books' notional outside the drawn price window
    :ivar hover: per-column text (imbalance and nearby notional) for the candle hover
    :ivar magnet_up: held magnet above per column (:func:`~liq_signals.viz.magnets.held_magnets`)
    :ivar zmin: colour threshold (USD): cells below it are not coloured
    :ivar zmax: colour saturation (USD): cells above it get the brightest colour
    :ivar clusters_above: the largest short clusters above the last close, largest first
    :ivar clusters_below: the largest long clusters below the last close, largest first
    :ivar stale: per column, a candle of it had stale inputs (``liq_stale``: no entries)
    :ivar volume: per column, a candle of it ran in volume mode (no open interest)
    :ivar leverage: the leverage bands drawn, when not all (``--leverage-bands``)
    """

    pair: str
    timeframe: str
    mode: str
    bucket_minutes: int
    x: pd.DatetimeIndex
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    row_edges: np.ndarray
    long_rows: np.ndarray
    short_rows: np.ndarray
    magnet_up: np.ndarray
    magnet_down: np.ndarray
    swept_long_usd: np.ndarray
    swept_short_usd: np.ndarray
    hover: list[str]
    outside_share: float
    zmin: float = 0.0
    zmax: float = 1.0
    clusters_above: tuple[Cluster, ...] = ()
    clusters_below: tuple[Cluster, ...] = ()
    stale: np.ndarray | None = None
    volume: np.ndarray | None = None
    leverage: tuple[str, ...] = ()

    @property
    def mixed_modes(self) -> bool:
        """Do open-interest and volume-mode columns alternate in this figure?  (Only then
        are volume-mode stretches marked; the title gives a single mode.)"""
        return self.volume is not None and bool(self.volume.any()) and not self.volume.all()

    @property
    def price(self) -> float:
        """The last close: where the books are measured from now."""
        return float(self.close[-1])

    @property
    def title(self) -> str:
        """Figure title: pair, timeframe, column width and the mode that built the books."""
        span = f"{self.x[0]:%Y-%m-%d %H:%M} .. {self.x[-1]:%Y-%m-%d %H:%M} UTC"
        only = f" - {', '.join(self.leverage)} leverage only" if self.leverage else ""
        return (
            f"{self.pair} estimated liquidation heatmap - {self.mode} mode{only} - "
            f"{self.timeframe} candles, {_duration(self.bucket_minutes)} columns - {span}"
        )


def price_label(data: HeatmapData) -> str:
    """Text of the current-price line."""
    return f"price {data.price:,.{_decimals(data.price)}f} ({data.x[-1]:%Y-%m-%d %H:%M} column)"


def cluster_label(cluster: Cluster, *, above: bool) -> str:
    """``$1.2B shorts at 125,400 (+3.1%)``: a labelled cluster."""
    side = "shorts" if above else "longs"
    sign = "+" if above else "-"
    return (
        f"{format_usd(cluster.usd)} {side} at {cluster.price:,.{_decimals(cluster.price)}f} "
        f"({sign}{cluster.dist_pct:.1f}%)"
    )


def _decimals(price: float) -> int:
    return max(0, 4 - int(np.floor(np.log10(price)))) if price > 0 else 2


def _duration(minutes: int) -> str:
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def _column_hover(frame: pd.DataFrame, lasts: np.ndarray) -> list[str]:
    parts: list[list[str]] = [[] for _ in lasts]
    for band in IMBALANCE_BAND_PCT:
        above_col, below_col = short_above(band), long_below(band)
        if above_col not in frame or below_col not in frame:
            continue
        above = frame[above_col].to_numpy(dtype=float)[lasts]
        below = frame[below_col].to_numpy(dtype=float)[lasts]
        for i, (a, b) in enumerate(zip(above, below, strict=True)):
            if np.isnan(a) or np.isnan(b):
                parts[i].append(f"±{band:g}%: warming up")
            else:
                parts[i].append(
                    f"±{band:g}%: {format_usd(a)} shorts above / {format_usd(b)} longs below "
                    f"= {ratio_text(a, b)}"
                )
    return ["<br>".join(p) for p in parts]


def _last_in_bucket(frame: pd.DataFrame, column: str, lasts: np.ndarray) -> np.ndarray:
    if column not in frame:
        return np.full(len(lasts), np.nan)
    return frame[column].to_numpy(dtype=float)[lasts]


def build_heatmap_data(
    frame: pd.DataFrame,
    books: BookSnapshots,
    *,
    pair: str,
    timeframe: str,
    timeframe_minutes: int,
    max_columns: int = 1200,
    max_rows: int = 300,
    price_pad: float = 0.05,
    clusters: ClusterGrid | None = None,
    magnet_margin: float = MAGNET_SWITCH_MARGIN,
    label_count: int = 3,
    saturation_pct: float = style.SATURATION_PCT,
    threshold_usd: float = 0.0,
    leverage: tuple[str, ...] = (),
) -> HeatmapData:
    """
    Down-sample candles, features and books into one drawable object.

    :param frame: displayed candles (``date, open, high, low, close``) joined with the
        feature columns, positional index 0..n-1 matching ``books.candle_index``
    :param books: the engine's books at the close of every bucket's last candle (ask
        :func:`required_snapshots` which ones)
    :param pair: pair shown in the title
    :param timeframe: candle timeframe shown in the title
    :param timeframe_minutes: candle duration in minutes
    :param max_columns: most time columns to draw
    :param max_rows: most price rows to draw
    :param price_pad: the price window is the displayed candles' range widened by this
        fraction of price on each side (the walls just outside the range are the story),
        and further if needed so that every magnet is inside it
    :param clusters: the engine's cluster grid; with it the magnet lines are the held
        magnets of each column's books and the largest clusters are labelled, without it
        the engine's magnet columns are drawn as they are
    :param magnet_margin: how much larger a cluster must be to replace the held magnet
    :param label_count: clusters labelled on each side of the last close
    :param saturation_pct: percentile of the non-empty cells where the colour saturates
    :param threshold_usd: cells below this notional are not coloured
    :param leverage: the leverage bands ``books`` hold, when not all (for the title)
    :return: the figure's data
    :raise ValueError: on an empty frame or a missing snapshot
    """
    if frame.empty:
        raise ValueError(f"{pair}: no candles to draw")
    starts = required_starts(frame, timeframe_minutes, max_columns)
    lasts = grid.bucket_lasts(starts, len(frame))
    o, h, lo, c = grid.aggregate_ohlc(
        frame["open"].to_numpy(float),
        frame["high"].to_numpy(float),
        frame["low"].to_numpy(float),
        frame["close"].to_numpy(float),
        starts,
    )
    long_cols, short_cols = books.at(lasts)
    above: tuple[Cluster, ...] = ()
    below: tuple[Cluster, ...] = ()
    if clusters is None:
        magnet_up = _last_in_bucket(frame, MAGNET_UP, lasts)
        magnet_down = _last_in_bucket(frame, MAGNET_DOWN, lasts)
    else:
        k = books.bin_index
        close_at = frame["close"].to_numpy(float)[lasts]
        magnet_up, _ = held_magnets(
            k, short_cols, close_at, clusters, above=True, margin=magnet_margin
        )
        magnet_down, _ = held_magnets(
            k, long_cols, close_at, clusters, above=False, margin=magnet_margin
        )
        if label_count > 0:
            up, down = column_clusters(
                k, long_cols[-1], short_cols[-1], float(close_at[-1]), clusters, label_count
            )
            above, below = tuple(up), tuple(down)
    labelled = np.array([c.price for c in above + below])
    price_lo = min(
        float(np.nanmin(lo)) * (1.0 - price_pad), _finite_min(magnet_down), _finite_min(labelled)
    )
    price_hi = max(
        float(np.nanmax(h)) * (1.0 + price_pad), _finite_max(magnet_up), _finite_max(labelled)
    )
    row_edges, long_rows, short_rows, outside = grid.group_price_bins(
        books.edges, long_cols, short_cols, price_lo, price_hi, max_rows
    )
    zmin, zmax = style.colour_range(
        long_rows, short_rows, saturation_pct=saturation_pct, threshold_usd=threshold_usd
    )
    modes = frame[MODE].dropna().unique().tolist() if MODE in frame else []
    dates = pd.DatetimeIndex(frame["date"])
    bucket_minutes = grid.choose_bucket_minutes(len(dates), timeframe_minutes, max_columns)
    return HeatmapData(
        pair=pair,
        timeframe=timeframe,
        mode="/".join(str(m) for m in modes) or "unknown",
        bucket_minutes=bucket_minutes,
        x=dates[starts],
        open=o,
        high=h,
        low=lo,
        close=c,
        row_edges=row_edges,
        long_rows=long_rows,
        short_rows=short_rows,
        magnet_up=magnet_up,
        magnet_down=magnet_down,
        swept_long_usd=grid.bucket_sum(_column(frame, SWEPT_LONG), starts),
        swept_short_usd=grid.bucket_sum(_column(frame, SWEPT_SHORT), starts),
        hover=_column_hover(frame, lasts),
        outside_share=outside,
        zmin=zmin,
        zmax=zmax,
        clusters_above=above,
        clusters_below=below,
        stale=grid.bucket_any(_flags(frame, STALE), starts),
        volume=grid.bucket_any(
            (frame[MODE] == MODE_VOLUME).to_numpy() if MODE in frame else np.zeros(len(frame)),
            starts,
        ),
        leverage=tuple(leverage),
    )


def _flags(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.zeros(len(frame), dtype=bool)
    return frame[name].fillna(False).to_numpy(dtype=bool)


def _finite_min(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.min()) if finite.size else np.inf


def _finite_max(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else -np.inf


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.zeros(len(frame))
    return frame[name].to_numpy(dtype=float)


def candles_per_bucket(n_candles: int, timeframe_minutes: int, max_columns: int) -> int:
    """Candles drawn as one column (see :func:`liq_signals.viz.grid.choose_bucket_minutes`)."""
    minutes = grid.choose_bucket_minutes(n_candles, timeframe_minutes, max_columns)
    return minutes // timeframe_minutes


def required_starts(frame: pd.DataFrame, timeframe_minutes: int, max_columns: int) -> np.ndarray:
    """Bucket start positions for ``frame`` (see :func:`liq_signals.viz.grid.bucket_starts`)."""
    return grid.bucket_starts(
        len(frame), candles_per_bucket(len(frame), timeframe_minutes, max_columns)
    )


def required_snapshots(frame: pd.DataFrame, timeframe_minutes: int, max_columns: int) -> np.ndarray:
    """
    Candle positions at whose close the books must be snapshotted for this figure.

    :return: the last candle position of every bucket, ascending
    """
    starts = required_starts(frame, timeframe_minutes, max_columns)
    return grid.bucket_lasts(starts, len(frame))
