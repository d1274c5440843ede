"""Fit the model's free parameters to a realized record, walk-forward, with Optuna.

What is fitted, and on what (docs/validation.md, "Calibration"):

* the **objective** (lower is better) scores the *standing* book — the map known at each
  period's start, crossed by the period's range (:mod:`.standing`) — not the nowcast:
  the mean of the long and short log-ratio dispersions (spread of log(realized /
  standing), scale-free, so a lower-bound record is not penalised) plus the side-balance
  error ``|log(Σshort/Σlong implied ÷ realized)|`` over the window and, at half weight,
  on its largest rally and sell-off.  Rank correlations are reported but not optimised:
  across very different books they move by less than 0.02 (validate's sensitivity
  sweep), so they cannot tell parameters apart;
* the **search** is Optuna's TPE sampler over wide ranges (:data:`SPACE`: leverage slope
  from 0, half-life from 2 hours, the side-asymmetry switches), or, with an explicit
  grid, every combination of it; the sampler asks ``jobs`` trials at a time and ``jobs``
  worker processes score them, so a run is reproducible from its seed;
* **walk-forward folds**: the span is cut into ``folds + 1`` consecutive parts; fold i
  fits on parts 0…i and scores the fitted and the starting configuration on part i+1,
  which its fit never saw.  The configuration returned is fitted on the whole span;
* ``participation`` scales every opened position alike, which no scale-free score can
  see: it is set afterwards so that the median realized / implied ratio on the fit span
  is 1 — only for a *complete* record in volume mode (the result says why not otherwise).

The engine inputs are validated and aligned once; each trial only re-runs the engine
(:func:`liq_signals.evaluation.standing.standing_book`) up to the window's end.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, fields, replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from liq_signals import columns as C
from liq_signals.config import ModelConfig
from liq_signals.data.frames import PairFrames
from liq_signals.evaluation.metrics import log_ratio
from liq_signals.evaluation.realized import COL_EXCHANGE, EXCHANGE_BINANCE, RealizedRecord
from liq_signals.evaluation.runner import (
    P_IMPLIED_LONG,
    P_IMPLIED_SHORT,
    P_REALIZED_LONG,
    P_REALIZED_SHORT,
    ValidationError,
    _standing_columns,
    period_table,
    realized_per_period,
)
from liq_signals.evaluation.standing import (
    S_LONG,
    S_SHORT,
    largest_legs,
    period_candles,
    standing_book,
)
from liq_signals.features.params import engine_params_for
from liq_signals.features.pipeline import run as run_model
from liq_signals.timeframes import timeframe_seconds

logger = logging.getLogger(__name__)

#: searched ranges: field -> (low, high, log scale)
#: the side-asymmetry switches: each fold also scores its fit with each one turned off
ASYMMETRY = ("side_leverage_bias", "direction_tilt", "side_notional_bias")
SPACE: dict[str, tuple[float, float, bool]] = {
    "decay_half_life_hours": (2.0, 720.0, True),
    "leverage_alpha": (0.0, 3.0, False),
    "side_leverage_bias": (-1.5, 1.5, False),
    "direction_tilt": (0.0, 6.0, False),
    "side_notional_bias": (-0.8, 0.8, False),
    "taker_tilt": (0.0, 3.0, False),
    "oi_reconcile": (0.0, 1.0, False),
}
OBJECTIVES = ("standing", "nowcast")
PARTICIPATION_BOUNDS = (1e-4, 1.0)
LEG_WEIGHT = 0.5


@dataclass(frozen=True)
class WindowScores:
    """Scores of one configuration on one window (lower objective = better).

    :param dispersion: mean of the long and short log-ratio dispersions
    :param balance: ``|log(Σshort/Σlong implied ÷ realized)|`` over the window
    :param legs: the same on the largest rally and sell-off, ``(up, down)``
    :param log_scale: median log(realized / implied), both sides
    """

    objective: float
    dispersion: float
    balance: float
    legs: tuple[float, float]
    log_scale: float
    periods: int
    implied_usd: float
    realized_usd: float


def _abs_log_ratio(imp_s: float, imp_l: float, rea_s: float, rea_l: float) -> float:
    """|log(implied Σs/Σl ÷ realized Σs/Σl)|: NaN when the record has no liquidation on
    a side (nothing to compare), infinite when the model has none but the record has."""
    if min(rea_s, rea_l) <= 0:
        return math.nan
    if min(imp_s, imp_l) <= 0:
        return math.inf
    return abs(math.log((imp_s / imp_l) / (rea_s / rea_l)))


def _nan0(x: float) -> float:
    return 0.0 if math.isnan(x) else x


def window_scores(per: pd.DataFrame, implied: tuple[str, str]) -> WindowScores:
    """Objective of one window's period table, ``implied`` = (long, short) columns."""
    il, is_ = (per[c].to_numpy(dtype=float) for c in implied)
    rl, rs = per[P_REALIZED_LONG].to_numpy(dtype=float), per[P_REALIZED_SHORT].to_numpy(float)
    ratios = [log_ratio(il, rl), log_ratio(is_, rs)]
    finite = [r.dispersion for r in ratios if math.isfinite(r.dispersion)]
    disp = float(np.mean(finite)) if finite else math.inf
    balance = _abs_log_ratio(is_.sum(), il.sum(), rs.sum(), rl.sum())
    path = np.concatenate([[per["open"].iloc[0]], per["close"].to_numpy(dtype=float)])
    legs = []
    for i, j in largest_legs(path).values():
        sl = slice(i, max(j, i + 1))
        legs.append(_abs_log_ratio(is_[sl].sum(), il[sl].sum(), rs[sl].sum(), rl[sl].sum()))
    # a side the record never saw has no balance to compare (NaN counts 0)
    objective = disp + _nan0(balance) + LEG_WEIGHT * float(np.mean([_nan0(x) for x in legs]))
    both = np.concatenate(
        [
            np.log(r[(r > 0) & (i > 0)]) - np.log(i[(r > 0) & (i > 0)])
            for i, r in ((il, rl), (is_, rs))
        ]
    )
    return WindowScores(
        objective=objective if math.isfinite(objective) else math.inf,
        dispersion=disp,
        balance=balance,
        legs=(legs[0], legs[1]),
        log_scale=float(np.median(both)) if both.size else math.nan,
        periods=len(per),
        implied_usd=float(il.sum() + is_.sum()),
        realized_usd=float(rl.sum() + rs.sum()),
    )


