"""freqtrade's ``plot-dataframe`` figure with the liquidation heatmap behind the candles.

``freqtrade plot-dataframe`` draws the strategy's ``plot_config`` (magnet lines, imbalance
subplots, entry/exit markers) but has no hook for a heatmap layer.  This module rebuilds
the same figure with freqtrade's own code -- the strategy is resolved and analysed by
freqtrade, the figure comes from :func:`freqtrade.plot.plotting.generate_candlestick_graph`
-- and adds the layer with :func:`liq_signals.viz.plotly_figure.add_heatmap_layer`.
No exchange is needed: the strategy's extra series come from the datadir (plot run mode).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from liq_signals.viz import style
from liq_signals.viz.columns import MAGNET_DOWN, MAGNET_UP
from liq_signals.viz.engine_glue import EngineRun
from liq_signals.viz.errors import HeatmapInputError
from liq_signals.viz.model import HeatmapData
from liq_signals.viz.plotly_figure import add_heatmap_layer

logger = logging.getLogger(__name__)

DEFAULT_CONFIG = Path("user_data/config_backtest.json")
#: the strategy drawn when neither ``--strategy`` nor the config names one
DEFAULT_STRATEGY = "LiquidationMagnetStrategy"


def analyse_with_strategy(
    candles: pd.DataFrame,
    *,
    pair: str,
    timeframe: str,
    datadir: Path,
    strategy: str | None = None,
    strategy_path: Path | None = None,
    config_files: tuple[Path, ...] = (DEFAULT_CONFIG,),
    verbose: bool = False,
) -> tuple[pd.DataFrame, dict]:
    """
    Run the strategy's indicators and signals on ``candles`` as plot-dataframe would.

    :return: the analysed frame and the strategy's ``plot_config``
    :raise HeatmapInputError: the config or the strategy cannot be loaded
    """
    analysed, strat = _analyse(
        candles,
        pair=pair,
        timeframe=timeframe,
        datadir=datadir,
        strategy=strategy,
        strategy_path=strategy_path,
        config_files=config_files,
        verbose=verbose,
    )
    return analysed, strat.plot_config


@contextmanager
def _freqtrade_log(verbose: bool) -> Iterator[None]:
    """freqtrade's INFO chatter (config files, resolver, data provider: ~60 lines) hidden
    unless ``verbose``; warnings still show.  freqtrade installs its own log handlers while
    it reads a config: ours are put back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    if not verbose:
        logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)
        root.handlers[:] = handlers
        root.setLevel(level)


def _analyse(
    candles: pd.DataFrame,
    *,
    pair: str,
    timeframe: str,
    datadir: Path,
    strategy: str | None,
    strategy_path: Path | None,
    config_files: tuple[Path, ...],
    verbose: bool = False,
) -> tuple[pd.DataFrame, Any]:
    """The analysed frame and the loaded strategy (for its plot_config and annotations).

    The strategy is ``strategy``, else the config's, else :data:`DEFAULT_STRATEGY`; it is
    looked up in ``strategy_path``, else the config's ``strategy_path``, else the shipped
    strategies (and always in ``USERDIR/strategies``), so no folder that does not exist is
    handed to freqtrade."""
    from freqtrade.configuration import Configuration
    from freqtrade.data.dataprovider import DataProvider
    from freqtrade.enums import RunMode
    from freqtrade.exceptions import FreqtradeException
    from freqtrade.resolvers import StrategyResolver

    from liq_signals.commands.install_strategies import shipped_strategies_dir

    for config_file in config_files:
        if not config_file.is_file():
            raise HeatmapInputError(
                f"--freqtrade needs a freqtrade config: {config_file} not found"
            )
    args: dict[str, Any] = {
        "config": [str(c) for c in config_files],
        "datadir": str(datadir),
        "timeframe": timeframe,
    }
    if strategy:
        args["strategy"] = strategy
    if strategy_path is not None:
        args["strategy_path"] = str(strategy_path)
    missing = ""
    with _freqtrade_log(verbose):
        try:
            config = Configuration(args, RunMode.PLOT).get_config()
        except (FreqtradeException, OSError) as err:
            raise HeatmapInputError(f"--freqtrade: cannot read the config: {err}") from err
        config["strategy"] = config.get("strategy") or DEFAULT_STRATEGY
        for key in ("dataformat_ohlcv", "dataformat_trades"):  # freqtrade's CLI defaults
            config[key] = config.get(key) or "feather"
        folder = config.get("strategy_path")
        if folder and not Path(folder).is_dir():
            # freqtrade would warn twice (once per search); say it once, with what is used
            missing = (
                f"strategy_path {folder} does not exist (from "
                f"{'--strategy-path' if strategy_path is not None else 'the config'}); "
                f"looking for {config['strategy']} in "
                f"{Path(config['user_data_dir']) / 'strategies'} and the shipped strategies"
            )
            folder = None
        config["strategy_path"] = str(folder or shipped_strategies_dir())
        try:
            strat = StrategyResolver.load_strategy(config)
        except (FreqtradeException, OSError) as err:
            raise HeatmapInputError(
                f"--freqtrade: cannot load strategy {config['strategy']!r}: {err}"
            ) from err
        strat.dp = DataProvider(config, None)
        analysed = strat.analyze_ticker(candles, {"pair": pair})
    if missing:
        logger.warning("%s", missing)
    return analysed, strat


