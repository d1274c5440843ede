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


def analyse_with_strategy(
    candles: pd.DataFrame,
    *,
    pair: str,
    timeframe: str,
    datadir: Path,
    strategy: str,
    strategy_path: Path,
    config_file: Path = DEFAULT_CONFIG,
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
        config_file=config_file,
    )
    return analysed, strat.plot_config


def _analyse(
    candles: pd.DataFrame,
    *,
    pair: str,
    timeframe: str,
    datadir: Path,
    strategy: str,
    strategy_path: Path,
    config_file: Path,
) -> tuple[pd.DataFrame, Any]:
    """The analysed frame and the loaded strategy (for its plot_config and annotations)."""
    from freqtrade.configuration import Configuration
    from freqtrade.data.dataprovider import DataProvider
    from freqtrade.enums import RunMode
    from freqtrade.exceptions import FreqtradeException
    from freqtrade.resolvers import StrategyResolver

    if not config_file.is_file():
        raise HeatmapInputError(f"--freqtrade needs a freqtrade config: {config_file} not found")
    args = {
        "config": [str(config_file)],
        "strategy": strategy,
        "strategy_path": str(strategy_path),
        "datadir": str(datadir),
        "timeframe": timeframe,
        "dataformat_ohlcv": "feather",
        "dataformat_trades": "feather",
    }
    try:
        config = Configuration(args, RunMode.PLOT).get_config()
        strat = StrategyResolver.load_strategy(config)
    except (FreqtradeException, OSError) as err:
        raise HeatmapInputError(f"--freqtrade: cannot load strategy {strategy!r}: {err}") from err
    strat.dp = DataProvider(config, None)
    analysed = strat.analyze_ticker(candles, {"pair": pair})
    return analysed, strat


def freqtrade_figure(
    run: EngineRun,
    data: HeatmapData,
    *,
    strategy: str,
    strategy_path: Path,
    datadir: Path,
    config_file: Path = DEFAULT_CONFIG,
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
        config_file=config_file,
    )
    plot_config = strat.plot_config
    shown = analysed.iloc[run.show :].reset_index(drop=True)
    fig = generate_candlestick_graph(run.pair, shown, plot_config=plot_config)
    # what FreqUI draws from the strategy's plot_annotations (freqtrade validates them)
    add_annotations(fig, strat.ft_plot_annotations(pair=run.pair, dataframe=shown))
    main = plot_config.get("main_plot", {})
    has_magnets = MAGNET_UP in main or MAGNET_DOWN in main
    add_heatmap_layer(fig, data, row=1, col=1, magnets=not has_magnets)
    fig.update_layout(
        title=dict(
            text=f"{run.pair} {strategy} plot_config + liquidation heatmap "
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