class Evaluator:
    """Scores a configuration on a window; picklable (sent to worker processes).

    The frames are validated and aligned once (:func:`~liq_signals.features.run` with
    ``base``); a trial
    re-runs only the engine, up to the window's last candle.
    """

    def __init__(
        self,
        frames: PairFrames,
        realized: RealizedRecord,
        *,
        pair: str,
        timeframe: str,
        period: str,
        base: ModelConfig,
        objective: str = "standing",
        coverage: float = 1.0,
    ) -> None:
        if objective not in OBJECTIVES:
            raise ValidationError(f"objective {objective!r}: one of {OBJECTIVES}")
        tf_s = timeframe_seconds(timeframe)
        run = run_model(frames, pair=pair, timeframe=timeframe, config=base)
        realized_per, span = realized_per_period(realized, period)
        self.per = period_table(run.features, realized_per * coverage, span, period, tf_s)
        self.dates = pd.DatetimeIndex(run.features["date"])
        self.inputs = run.inputs
        self.volume_share = float((run.features[C.MODE] == C.MODE_VOLUME).mean())
        self.pair, self.period, self.base, self.objective = pair, period, base, objective

    @property
    def implied_columns(self) -> tuple[str, str]:
        if self.objective == "standing":
            return S_LONG, S_SHORT
        return P_IMPLIED_LONG, P_IMPLIED_SHORT

    def table(self, cfg: ModelConfig, window: tuple[pd.Timestamp, pd.Timestamp]) -> pd.DataFrame:
        """Period table of ``window`` ``[start, end)`` with the standing and nowcast
        columns of ``cfg``."""
        per = self.per[(self.per.index >= window[0]) & (self.per.index < window[1])]
        if len(per) < 5:
            raise ValidationError(
                f"window {window[0]} → {window[1]} holds {len(per)} complete {self.period} "
                "periods with candles and record; need at least 5"
            )
        starts, stops = period_candles(self.dates, pd.DatetimeIndex(per.index), self.period)
        if starts[0] < 1:
            raise ValidationError("a window starts at the first candle: no warm-up")
        inputs = self.inputs.slice(0, int(stops[-1]))
        sb = standing_book(inputs, engine_params_for(self.pair, cfg), starts, stops)
        return _standing_columns(per, sb, starts, stops)

    def scores(self, cfg: ModelConfig, window: tuple[pd.Timestamp, pd.Timestamp]) -> WindowScores:
        return window_scores(self.table(cfg, window), self.implied_columns)


