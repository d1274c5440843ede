"""The standing book: what the map showed at a period's start, scored on what followed.

The per-period nowcast (implied = levels swept during the period) is dominated by levels
opened in the same hours and crossed by the same candles; it barely depends on the map
a trader sees.  The *standing* book is that map: the book after the last candle before the
period, integrated from that candle's close up to the period's high (shorts) and down to
its low (longs) — levels the period then traded through.  Nothing opened inside the period
counts.

Every score here comes with the naive baselines a map has to beat (docs/validation.md),
in two kinds.  *Ex ante* ones use only what a trader knows at the period's start, as the
map does (besides the period's move, which every score is conditioned on):

* ``move``: (high − open) / open of the period (shorts; (open − low) / open for longs);
* ``move_trailing_volume``: the move × the mean hourly quote volume of the 24 hours
  before the period (candles strictly before its start);
* ``move_open_interest``: the move × open interest in USD at the last candle before the
  period, as the engine sees it (after its lag); absent unless every scored period has it.

*Ex post* ones use the period's own quote volume, which the liquidations inflate (their
forced market orders are part of it): no map reader knows it at the start.

* ``range_volume``: the move × quote volume of the period;
* ``candle_range_volume``: the same summed over the period's candles;
* ``new_extreme_volume``: how far the period's high went beyond the highest high of the
  preceding day (for longs: below the lowest low), relative to the open, × quote volume —
  "price reached a new extreme where stops sit", which needs no book.

Differences model − baseline carry a moving-block bootstrap 95 % interval (blocks of whole
periods spanning at least ``block`` of time, resampled with replacement; percentiles).
The best baseline of each kind is the one with the highest ρ on the scored window itself
(chosen after seeing it, which favours the baseline).  :func:`walk_forward_adds` asks
whether the standing book adds to the best ex-post baseline out of sample;
:func:`paired_difference` compares two books on the same resamples.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from liq_signals.engine.book import EngineInputs, EngineParams, advance, new_state
from liq_signals.engine.kernel import FScal
from liq_signals.evaluation.metrics import (
    Correlation,
    log_ratio,
    partial_spearman_multi,
    spearman,
)

# per-period columns added to the period table
S_LONG = "standing_long_usd"
S_SHORT = "standing_short_usd"
S_NEAR = "near_book_usd"
B_RANGE_LONG = "range_volume_long"
B_RANGE_SHORT = "range_volume_short"
B_CANDLE_LONG = "candle_range_volume_long"
B_CANDLE_SHORT = "candle_range_volume_short"
B_EXTREME_LONG = "new_extreme_volume_long"
B_EXTREME_SHORT = "new_extreme_volume_short"
B_MOVE_LONG = "move_long"
B_MOVE_SHORT = "move_short"
B_TRAIL_LONG = "move_trailing_volume_long"
B_TRAIL_SHORT = "move_trailing_volume_short"
B_OI_LONG = "move_open_interest_long"
B_OI_SHORT = "move_open_interest_short"
#: baselines a map reader can know at the period's start (besides the move itself)
BASELINES_EX_ANTE = ("move", "move_trailing_volume", "move_open_interest")
#: baselines that use the period's own quote volume
BASELINES_EX_POST = ("range_volume", "candle_range_volume", "new_extreme_volume")
BASELINES = BASELINES_EX_ANTE + BASELINES_EX_POST
#: the card's scores: each book (at the period's start, swept during it) and side, in the
#: order the reports list them
BOOK_SIDES: tuple[tuple[str, str], ...] = tuple(
    (book, side) for book in ("standing", "nowcast") for side in ("long", "short")
)
#: hours of quote volume averaged by ``move_trailing_volume``
TRAILING_HOURS = 24
#: depth scores divide by the move, floored here (a period that barely moved on one
#: side would otherwise dominate the ratio)
MIN_MOVE = 0.002


@dataclass(frozen=True)
class StandingBook:
    """Per period: the standing book crossed by the period's range, and near the price.

    :param long_usd: long levels in ``[period low, reference close)``
    :param short_usd: short levels in ``(reference close, period high]``
    :param near_usd: long + short levels within ``near_pct`` of the reference close
    :param out: the engine's per-candle output over all the inputs (the same rows as
        one batch run: advancing in slices is bit-identical)
    """

    long_usd: np.ndarray
    short_usd: np.ndarray
    near_usd: np.ndarray
    out: np.ndarray


def standing_book(
    inputs: EngineInputs,
    params: EngineParams,
    starts: np.ndarray,
    stops: np.ndarray,
    near_pct: float = 1.0,
) -> StandingBook:
    """Advance the book to each period's start and read it there.

    :param starts: index of each period's first candle (increasing, >= 1)
    :param stops: one past each period's last candle
    :param near_pct: half-width of the "near the price" band, percent of the close
    """
    delta = params.cfg.grid_step
    n = len(starts)
    out_l, out_s, out_n = np.zeros(n), np.zeros(n), np.zeros(n)
    state = new_state(params.cfg)
    done = 0
    outs = []
    for p in range(n):
        s, e = int(starts[p]), int(stops[p])
        if s < 1 or e <= s:
            raise ValueError(f"period {p}: bad candle range [{s}, {e})")
        if s > done:
            state, o = advance(state, inputs.slice(done, s), params, inplace=True)
            outs.append(o)
            done = s
        k0 = state.k0
        price = state.price
        lu = state.long_q * (state.fscal[FScal.LONG_SCALE] * price)
        su = state.short_q * (state.fscal[FScal.SHORT_SCALE] * price)
        size = len(price)
        ln_c = math.log(inputs.close[s - 1])
        hi = float(inputs.high[s:e].max())
        lo = float(inputs.low[s:e].min())
        # bins the kernel would consume: shorts floor(ln c/δ)+1 … floor(ln H/δ), longs
        # ceil(ln L/δ) … ceil(ln c/δ)−1 (the same rounding as its consume step)
        first_s = math.floor(ln_c / delta) + 1
        last_l = math.ceil(ln_c / delta) - 1
        out_s[p] = _bin_sum(su, k0, size, first_s, math.floor(math.log(hi) / delta))
        out_l[p] = _bin_sum(lu, k0, size, math.ceil(math.log(lo) / delta), last_l)
        near = math.log1p(near_pct / 100.0)
        far = math.log1p(-near_pct / 100.0)
        out_n[p] = _bin_sum(su, k0, size, first_s, math.floor((ln_c + near) / delta)) + _bin_sum(
            lu, k0, size, math.ceil((ln_c + far) / delta), last_l
        )
    if done < len(inputs):
        state, o = advance(state, inputs.slice(done, len(inputs)), params, inplace=True)
        outs.append(o)
    return StandingBook(out_l, out_s, out_n, np.concatenate(outs))


def _bin_sum(usd: np.ndarray, k0: int, size: int, k_from: int, k_to: int) -> float:
    lo = max(k_from - k0, 0)
    hi = min(k_to - k0, size - 1)
    return float(usd[lo : hi + 1].sum()) if hi >= lo else 0.0


def period_candles(dates: pd.DatetimeIndex, periods: pd.DatetimeIndex, period: str) -> tuple:
    """``(starts, stops)`` candle indices of each period (complete periods only)."""
    starts = np.searchsorted(dates.asi8, periods.as_unit(dates.unit).asi8)
    ends = np.searchsorted(dates.asi8, (periods + pd.Timedelta(period)).as_unit(dates.unit).asi8)
    return starts, ends


def add_baselines(
    per: pd.DataFrame,
    candles: pd.DataFrame,
    starts: np.ndarray,
    stops: np.ndarray,
    tf_s: int,
    oi: np.ndarray | None = None,
) -> pd.DataFrame:
    """The naive baselines of each side (module docstring), as columns of ``per`` (a copy).

    :param oi: open interest in contracts per candle as the engine uses it (lagged, NaN
        where unknown: ``EngineInputs.oi``); ``move_open_interest`` reads it at the last
        candle before each period, × that candle's close, and is left out (no column)
        unless it is known there for every period
    """
    o = candles["open"].to_numpy(dtype=float)
    h = candles["high"].to_numpy(dtype=float)
    lo = candles["low"].to_numpy(dtype=float)
    c = candles["close"].to_numpy(dtype=float)
    qv = candles["volume"].to_numpy(dtype=float) * (h + lo + c) / 3.0
    c_up = np.concatenate([[0.0], np.cumsum((h - o) / o * qv)])
    c_down = np.concatenate([[0.0], np.cumsum((o - lo) / o * qv)])
    day = max(1, int(86400 // tf_s))
    prior_hi = pd.Series(h).rolling(day, min_periods=1).max().shift(1).to_numpy()
    prior_lo = pd.Series(lo).rolling(day, min_periods=1).min().shift(1).to_numpy()
    out = per.copy()
    p_open = per["open"].to_numpy(dtype=float)
    p_qv = per["quote_volume"].to_numpy(dtype=float)
    up = (per["high"].to_numpy() - p_open) / p_open
    down = (p_open - per["low"].to_numpy()) / p_open
    out[B_MOVE_SHORT] = up
    out[B_MOVE_LONG] = down
    trailing = trailing_hourly_volume(qv, starts, tf_s)
    out[B_TRAIL_SHORT] = up * trailing
    out[B_TRAIL_LONG] = down * trailing
    if oi is not None:
        before = np.asarray(starts) - 1
        oi_usd = np.asarray(oi, dtype=float)[before] * c[before]
        if np.isfinite(oi_usd).all():
            out[B_OI_SHORT] = up * oi_usd
            out[B_OI_LONG] = down * oi_usd
    out[B_RANGE_SHORT] = up * p_qv
    out[B_RANGE_LONG] = down * p_qv
    out[B_CANDLE_SHORT] = c_up[stops] - c_up[starts]
    out[B_CANDLE_LONG] = c_down[stops] - c_down[starts]
    ref_hi = np.where(np.isfinite(prior_hi[starts]), prior_hi[starts], p_open)
    ref_lo = np.where(np.isfinite(prior_lo[starts]), prior_lo[starts], p_open)
    out[B_EXTREME_SHORT] = np.maximum(per["high"].to_numpy() - ref_hi, 0.0) / p_open * p_qv
    out[B_EXTREME_LONG] = np.maximum(ref_lo - per["low"].to_numpy(), 0.0) / p_open * p_qv
    return out


def trailing_hourly_volume(qv: np.ndarray, starts: np.ndarray, tf_s: int) -> np.ndarray:
    """Mean hourly quote volume of the :data:`TRAILING_HOURS` hours of candles strictly
    before each period's first candle (fewer when the candles start later; NaN with none).

    :param qv: quote volume per candle
    :param starts: index of each period's first candle
    """
    span = max(1, int(TRAILING_HOURS * 3600 // tf_s))
    cum = np.concatenate([[0.0], np.cumsum(qv)])
    starts = np.asarray(starts, dtype=np.int64)
    first = np.maximum(starts - span, 0)
    count = starts - first
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, (cum[starts] - cum[first]) / (count * tf_s / 3600.0), np.nan)


# ---- statistics ------------------------------------------------------------------------------


def block_indices(n: int, block: int, n_boot: int, seed: int) -> np.ndarray:
    """``[n_boot, n]`` indices of moving-block bootstrap resamples (blocks of ``block``
    consecutive periods, starts drawn uniformly, concatenated and cut to ``n``)."""
    block = max(1, min(block, n))
    if n_boot <= 0:
        return np.zeros((0, n), dtype=np.int64)
    rng = np.random.default_rng(seed)
    k = -(-n // block)
    begin = rng.integers(0, n - block + 1, size=(n_boot, k))
    idx = (begin[:, :, None] + np.arange(block)[None, None, :]).reshape(n_boot, -1)
    return idx[:, :n]


def _boot_rho(x: np.ndarray, cache: dict, y: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Spearman ρ of ``x`` and ``y`` on every resample (rows of ``idx``)."""
    if idx.shape[0] == 0:
        return np.zeros(0)

    def prep(a: np.ndarray) -> np.ndarray:
        v = stats.rankdata(a[idx], axis=1)
        return v - v.mean(axis=1, keepdims=True)

    key = id(y)
    if key not in cache:
        cache[key] = prep(y)
    ry = cache[key]
    rx = prep(x)
    den = np.sqrt((rx**2).sum(axis=1) * (ry**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rx * ry).sum(axis=1) / den


def interval(samples: np.ndarray) -> tuple[float, float]:
    """2.5 and 97.5 percentiles of the finite bootstrap samples."""
    s = samples[np.isfinite(samples)]
    if s.size < 10:
        return math.nan, math.nan
    return float(np.percentile(s, 2.5)), float(np.percentile(s, 97.5))


def corr_dict(c: Correlation) -> dict:
    return {"rho": c.rho, "low": c.low, "high": c.high, "p_value": c.p_value, "n": c.n}


def diff_dict(value: float, samples: np.ndarray) -> dict:
    lo, hi = interval(samples)
    return {"value": value, "low": lo, "high": hi}


def _best(rhos: dict[str, float], names: tuple[str, ...] | list[str]) -> str | None:
    finite = {k: rhos[k] for k in names if k in rhos and math.isfinite(rhos[k])}
    return max(finite, key=lambda k: finite[k]) if finite else None


def _compare(
    model: np.ndarray,
    realized: np.ndarray,
    baselines: dict[str, np.ndarray],
    idx: np.ndarray,
    cache: dict,
    ex_ante: tuple[str, ...] = (),
) -> dict:
    """Model and baselines vs realized, partial beyond all baselines, every model −
    baseline difference with its bootstrap interval, and the best baseline overall, of
    the ex-ante ones (names in ``ex_ante``) and of the ex-post ones (the others)."""
    m = spearman(model, realized)
    base = {k: spearman(v, realized) for k, v in baselines.items()}
    boot_m = _boot_rho(model, cache, realized, idx)
    diffs = {}
    for k, v in baselines.items():
        diffs[k] = diff_dict(m.rho - base[k].rho, boot_m - _boot_rho(v, cache, realized, idx))
    rhos = {k: c.rho for k, c in base.items()}
    none = diff_dict(math.nan, np.array([]))
    out: dict = {
        "model": corr_dict(m),
        "baselines": {k: corr_dict(c) for k, c in base.items()},
        "beyond_baselines": corr_dict(
            partial_spearman_multi(model, realized, np.column_stack(list(baselines.values())))
        ),
        "minus_baseline": diffs,
    }
    for key, names in (
        ("baseline", list(baselines)),
        ("ex_ante", [k for k in baselines if k in ex_ante]),
        ("ex_post", [k for k in baselines if k not in ex_ante]),
    ):
        best = _best(rhos, names)
        out[f"best_{key}"] = best
        out[f"minus_best_{key}"] = diffs[best] if best else none
    return out


def paired_difference(
    a: np.ndarray, b: np.ndarray, realized: np.ndarray, idx: np.ndarray, cache: dict
) -> dict:
    """ρ(a) − ρ(b) against ``realized`` with a paired bootstrap interval: both ρ on the
    same resampled periods (rows of ``idx``), the interval on their difference.

    :return: ``{"a": corr, "b": corr, "a_minus_b": {"value", "low", "high"}}``
    """
    ra, rb = spearman(a, realized), spearman(b, realized)
    boot = _boot_rho(a, cache, realized, idx) - _boot_rho(b, cache, realized, idx)
    return {"a": corr_dict(ra), "b": corr_dict(rb), "a_minus_b": diff_dict(ra.rho - rb.rho, boot)}


def fold_bounds(n: int, folds: int) -> np.ndarray:
    """``folds + 1`` boundaries cutting ``n`` periods into contiguous, near-equal folds."""
    return np.linspace(0, n, folds + 1).round().astype(np.int64)


def _ols(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> tuple:
    """Least-squares fit ``y ~ 1 + x`` on the training rows; predictions on ``x_test``
    and the coefficients (intercept first)."""
    a = np.column_stack([np.ones(len(x_train)), x_train])
    coef, *_ = np.linalg.lstsq(a, y_train, rcond=None)
    return np.column_stack([np.ones(len(x_test)), x_test]) @ coef, coef


def walk_forward_adds(
    realized: np.ndarray,
    book: np.ndarray,
    baselines: dict[str, np.ndarray],
    *,
    folds: int,
    block_periods: int,
    n_boot: int,
    seed: int,
) -> dict:
    """Does the book add to the best ex-post baseline out of sample?

    The periods (in time order) are cut into ``folds`` contiguous folds.  For each fold
    k ≥ 1, on folds < k only: the baseline with the highest Spearman ρ is chosen, and
    ``log1p(realized) ~ log1p(baseline)`` and ``~ log1p(baseline) + log1p(book)`` are fitted
    by least squares; both predict fold k.  The pooled out-of-sample predictions are scored
    by Spearman ρ against realized; the difference with − without carries a moving-block
    bootstrap interval over the pooled periods (:func:`paired_difference`).

    :param realized: realized USD per period (not scaled by a venue coverage: log1p is not
        scale-free)
    :param baselines: the ex-post baselines, name → per-period values
    :return: ``{"folds", "oos_periods", "with_book", "without_book", "with_minus_without",
        "per_fold": [{"train", "test", "baseline", "book_coef"}]}``; ``None`` values when
        a fold would hold fewer than 2 periods
    """
    n = len(realized)
    if folds < 2 or n < 2 * folds or not baselines:
        return {
            "folds": folds,
            "oos_periods": 0,
            "with_book": None,
            "without_book": None,
            "with_minus_without": None,
            "per_fold": [],
        }
    bounds = fold_bounds(n, folds)
    y = np.log1p(realized)
    xs = np.log1p(book)
    p_with, p_without, rows = [], [], []
    for k in range(1, folds):
        tr, te = slice(0, bounds[k]), slice(bounds[k], bounds[k + 1])
        rhos = {name: spearman(v[tr], realized[tr]).rho for name, v in baselines.items()}
        best = _best(rhos, list(baselines)) or next(iter(baselines))
        xb = np.log1p(baselines[best])
        pred0, _ = _ols(xb[tr, None], y[tr], xb[te, None])
        both = np.column_stack([xb, xs])
        pred1, coef = _ols(both[tr], y[tr], both[te])
        p_without.append(pred0)
        p_with.append(pred1)
        rows.append(
            {
                "train": [0, int(bounds[k])],
                "test": [int(bounds[k]), int(bounds[k + 1])],
                "baseline": best,
                "book_coef": float(coef[2]),
            }
        )
    oos = realized[bounds[1] :]
    idx = block_indices(len(oos), block_periods, n_boot, seed)
    pair = paired_difference(np.concatenate(p_with), np.concatenate(p_without), oos, idx, {})
    return {
        "folds": folds,
        "oos_periods": len(oos),
        "with_book": pair["a"],
        "without_book": pair["b"],
        "with_minus_without": pair["a_minus_b"],
        "per_fold": rows,
    }


def _boot_dispersion(lr: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Median absolute deviation of ``lr`` (NaN = not scored) on every resample."""
    if idx.shape[0] == 0:
        return np.zeros(0)
    x = lr[idx]
    with warnings.catch_warnings():  # a resample without any scored period gives NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(x, axis=1, keepdims=True)
        return np.nanmedian(np.abs(x - med), axis=1)


def _dispersion(
    model: np.ndarray, realized: np.ndarray, baselines: dict[str, np.ndarray], idx: np.ndarray
) -> dict:
    """Log-ratio dispersion (:func:`liq_signals.evaluation.metrics.log_ratio`; lower =
    better; scale-free) of the model and of each baseline taken as a prediction, and
    model − baseline with its bootstrap interval (below 0: the model is better), each
    difference on the periods where realized, model and that baseline are all positive.

    Unlike a rank correlation it sees the shape of the amounts: every book whose crossed
    amount grows with the move ranks periods almost alike, however wrong its depth."""

    def lr(pred: np.ndarray, mask: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.log(realized) - np.log(pred)
        return np.where(mask, v, np.nan)

    pos = (realized > 0) & (model > 0)
    m = log_ratio(model, realized)
    base = {}
    diffs = {}
    for k, v in baselines.items():
        both = pos & (v > 0)  # each comparison on the periods both predict
        base[k] = log_ratio(v[both], realized[both])
        d = log_ratio(model[both], realized[both]).dispersion - base[k].dispersion
        diffs[k] = diff_dict(
            d, _boot_dispersion(lr(model, both), idx) - _boot_dispersion(lr(v, both), idx)
        )
    finite = {k: b.dispersion for k, b in base.items() if math.isfinite(b.dispersion)}
    best = min(finite, key=lambda k: finite[k]) if finite else None
    return {
        "model": {"dispersion": m.dispersion, "median_log_ratio": m.median, "n": m.n},
        "baselines": {k: {"dispersion": b.dispersion, "n": b.n} for k, b in base.items()},
        "best_baseline": best,
        "minus_baseline": diffs,
        "minus_best_baseline": diffs[best] if best else diff_dict(math.nan, np.array([])),
    }


def _ratio(num: np.ndarray, den: np.ndarray) -> float:
    d = float(np.sum(den))
    return float(np.sum(num)) / d if d > 0 else math.nan


def largest_legs(path: np.ndarray) -> dict[str, tuple[int, int]]:
    """Indices ``(i, j)``, i < j, of the largest rise (``up``) and fall (``down``) of a
    price path: the maximum run-up from a running minimum, and the maximum drawdown."""
    out = {}
    for name, sign in (("up", 1.0), ("down", -1.0)):
        x = sign * np.log(np.asarray(path, dtype=float))
        i_min, best, gain = 0, (0, 1), -math.inf
        for t in range(1, len(x)):
            if x[t - 1] < x[i_min]:
                i_min = t - 1
            if x[t] - x[i_min] > gain:
                gain, best = x[t] - x[i_min], (i_min, t)
        out[name] = best
    return out


def side_balance(
    implied_long: np.ndarray,
    implied_short: np.ndarray,
    realized_long: np.ndarray,
    realized_short: np.ndarray,
    close_open: tuple[np.ndarray, np.ndarray],
    idx: np.ndarray,
) -> dict:
    """Σshort / Σlong implied vs realized: overall (bootstrap interval on the ratio of the
    two) and on the largest rally and sell-off (periods from the open of the leg's first
    period to the close of its last)."""
    imp = _ratio(implied_short, implied_long)
    rea = _ratio(realized_short, realized_long)
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = (implied_short[idx].sum(1) / implied_long[idx].sum(1)) / (
            realized_short[idx].sum(1) / realized_long[idx].sum(1)
        )
    lo, hi = interval(boot)
    out: dict = {
        "overall": {
            "implied": imp,
            "realized": rea,
            "implied_over_realized": imp / rea if rea and math.isfinite(rea) else math.nan,
            "low": lo,
            "high": hi,
        }
    }
    close, open_ = close_open
    path = np.concatenate([[open_[0]], close])
    legs = largest_legs(path)
    for name, (i, j) in legs.items():
        sl = slice(i, max(j, i + 1))  # path index t = after period t−1: periods i … j−1
        imp_l = _ratio(implied_short[sl], implied_long[sl])
        rea_l = _ratio(realized_short[sl], realized_long[sl])
        out[f"largest_{name}_leg"] = {
            "periods": int(max(j - i, 1)),
            "move": float(path[j] / path[i] - 1.0),
            "first_period": i,
            "implied": imp_l,
            "realized": rea_l,
            "implied_over_realized": imp_l / rea_l if rea_l else math.nan,
        }
    return out


def _share(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    tot = a + b
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, a / np.where(tot > 0, tot, 1.0), 0.5)


def scorecard(
    per: pd.DataFrame,
    *,
    realized_long: str,
    realized_short: str,
    nowcast_long: str,
    nowcast_short: str,
    block_periods: int,
    n_boot: int = 1000,
    seed: int = 0,
    coverage: float = 1.0,
    folds: int = 4,
) -> dict:
    """Every standing-book score of one configuration (keys: docs/validation.md).

    :param per: period table with the standing-book and baseline columns of this module
        (``move_open_interest_*`` may be absent)
    :param block_periods: bootstrap block length in periods
    :param coverage: the venue coverage the realized columns were multiplied by (the
        walk-forward fit divides it out: its log1p is not scale-free)
    :param folds: contiguous folds of :func:`walk_forward_adds`
    """
    n = len(per)
    idx = block_indices(n, block_periods, n_boot, seed)
    cache: dict = {}
    col = {k: per[k].to_numpy(dtype=float) for k in per.columns if per[k].dtype.kind == "f"}
    rl, rs = col[realized_long], col[realized_short]
    present = [b for b in BASELINES if f"{b}_long" in col and f"{b}_short" in col]
    base = {
        "long": {b: col[f"{b}_long"] for b in present},
        "short": {b: col[f"{b}_short"] for b in present},
    }
    ex_ante = tuple(b for b in present if b in BASELINES_EX_ANTE)
    out: dict = {
        "periods": n,
        "baseline_kinds": {
            "ex_ante": list(ex_ante),
            "ex_post": [b for b in present if b in BASELINES_EX_POST],
        },
        "standing": {},
        "nowcast": {},
        "walk_forward": {},
    }
    for side, real, stand, now in (
        ("long", rl, col[S_LONG], col[nowcast_long]),
        ("short", rs, col[S_SHORT], col[nowcast_short]),
    ):
        out["standing"][side] = _compare(stand, real, base[side], idx, cache, ex_ante)
        out["nowcast"][side] = _compare(now, real, base[side], idx, cache, ex_ante)
        out["walk_forward"][side] = walk_forward_adds(
            real / coverage,
            stand,
            {b: base[side][b] for b in BASELINES_EX_POST if b in base[side]},
            folds=folds,
            block_periods=block_periods,
            n_boot=n_boot,
            seed=seed,
        )
    out["standing_dispersion"] = {
        side: _dispersion(stand, real, base[side], idx)
        for side, real, stand in (("long", rl, col[S_LONG]), ("short", rs, col[S_SHORT]))
    }
    out["depth"] = {}
    for side, real, stand, move in (
        ("long", rl, col[S_LONG], np.log(col["open"] / col["low"])),
        ("short", rs, col[S_SHORT], np.log(col["high"] / col["open"])),
    ):
        # per unit of move: what the book holds per 1 % crossed, beyond how far price went
        unit = np.maximum(move, MIN_MOVE)
        out["depth"][side] = _compare(
            stand / unit,
            real / unit,
            {
                "quote_volume": col["quote_volume"],
                "candle_range_volume": col[f"candle_range_volume_{side}"] / unit,
            },
            idx,
            cache,
        )
    ret = np.log(col["close"] / col["open"])
    out["side_split"] = _compare(
        _share(col[S_LONG], col[S_SHORT]), _share(rl, rs), {"period_return": -ret}, idx, cache
    )
    out["density"] = _compare(
        col[S_NEAR],
        rl + rs,
        {"range_volume": col[B_RANGE_LONG] + col[B_RANGE_SHORT]},
        idx,
        cache,
    )
    oc = (col["close"], col["open"])
    out["side_balance"] = {
        "standing": side_balance(col[S_LONG], col[S_SHORT], rl, rs, oc, idx),
        "nowcast": side_balance(col[nowcast_long], col[nowcast_short], rl, rs, oc, idx),
    }
    return out


def headline(card: dict) -> dict[str, float]:
    """The few numbers the sensitivity sweep and the calibration compare."""
    bal = card["side_balance"]["standing"]["overall"]["implied_over_realized"]
    return {
        "standing_long_rho": card["standing"]["long"]["model"]["rho"],
        "standing_short_rho": card["standing"]["short"]["model"]["rho"],
        "standing_long_dispersion": card["standing_dispersion"]["long"]["model"]["dispersion"],
        "standing_short_dispersion": card["standing_dispersion"]["short"]["model"]["dispersion"],
        "nowcast_long_rho": card["nowcast"]["long"]["model"]["rho"],
        "nowcast_short_rho": card["nowcast"]["short"]["model"]["rho"],
        "side_split_rho": card["side_split"]["model"]["rho"],
        "density_rho": card["density"]["model"]["rho"],
        "side_balance_log_error": abs(math.log(bal)) if bal and math.isfinite(bal) else math.nan,
    }
