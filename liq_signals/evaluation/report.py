"""Markdown report (and matplotlib figures) of a :class:`ValidationResult`.

The report states the command line, the data spans and what the realized record is, so
a number never travels without the conditions it was measured under.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict
from pathlib import Path

import numpy as np

from liq_signals.evaluation.metrics import Correlation, MagnetResult, Proportion, ZonePrecision
from liq_signals.evaluation.runner import (
    P_IMPLIED_LONG,
    P_IMPLIED_SHORT,
    P_REALIZED_LONG,
    P_REALIZED_SHORT,
    SideScores,
    ValidationResult,
)
from liq_signals.evaluation.standing import BOOK_SIDES

logger = logging.getLogger(__name__)


def _f(x: float, digits: int = 3) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:.{digits}f}"


def _corr(c: Correlation) -> str:
    if not math.isfinite(c.rho):
        return f"n/a (n={c.n})"
    return f"{_f(c.rho)} [{_f(c.low)}, {_f(c.high)}], p={c.p_value:.2g}"


def _prop(p: Proportion) -> str:
    if p.n == 0:
        return "n/a (n=0)"
    return f"{p.rate:.1%} [{p.low:.1%}, {p.high:.1%}] ({p.k}/{p.n})"


def _side_rows(name: str, s: SideScores) -> list[str]:
    return [
        f"| {name} | {_corr(s.implied)} | {_corr(s.baseline)} | {_corr(s.beyond_baseline)} | "
        f"{s.implied.n} |"
    ]


def _zone_rows(name: str, z: ZonePrecision | None) -> list[str]:
    if z is None:
        return [f"| {name} | n/a | n/a | n/a | 0 |"]
    return [
        f"| {name} | {_prop(z.top)} | {_prop(z.random)} | {_f(z.lift, 2)} "
        f"(p={_f(z.top.p_value, 3)}) | {z.snapshots} |"
    ]


def _magnet_rows(results: dict[str, MagnetResult]) -> list[str]:
    rows = [
        "| clusters compared | larger reached first | resolved | matched | "
        "unresolved | same-candle | candidates |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, m in results.items():
        p = m.larger_first
        rows.append(
            f"| {name} above vs below | {_prop(p)}, p={_f(p.p_value, 3)} vs 50% | {p.n} | "
            f"{m.matched} | {m.unresolved} | {m.ambiguous} | {m.candidates} |"
        )
    return rows


def render_markdown(
    result: ValidationResult,
    *,
    command: str,
    sources: tuple[str, ...],
    realized_note: str,
    figures: list[Path] | None = None,
) -> str:
    """The report text.

    :param command: the command line that produced it
    :param sources: the realized-liquidation files read
    :param realized_note: what the record is (and is not), in words
    :param figures: image paths, relative to the report, to embed
    """
    r = result
    s = r.settings
    per = r.periods
    lines = [
        f"# Liquidation map validation — {r.pair}",
        "",
        f"Command: `{command}`",
        "",
        f"- candles: {r.candles_span[0]} → {r.candles_span[1]} (engine built from the first)",
    ]
    if per is None or r.long is None or r.short is None:
        lines += [
            f"- scored: {r.scored_span[0]} → {r.scored_span[1]}",
            "- realized record: none — sections 1 and 2 need one",
            "",
        ]
    else:
        empty = int(((per[P_REALIZED_LONG] + per[P_REALIZED_SHORT]) == 0).sum())
        lines += [
            f"- scored: {r.scored_span[0]} → {r.scored_span[1]}, {len(per)} periods of {s.period}",
            f"- realized record: "
            f"{f'{r.realized_events} events' if r.realized_events else 'per-period totals'}; "
            f"long {per[P_REALIZED_LONG].sum():,.0f} USD, short "
            f"{per[P_REALIZED_SHORT].sum():,.0f} USD in the scored periods; periods with no "
            f"liquidation: {empty}",
            f"- realized files: {', '.join(sources) if sources else 'n/a'}",
            f"- what the record is: {realized_note}",
            f"- implied in the scored periods: long {per[P_IMPLIED_LONG].sum():,.0f} USD, "
            f"short {per[P_IMPLIED_SHORT].sum():,.0f} USD",
            "",
            "## 1. Implied vs realized liquidations per period (Spearman ρ, 95% CI)",
            "",
            "| side | model implied | naive baseline | model beyond baseline (partial) | periods |",
            "|---|---|---|---|---|",
            *_side_rows("long", r.long),
            *_side_rows("short", r.short),
            "",
            "Baselines: down-move × quote volume (longs), up-move × quote volume (shorts). "
            "'Beyond baseline' is the partial rank correlation of implied and realized after "
            "removing what the baseline explains of both; ≈ 0 means the map adds nothing to "
            "range × volume.",
            "",
            f"## 2. Top-decile price zones vs random zones (horizon {s.zone_horizon}, "
            f"snapshot every {s.zone_step}, band ±{s.zone_band_pct:g}%)",
            "",
            "| side | precision of top-decile zones | random crossed zone | lift | snapshots |",
            "|---|---|---|---|---|",
            *_zone_rows("long (below price)", r.zones_long),
            *_zone_rows("short (above price)", r.zones_short),
            "",
            "Precision = share of zones that price crossed within the horizon and that saw a "
            "realized liquidation of that side. Only crossed zones are scored, so the random "
            "baseline is the hit rate of any crossed zone. Overlapping horizons make the "
            "intervals optimistic.",
            "",
        ]
    lines += [
        f"## 3. Magnet test at matched distance (horizon {s.magnet_horizon}, every "
        f"{s.magnet_step}, distances within ×{s.distance_ratio_max:g} of each other and "
        f"{s.atr_min:g}–{s.atr_max:g} ATR({s.atr_period}), larger ≥ {s.size_ratio_min:g}× smaller)",
        "",
        *_magnet_rows(r.magnet),
        "",
        "Without a magnet effect the larger of two equally distant clusters is reached "
        "first half of the time (Wilson 95% interval, two-sided binomial p).",
        "",
        *(standing_section(r) if r.standing is not None else []),
        "## Notes",
        "",
        *[f"- {n}" for n in r.notes],
        "",
        "## Model configuration",
        "",
        "```",
        *[f"{k} = {v}" for k, v in asdict(r.config).items()],
        "```",
    ]
    if figures:
        lines += ["", "## Figures", ""] + [f"![{p.stem}]({p.as_posix()})" for p in figures]
    return "\n".join(lines) + "\n"


def _diff(d: dict) -> str:
    return f"{_f(d['value'])} [{_f(d['low'])}, {_f(d['high'])}]"


def _best(c: dict, kind: str) -> str:
    name = c[f"best_{kind}"]
    return "—" if name is None else f"{name}: {_diff(c[f'minus_best_{kind}'])}"


def _compare_rows(label: str, c: dict) -> list[str]:
    bases = "; ".join(f"{k} {_f(v['rho'])}" for k, v in c["baselines"].items())
    return [
        f"| {label} | {_f(c['model']['rho'])} | {bases} | {_f(c['beyond_baselines']['rho'])} | "
        f"{_best(c, 'ex_ante')} | {_best(c, 'ex_post')} |"
    ]


def _walk_forward_rows(card: dict) -> list[str]:
    rows = []
    for side, w in card["walk_forward"].items():
        d = w["with_minus_without"]
        if d is None:
            rows.append(f"| {side} | n/a (fewer than 2 periods per fold) | | | |")
            continue
        chosen = ", ".join(sorted({f["baseline"] for f in w["per_fold"]}))
        coefs = ", ".join(_f(f["book_coef"], 2) for f in w["per_fold"])
        rows.append(
            f"| {side} | {_f(w['without_book']['rho'])} | {_f(w['with_book']['rho'])} | "
            f"{_diff(d)} | {chosen}; book coefficient per fold {coefs} |"
        )
    return rows


def _versus_rows(vv: dict) -> list[str]:
    return [
        f"| {book}, {side} | {_f(vv[book][side]['oi']['rho'])} | "
        f"{_f(vv[book][side]['volume']['rho'])} | {_diff(vv[book][side]['oi_minus_volume'])} |"
        for book, side in BOOK_SIDES
    ]


def _balance_rows(label: str, b: dict) -> list[str]:
    o = b["overall"]
    rows = [
        f"| {label}, all periods | {_f(o['implied'])} | {_f(o['realized'])} | "
        f"{_f(o['implied_over_realized'])} [{_f(o['low'])}, {_f(o['high'])}] |"
    ]
    for key, name in (
        ("largest_up_leg", "largest rally"),
        ("largest_down_leg", "largest sell-off"),
    ):
        leg = b[key]
        rows.append(
            f"| {label}, {name} ({leg['move']:+.1%}, {leg['periods']} periods) | "
            f"{_f(leg['implied'])} | {_f(leg['realized'])} | {_f(leg['implied_over_realized'])} |"
        )
    return rows


def standing_section(r: ValidationResult) -> list[str]:
    """Section 4: the standing book, side split, density, side balance, sensitivity."""
    card = r.standing
    assert card is not None
    boot = card["bootstrap"]
    lines = [
        "## 4. The standing book and the naive baselines (Spearman ρ; model − best "
        "baseline with a 95% moving-block bootstrap interval)",
        "",
        f"Bootstrap: {boot['method']}, blocks of {boot['block']} ({boot['block_periods']} "
        f"periods), {boot['resamples']} resamples, seed {boot['seed']}. Venue coverage "
        f"declared: {card['coverage']:g} (realized magnitudes × coverage; ranks unchanged).",
        "",
        "| score | model | baselines | model beyond all baselines (partial) | "
        "model − best ex-ante baseline | model − best ex-post baseline |",
        "|---|---|---|---|---|---|",
        *_compare_rows(
            "standing book, long (book below price at the start, down to the low)",
            card["standing"]["long"],
        ),
        *_compare_rows(
            "standing book, short (above price, up to the high)", card["standing"]["short"]
        ),
        *_compare_rows("nowcast, long (swept during the period)", card["nowcast"]["long"]),
        *_compare_rows("nowcast, short", card["nowcast"]["short"]),
        *_compare_rows(
            "side split (standing long share vs realized long share)", card["side_split"]
        ),
        *_compare_rows(
            f"density (book within ±{r.settings.near_pct:g}% at the start vs realized total)",
            card["density"],
        ),
        *_compare_rows(
            "depth, long (standing book ÷ move vs realized ÷ move)", card["depth"]["long"]
        ),
        *_compare_rows("depth, short", card["depth"]["short"]),
        "",
        "Log-ratio dispersion of realized ÷ predicted (median absolute deviation of the log "
        "ratio; lower is better; scale-free, so a lower-bound record is not penalised; each "
        "comparison on the periods where both predict a positive amount):",
        "",
        "| side | standing book | baselines | model − best baseline [95% CI] |",
        "|---|---|---|---|",
        *[
            f"| {side} | {_f(d['model']['dispersion'])} (n={d['model']['n']}) | "
            + "; ".join(f"{k} {_f(v['dispersion'])}" for k, v in d["baselines"].items())
            + f" | {d['best_baseline']}: {_diff(d['minus_best_baseline'])} |"
            for side, d in card["standing_dispersion"].items()
        ],
        "",
        "Baselines known at the period's start (**ex ante**, as the map is): `move` = the "
        "period's move alone ((high − open)/open for shorts, (open − low)/open for longs), "
        "`move_trailing_volume` = the move × the mean hourly quote volume of the 24 h "
        "before the period, `move_open_interest` = the move × open interest in USD at the "
        "last candle before the period as the engine sees it (only when every period has "
        "it). Baselines that use the period's own quote volume (**ex post**: the "
        "liquidations' forced market orders are part of that volume, so no map reader "
        "knows it at the start): `range_volume` = the move × quote volume, "
        "`candle_range_volume` = the same summed over its candles, `new_extreme_volume` = "
        "how far the period went beyond the previous day's extreme × quote volume; for the "
        "side split the baseline is minus the period's log return and for depth the "
        "period's quote volume (both ex post). The best baseline of each kind is the one "
        "with the highest ρ on this scored window (chosen after seeing it, which favours "
        "the baselines).",
        "",
        f"### Walk-forward: does the standing book add to the best ex-post baseline? "
        f"({next(iter(card['walk_forward'].values()))['folds']} contiguous folds)",
        "",
        "For each fold k ≥ 1, fitted on folds < k only: the ex-post baseline with the "
        "highest ρ there, and least squares log1p(realized) ~ log1p(baseline) "
        "[+ log1p(standing book)]; both predict fold k. Spearman ρ of the pooled "
        "out-of-sample predictions; the difference with a moving-block bootstrap interval "
        "over the pooled periods (realized before the venue coverage).",
        "",
        "| side | baseline alone | baseline + standing book | difference [95% CI] | "
        "baselines chosen |",
        "|---|---|---|---|---|",
        *_walk_forward_rows(card),
        "",
        "### Side balance: Σshort / Σlong",
        "",
        "| book | implied | realized | implied ÷ realized [95% CI] |",
        "|---|---|---|---|",
        *_balance_rows("standing", card["side_balance"]["standing"]),
        *_balance_rows("nowcast", card["side_balance"]["nowcast"]),
        "",
    ]
    vv = card.get("versus_volume_mode")
    if vv is not None:
        lines += [
            "### Open-interest mode vs volume mode (paired)",
            "",
            f"The same model run again without the open-interest series (volume mode) on "
            f"the same candles and periods; the OI run was in OI mode at the start of "
            f"{vv['oi_mode_periods']} of {vv['periods']} periods. ρ of each against realized "
            "and OI − volume with a paired bootstrap interval (both on the same resamples).",
            "",
            "| book, side | OI mode | volume mode | OI − volume [95% CI] |",
            "|---|---|---|---|",
            *_versus_rows(vv),
            "",
        ]
    if r.sensitivity is not None:
        sens = r.sensitivity
        keys = list(sens["scores"])
        lines += [
            f"### Sensitivity: each score over the standard sweep (flag: spread < "
            f"{sens['min_spread']:g})",
            "",
            "| config | " + " | ".join(keys) + " |",
            "|---|" + "---|" * len(keys),
            *[
                f"| {name} | " + " | ".join(_f(row[k]) for k in keys) + " |"
                for name, row in sens["configs"].items()
            ],
            "| **spread** | "
            + " | ".join(
                f"{_f(sens['scores'][k]['spread'])}"
                + (
                    ""
                    if sens["scores"][k]["moves"]
                    else " (does not move: not measuring the model)"
                )
                for k in keys
            )
            + " |",
            "",
        ]
    return lines


def _jsonable(x: object) -> object:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, float | np.floating):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def result_json(result: ValidationResult, *, command: str, sources: tuple[str, ...]) -> str:
    """Every figure of the report under stable keys (docs/validation.md, "JSON")."""
    r = result
    payload: dict = {
        "schema": 1,
        "command": command,
        "pair": r.pair,
        "period": r.settings.period,
        "scored_span": [str(r.scored_span[0]), str(r.scored_span[1])],
        "candles_span": [str(r.candles_span[0]), str(r.candles_span[1])],
        "realized_sources": list(sources),
        "model_config": asdict(r.config),
        "per_period": None,
        "scores": r.standing,
        "sensitivity": r.sensitivity,
        "magnet": {k: asdict(v) for k, v in r.magnet.items()},
        "notes": r.notes,
    }
    if r.long is not None and r.short is not None:
        payload["per_period"] = {"long": asdict(r.long), "short": asdict(r.short)}
    return json.dumps(_jsonable(payload), indent=2) + "\n"


def write_figures(result: ValidationResult, folder: Path, stem: str) -> list[Path]:
    """Per-period scatter and time series of implied vs realized (PNG, matplotlib).

    :return: the files written (empty, with a logged reason, when matplotlib is missing)
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        logger.warning("matplotlib is not installed: the report has no figures")
        return []
    per = result.periods
    if per is None or result.long is None or result.short is None:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    for ax, (imp, rea, name, rho) in zip(
        axes,
        (
            (P_IMPLIED_LONG, P_REALIZED_LONG, "long", result.long.implied.rho),
            (P_IMPLIED_SHORT, P_REALIZED_SHORT, "short", result.short.implied.rho),
        ),
        strict=True,
    ):
        ax.scatter(np.log10(1 + per[imp]), np.log10(1 + per[rea]), s=8, alpha=0.6)
        ax.set_xlabel("implied, log10(1 + USD)")
        ax.set_ylabel("realized, log10(1 + USD)")
        ax.set_title(f"{name} liquidations per {result.settings.period}: ρ = {_f(rho)}")
    fig.tight_layout()
    path = folder / f"{stem}-scatter.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    out.append(path)

    fig, axes = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    for ax, (imp, rea, name) in zip(
        axes,
        ((P_IMPLIED_LONG, P_REALIZED_LONG, "long"), (P_IMPLIED_SHORT, P_REALIZED_SHORT, "short")),
        strict=True,
    ):
        ax.plot(per.index, per[rea] / max(per[rea].max(), 1e-12), label="realized (scaled)")
        ax.plot(
            per.index, per[imp] / max(per[imp].max(), 1e-12), label="implied (scaled)", alpha=0.7
        )
        ax.set_ylabel(f"{name}, share of max")
        ax.legend(loc="upper right")
    fig.tight_layout()
    path = folder / f"{stem}-series.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    out.append(path)
    return out