# ---- the search --------------------------------------------------------------------------


def _suggest(trial: Any, space: dict[str, tuple[float, float, bool]], grid: dict | None) -> dict:
    if grid is not None:
        return {k: trial.suggest_categorical(k, list(v)) for k, v in grid.items()}
    return {k: trial.suggest_float(k, lo, hi, log=log) for k, (lo, hi, log) in space.items()}


#: the evaluator of the search running in this process; a worker gets it by fork
_EVALUATOR: Evaluator | None = None


def _install(evaluator: Evaluator | None) -> None:
    global _EVALUATOR  # one per process: set at a worker's start, or around a jobs=1 run
    _EVALUATOR = evaluator


def _objective(params: dict[str, Any], window: tuple[pd.Timestamp, pd.Timestamp]) -> float:
    """One trial: in a worker process, or in this one when ``jobs`` is 1."""
    if _EVALUATOR is None:
        raise RuntimeError("calibration worker started without an evaluator")
    return _EVALUATOR.scores(replace(_EVALUATOR.base, **params), window).objective


def _report_progress(
    values: list[float], label: str, total: int, report: Callable[[str], None]
) -> None:
    finite = [v for v in values if math.isfinite(v)]
    best = f"{min(finite):.4f}" if finite else "none"
    report(f"{label}: trial {len(values)}/{total}, objective {values[-1]:.4f}, best {best}")


def run_study(
    evaluator: Evaluator,
    window: tuple[pd.Timestamp, pd.Timestamp],
    *,
    trials: int,
    jobs: int = 1,
    seed: int = 0,
    space: dict[str, tuple[float, float, bool]] | None = None,
    grid: dict[str, tuple[float, ...]] | None = None,
    label: str = "fit",
    report: Callable[[str], None] = print,
) -> tuple[dict[str, Any], float, int]:
    """Minimise the objective on ``window``; ``(best params, best value, trials run)``.

    One sampler, in this process, asks ``jobs`` trials at a time; ``jobs`` worker
    processes score them and the results are told back in the order asked.  The sampler
    therefore sees the same history whichever worker finishes first: a run is
    reproducible from ``(seed, jobs)``.  (``jobs`` itself changes the result: a whole
    batch is sampled before any of it is scored.)  Progress every ten trials and at the end.
    """
    import optuna

    space = dict(SPACE if space is None else space)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if grid is None:
        sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=20, multivariate=True)
        study = optuna.create_study(direction="minimize", sampler=sampler)
    else:  # every combination, queued in order (the sampler is never asked)
        study = optuna.create_study(direction="minimize")
        for combination in itertools.product(*grid.values()):
            study.enqueue_trial(dict(zip(grid, combination, strict=True)))
        trials = len(study.get_trials(deepcopy=False))
    jobs = max(1, min(jobs, trials))
    values: list[float] = []
    with contextlib.ExitStack() as stack:
        _install(evaluator)
        stack.callback(_install, None)
        pool = None
        if jobs > 1:
            # fork: the workers inherit the evaluator instead of unpickling a copy each;
            # a worker that dies raises BrokenProcessPool here instead of hanging
            pool = stack.enter_context(
                ProcessPoolExecutor(
                    jobs,
                    mp_context=multiprocessing.get_context("fork"),
                    initializer=_install,
                    initargs=(evaluator,),
                )
            )
        while len(values) < trials:
            asked = [study.ask() for _ in range(min(jobs, trials - len(values)))]
            batch = [_suggest(t, space, grid) for t in asked]
            windows = [window] * len(batch)
            scored = list(
                map(_objective, batch, windows)
                if pool is None
                else pool.map(_objective, batch, windows)
            )
            for trial, value in zip(asked, scored, strict=True):
                study.tell(trial, value)
                values.append(value)
                if len(values) % 10 == 0 or len(values) == trials:
                    _report_progress(values, label, trials, report)
    done = [t for t in study.trials if t.value is not None]
    if not done or not math.isfinite(study.best_value):
        raise ValidationError(f"{label}: no trial gave a finite objective")
    return dict(study.best_params), float(study.best_value), len(done)


