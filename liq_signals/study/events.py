"""Event studies with matched controls on the decision panel (:mod:`.panel`).

Each study compares rows where something liquidation-related happens (the treated) with
rows where it does not (the controls) *matched on what a TA trader already sees* — the
size of the move and the volume, or the past day's return — so that a difference is
what the map adds, not momentum or activity in disguise:

* **dense zone**: a large 1 h move (top decile of |return|) into a dense book on its side
  (liquidation notional per 1 % in the move's direction, relative to its trailing 30-day
  median, top third) vs the same-size move and volume into a thin book (bottom third).
  Outcomes: continuation (forward return signed by the move) and forward range.
* **sweep**: a large sweep (swept notional of the last hour relative to its 30-day median,
  top 5 %: the nowcast's "cascade in progress") vs the same move and volume without one
  (below the median).  Outcomes: reversal (forward return signed against the last hour's
  move) and forward range.
* **imbalance**: extreme imbalance (top / bottom 5 % of the 5 % band) vs ordinary
  imbalance (middle half) after the same past-24 h return.  Outcome: forward return
  (the premise says positive after a high imbalance, negative after a low one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from liq_signals import columns as C
from liq_signals.study.estimators import (
    Estimate,
    combine_bins,
    matched_difference,
    quantile_bins,
)

#: Trailing window (decision rows = hours) of the medians that normalise book sizes.
NORM_HOURS = 30 * 24


@dataclass(frozen=True)
class EventResult:
    """One matched comparison: treated mean, control mean, their difference."""

    name: str
    outcome: str
    horizon_h: int
    treated_mean: float
    control_mean: float
    difference: Estimate

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "outcome": self.outcome,
            "horizon_h": self.horizon_h,
            "treated_mean": self.treated_mean,
            "control_mean": self.control_mean,
            "difference": self.difference.as_dict(),
        }


def _relative(series: pd.Series) -> pd.Series:
    """Value over its trailing median (causal; the scale of the book drifts with OI)."""
    median = series.rolling(NORM_HOURS, min_periods=NORM_HOURS // 4).median()
    return series / median.where(median > 0)


def _compare(name: str, outcome: str, h: int, y, treated, control, strata, **kw) -> EventResult:
    diff, a, b = matched_difference(np.asarray(y, float), treated, control, strata, **kw)
    return EventResult(name, outcome, h, a, b, diff)


def dense_zone(panel: pd.DataFrame, h: int, replicates: int, seed: int) -> list[EventResult]:
    """Large moves into a dense vs a thin book, same move size and volume."""
    ret = panel["ret_1h"].to_numpy(float)
    up_side = ret > 0
    # the book the move was running into, as known before it (previous decision row)
    up = _relative(panel[C.CASCADE_UP_USD_PER_PCT]).shift(1).to_numpy(float)
    down = _relative(panel[C.CASCADE_DOWN_USD_PER_PCT]).shift(1).to_numpy(float)
    density = np.where(up_side, up, down)
    big = quantile_bins(np.abs(ret), 10) == 9
    dens_bin = np.full(len(ret), -1)
    dens_bin[big] = quantile_bins(np.where(big, density, np.nan)[big], 3)
    strata = combine_bins(
        quantile_bins(np.where(big, np.abs(ret), np.nan), 3),
        quantile_bins(panel["volume_rel"].to_numpy(float), 3),
    )
    treated, control = big & (dens_bin == 2), big & (dens_bin == 0)
    block = max(2, h // 2)
    sign = np.sign(ret)
    return [
        _compare(
            "dense zone vs thin book",
            outcome,
            h,
            values,
            treated,
            control,
            strata,
            block=block,
            replicates=replicates,
            seed=seed,
        )
        for outcome, values in (
            ("continuation", sign * panel[f"fwd_{h}h"]),
            ("range", panel[f"range_{h}h"]),
        )
    ]


def after_sweep(panel: pd.DataFrame, h: int, replicates: int, seed: int) -> list[EventResult]:
    """A large sweep vs the same move and volume without one: does price reverse?"""
    swept = _relative(panel[C.SWEPT_LONG_USD_RECENT] + panel[C.SWEPT_SHORT_USD_RECENT])
    s = swept.to_numpy(float)
    finite = np.isfinite(s)
    hi = np.nanquantile(s, 0.95) if finite.any() else np.inf
    md = np.nanmedian(s) if finite.any() else -np.inf
    ret = panel["ret_1h"].to_numpy(float)
    strata = combine_bins(
        quantile_bins(np.abs(ret), 10), quantile_bins(panel["volume_rel"].to_numpy(float), 3)
    )
    y = -np.sign(ret) * panel[f"fwd_{h}h"].to_numpy(float)
    treated, control = finite & (s >= hi), finite & (s <= md)
    kw = {"block": max(2, h // 2), "replicates": replicates, "seed": seed}
    return [
        _compare("large sweep vs none", "reversal", h, y, treated, control, strata, **kw),
        # the nowcast as "cascade in progress": is the next stretch wilder than after the
        # same move and volume without a sweep?
        _compare(
            "large sweep vs none",
            "range",
            h,
            panel[f"range_{h}h"],
            treated,
            control,
            strata,
            **kw,
        ),
    ]


def extreme_imbalance(panel: pd.DataFrame, h: int, replicates: int, seed: int) -> list[EventResult]:
    """Extreme imbalance vs ordinary imbalance after the same past-24 h return."""
    imb = panel[C.imbalance_log(5.0)].to_numpy(float)
    finite = np.isfinite(imb)
    if finite.sum() < 100:
        return []
    q05, q25, q75, q95 = np.nanquantile(imb, [0.05, 0.25, 0.75, 0.95])
    strata = quantile_bins(panel["ret_24h"].to_numpy(float), 10)
    control = finite & (imb >= q25) & (imb <= q75)
    y = panel[f"fwd_{h}h"].to_numpy(float)
    kw = {"block": max(2, h // 2), "replicates": replicates, "seed": seed}
    return [
        _compare(
            "imbalance top 5 % vs middle",
            "forward return",
            h,
            y,
            finite & (imb >= q95),
            control,
            strata,
            **kw,
        ),
        _compare(
            "imbalance bottom 5 % vs middle",
            "forward return",
            h,
            y,
            finite & (imb <= q05),
            control,
            strata,
            **kw,
        ),
    ]


def all_events(
    panel: pd.DataFrame, horizons_h: tuple[int, ...], replicates: int, seed: int
) -> list[EventResult]:
    """Every event study at every horizon."""
    out: list[EventResult] = []
    for h in horizons_h:
        for study in (dense_zone, after_sweep, extreme_imbalance):
            out += study(panel, h, replicates, seed)
    return out
