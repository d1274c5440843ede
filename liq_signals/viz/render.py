"""From a datadir to a written figure: load, select the timerange, run the engine, draw.

The steps are kept apart so each can be tested and reused: :func:`select_window` (which
candles are shown and which feed the engine first), :func:`heatmap_data_for` (engine books
and features -> :class:`~liq_signals.viz.model.HeatmapData`), :func:`liqmap_data_for`
(the map at one candle) and :func:`render` (the command's whole job).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from liq_signals.config import ModelConfig
from liq_signals.timeframes import candle_at
from liq_signals.viz import engine_glue, style
from liq_signals.viz.errors import HeatmapInputError
from liq_signals.viz.liqmap import LiqMapData, build_liqmap_data
from liq_signals.viz.magnets import ClusterGrid
from liq_signals.viz.model import (
    BookSnapshots,
    HeatmapData,
    build_heatmap_data,
    candles_per_bucket,
    required_snapshots,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    """What ``liq-signals heatmap`` was asked to draw (see its ``--help``)."""

    datadir: Path
    pair: str
    timeframe: str
    timerange: str | None
    out: Path
    at: str | None = None
    width: int = 1600
    height: int = 900
    max_columns: int = 1200
    max_rows: int = 300
    warmup_days: float = 30.0
    window_pct: float = 15.0
    freqtrade: bool = False
    #: strategy of ``--freqtrade`` (None: the config's, else LiquidationMagnetStrategy)
    strategy: str | None = None
    #: folder of the strategy (None: the config's ``strategy_path`` / ``USERDIR/strategies``)
    strategy_path: Path | None = None
    #: freqtrade config files, merged as freqtrade merges them
    config: tuple[Path, ...] = (Path("user_data/config_backtest.json"),)
    #: show freqtrade's log while it loads the config and strategy (``-v``)
    verbose: bool = False
    #: the model the map is built with (``--model-config``); None = ``ModelConfig()``
    model: ModelConfig | None = None
    #: largest clusters labelled on each side of the last close (``--labels``)
    labels: int = 3
    #: percentile of the non-empty cells where the colour saturates (``--saturation-pct``)
    saturation_pct: float = style.SATURATION_PCT
    #: cells below this notional are not coloured (``--threshold-usd``)
    threshold_usd: float = 0.0
    #: draw only these leverage bands (indices in ``LEVERAGE_BANDS``; empty: the books)
    leverage_bands: tuple[int, ...] = ()


def timeframe_minutes(timeframe: str) -> int:
    """Minutes of a freqtrade timeframe string (``5m`` -> 5, ``1h`` -> 60)."""
    from liq_signals.timeframes import timeframe_seconds

    try:
        return timeframe_seconds(timeframe) // 60
    except ValueError as err:
        raise HeatmapInputError(f"unknown timeframe {timeframe!r} (use e.g. 5m, 1h)") from err


def select_window(
    dates: pd.Series, timerange: str | None, warmup_days: float, *, pair: str, source: str
) -> engine_glue.Window:
    """
    Candles in ``timerange`` plus up to ``warmup_days`` before it for the engine.

    :param dates: candle open times (UTC, sorted)
    :param timerange: freqtrade timerange (``20250101-20250201``, ``20250101-``, ...) or
        None for all candles
    :param pair: named in messages
    :param source: data file named in messages
    :raise ConfigError: malformed timerange
    :raise HeatmapInputError: no candle inside it
    """
    from liq_signals.timeframes import parse_timerange

    ns = _ns(dates)
    lo, hi = 0, len(ns)
    start, stop = parse_timerange(timerange)
    if start is not None:
        lo = int(np.searchsorted(ns, start.value, side="left"))
    if stop is not None:
        hi = int(np.searchsorted(ns, stop.value, side="left"))
    if hi <= lo:
        have = f"{dates.iloc[0]:%Y-%m-%d %H:%M} .. {dates.iloc[-1]:%Y-%m-%d %H:%M} UTC"
        raise HeatmapInputError(
            f"{pair}: no candles in timerange {timerange!r} in {source} (data covers {have})"
        )
    if warmup_days < 0:
        raise HeatmapInputError(f"--warmup-days must be >= 0, got {warmup_days}")
    warm_from = ns[lo] - int(warmup_days * 86400 * 10**9)
    first = int(np.searchsorted(ns, warm_from, side="left"))
    return engine_glue.Window(first=first, show=lo, stop=hi)


def heatmap_data_for(
    run: engine_glue.EngineRun,
    *,
    max_columns: int,
    max_rows: int,
    tf_minutes: int,
    labels: int = 3,
    saturation_pct: float = style.SATURATION_PCT,
    threshold_usd: float = 0.0,
    leverage_bands: tuple[int, ...] = (),
) -> HeatmapData:
    """
    Snapshot the books at every column's last candle and build the figure data.

    :param run: engine inputs and features for the candles ``[window.first, window.stop)``
    :param labels: largest clusters labelled on each side of the last close
    :param saturation_pct: percentile of the non-empty cells where the colour saturates
    :param threshold_usd: cells below this notional are not coloured
    :param leverage_bands: draw only the positions opened at these leverage bands
        (:func:`liq_signals.viz.leverage_bands.band_history`); magnets and labels follow
    """
    from liq_signals.viz.leverage_bands import LEVERAGE_BANDS, BandHistory, band_history

    shown = run.frame.iloc[run.show :].reset_index(drop=True)
    hist: BandHistory | engine_glue.BookHistory
    if leverage_bands:
        at = required_snapshots(shown, tf_minutes, max_columns) + run.show
        hist = band_history(run.inputs, run.params, at, leverage_bands)
    else:
        every = candles_per_bucket(len(shown), tf_minutes, max_columns)
        hist = engine_glue.book_history(run, every=every, start=run.show)
    books = BookSnapshots(
        candle_index=hist.index - run.show,
        edges=hist.edges,
        long_usd=hist.long_usd,
        short_usd=hist.short_usd,
        k0=hist.k0,
    )
    cfg = run.params.cfg
    return build_heatmap_data(
        shown,
        books,
        pair=run.pair,
        timeframe=run.timeframe,
        timeframe_minutes=tf_minutes,
        max_columns=max_columns,
        max_rows=max_rows,
        clusters=ClusterGrid(cfg.grid_step, cfg.cluster_bins, max(cfg.bands_pct)),
        label_count=labels,
        saturation_pct=saturation_pct,
        threshold_usd=threshold_usd,
        leverage=tuple(LEVERAGE_BANDS[b][2] for b in sorted(leverage_bands)),
    )


def liqmap_data_for(
    run: engine_glue.EngineRun, *, window_pct: float, labels: int = 3
) -> LiqMapData:
    """The books at the close of the last candle of ``run``, split by leverage band."""
    from liq_signals.viz.leverage_bands import books_by_leverage

    last = len(run.frame) - 1
    hist = engine_glue.book_history(run, every=len(run.frame), start=0)
    if hist.index[-1] != last:
        raise AssertionError("book_history did not end on the last candle")
    row = run.frame.iloc[last]
    cfg = run.params.cfg
    return build_liqmap_data(
        pair=run.pair,
        mode=str(row.get(engine_glue.MODE, "unknown")),
        at=pd.Timestamp(row["date"]),
        price=float(row["close"]),
        edges=hist.edges,
        long_usd=hist.long_usd[-1],
        short_usd=hist.short_usd[-1],
        window_pct=window_pct,
        bands=books_by_leverage(run.inputs, run.params),
        clusters=ClusterGrid(cfg.grid_step, cfg.cluster_bins, window_pct),
        label_count=labels,
    )


def render(req: Request) -> str:
    """
    Do what the command was asked and write ``req.out``.

    :return: one-line summary for the log
    :raise HeatmapInputError: on any input the user can fix
    """
    tf_minutes = timeframe_minutes(req.timeframe)
    if req.freqtrade and (req.at is not None or req.out.suffix.lower() == ".png"):
        raise HeatmapInputError(
            "--freqtrade draws freqtrade's interactive figure: use --out *.html and no --at"
        )
    loaded = engine_glue.load(req.datadir, req.pair, req.timeframe)
    dates = loaded.candles["date"]
    png = req.out.suffix.lower() == ".png"
    if req.at is not None:
        if req.leverage_bands:
            raise HeatmapInputError(
                "--leverage-bands filters the time heatmap; the --at map already stacks every band"
            )
        pos = candle_at(dates, req.at, req.timeframe, pair=req.pair)
        window = engine_glue.Window(
            first=_warm_first(dates, pos, req.warmup_days), show=pos, stop=pos + 1
        )
        run = engine_glue.run_engine(loaded, window, req.model)
        snapshot = liqmap_data_for(run, window_pct=req.window_pct, labels=req.labels)
        if png:
            from liq_signals.viz.matplotlib_figure import write_liqmap_png

            write_liqmap_png(snapshot, req.out, width=req.width, height=req.height)
        else:
            from liq_signals.viz.liqmap import build_liqmap_figure
            from liq_signals.viz.plotly_figure import write_html

            write_html(build_liqmap_figure(snapshot), req.out)
        return snapshot.subtitle
    window = select_window(
        dates, req.timerange, req.warmup_days, pair=req.pair, source=engine_glue.source_of(loaded)
    )
    run = engine_glue.run_engine(loaded, window, req.model)
    data = heatmap_data_for(
        run,
        max_columns=req.max_columns,
        max_rows=req.max_rows,
        tf_minutes=tf_minutes,
        labels=req.labels,
        saturation_pct=req.saturation_pct,
        threshold_usd=req.threshold_usd,
        leverage_bands=req.leverage_bands,
    )
    summary = (
        f"{len(data.x)} columns x {len(data.row_edges) - 1} price rows, "
        f"{run.stop_count} candles shown, mode {data.mode}"
    )
    if req.freqtrade:
        from liq_signals.viz.freqtrade_plot import freqtrade_figure
        from liq_signals.viz.plotly_figure import write_html

        fig = freqtrade_figure(
            run,
            data,
            strategy=req.strategy,
            strategy_path=req.strategy_path,
            datadir=req.datadir,
            config_files=req.config,
            verbose=req.verbose,
        )

        write_html(fig, req.out)
        return summary
    if png:
        from liq_signals.viz.matplotlib_figure import write_heatmap_png

        write_heatmap_png(data, req.out, width=req.width, height=req.height)
    else:
        from liq_signals.viz.plotly_figure import build_figure, write_html

        write_html(build_figure(data), req.out)
    return summary


def _warm_first(dates: pd.Series, pos: int, warmup_days: float) -> int:
    if warmup_days < 0:
        raise HeatmapInputError(f"--warmup-days must be >= 0, got {warmup_days}")
    ns = _ns(dates)
    return int(np.searchsorted(ns, ns[pos] - int(warmup_days * 86400 * 10**9), side="left"))


def _ns(dates: pd.Series) -> np.ndarray:
    """Epoch nanoseconds whatever the column's resolution (pandas 3 keeps ms/s units)."""
    return pd.DatetimeIndex(dates).as_unit("ns").asi8
