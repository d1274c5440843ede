"""One pair's study (ICs, event studies, magnet test) and its markdown / JSON / PNG report."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from liq_signals import columns as C
from liq_signals.study.estimators import LEVEL, information_coefficient
from liq_signals.study.events import all_events
from liq_signals.study.magnet import driftless_null_magnet_test
from liq_signals.study.panel import RETURN_CONTROLS, TA_CONTROLS, build_panel, signal_columns
from liq_signals.study.stops import StopSettings, stop_study

#: Naive baselines shown next to the liquidation features: plain momentum and volatility.
BASELINES = ("ret_1h", "ret_24h", "rv_24h")


@dataclass(frozen=True)
class StudySettings:
    """What the study measures and how hard it bootstraps."""

    horizons_h: tuple[int, ...] = (1, 4, 24)
    replicates: int = 400
    seed: int = 0
    magnet_every_h: int = 4
    magnet_horizon_h: int = 72
    magnet_ratio: float = 1.25
    candles_per_hour: int = 12
    stop_every_h: int = 4
    stop_horizon_h: int = 24


def _ic_rows(panel: pd.DataFrame, s: StudySettings) -> list[dict[str, Any]]:
    rows = []
    features = [c for c in signal_columns(panel)] + [c for c in BASELINES if c in panel]
    ret_controls = panel[list(RETURN_CONTROLS)].to_numpy(float)
    ta_controls = panel[list(TA_CONTROLS)].to_numpy(float)
    past = panel["ret_24h"].to_numpy(float)
    for col in features:
        x = panel[col].to_numpy(float)
        if np.isfinite(x).sum() < 100:
            continue
        ok = np.isfinite(x) & np.isfinite(past)
        with np.errstate(invalid="ignore"):
            momentum_corr = (
                float(np.corrcoef(pd.Series(x[ok]).rank(), pd.Series(past[ok]).rank())[0, 1])
                if ok.sum() > 2
                else float("nan")
            )
        for h in s.horizons_h:
            y = panel[f"fwd_{h}h"].to_numpy(float)
            block = max(24, 2 * h)
            kw: dict[str, Any] = {"block": block, "replicates": s.replicates, "seed": s.seed}
            own = col in TA_CONTROLS
            rows.append(
                {
                    "feature": col,
                    "horizon_h": h,
                    "corr_past_24h": momentum_corr,
                    "ic": information_coefficient(x, y, **kw).as_dict(),
                    "partial_returns": (
                        None if own else information_coefficient(x, y, ret_controls, **kw).as_dict()
                    ),
                    "partial_ta": (
                        None if own else information_coefficient(x, y, ta_controls, **kw).as_dict()
                    ),
                }
            )
    return rows


def run_study(
    frame: pd.DataFrame,
    pair: str,
    settings: StudySettings,
    history: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Study one pair's 5m frame (candles + ``liq_*`` columns, the rows to study).

    :param history: the whole file's frame with a boolean ``studied`` column marking
        ``frame``'s rows; given, the stop study runs on it (its placebo maps reach back
        before the studied rows)
    :return: a JSON-able dict (ICs, events, magnet, stops, sample description)
    """
    s = settings
    panel = build_panel(frame, candles_per_hour=s.candles_per_hour, horizons_h=s.horizons_h)
    cph = s.candles_per_hour
    magnet = driftless_null_magnet_test(
        frame["close"].to_numpy(float),
        frame[C.MAGNET_UP_PRICE].to_numpy(float),
        frame[C.MAGNET_UP_USD].where(~frame[C.STALE].astype(bool)).to_numpy(float),
        frame[C.MAGNET_DOWN_PRICE].to_numpy(float),
        frame[C.MAGNET_DOWN_USD].to_numpy(float),
        every=s.magnet_every_h * cph,
        horizon=s.magnet_horizon_h * cph,
        ratio=s.magnet_ratio,
        replicates=s.replicates,
        seed=s.seed,
    )
    modes = frame[C.MODE].value_counts().to_dict()
    close = frame["close"].to_numpy(float)
    return {
        "pair": pair,
        "start": str(frame["date"].iloc[0]),
        "end": str(frame["date"].iloc[-1]),
        "candles": len(frame),
        "decisions": len(panel),
        "modes": {str(k): int(v) for k, v in modes.items()},
        "market_change_pct": float(100 * (close[-1] / close[0] - 1)),
        "settings": asdict(s),
        "ic": _ic_rows(panel, s),
        "events": [e.as_dict() for e in all_events(panel, s.horizons_h, s.replicates, s.seed)],
        "magnet": magnet.as_dict(),
        "stops": (
            None
            if history is None
            else stop_study(
                history,
                StopSettings(
                    every=s.stop_every_h * cph,
                    horizon=s.stop_horizon_h * cph,
                ),
                replicates=s.replicates,
                seed=s.seed,
            )
        ),
    }


