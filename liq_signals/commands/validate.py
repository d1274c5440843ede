"""``liq-signals validate``: score the liquidation map against realized liquidations."""

from __future__ import annotations

import argparse
import logging
import shlex
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
    import pandas as pd

    from liq_signals.evaluation.realized import RealizedRecord
    from liq_signals.evaluation.runner import ValidationResult, ValidationSettings

HELP = "score the liquidation map against a realized-liquidation record (markdown report + plots)"

logger = logging.getLogger(__name__)


def add_window_arguments(
    parser: argparse.ArgumentParser,
    realized_required: bool = True,
    model_role: str = "the starting point of the fit",
) -> None:
    """Arguments shared with ``calibrate`` (``model_role``: what ``--model-config`` is for)."""
    parser.add_argument(
        "--realized",
        type=Path,
        required=realized_required,
        help="realized liquidations: a file or a folder (Binance forceOrder CSV, "
        "record-liquidations files, raw message .jsonl, or date,long_usd,short_usd CSV, "
        "e.g. user_data/realized/coinglass-binance-4h/liquidations)"
        + (
            ""
            if realized_required
            else "; without it only the magnet test runs (needs --timerange)"
        ),
    )
    add_data_arguments(parser, trading_mode=False, exchange=False)
    parser.add_argument(
        "--period",
        default=None,
        help="scoring period (default: the record's own period for per-period totals, "
        "e.g. 4h, else 1h); never finer than the record's period",
    )
    parser.add_argument(
        "--warmup",
        default="7D",
        help="candles loaded before the scored window to build the book (default: %(default)s)",
    )
    parser.add_argument(
        "--coverage",
        type=float,
        default=None,
        help="share of the record's liquidations on the venue the map models (Binance): "
        "1 for a Binance-only record, e.g. 0.4 for a multi-venue total of which Binance is "
        "~40 %%; scales realized magnitudes, never ranks (default: 1, or from --venues)",
    )
    parser.add_argument(
        "--venues",
        default=None,
        help="comma-separated venues the record sums (e.g. binance or binance,bybit,okx); "
        "binance alone means --coverage 1, several need --coverage",
    )
    add_model_config_argument(
        parser,
        aliases=("--params",),
        role=model_role,
    )


def coverage_arg(args: argparse.Namespace) -> float:
    """The declared venue coverage of ``--coverage`` / ``--venues`` (1 without either).

    :raise ConfigError: a coverage outside (0, 1], a venue list without the map's venue,
        or several venues without ``--coverage`` (their shares are the user's to give)
    """
    venues = [v.strip().lower() for v in args.venues.split(",") if v.strip()] if args.venues else []
    if args.coverage is not None and not 0 < args.coverage <= 1:
        raise ConfigError(f"--coverage {args.coverage}: must be a fraction in (0, 1]")
    if venues and "binance" not in venues:
        raise ConfigError(
            f"--venues {args.venues}: the map models Binance; a record without Binance "
            "cannot be compared on magnitudes"
        )
    if len(venues) > 1 and args.coverage is None:
        raise ConfigError(
            f"--venues {args.venues}: give --coverage, Binance's share of these venues' "
            "liquidations (liq-signals does not guess it)"
        )
    if venues == ["binance"] and args.coverage not in (None, 1.0):
        raise ConfigError("--venues binance means --coverage 1")
    return 1.0 if args.coverage is None else float(args.coverage)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_window_arguments(parser, realized_required=False, model_role="the model scored")
    add_timerange_argument(
        parser,
        "YYYYMMDD-YYYYMMDD: score only this part of the record (default: all of it)",
    )
    parser.add_argument(
        "--skip-empty-periods",
        action="store_true",
        help="score only periods with at least one realized event (record with unknown "
        "recording windows, e.g. the shipped Binance forceOrder sample)",
    )
    parser.add_argument(
        "--zone-horizon", default="1D", help="zone test horizon (default: %(default)s)"
    )
    parser.add_argument(
        "--magnet-horizon", default="7D", help="magnet test horizon (default: %(default)s)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("validation-report.md"),
        help="markdown report; figures are written next to it (default: %(default)s)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write every figure as JSON (keys documented in docs/validation.md)",
    )
    parser.add_argument(
        "--block",
        default="7D",
        help="moving-block bootstrap block length, at least 1D (default: %(default)s)",
    )
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        help="bootstrap resamples (default: %(default)s)",
    )
    parser.add_argument(
        "--no-sensitivity",
        action="store_true",
        help="skip the standard parameter sweep (six more engine runs)",
    )
    parser.add_argument(
        "--folds",
        type=int,
        default=4,
        help="contiguous folds of the walk-forward test of whether the standing book adds "
        "to the best ex-post baseline (default: %(default)s)",
    )
    parser.add_argument(
        "--versus-volume-mode",
        action="store_true",
        help="also run the model without the open-interest series (volume mode) on the "
        "same periods and score OI − volume per side with a paired bootstrap interval",
    )