def freqtrade_figure(
    run: EngineRun,
    data: HeatmapData,
    *,
    strategy: str | None,
    strategy_path: Path | None,
    datadir: Path,
    config_files: tuple[Path, ...] = (DEFAULT_CONFIG,),
    verbose: bool = False,
) -> go.Figure:
    """
    freqtrade's candlestick figure for the drawn candles, with the heatmap layer added.

    The strategy analyses the warm-up candles too (its indicators need history), then the
    drawn part is plotted, exactly like ``plot-dataframe --timerange``.
    """
    from freqtrade.plot.plotting import generate_candlestick_graph

    analysed, strat = _analyse(
        run.frame[["date", "open", "high", "low", "close", "volume"]],
        pair=run.pair,
        timeframe=run.timeframe,
        datadir=datadir,
        strategy=strategy,
        strategy_path=strategy_path,
        config_files=config_files,
        verbose=verbose,
    )
    plot_config = strat.plot_config
    shown = analysed.iloc[run.show :].reset_index(drop=True)
    plotting_log = logging.getLogger("freqtrade.plot.plotting")
    if not verbose:  # its "No trades found.": this figure never draws trades
        plotting_log.setLevel(logging.ERROR)
    try:
        fig = generate_candlestick_graph(run.pair, shown, plot_config=plot_config)
    finally:
        plotting_log.setLevel(logging.NOTSET)
    # what FreqUI draws from the strategy's plot_annotations (freqtrade validates them)
    add_annotations(fig, strat.ft_plot_annotations(pair=run.pair, dataframe=shown))
    main = plot_config.get("main_plot", {})
    has_magnets = MAGNET_UP in main or MAGNET_DOWN in main
    for trace in fig.data:  # freqtrade's magnet lines: the cells under them take the hover
        if trace.name in (MAGNET_UP, MAGNET_DOWN):
            trace.hoverinfo = "skip"
    add_heatmap_layer(fig, data, row=1, col=1, magnets=not has_magnets)
    fig.update_layout(
        title=dict(
            text=f"{run.pair} {type(strat).__name__} plot_config + liquidation heatmap "
            f"({data.mode} mode, {run.timeframe})"
        ),
        template="plotly_dark",
        paper_bgcolor=style.BACKGROUND,
        plot_bgcolor=style.BACKGROUND,
    )
    return fig


def add_annotations(fig: go.Figure, annotations: list[dict[str, Any]]) -> int:
    """Draw freqtrade plot annotations (``area`` and ``line``) on the price chart.

    freqtrade's own ``plot-dataframe`` does not draw ``plot_annotations`` (only FreqUI
    does), so the figure of ``heatmap --freqtrade`` draws them: an area is a filled
    rectangle, a line a segment; the bands reaching the last candle carry their label.
    Points are left out.

    :return: number of shapes added
    """
    ends = [pd.Timestamp(a["end"]) for a in annotations if a.get("end") is not None]
    latest = max(ends) if ends else None
    added = 0
    for ann in annotations:
        kind = ann.get("type")
        if kind not in ("area", "line"):
            continue
        shape: dict[str, Any] = dict(
            type="rect" if kind == "area" else "line",
            xref="x",
            yref="y",
            x0=ann.get("start"),
            x1=ann.get("end"),
            y0=ann.get("y_start"),
            y1=ann.get("y_end"),
            layer="below",
        )
        if (
            latest is not None and ann.get("end") is not None and pd.Timestamp(ann["end"]) == latest
        ):  # label the bands of the last candle only (legible)
            shape["label"] = dict(
                text=ann.get("label", ""),
                textposition="middle right",
                xanchor="right",
                font=dict(size=9),
            )
        if kind == "area":
            shape.update(fillcolor=ann.get("color", "rgba(128,128,128,0.2)"), line=dict(width=0))
        else:
            shape.update(line=dict(color=ann.get("color", "grey"), width=ann.get("width", 1)))
        fig.add_shape(**shape)
        added += 1
    return added