def _fmt(est: dict[str, Any] | None, scale: float = 1.0, digits: int = 3) -> str:
    if not est or not np.isfinite(est["value"]):
        return "-"
    v, lo, hi = (scale * est[k] for k in ("value", "low", "high"))
    mark = " *" if lo > 0 or hi < 0 else ""
    return f"{v:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]{mark}"


def markdown(results: list[dict[str, Any]], header: str) -> str:
    """The report of one or more pairs' studies."""
    lvl = int(100 * LEVEL)
    lines = [
        "# Liquidation-feature study",
        "",
        header,
        "",
        f"Intervals: {lvl} % moving-block bootstrap (blocks of max(24, 2·horizon) hourly "
        "decisions for ICs, of the horizon for events and the magnet test); `*` marks an "
        "interval that excludes 0. IC = Spearman rank correlation with the forward log "
        "return; *partial* = after regressing feature and return ranks on the past 1 h "
        'and 24 h returns ("returns") or on those plus 24 h realised volatility ("TA"). '
        "`ret_*`/`rv_24h` rows are the naive baselines (momentum, volatility).",
        "",
    ]
    for r in results:
        lines += [
            f"## {r['pair']}: {r['start'][:10]} → {r['end'][:10]}",
            "",
            f"{r['candles']} candles, {r['decisions']} hourly decisions, map modes "
            f"{r['modes']}, market change {r['market_change_pct']:+.1f} %.",
            "",
            "### Information coefficients",
            "",
            "| feature | h | corr w/ past 24 h | IC | partial (returns) | partial (TA) |",
            "|---|---|---|---|---|---|",
        ]
        for row in r["ic"]:
            lines.append(
                f"| {row['feature']} | {row['horizon_h']} h | {row['corr_past_24h']:+.2f} | "
                f"{_fmt(row['ic'])} | {_fmt(row['partial_returns'])} | {_fmt(row['partial_ta'])} |"
            )
        lines += [
            "",
            "### Event studies (matched controls; outcomes in % log return)",
            "",
            "| event | outcome | h | treated | n | matched controls | difference |",
            "|---|---|---|---|---|---|---|",
        ]
        for e in r["events"]:
            d = e["difference"]
            lines.append(
                f"| {e['name']} | {e['outcome']} | {e['horizon_h']} h | "
                f"{100 * e['treated_mean']:+.3f} | {d['n']} | {100 * e['control_mean']:+.3f} | "
                f"{_fmt(d, 100)} |"
            )
        m = r["magnet"]
        st = r["settings"]
        lines += [
            "",
            "### Magnet test (driftless first-passage null)",
            "",
            f"Every {st['magnet_every_h']} h, where the largest cluster on one side outweighs "
            f"the other side's by ≥ {st['magnet_ratio']:g}×: is the larger one reached first "
            f"within {st['magnet_horizon_h']} h (5m closes)? {m['decisions']} decisions; the "
            f"larger cluster sits above price in {100 * m['larger_above_share']:.0f} % of them; "
            f"{100 * m['resolved_share']:.0f} % reach either within the horizon.",
            "",
            "| observed P(larger first) | driftless null | excess |",
            "|---|---|---|",
            f"| {m['observed_larger_first']:.3f} | {m['null_larger_first']:.3f} | "
            f"{_fmt(m['excess'])} |",
            "",
        ]
        lines += stops_markdown(r.get("stops"))
    return "\n".join(lines)