def duration_args(args: argparse.Namespace, *names: str) -> None:
    """Check that the duration options ``names`` parse, so a typo exits 2 naming the option
    instead of failing deep inside pandas."""
    import pandas as pd

    for name in names:
        value = getattr(args, name)
        if value is None:
            continue
        try:
            pd.Timedelta(value)
        except ValueError as exc:
            raise ConfigError(f"--{name.replace('_', '-')} {value!r}: {exc}") from exc


def _score(
    args: argparse.Namespace, settings: ValidationSettings
) -> tuple[ValidationResult, tuple[str, ...], str]:
    """Load the window and score it: the magnet test alone without ``--realized``.
    ``settings.period`` is replaced by :func:`scoring_period` (the record's own period
    unless ``--period`` asks for a coarser one).

    :return: ``(result, sources, realized_note)``
    """
    from dataclasses import replace

    import pandas as pd

    from liq_signals.evaluation.inputs import (
        describe_record,
        load_window,
        plan_window,
        restrict,
        scoring_period,
    )
    from liq_signals.evaluation.realized import load_realized
    from liq_signals.evaluation.runner import validate, validate_magnets
    from liq_signals.timeframes import parse_timerange

    config = model_config_from_args(args)
    start, stop = parse_timerange(args.timerange)
    warmup = pd.Timedelta(args.warmup)
    if args.realized is None:
        if start is None or stop is None:
            raise ConfigError("without --realized, give --timerange START-END for the magnet test")
        settings = replace(settings, period=scoring_period(args.period, None))
        inputs = load_window(args.datadir, args.pair, args.timeframe, start, stop, warmup)
        result = validate_magnets(
            inputs,
            pair=args.pair,
            start=start,
            stop=stop,
            timeframe=args.timeframe,
            config=config,
            settings=settings,
        )
        return result, (), "none"
    realized = restrict(load_realized(args.realized, pair=args.pair), start, stop)
    if realized.events.empty and realized.aggregated.empty:
        raise InputError(
            f"{args.realized}: no realized liquidations for {args.pair} "
            f"in {args.timerange or 'the record'}"
        )
    period = scoring_period(args.period, realized)
    settings = replace(settings, period=period)
    window_start, window_stop = plan_window(realized, period, start, stop)
    inputs = load_window(args.datadir, args.pair, args.timeframe, window_start, window_stop, warmup)
    realized = restrict(realized, window_start, window_stop)
    if realized.events.empty and realized.aggregated.empty:
        raise InputError(f"{args.realized}: {args.pair}'s record covers no whole {period} period")
    realized, moved = _after_warmup(
        realized, window_start, inputs.candles["date"].iloc[0], warmup, period
    )
    result = validate(
        inputs,
        realized,
        pair=args.pair,
        timeframe=args.timeframe,
        config=config,
        settings=settings,
    )
    if moved is not None:
        result.notes.append(moved)
    return result, realized.sources, describe_record(realized)


