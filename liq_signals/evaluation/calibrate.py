"""Fit the model's free parameters to a realized record on one window, score on another.

A small exhaustive grid (the engine runs a month of 5-minute candles in a few
hundredths of a second, so a few dozen runs cost seconds and, unlike a local optimiser,
cannot get stuck on the rank objective's flat steps):

* ``leverage_alpha`` (slope of the leverage mix) and ``decay_half_life_hours`` shape
  *where* and *how long* levels sit.  They are fitted by the log-ratio dispersion
  (:func:`liq_signals.evaluation.metrics.log_ratio`, mean of long and short, lower is
  better): measured on real candles, the per-period Spearman ρ of records generated
  with different parameters stays above 0.998 for every grid point, so ranks cannot tell
  parameters apart, while the spread of log(realized / implied) can — and, being
  scale-free, it is not biased by a lower-bound record;
* ``taker_tilt`` only matters with taker-flow metrics: on the grid only when they exist;
* ``participation`` (volume mode) scales every opened position alike, which no rank
  correlation can see: it is set afterwards so that the median realized / implied ratio
  on the fit window becomes 1.  That is only meaningful for a *complete* record (Bybit
  ``allLiquidation``); Binance's throttled ``forceOrder`` is a lower bound and would bias
  it down — the result says which.

The fitted parameters are then scored on the test window, which the fit never saw, next
to the starting configuration's scores on both windows.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import pandas as pd

from liq_signals import columns as C
from liq_signals.config import ModelConfig
from liq_signals.evaluation.metrics import log_ratio
from liq_signals.evaluation.realized import COL_EXCHANGE, EXCHANGE_BINANCE, RealizedRecord
from liq_signals.evaluation.runner import (
    P_IMPLIED_LONG,
    P_IMPLIED_SHORT,
    P_REALIZED_LONG,
    P_REALIZED_SHORT,
    SideScores,
    ValidationError,
    mean_rho,
    period_table,
    realized_per_period,
    run_model,
    score_periods,
)
from liq_signals.timeframes import timeframe_seconds

logger = logging.getLogger(__name__)

DEFAULT_GRID: dict[str, tuple[float, ...]] = {
    "leverage_alpha": (0.5, 1.0, 1.5, 2.0),
    "decay_half_life_hours": (12.0, 24.0, 72.0, 168.0),
    "taker_tilt": (0.0, 0.5, 1.0),
}
PARTICIPATION_BOUNDS = (1e-4, 1.0)


@dataclass(frozen=True)
class WindowScores:
    """Scores of one configuration on one window."""

    long: SideScores
    short: SideScores
    spearman: float
    objective: float
    log_scale: float
    periods: int
    implied_usd: float
    realized_usd: float


@dataclass(frozen=True)
class CalibrationResult:
    """What :func:`calibrate` found.

    :param grid: one row per grid point with its fit-window objective
    :param participation_note: how participation was set (or why not)
    """

    base: ModelConfig
    best: ModelConfig
    fitted: tuple[str, ...]
    grid: pd.DataFrame
    base_fit: WindowScores
    base_test: WindowScores
    best_fit: WindowScores
    best_test: WindowScores
    participation_note: str


def _window(
    features: pd.DataFrame,
    realized_per: pd.DataFrame,
    window: tuple[pd.Timestamp, pd.Timestamp],
    period: str,
    tf_s: int,
) -> pd.DataFrame:
    last = window[1] - pd.Timedelta(period)
    return period_table(features, realized_per, (window[0], last), period, tf_s)


def _scores(per: pd.DataFrame) -> WindowScores:
    """Scores of one window; ``objective`` is the mean log-ratio dispersion (lower is
    better), ``log_scale`` the median log(realized / implied) over both sides."""
    long_s, short_s = score_periods(per)
    ratios = [
        log_ratio(per[P_IMPLIED_LONG].to_numpy(), per[P_REALIZED_LONG].to_numpy()),
        log_ratio(per[P_IMPLIED_SHORT].to_numpy(), per[P_REALIZED_SHORT].to_numpy()),
    ]
    disp = [r.dispersion for r in ratios if math.isfinite(r.dispersion)]
    both = np.concatenate(
        [
            np.log(per[r].to_numpy()[(per[r] > 0) & (per[i] > 0)])
            - np.log(per[i].to_numpy()[(per[r] > 0) & (per[i] > 0)])
            for i, r in ((P_IMPLIED_LONG, P_REALIZED_LONG), (P_IMPLIED_SHORT, P_REALIZED_SHORT))
        ]
    )
    return WindowScores(
        long=long_s,
        short=short_s,
        spearman=mean_rho(long_s.implied, short_s.implied),
        objective=float(np.mean(disp)) if disp else math.nan,
        log_scale=float(np.median(both)) if both.size else math.nan,
        periods=len(per),
        implied_usd=float(per[P_IMPLIED_LONG].sum() + per[P_IMPLIED_SHORT].sum()),
        realized_usd=float(per[P_REALIZED_LONG].sum() + per[P_REALIZED_SHORT].sum()),
    )


def _lower_bound_note(realized: RealizedRecord) -> str | None:
    """Why participation is not fitted on a lower-bound record (None: it may be)."""
    if not realized.events.empty and set(realized.events[COL_EXCHANGE]) == {EXCHANGE_BINANCE}:
        return (
            "not fitted: the record is Binance forceOrder only, a lower bound (at most one "
            "event per second), which would bias participation down"
        )
    if realized.events.empty and realized.complete is False:
        return (
            "not fitted: the aggregated record says it is a lower bound "
            f"({realized.exchange or 'exchange not stated'}), which would bias participation down"
        )
    return None


def calibrate(
    candles: pd.DataFrame,
    realized: RealizedRecord,
    *,
    pair: str,
    fit_range: tuple[pd.Timestamp, pd.Timestamp],
    test_range: tuple[pd.Timestamp, pd.Timestamp],
    timeframe: str = "5m",
    period: str = "1h",
    base: ModelConfig | None = None,
    grid: dict[str, tuple[float, ...]] | None = None,
    fit_participation: bool = True,
    open_interest: pd.DataFrame | None = None,
    mark: pd.DataFrame | None = None,
    metrics: pd.DataFrame | None = None,
) -> CalibrationResult:
    """Grid-search the free parameters on ``fit_range``; score best and base on both.

    :param candles: candles covering a warm-up, the fit and the test windows
    :param fit_range: ``[start, end)`` of the fit window
    :param test_range: ``[start, end)`` of the test window (should not overlap the fit)
    :param grid: parameter -> values (default :data:`DEFAULT_GRID`; ``taker_tilt`` is
        dropped when no taker metrics are given, since it cannot change anything then)
    :raise ValidationError: windows that overlap or contain too few periods
    """
    base = base or ModelConfig()
    grid = dict(DEFAULT_GRID if grid is None else grid)
    if fit_range[0] < test_range[1] and test_range[0] < fit_range[1]:
        raise ValidationError(f"fit {fit_range} and test {test_range} windows overlap")
    known = {f.name for f in fields(ModelConfig)}
    unknown = sorted(set(grid) - known)
    if unknown:
        raise ValidationError(f"--grid names unknown ModelConfig field(s) {unknown}")
    if metrics is None and "taker_tilt" in grid:
        logger.info("no taker metrics: taker_tilt has no effect and is not fitted")
        grid.pop("taker_tilt")
    tf_s = timeframe_seconds(timeframe)
    realized_per, _ = realized_per_period(realized, period)
    frames = dict(open_interest=open_interest, mark=mark, metrics=metrics)

    def evaluate(cfg: ModelConfig) -> tuple[WindowScores, WindowScores, pd.DataFrame]:
        run = run_model(candles, pair=pair, timeframe=timeframe, config=cfg, **frames)
        fit_per = _window(run.features, realized_per, fit_range, period, tf_s)
        test_per = _window(run.features, realized_per, test_range, period, tf_s)
        if len(fit_per) < 5 or len(test_per) < 5:
            raise ValidationError(
                f"fit window has {len(fit_per)} and test window {len(test_per)} complete "
                f"{period} periods with candles; need at least 5 each"
            )
        return _scores(fit_per), _scores(test_per), run.features

    names = tuple(grid)
    rows = []
    best_cfg, best_obj = base, math.inf
    for values in itertools.product(*(grid[n] for n in names)):
        # Any: the grid may name any ModelConfig field, whatever its type.
        point: dict[str, Any] = dict(zip(names, values, strict=True))
        cfg = replace(base, **point)
        fit_s, _, _ = evaluate(cfg)
        rows.append(
            {
                **point,
                "fit_log_ratio_dispersion": fit_s.objective,
                "fit_spearman": fit_s.spearman,
            }
        )
        if math.isfinite(fit_s.objective) and fit_s.objective < best_obj - 1e-12:
            best_cfg, best_obj = cfg, fit_s.objective
    table = pd.DataFrame(rows).sort_values("fit_log_ratio_dispersion", na_position="last")

    fitted = list(names)
    best_fit, _, features = evaluate(best_cfg)
    note = "not fitted (--no-participation)"
    lower_bound = _lower_bound_note(realized)
    if fit_participation and lower_bound:
        note = lower_bound
    elif fit_participation:
        volume_share = float((features[C.MODE] == C.MODE_VOLUME).mean())
        if volume_share < 0.5:
            note = (
                f"not fitted: the engine ran in open-interest mode on {1 - volume_share:.0%} "
                "of candles, where participation has no effect"
            )
        elif not math.isfinite(best_fit.log_scale):
            note = "not fitted: too few periods with both implied and realized liquidations"
        else:
            scale = math.exp(best_fit.log_scale)
            value = float(np.clip(best_cfg.participation * scale, *PARTICIPATION_BOUNDS))
            note = (
                f"scaled {best_cfg.participation:g} -> {value:.6g} so the median realized / "
                "implied ratio on the fit window is 1 (valid only for a complete record)"
            )
            best_cfg = replace(best_cfg, participation=value)
            fitted.append("participation")
    best_fit, best_test, _ = evaluate(best_cfg)
    base_fit, base_test, _ = evaluate(base)
    return CalibrationResult(
        base=base,
        best=best_cfg,
        fitted=tuple(fitted),
        grid=table,
        base_fit=base_fit,
        base_test=base_test,
        best_fit=best_fit,
        best_test=best_test,
        participation_note=note,
    )