def stops_markdown(stops: dict[str, Any] | None) -> list[str]:
    """The stop study's table (:mod:`liq_signals.study.stops`)."""
    if not stops:
        return []
    if not stops["arms"]:
        return ["### Stops placed by the map", "", f"{stops['entries']} entries: too few.", ""]
    st = stops["settings"]
    lines = [
        "### Stops placed by the map (same entries, distance-matched)",
        "",
        f"{stops['entries']} trades (a long and a short every {st['every_candles']} candles), "
        f"held ≤ {st['horizon_candles']} candles; map stop = nearest cluster on the stop "
        f"side + {st['buffer_atr']:g} ATR; ATR stop = {stops['atr_multiple']:.2f} ATR (same "
        f"mean distance); placebo = the map rule on the map of {st['shifts_days']} days "
        "earlier (mean). P&L in % of price per trade, no fees.",
        "",
        "| stop | mean distance % | stopped out | P&L % per trade |",
        "|---|---|---|---|",
    ]
    for name, a in stops["arms"].items():
        lines.append(
            f"| {name} | {a['stop_pct']:.2f} | {_fmt(a['stopped']).removesuffix(' *')} | "
            f"{_fmt(a['pnl_pct'])} |"
        )
    for name, d in stops["differences"].items():
        lines.append(f"| {name} | | {_fmt(d['stopped'])} | {_fmt(d['pnl_pct'])} |")
    lines.append("")
    return lines


def figure(results: list[dict[str, Any]], path: Path, horizon_h: int = 4) -> None:
    """IC (raw and partial on TA) per term at ``horizon_h``, and the magnet excess, per pair."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [3, 1]})
    ax = axes[0]
    names = sorted(
        {
            row["feature"]
            for r in results
            for row in r["ic"]
            if row["feature"].startswith("liq_term")
        }
        | set(BASELINES[:2])
    )
    width = 0.8 / max(1, 2 * len(results))
    for i, r in enumerate(results):
        rows = {row["feature"]: row for row in r["ic"] if row["horizon_h"] == horizon_h}
        for j, kind in enumerate(("ic", "partial_ta")):
            vals: list[float] = []
            errs: list[list[float]] = [[], []]
            for n in names:
                est = (rows.get(n) or {}).get(kind) or {
                    "value": np.nan,
                    "low": np.nan,
                    "high": np.nan,
                }
                vals.append(est["value"])
                errs[0].append(est["value"] - est["low"])
                errs[1].append(est["high"] - est["value"])
            x = np.arange(len(names)) + (2 * i + j) * width
            ax.bar(
                x, vals, width, yerr=errs, label=f"{r['pair']} {'IC' if j == 0 else 'partial (TA)'}"
            )
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(np.arange(len(names)) + 0.4 - width / 2)
    ax.set_xticklabels([n.replace("liq_term_", "") for n in names], rotation=30, ha="right")
    ax.set_title(
        f"rank IC with the {horizon_h} h forward return ({int(100 * LEVEL)} % block bootstrap)"
    )
    ax.legend(fontsize=7)
    ax = axes[1]
    for i, r in enumerate(results):
        e = r["magnet"]["excess"]
        if np.isfinite(e["value"]):
            ax.errorbar(
                [i], [e["value"]], yerr=[[e["value"] - e["low"]], [e["high"] - e["value"]]], fmt="o"
            )
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(range(len(results)))
    ax.set_xticklabels([r["pair"].split("/")[0] for r in results])
    ax.set_title("magnet: P(larger first) − null")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_report(results: list[dict[str, Any]], out_dir: Path, header: str) -> list[Path]:
    """``study.md``, ``study.json`` and ``study.png`` in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md, js, png = out_dir / "study.md", out_dir / "study.json", out_dir / "study.png"
    md.write_text(markdown(results, header) + "\n")
    js.write_text(json.dumps({"header": header, "pairs": results}, indent=1, default=float))
    figure(results, png)
    return [md, js, png]
