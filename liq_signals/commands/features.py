"""``liq-signals features``: write the per-candle liquidation features of a pair to a file."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from liq_signals.commands._data_args import (
    add_data_arguments,
    add_timerange_argument,
    resolve_data_arguments,
)
from liq_signals.commands._model import add_model_config_argument, model_config_from_args
from liq_signals.errors import ConfigError

if TYPE_CHECKING:
    from liq_signals.data.boundary import LiqInputError
    from liq_signals.data.load import PairInputs

HELP = "write the per-candle liquidation-map features of a pair (feather/csv)"

logger = logging.getLogger(__name__)


def describe_error(exc: Exception, inputs: PairInputs | None = None) -> str:
    """The error text, plus the file behind the frame it names when that file is known."""
    path = inputs.files.get(getattr(exc, "source", None) or "") if inputs else None
    return f"{exc} (file: {path})" if path else str(exc)


def with_file(exc: LiqInputError, inputs: PairInputs) -> LiqInputError:
    """``exc`` again, its message naming the file behind the frame it rejects: the model
    sees frames, the user fixes files."""
    from liq_signals.data.boundary import LiqInputError

    return LiqInputError(describe_error(exc, inputs), pair=exc.pair, source=exc.source)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_arguments(parser)
    add_timerange_argument(
        parser,
        "YYYYMMDD-YYYYMMDD: only these rows are written; the book is still built from "
        "the first candle on file, so values never depend on the range",
    )
    parser.add_argument("--out", type=Path, required=True, help="output file, .feather or .csv")
    add_model_config_argument(parser)


def run(args: argparse.Namespace) -> int:
    from liq_signals import columns as C
    from liq_signals.data.boundary import LiqInputError
    from liq_signals.data.load import load_pair_inputs
    from liq_signals.features.pipeline import run as run_model
    from liq_signals.timeframes import in_timerange, parse_timerange

    suffix = args.out.suffix.lower()
    if suffix not in (".feather", ".csv"):
        raise ConfigError(f"--out must end in .feather or .csv, got {args.out}")
    resolve_data_arguments(args)
    cfg = model_config_from_args(args)
    inputs = load_pair_inputs(
        args.datadir, args.pair, args.timeframe, args.trading_mode, data_format=args.data_format
    )
    try:
        feats = run_model(inputs, pair=args.pair, timeframe=args.timeframe, config=cfg).features
    except LiqInputError as exc:
        raise with_file(exc, inputs) from exc
    feats = feats[in_timerange(feats["date"], *parse_timerange(args.timerange))]
    out = feats[["date", *C.FEATURE_COLUMNS]].reset_index(drop=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".feather":
        out.to_feather(args.out)
    else:
        out.to_csv(args.out, index=False)
    modes = out[C.MODE].value_counts().to_dict()
    print(
        f"{args.pair} {args.timeframe}: wrote {len(out)} rows to {args.out} "
        f"(mode: {', '.join(f'{k} {v}' for k, v in sorted(modes.items())) or 'none'}; "
        f"read {', '.join(sorted(inputs.files))})"
    )
    return 0
