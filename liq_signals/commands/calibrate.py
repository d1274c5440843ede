"""``liq-signals calibrate``: fit the model's free parameters to a realized record."""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path

from liq_signals.commands._data_args import add_timerange_argument
from liq_signals.errors import ConfigError

HELP = (
    "fit decay, leverage slope and the side-asymmetry switches to realized liquidations "
    "(Optuna, walk-forward folds, standing-book + side-balance objective)"
)

logger = logging.getLogger(__name__)


def _grid_item(text: str) -> tuple[str, tuple[float, ...]]:
    name, _, values = text.partition("=")
    try:
        return name.strip(), tuple(float(v) for v in values.split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--grid wants name=v1,v2,...; got {text!r}") from exc


def _space_item(text: str) -> tuple[str, tuple[float, float, bool]]:
    name, _, rng = text.partition("=")
    log = rng.endswith(":log")
    lo, _, hi = rng.removesuffix(":log").partition(":")
    try:
        low, high = float(lo), float(hi)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"--space wants name=low:high[:log]; got {text!r}"
        ) from exc
    if not low < high or (log and low <= 0):
        raise argparse.ArgumentTypeError(f"--space {text!r}: need low < high (and > 0 for log)")
    return name.strip(), (low, high, log)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from liq_signals.commands.validate import add_window_arguments

    add_window_arguments(parser)
    add_timerange_argument(
        parser,
        "YYYYMMDD-YYYYMMDD span cut into the walk-forward folds (default: where the "
        "record and the candles overlap)",
    )
    parser.add_argument(
        "--folds", type=int, default=3, help="walk-forward folds (default: %(default)s)"
    )
    parser.add_argument(
        "--fit-range",
        default=None,
        help="YYYYMMDD-YYYYMMDD: one explicit fit window instead of the folds (with --test-range)",
    )
    parser.add_argument("--test-range", default=None, help="YYYYMMDD-YYYYMMDD window to score on")
    parser.add_argument(
        "--trials", type=int, default=200, help="Optuna trials per fold (default: %(default)s)"
    )
    parser.add_argument(
        "--jobs", type=int, default=2, help="worker processes (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=0, help="sampler seed (default: %(default)s)")
    parser.add_argument(
        "--objective",
        choices=("standing", "nowcast"),
        default="standing",
        help="book scored: the standing book at each period's start (default) or the "
        "liquidations swept during the period",
    )
    parser.add_argument(
        "--space",
        type=_space_item,
        action="append",
        default=None,
        metavar="NAME=LOW:HIGH[:log]",
        help="replace the searched ranges (repeat per parameter), e.g. "
        "decay_half_life_hours=2:720:log",
    )
    parser.add_argument(
        "--grid",
        type=_grid_item,
        action="append",
        default=None,
        metavar="NAME=V1,V2,...",
        help="exhaustive grid instead of the search (repeat per parameter), e.g. "
        "decay_half_life_hours=12,24,72",
    )
    parser.add_argument(
        "--no-participation",
        action="store_true",
        help="do not rescale participation (skipped anyway for a Binance-only record, "
        "which is a lower bound)",
    )
    parser.add_argument("--out", type=Path, required=True, help="parameters JSON to write")


def _scores_line(label: str, s) -> str:  # noqa: ANN001 - WindowScores
    def f(x: float) -> str:
        return "n/a" if not math.isfinite(x) else f"{x:.3f}"

    return (
        f"{label:<26} objective {f(s.objective)}  (dispersion {f(s.dispersion)}, side balance "
        f"{f(s.balance)}, legs {f(s.legs[0])}/{f(s.legs[1])})  periods {s.periods}"
    )


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from liq_signals.commands._data_args import resolve_data_arguments
    from liq_signals.commands._model import model_config_from_args
    from liq_signals.commands.validate import coverage_arg, duration_args
    from liq_signals.config import save_model_config
    from liq_signals.evaluation.calibrate import calibrate
    from liq_signals.evaluation.inputs import (
        describe_record,
        load_window,
        plan_window,
        restrict,
        scoring_period,
        warmed_start,
    )
    from liq_signals.evaluation.realized import load_realized
    from liq_signals.timeframes import parse_closed_timerange

    resolve_data_arguments(args)
    duration_args(args, "period", "warmup")
    if (args.fit_range is None) != (args.test_range is None):
        raise ConfigError("give both --fit-range and --test-range, or neither")
    fit = parse_closed_timerange(args.fit_range, "--fit-range") if args.fit_range else None
    test = parse_closed_timerange(args.test_range, "--test-range") if args.test_range else None
    if args.trials < 1 or args.jobs < 1 or args.folds < 1:
        raise ConfigError("--trials, --jobs and --folds must be >= 1")
    base = model_config_from_args(args)
    coverage = coverage_arg(args)
    realized = load_realized(args.realized, pair=args.pair)
    period = scoring_period(args.period, realized)
    if fit is not None and test is not None:
        start, stop = min(fit[0], test[0]), max(fit[1], test[1])
    else:
        span = parse_closed_timerange(args.timerange, "--timerange") if args.timerange else ()
        start, stop = plan_window(realized, period, *span)
    warmup = pd.Timedelta(args.warmup)
    inputs = load_window(args.datadir, args.pair, args.timeframe, start, stop, warmup)
    first_candle = inputs.candles["date"].iloc[0]
    warmed = warmed_start(start, first_candle, warmup, period)
    if fit is None and warmed > start:
        start = warmed
        print(f"candles start at {first_candle}: folds start at {start} (full --warmup)")
    realized = restrict(realized, None, stop)
    result = calibrate(
        inputs,
        realized,
        pair=args.pair,
        span=(start, stop),
        folds=args.folds,
        fit_range=fit,
        test_range=test,
        timeframe=args.timeframe,
        period=period,
        base=base,
        space=dict(args.space) if args.space else None,
        grid=dict(args.grid) if args.grid else None,
        trials=args.trials,
        jobs=args.jobs,
        seed=args.seed,
        objective=args.objective,
        coverage=coverage,
        fit_participation=not args.no_participation,
    )
    fitted = {name: getattr(result.best, name) for name in result.fitted}
    folds = [
        {
            "fit_range": [str(f.fit[0]), str(f.fit[1])],
            "test_range": [str(f.test[0]), str(f.test[1])],
            "params": f.params,
            "trials": f.trials,
            "fit_objective": f.fitted_fit.objective,
            "test_objective": f.fitted_test.objective,
            "base_test_objective": f.base_test.objective,
            "test_balance": f.fitted_test.balance,
            "base_test_balance": f.base_test.balance,
            "test_objective_switched_off": {k: v.objective for k, v in f.switched_off.items()},
        }
        for f in result.folds
    ]
    save_model_config(
        result.best,
        args.out,
        fit={
            "pair": args.pair,
            "realized": [str(s) for s in realized.sources],
            "realized_is": describe_record(realized),
            "coverage": coverage,
            "span": [str(result.span[0]), str(result.span[1])],
            "period": period,
            "objective": f"{args.objective} book: mean log-ratio dispersion + side-balance "
            "error + half the largest legs' side-balance error (lower = better)",
            "fitted": fitted,
            "participation": result.participation_note,
            "fit_objective": result.best_span.objective,
            "base_fit_objective": result.base_span.objective,
            "folds": folds,
            "trials": args.trials,
            "seed": args.seed,
            "seconds": round(result.seconds, 1),
        },
    )
    print(f"fitted {fitted}")
    print(f"participation: {result.participation_note}")
    for i, f in enumerate(result.folds):
        print(_scores_line(f"fold {i + 1} start, test", f.base_test))
        print(_scores_line(f"fold {i + 1} fitted, test", f.fitted_test))
        for k, v in f.switched_off.items():
            print(_scores_line(f"  without {k}", v))
    print(_scores_line("start, fit span", result.base_span))
    print(_scores_line("fitted, fit span", result.best_span))
    print(f"{result.seconds:.0f} s; wrote {args.out}")
    return 0
