"""``liq-signals heatmap``: draw the estimated liquidation heatmap, or the map at one moment."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from liq_signals.commands._data_args import (
    add_data_arguments,
    add_timerange_argument,
    resolve_data_arguments,
)
from liq_signals.commands._model import add_model_config_argument, model_config_from_args
from liq_signals.errors import ConfigError, InputError

if TYPE_CHECKING:
    from liq_signals.viz.render import Request

HELP = (
    "draw the liquidation heatmap (self-contained HTML or PNG), or with --at the "
    "cumulative liquidation map of one moment"
)

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_arguments(parser, trading_mode=False)
    add_timerange_argument(
        parser,
        "freqtrade timerange shown, e.g. 20250901-20251001 (default: all candles)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output file; .html (interactive, self-contained) or .png "
        "(default: user_data/plot/heatmap-PAIR-TIMEFRAME.html)",
    )
    parser.add_argument(
        "--at",
        default=None,
        metavar="TIMESTAMP",
        help="draw the cumulative liquidation map at the close of the candle opened at "
        "TIMESTAMP (UTC, e.g. 2025-10-10T21:00) instead of the heatmap",
    )
    parser.add_argument("--width", type=int, default=1600, help="PNG width, pixels")
    parser.add_argument("--height", type=int, default=900, help="PNG height, pixels")
    parser.add_argument(
        "--max-columns", type=int, default=1200, help="most time columns (default: %(default)s)"
    )
    parser.add_argument(
        "--max-rows", type=int, default=300, help="most price rows (default: %(default)s)"
    )
    parser.add_argument(
        "--warmup-days",
        type=float,
        default=30.0,
        help="days of candles before the timerange fed to the engine first, so the map "
        "does not start empty (default: %(default)s)",
    )
    parser.add_argument(
        "--window-pct",
        type=float,
        default=15.0,
        help="--at only: price window around price, percent (default: %(default)s)",
    )
    parser.add_argument(
        "--labels",
        type=int,
        default=3,
        metavar="N",
        help="label the N largest clusters above and below price with their USD "
        "(0: none; default: %(default)s)",
    )
    parser.add_argument(
        "--saturation-pct",
        type=float,
        default=99.0,
        metavar="P",
        help="heatmap colour saturates at this percentile of the non-empty cells; lower "
        "= brighter (default: %(default)s; the HTML page has a slider for it)",
    )
    parser.add_argument(
        "--threshold-usd",
        type=float,
        default=0.0,
        metavar="USD",
        help="heatmap cells below this notional are left uncoloured (default: %(default)s; "
        "the HTML page has a slider for it)",
    )
    parser.add_argument(
        "--leverage-bands",
        nargs="+",
        default=None,
        metavar="BAND",
        help="draw only the positions opened at these leverage bands: <=10x 10-25x 25-50x "
        ">50x (quote >50x in a shell; the books, magnets and labels are those of the bands; "
        "default: all)",
    )
    parser.add_argument(
        "--freqtrade",
        action="store_true",
        help="draw freqtrade's plot-dataframe figure (candles, volume, the strategy's "
        "plot_config) with the heatmap layer added behind the candles",
    )
    parser.add_argument(
        "-s",
        "--strategy",
        default=None,
        help="--freqtrade only: strategy whose plot_config is drawn (default: the config's "
        "strategy, else LiquidationMagnetStrategy)",
    )
    parser.add_argument(
        "--strategy-path",
        type=Path,
        default=None,
        help="--freqtrade only: folder holding the strategy (default: the config's "
        "strategy_path, else the shipped strategies; USERDIR/strategies is searched too)",
    )
    add_model_config_argument(parser, role="the map drawn is built with it")


def _default_out(pair: str, timeframe: str, at: str | None) -> Path:
    safe = pair.replace("/", "_").replace(":", "_")
    kind = "liqmap" if at else "heatmap"
    return Path("user_data/plot") / f"{kind}-{safe}-{timeframe}.html"


def _render(request: Request) -> str:
    """Draw ``request``.  The renderer wraps the loader's data errors in its argument error
    (:class:`HeatmapInputError`); those are reported as the data errors they are (exit 1,
    as in every other command), the rest as bad arguments (exit 2)."""
    from liq_signals.viz import render
    from liq_signals.viz.errors import HeatmapInputError

    try:
        return render.render(request)
    except HeatmapInputError as err:
        if isinstance(err.__cause__, InputError):
            raise err.__cause__ from None
        raise


#: the freqtrade config of ``--freqtrade`` when no -c/--config is given
FREQTRADE_CONFIG = Path("user_data/config_backtest.json")
#: what the figures are drawn with (the ``viz`` extra), per output kind
PLOTTING = {".html": ("plotly",), ".png": ("plotly", "matplotlib")}


def require_plotting(out: Path) -> None:
    """One clear line instead of a ``ModuleNotFoundError`` traceback when the plotting
    extra is not installed.

    :raise ConfigError: a module of :data:`PLOTTING` is missing (exit 2)
    """
    import importlib

    missing = []
    for module in PLOTTING.get(out.suffix.lower(), ()):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError:
            missing.append(module)
    if missing:
        raise ConfigError(
            f"drawing {out.suffix.lower()} needs {', '.join(missing)}: "
            "install liq-signals[viz] (pip install 'liq-signals[viz]')"
        )


def _leverage_bands(texts: list[str] | None) -> tuple[int, ...]:
    """``--leverage-bands`` as indices in ``LEVERAGE_BANDS`` (empty: not given).

    :raise ConfigError: an unknown band (the message lists them)
    """
    from liq_signals.viz.leverage_bands import band_index

    try:
        return tuple(sorted({band_index(t) for t in texts or ()}))
    except ValueError as exc:
        raise ConfigError(f"--leverage-bands: {exc}") from None


def run(args: argparse.Namespace) -> int:
    resolve_data_arguments(args)
    out: Path = args.out or _default_out(args.pair, args.timeframe, args.at)
    if out.suffix.lower() not in (".html", ".png"):
        raise ConfigError(f"--out {out}: use a .html or .png file name")
    require_plotting(out)
    from dataclasses import fields

    from liq_signals.viz import render

    model = model_config_from_args(args)
    if args.labels < 0:
        raise ConfigError(f"--labels must be >= 0, got {args.labels}")
    if not 0 < args.saturation_pct <= 100:
        raise ConfigError(f"--saturation-pct must be in (0, 100], got {args.saturation_pct}")
    if args.threshold_usd < 0:
        raise ConfigError(f"--threshold-usd must be >= 0, got {args.threshold_usd}")
    bands = _leverage_bands(args.leverage_bands)
    if bands and args.at:
        raise ConfigError(
            "--leverage-bands filters the time heatmap; the --at map stacks every band"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    worked_out = {
        "out": out,
        "config": tuple(Path(c) for c in args.ft_config or [FREQTRADE_CONFIG]),
        "verbose": bool(getattr(args, "verbose", False)),
        "model": model,
        "leverage_bands": bands,
    }
    # every other field of the request is the option of the same name
    named = {f.name: getattr(args, f.name) for f in fields(render.Request) if hasattr(args, f.name)}
    request = render.Request(**(named | worked_out))
    summary = _render(request)
    logger.info(
        "wrote %s (%.1f MB) in %.1f s: %s",
        out,
        out.stat().st_size / 1e6,
        time.perf_counter() - started,
        summary,
    )
    return 0
