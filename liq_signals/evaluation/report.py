"""Markdown report (and matplotlib figures) of a :class:`ValidationResult`.

The report states the command line, the data spans and what the realized record is, so
a number never travels without the conditions it was measured under.
"""

from __future__ import annotations

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