def _after_warmup(
    realized: RealizedRecord,
    start: pd.Timestamp,
    first_candle: pd.Timestamp,
    warmup: pd.Timedelta,
    period: str,
) -> tuple[RealizedRecord, str | None]:
    """The record from :func:`~liq_signals.evaluation.inputs.warmed_start` on when the
    candles start too late to give the window's first periods their warm-up (an empty book
    under-states them), and the note that says so (``None`` when nothing was left out)."""
    from liq_signals.evaluation.inputs import record_span, restrict, warmed_start

    scored_from = warmed_start(start, first_candle, warmup, period)
    if scored_from == start:
        return realized, None
    note = (
        f"the candles start at {first_candle}, after the record ({record_span(realized)[0]}): "
        f"scored from {scored_from}, the first {period} period with the full --warmup "
        f"{warmup} of candles"
    )
    logger.warning(note)
    kept = restrict(realized, scored_from, None)
    if kept.events.empty and kept.aggregated.empty:
        raise InputError(f"{note}; nothing of the record is left (shorten --warmup?)")
    return kept, note


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from liq_signals.evaluation.report import render_markdown, write_figures
    from liq_signals.evaluation.runner import ValidationSettings

    resolve_data_arguments(args)
    duration_args(args, "period", "warmup", "zone_horizon", "magnet_horizon", "block")
    if pd.Timedelta(args.block) < pd.Timedelta("1D"):
        raise ConfigError(f"--block {args.block}: bootstrap blocks must span at least 1D")
    if args.bootstrap < 100:
        raise ConfigError(f"--bootstrap {args.bootstrap}: use at least 100 resamples")
    if args.folds < 2:
        raise ConfigError(f"--folds {args.folds}: need at least 2 (fit on the first)")
    command = command_line(args)
    settings = ValidationSettings(
        period=args.period or "1h",  # replaced once the record is read (_score)
        skip_empty_periods=args.skip_empty_periods,
        zone_horizon=args.zone_horizon,
        magnet_horizon=args.magnet_horizon,
        block=args.block,
        n_boot=args.bootstrap,
        coverage=coverage_arg(args),
        sensitivity=not args.no_sensitivity,
        folds=args.folds,
        versus_volume_mode=args.versus_volume_mode,
    )
    result, sources, note = _score(args, settings)
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    figures = write_figures(result, out.parent, out.stem)
    text = render_markdown(
        result,
        command=command,
        sources=sources,
        realized_note=note,
        figures=[f.relative_to(out.parent) for f in figures],
    )
    out.write_text(text, encoding="utf-8")
    if args.json is not None:
        from liq_signals.atomic import atomic_write_text
        from liq_signals.evaluation.report import result_json

        args.json.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args.json, result_json(result, command=command, sources=sources))
        print(f"json: {args.json}")
    if result.long is not None and result.short is not None and result.periods is not None:
        print(
            f"{args.pair}: {len(result.periods)} periods scored; Spearman implied vs realized "
            f"long {result.long.implied.rho:.3f} (baseline {result.long.baseline.rho:.3f}), "
            f"short {result.short.implied.rho:.3f} (baseline {result.short.baseline.rho:.3f})"
        )
    if result.standing is not None:
        for line in summary_lines(result.standing):
            print(line)
    for name, m in result.magnet.items():
        p = m.larger_first
        print(
            f"magnet test ({name} clusters): larger reached first {p.k}/{p.n}"
            + (f" = {p.rate:.1%} [{p.low:.1%}, {p.high:.1%}]" if p.n else "")
        )
    print(f"report: {out}")
    return 0


def command_line(args: argparse.Namespace) -> str:
    """The command as typed (``liq-signals`` and its arguments as the shell passed them);
    when ``args`` did not come from the command line, its non-default options spelled
    with each option's flag."""
    typed = getattr(args, "_argv", None)
    if typed is not None:
        return "liq-signals " + shlex.join(typed)
    out = []
    flags = {"ft_config": "--config", "pairs": "--pair"}
    for key, value in sorted(vars(args).items()):
        skip = ("command", "verbose", "data_format")
        if key.startswith("_") or key in skip or value in (None, "", False):
            continue
        flag = flags.get(key, f"--{key.replace('_', '-')}")
        values = value if isinstance(value, list) else [value]
        out += [flag] if value is True else [flag, *map(str, values)]
    return "liq-signals validate " + shlex.join(out)


def summary_lines(card: dict) -> list[str]:
    """The standing-book headline the command prints: per book and side, the model's ρ
    against the best ex-ante and the best ex-post baseline, the walk-forward test and,
    with ``--versus-volume-mode``, OI − volume."""

    def best(c: dict, kind: str) -> str:
        name = c[f"best_{kind}"]
        if name is None:
            return f"best {kind.replace('_', '-')} n/a"
        d = c[f"minus_best_{kind}"]
        return (
            f"{kind.replace('_', '-')} {name} {c['baselines'][name]['rho']:.3f} "
            f"(diff {_num(d['value'])} [{_num(d['low'])}, {_num(d['high'])}])"
        )

    from liq_signals.evaluation.standing import BOOK_SIDES

    out = [
        f"{book} {side}: Spearman {card[book][side]['model']['rho']:.3f}; best "
        f"{best(card[book][side], 'ex_ante')}; best {best(card[book][side], 'ex_post')}"
        for book, side in BOOK_SIDES
    ]
    for side, w in card.get("walk_forward", {}).items():
        d = w["with_minus_without"]
        if d is None:
            continue
        out.append(
            f"walk-forward {side} ({w['folds']} folds, {w['oos_periods']} periods out of "
            f"sample): ex-post baseline + standing book {w['with_book']['rho']:.3f} vs "
            f"alone {w['without_book']['rho']:.3f}, diff {_num(d['value'])} "
            f"[{_num(d['low'])}, {_num(d['high'])}]"
        )
    vv = card.get("versus_volume_mode")
    if vv is not None:
        for book, side in BOOK_SIDES:
            v = vv[book][side]
            d = v["oi_minus_volume"]
            out.append(
                f"OI vs volume mode, {book} {side}: {v['oi']['rho']:.3f} vs "
                f"{v['volume']['rho']:.3f}, diff {_num(d['value'])} "
                f"[{_num(d['low'])}, {_num(d['high'])}]"
            )
    return out


def _num(x: float) -> str:
    return "n/a" if x is None or x != x else f"{x:+.3f}"
