"""``liq-signals validate``: score the liquidation map against realized liquidations."""

from __future__ import annotations

import argparse
import logging
import shlex
from pathlib import Path

HELP = "score the liquidation map against a realized-liquidation record (markdown report + plots)"

logger = logging.getLogger(__name__)


def add_window_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments shared with ``calibrate``."""
    parser.add_argument(
        "--realized", type=Path, required=True,
        help="realized liquidations: a file or a folder (Binance forceOrder CSV, "
        "record-liquidations files, raw message .jsonl, or date,long_usd,short_usd CSV)",
    )
    parser.add_argument("--pair", required=True, help="freqtrade pair, e.g. BTC/USDT:USDT")
    parser.add_argument(
        "--datadir", type=Path, default=Path("user_data/data/binance"),
        help="freqtrade datadir with the pair's candles (default: %(default)s)",
    )
    parser.add_argument("--timeframe", default="5m", help="candle timeframe (default: %(default)s)")
    parser.add_argument("--period", default="1h", help="scoring period (default: %(default)s)")
    parser.add_argument(
        "--warmup", default="7D",
        help="candles loaded before the scored window to build the book (default: %(default)s)",
    )
    parser.add_argument(
        "--params", type=Path, default=None,
        help="model parameters JSON (from `liq-signals calibrate --out`); default: built-in",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_window_arguments(parser)
    parser.add_argument(
        "--timerange", default="",
        help="YYYYMMDD-YYYYMMDD: score only this part of the record (default: all of it)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("validation-report.md"),
        help="markdown report; figures are written next to it (default: %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from liq_signals.data.liquidations import LiquidationDataError, load_realized
    from liq_signals.data.validate import LiqInputError
    from liq_signals.validation.inputs import (
        describe_record,
        load_window,
        parse_timerange,
        record_span,
        restrict,
    )
    from liq_signals.validation.params import load_model_config
    from liq_signals.validation.report import render_markdown, write_figures
    from liq_signals.validation.runner import ValidationError, ValidationSettings, validate

    command = "liq-signals validate " + shlex.join(_argv_of(args))
    try:
        config = load_model_config(args.params) if args.params else None
        realized = load_realized(args.realized, pair=args.pair)
        start, stop = parse_timerange(args.timerange) if args.timerange else (None, None)
        realized = restrict(realized, start, stop)
        if realized.events.empty and realized.aggregated.empty:
            logger.error("%s: no realized liquidations for %s in %s", args.realized, args.pair,
                         args.timerange or "the record")
            return 1
        first, last = record_span(realized)
        window_start = (start or first).floor(args.period)
        window_stop = (stop or last.floor(args.period) + pd.Timedelta(args.period))
        inputs = load_window(args.datadir, args.pair, args.timeframe, window_start, window_stop,
                             pd.Timedelta(args.warmup))
        result = validate(
            inputs.candles, realized, pair=args.pair, timeframe=args.timeframe, config=config,
            settings=ValidationSettings(period=args.period),
            open_interest=inputs.open_interest, mark=inputs.mark, metrics=inputs.metrics,
        )
    except (LiquidationDataError, LiqInputError, ValidationError, ValueError) as exc:
        logger.error("%s", exc)
        return 1
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    figures = write_figures(result, out.parent, out.stem)
    text = render_markdown(
        result, command=command, sources=realized.sources,
        realized_note=describe_record(realized),
        figures=[f.relative_to(out.parent) for f in figures],
    )
    out.write_text(text, encoding="utf-8")
    print(
        f"{args.pair}: {len(result.periods)} periods scored; Spearman implied vs realized "
        f"long {result.long.implied.rho:.3f} (baseline {result.long.baseline.rho:.3f}), "
        f"short {result.short.implied.rho:.3f} (baseline {result.short.baseline.rho:.3f}); "
        f"report {out}"
    )
    return 0


def _argv_of(args: argparse.Namespace) -> list[str]:
    out = []
    for key, value in sorted(vars(args).items()):
        if key.startswith("_") or key in ("command", "verbose") or value in (None, ""):
            continue
        out += [f"--{key.replace('_', '-')}", str(value)]
    return out