# ---- folds and the whole calibration -------------------------------------------------------


def walk_forward(
    start: pd.Timestamp, stop: pd.Timestamp, folds: int, period: str
) -> list[tuple[tuple[pd.Timestamp, pd.Timestamp], tuple[pd.Timestamp, pd.Timestamp]]]:
    """``folds`` (fit, test) windows: ``[start, stop)`` cut into ``folds + 1`` parts on
    period boundaries; fold i fits on parts 0…i and tests on part i+1."""
    if folds < 1:
        raise ValidationError("need at least one fold")
    edges = [(start + (stop - start) * k / (folds + 1)).floor(period) for k in range(folds + 2)]
    edges[-1] = stop
    return [((edges[0], edges[i + 1]), (edges[i + 1], edges[i + 2])) for i in range(folds)]


@dataclass(frozen=True)
class FoldResult:
    """One walk-forward fold: fitted on ``fit``, scored out of sample on ``test``."""

    fit: tuple[pd.Timestamp, pd.Timestamp]
    test: tuple[pd.Timestamp, pd.Timestamp]
    params: dict[str, Any]
    trials: int
    fitted_fit: WindowScores
    fitted_test: WindowScores
    base_test: WindowScores
    switched_off: dict[str, WindowScores] = field(default_factory=dict)


@dataclass
class CalibrationResult:
    """What :func:`calibrate` found.

    :param best: the configuration fitted on the whole ``span`` (participation included)
    :param folds: the walk-forward folds, each scored out of sample
    :param participation_note: how participation was set (or why not)
    """

    base: ModelConfig
    best: ModelConfig
    fitted: tuple[str, ...]
    span: tuple[pd.Timestamp, pd.Timestamp]
    best_span: WindowScores
    base_span: WindowScores
    folds: list[FoldResult] = field(default_factory=list)
    participation_note: str = ""
    seconds: float = 0.0


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


def _switched_off(cfg: ModelConfig, name: str) -> ModelConfig:
    off: dict[str, Any] = {name: 0.0}
    return replace(cfg, **off)


def _participation(
    realized: RealizedRecord,
    evaluator: Evaluator,
    span_scores: WindowScores,
    best: ModelConfig,
    fit: bool,
) -> tuple[str, float | None]:
    """How participation is set, and its new value (None: left alone)."""
    if not fit:
        return "not fitted (--no-participation)", None
    lower_bound = _lower_bound_note(realized)
    if lower_bound:
        return lower_bound, None
    if evaluator.volume_share < 0.5:
        return (
            f"not fitted: the engine ran in open-interest mode on "
            f"{1 - evaluator.volume_share:.0%} of candles, where participation has no effect"
        ), None
    if not math.isfinite(span_scores.log_scale):
        return "not fitted: too few periods with both implied and realized liquidations", None
    value = float(
        np.clip(best.participation * math.exp(span_scores.log_scale), *PARTICIPATION_BOUNDS)
    )
    return (
        f"scaled {best.participation:g} -> {value:.6g} so the median realized / implied "
        "ratio on the fit span is 1 (valid only for a complete record)"
    ), value


def search_space(
    space: dict[str, tuple[float, float, bool]] | None, has_metrics: bool, has_oi: bool = True
) -> dict[str, tuple[float, float, bool]]:
    """The searched ranges; ``taker_tilt`` only with taker metrics and ``oi_reconcile`` only
    with open interest (each changes nothing without its series).  Unknown fields are an
    error."""
    space = dict(SPACE if space is None else space)
    known = {f.name for f in fields(ModelConfig)}
    unknown = sorted(set(space) - known)
    if unknown:
        raise ValidationError(f"unknown ModelConfig field(s) {unknown}")
    if not has_metrics and "taker_tilt" in space:
        logger.info("no taker metrics: taker_tilt has no effect and is not fitted")
        space.pop("taker_tilt")
    if not has_oi and "oi_reconcile" in space:
        logger.info("no open interest: oi_reconcile has no effect and is not fitted")
        space.pop("oi_reconcile")
    return space


