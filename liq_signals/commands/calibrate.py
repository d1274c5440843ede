"""``liq-signals calibrate``: fit the model's free parameters to a realized record."""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path

from liq_signals.errors import ConfigError

HELP = "fit leverage slope, decay, tilt, participation to realized liquidations (fit/test windows)"

logger = logging.getLogger(__name__)


def _grid_item(text: str) -> tuple[str, tuple[float, ...]]:
    name, _, values = text.partition("=")
    try:
        return name.strip(), tuple(float(v) for v in values.split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--grid wants name=v1,v2,...; got {text!r}") from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from liq_signals.commands.validate import add_window_arguments

    add_window_arguments(parser)
    parser.add_argument("--fit-range", required=True, help="YYYYMMDD-YYYYMMDD window to fit on")
    parser.add_argument("--test-range", required=True, help="YYYYMMDD-YYYYMMDD window to score on")
    parser.add_argument(
        "--grid",
        type=_grid_item,
        action="append",
        default=None,
        metavar="NAME=V1,V2,...",
        help="replace the default grid (repeat per parameter), e.g. decay_half_life_hours=12,24,72",
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
        f"{label:<22} long ρ {f(s.long.implied.rho)} (baseline {f(s.long.baseline.rho)})  "
        f"short ρ {f(s.short.implied.rho)} (baseline {f(s.short.baseline.rho)})  "
        f"log-ratio dispersion {f(s.objective)}  periods {s.periods}"
    )


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from liq_signals.commands._data_args import resolve_data_arguments
    from liq_signals.commands._model import model_config_from_args
    from liq_signals.commands.validate import duration_args, timerange_arg
    from liq_signals.config import save_model_config
    from liq_signals.evaluation.calibrate import calibrate
    from liq_signals.evaluation.inputs import describe_record, load_window, scoring_period
    from liq_signals.evaluation.realized import load_realized

    resolve_data_arguments(args)
    duration_args(args, "period", "warmup")
    fit = timerange_arg("--fit-range", args.fit_range)
    test = timerange_arg("--test-range", args.test_range)
    if fit[0] is None or fit[1] is None or test[0] is None or test[1] is None:
        raise ConfigError("--fit-range and --test-range need both a start and an end date")
    base = model_config_from_args(args)
    realized = load_realized(args.realized, pair=args.pair)
    period = scoring_period(args.period, realized)
    start, stop = min(fit[0], test[0]), max(fit[1], test[1])
    inputs = load_window(
        args.datadir, args.pair, args.timeframe, start, stop, pd.Timedelta(args.warmup)
    )
    result = calibrate(
        inputs.candles,
        realized,
        pair=args.pair,
        fit_range=(fit[0], fit[1]),
        test_range=(test[0], test[1]),
        timeframe=args.timeframe,
        period=period,
        base=base,
        grid=dict(args.grid) if args.grid else None,
        fit_participation=not args.no_participation,
        open_interest=inputs.open_interest,
        mark=inputs.mark,
        metrics=inputs.metrics,
    )
    fitted = {name: getattr(result.best, name) for name in result.fitted}
    save_model_config(
        result.best,
        args.out,
        fit={
            "pair": args.pair,
            "realized": [str(s) for s in realized.sources],
            "realized_is": describe_record(realized),
            "fit_range": args.fit_range,
            "test_range": args.test_range,
            "period": period,
            "fitted": fitted,
            "participation": result.participation_note,
            "objective": "mean log-ratio dispersion, implied vs realized (lower = better)",
            "fit_objective": result.best_fit.objective,
            "test_objective": result.best_test.objective,
            "base_fit_objective": result.base_fit.objective,
            "base_test_objective": result.base_test.objective,
            "fit_spearman": result.best_fit.spearman,
            "test_spearman": result.best_test.spearman,
            "base_test_spearman": result.base_test.spearman,
        },
    )
    print(f"fitted {fitted}")
    print(f"participation: {result.participation_note}")
    print(_scores_line("start, fit window", result.base_fit))
    print(_scores_line("start, test window", result.base_test))
    print(_scores_line("fitted, fit window", result.best_fit))
    print(_scores_line("fitted, test window", result.best_test))
    print(f"wrote {args.out}")
    return 0
