"""``liq-signals study``: does the map know anything about what price does next?

Information coefficients of every ``liq_*`` feature and strategy term with forward returns
(raw and partial on momentum/volatility), event studies with matched controls and the
magnet test against a driftless null, with moving-block bootstrap intervals; written as
``study.md``, ``study.json`` and ``study.png`` (:mod:`liq_signals.study`).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from liq_signals.commands._data_args import add_data_arguments, resolve_data_arguments
from liq_signals.commands._model import (
    add_model_config_argument,
    changed_fields,
    model_config_from_args,
)
from liq_signals.errors import ConfigError

HELP = "measure what the liquidation features say about forward returns (markdown + JSON + PNG)"

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_arguments(
        parser,
        many_pairs=True,
        pairs_help="freqtrade pairs, e.g. -p BTC/USDT:USDT ETH/USDT:USDT (or --pair "
        "repeated; default: the config's whitelist)",
    )
    parser.add_argument(
        "--timerange",
        default=None,
        help="YYYYMMDD-YYYYMMDD of the rows studied; the book is built from the "
        "first candle on file, so values never depend on the range",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--horizons", default="1,4,24", help="forward horizons in hours (default: %(default)s)"
    )
    parser.add_argument(
        "--replicates", type=int, default=400, help="bootstrap replicates (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default: %(default)s)")
    add_model_config_argument(parser)


def _select(frame, timerange: str | None):  # noqa: ANN001, ANN202 - pandas frame in and out
    import pandas as pd
    from freqtrade.configuration import TimeRange

    if not timerange:
        return frame
    tr = TimeRange.parse_timerange(timerange)
    keep = pd.Series(True, index=frame.index)
    if tr.startts:
        keep &= frame["date"] >= pd.Timestamp(tr.startts, unit="s", tz="UTC")
    if tr.stopts:
        keep &= frame["date"] < pd.Timestamp(tr.stopts, unit="s", tz="UTC")
    return frame[keep].reset_index(drop=True)


def run(args: argparse.Namespace) -> int:
    from liq_signals.commands.features import with_file
    from liq_signals.data.boundary import LiqInputError
    from liq_signals.data.load import load_pair_inputs
    from liq_signals.features.pipeline import compute_features
    from liq_signals.study.report import StudySettings, run_study, write_report
    from liq_signals.timeframes import timeframe_seconds

    resolve_data_arguments(args)
    try:
        horizons = tuple(int(h) for h in args.horizons.split(","))
    except ValueError:
        raise ConfigError(
            f"--horizons must be comma-separated hours, got {args.horizons!r}"
        ) from None
    seconds = timeframe_seconds(args.timeframe)
    if 3600 % seconds:
        raise ConfigError(f"--timeframe must divide one hour, got {args.timeframe}")
    cfg = model_config_from_args(args)
    settings = StudySettings(
        horizons_h=horizons,
        replicates=args.replicates,
        seed=args.seed,
        candles_per_hour=3600 // seconds,
    )
    results = []
    for pair in args.pairs:
        started = time.monotonic()
        inputs = load_pair_inputs(
            args.datadir, pair, args.timeframe, args.trading_mode, data_format=args.data_format
        )
        try:
            feats = compute_features(
                inputs.candles,
                pair=pair,
                open_interest=inputs.open_interest,
                mark=inputs.mark,
                metrics=inputs.metrics,
                timeframe=args.timeframe,
                config=cfg,
            )
        except LiqInputError as exc:
            raise with_file(exc, inputs) from exc
        frame = _select(feats, args.timerange)
        studied = feats["date"].isin(frame["date"])
        if len(frame) < 30 * 24 * settings.candles_per_hour:
            raise ConfigError(
                f"{pair}: {len(frame)} candles in {args.timerange}; the study needs 30 days"
            )
        results.append(run_study(frame, pair, settings, history=feats.assign(studied=studied)))
        print(f"study: {pair} done in {time.monotonic() - started:.0f} s", flush=True)
    command = " ".join(
        ["liq-signals study"]
        + [f"-c {c}" for c in args.ft_config or []]
        + ["--datadir", str(args.datadir), "-i", args.timeframe]
        + ([] if args.trading_mode == "futures" else ["--trading-mode", args.trading_mode])
        + ["-p", *args.pairs]
        + ([f"--timerange {args.timerange}"] if args.timerange else [])
        + ([f"--model-config {args.model_config}"] if args.model_config else [])
        + [f"--horizons {args.horizons} --replicates {args.replicates} --seed {args.seed}"]
        + ["--out", str(args.out)]
    )
    header = (
        f"Generated by `{command}`.  Datadir `{args.datadir}`, timerange "
        f"{args.timerange or 'all'}, model {changed_fields(cfg) or 'ModelConfig() defaults'}"
        f"{f' (from {args.model_config})' if args.model_config else ''}."
    )
    for path in write_report(results, args.out, header):
        print(f"study: wrote {path}")
    return 0