def calibrate(
    frames: PairFrames,
    realized: RealizedRecord,
    *,
    pair: str,
    span: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    folds: int = 3,
    fit_range: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    test_range: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    timeframe: str = "5m",
    period: str = "1h",
    base: ModelConfig | None = None,
    space: dict[str, tuple[float, float, bool]] | None = None,
    grid: dict[str, tuple[float, ...]] | None = None,
    trials: int = 200,
    jobs: int = 1,
    seed: int = 0,
    objective: str = "standing",
    coverage: float = 1.0,
    fit_participation: bool = True,
    report: Callable[[str], None] = print,
) -> CalibrationResult:
    """Walk-forward calibration (module docstring).

    :param span: ``[start, end)`` cut into the folds; the returned config is fitted on it
    :param fit_range: with ``test_range``: one explicit fold instead of ``folds``; the
        returned config is then the one fitted on ``fit_range``
    :param grid: field -> values: exhaustive grid instead of the TPE search of ``space``
    :raise ValidationError: windows that overlap or hold too few periods, unknown fields
    """
    t0 = time.monotonic()
    base = base or ModelConfig()
    if grid is not None:
        search_space(dict.fromkeys(grid, (0.0, 1.0, False)), True)  # field names checked
        if frames.metrics is None and "taker_tilt" in grid:
            grid = {k: v for k, v in grid.items() if k != "taker_tilt"}
    space = search_space(space, frames.metrics is not None, frames.open_interest is not None)
    evaluator = Evaluator(
        frames,
        realized,
        pair=pair,
        timeframe=timeframe,
        period=period,
        base=base,
        objective=objective,
        coverage=coverage,
    )
    if (fit_range is None) != (test_range is None):
        raise ValidationError("give both a fit and a test range, or neither")
    if fit_range is not None and test_range is not None:
        if fit_range[0] < test_range[1] and test_range[0] < fit_range[1]:
            raise ValidationError(f"fit {fit_range} and test {test_range} windows overlap")
        plan = [(fit_range, test_range)]
        final = fit_range
    elif span is not None:
        plan = walk_forward(span[0], span[1], folds, period)
        final = span
    else:
        raise ValidationError("give a span for the folds, or a fit and a test range")
    study = partial(
        run_study,
        evaluator,
        trials=trials,
        jobs=jobs,
        seed=seed,
        space=space,
        grid=grid,
        report=report,
    )
    fold_results = []
    for i, (fit, test) in enumerate(plan):
        label = f"fold {i + 1}/{len(plan)}"
        report(
            f"{label}: fit {fit[0]:%Y-%m-%d} → {fit[1]:%Y-%m-%d}, "
            f"test {test[0]:%Y-%m-%d} → {test[1]:%Y-%m-%d}"
        )
        params, _, n = study(fit, label=label)
        cfg = replace(base, **params)
        fold_results.append(
            FoldResult(
                fit,
                test,
                params,
                n,
                evaluator.scores(cfg, fit),
                evaluator.scores(cfg, test),
                evaluator.scores(base, test),
                {
                    k: evaluator.scores(_switched_off(cfg, k), test)
                    for k in ASYMMETRY
                    if params.get(k, 0.0) != 0.0
                },
            )
        )
    if fit_range is not None:
        params = fold_results[0].params
    else:
        report(f"final: fit {final[0]:%Y-%m-%d} → {final[1]:%Y-%m-%d}")
        params, _, _ = study(final, label="final")
    best = replace(base, **params)
    fitted = list(params)
    best_span = evaluator.scores(best, final)
    note, participation = _participation(realized, evaluator, best_span, best, fit_participation)
    if participation is not None:
        best = replace(best, participation=participation)
        fitted.append("participation")
        best_span = evaluator.scores(best, final)
    return CalibrationResult(
        base=base,
        best=best,
        fitted=tuple(fitted),
        span=final,
        best_span=best_span,
        base_span=evaluator.scores(base, final),
        folds=fold_results,
        participation_note=note,
        seconds=time.monotonic() - t0,
    )
