"""Run the engine over the candles of a realized-liquidation record and score it.

The pipeline (docs/validation.md):

1. features for every candle (:func:`liq_signals.features.run`, the strategy's own run,
   built from the first candle given, so pass a warm-up before the scored window);
2. per period: implied long/short liquidations (sum of ``liq_*_swept_usd``), realized
   ones, and the naive baselines — then Spearman, partial Spearman beyond the baseline;
3. map snapshots every ``zone_step`` (:func:`liq_signals.engine.book_history`), grouped
   into zones of the model's cluster width, scored on the realized events of the next
   ``zone_horizon`` (needs individual events with prices);
4. the distance-controlled magnet test on the largest and on the nearest clusters
   (needs no realized record: :func:`validate_magnets`).

Only periods inside the realized record's span are scored; periods inside it without any
event count as zero liquidations (the record is taken to be continuous — say so when it
is not, e.g. Binance's throttled stream with unknown recording windows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import talib

from liq_signals import columns as C
from liq_signals.config import ModelConfig
from liq_signals.data.frames import PairFrames
from liq_signals.engine import BookHistory, book_history
from liq_signals.engine.kernel import Out
from liq_signals.errors import EvaluationError
from liq_signals.evaluation.metrics import (
    Correlation,
    MagnetResult,
    ZonePrecision,
    matched_distance_magnet_test,
    naive_baselines,
    partial_spearman,
    spearman,
    zone_precision,
)
from liq_signals.evaluation.realized import (
    COL_DATE,
    COL_LONG_USD,
    COL_PRICE,
    COL_SHORT_USD,
    COL_SIDE,
    SIDE_LONG,
    SIDE_SHORT,
    RealizedRecord,
    aggregate_events,
)
from liq_signals.evaluation.standing import (
    S_LONG,
    S_NEAR,
    S_SHORT,
    StandingBook,
    add_baselines,
    block_indices,
    headline,
    paired_difference,
    period_candles,
    scorecard,
    standing_book,
)
from liq_signals.features.pipeline import ModelRun
from liq_signals.features.pipeline import run as run_model
from liq_signals.timeframes import timeframe_seconds

# per-period frame columns
P_IMPLIED_LONG = "implied_long_usd"
P_IMPLIED_SHORT = "implied_short_usd"
P_REALIZED_LONG = "realized_long_usd"
P_REALIZED_SHORT = "realized_short_usd"
P_BASE_LONG = "baseline_long"
P_BASE_SHORT = "baseline_short"


class ValidationError(EvaluationError, ValueError):
    """The inputs cannot be scored (no overlap, too few periods, ...)."""


@dataclass(frozen=True)
class ValidationSettings:
    """How the scores are computed.

    :param period: scoring period (pandas alias), e.g. ``1h``
    :param zone_band_pct: zones within this distance of price are ranked
    :param zone_step: time between two map snapshots of the zone test
    :param zone_horizon: time after a snapshot whose realized events score it
    :param top_quantile: zones at/above this quantile are "top" (0.9 = top decile)
    :param atr_period: candles of the ATR used to express magnet distances
    :param magnet_horizon: time to wait for a magnet to be touched
    :param magnet_step: time between two magnet decision points (limits overlap)
    :param atr_min: nearer magnets (in candle ATRs) are not tested
    :param atr_max: farther magnets are not tested (the largest clusters of the default
        map sit several percent away, i.e. tens of 5-minute ATRs)
    :param distance_ratio_max: max ratio of the two magnet distances (ATR units)
    :param size_ratio_min: min ratio of the larger to the smaller magnet notional
    :param skip_empty_periods: score only periods with at least one realized event —
        for records whose recording windows are unknown (an empty period may be a gap,
        not a calm hour); drops true zero periods too, so say so when reporting
    :param near_pct: half-width of the density score's "book near the price" band (%)
    :param block: moving-block bootstrap block length (at least a day: liquidations
        cluster over days, so shorter blocks understate the intervals)
    :param n_boot: bootstrap resamples
    :param seed: seed of the bootstrap's random generator (reports are reproducible)
    :param coverage: share of the record's liquidations on the venue the map models
        (1.0: the record is that venue's; 0.4: a multi-venue total of which that venue is
        ~40 %).  Realized magnitudes are multiplied by it; ranks and ratios are unchanged
    :param sensitivity: also score the standard parameter sweep (:data:`SWEEP`)
    :param folds: contiguous folds of the walk-forward "adds to" test
        (:func:`liq_signals.evaluation.standing.walk_forward_adds`)
    :param versus_volume_mode: also run the model without the open-interest series
        (volume mode) on the same candles and periods and score OI − volume, paired
    """

    period: str = "1h"
    zone_band_pct: float = 10.0
    zone_step: str = "4h"
    zone_horizon: str = "1D"
    top_quantile: float = 0.9
    atr_period: int = 14
    magnet_horizon: str = "7D"
    magnet_step: str = "1D"
    atr_min: float = 2.0
    atr_max: float = 150.0
    distance_ratio_max: float = 1.25
    size_ratio_min: float = 1.5
    skip_empty_periods: bool = False
    near_pct: float = 1.0
    block: str = "7D"
    n_boot: int = 1000
    seed: int = 0
    coverage: float = 1.0
    sensitivity: bool = True
    folds: int = 4
    versus_volume_mode: bool = False


# magnet test variants: which pair of clusters is compared (feature columns)
MAGNET_VARIANTS: dict[str, tuple[str, str, str, str]] = {
    "largest": (C.MAGNET_UP_PRICE, C.MAGNET_UP_USD, C.MAGNET_DOWN_PRICE, C.MAGNET_DOWN_USD),
    "nearest": (C.NEAREST_UP_PRICE, C.NEAREST_UP_USD, C.NEAREST_DOWN_PRICE, C.NEAREST_DOWN_USD),
}


@dataclass(frozen=True)
class SideScores:
    """Per-period scores of one side."""

    implied: Correlation
    baseline: Correlation
    beyond_baseline: Correlation


@dataclass
class ValidationResult:
    """Everything the report shows."""

    pair: str
    settings: ValidationSettings
    config: ModelConfig
    candles_span: tuple[pd.Timestamp, pd.Timestamp]
    scored_span: tuple[pd.Timestamp, pd.Timestamp]
    periods: pd.DataFrame | None
    long: SideScores | None
    short: SideScores | None
    zones_long: ZonePrecision | None
    zones_short: ZonePrecision | None
    magnet: dict[str, MagnetResult]
    realized_events: int
    notes: list[str] = field(default_factory=list)
    standing: dict | None = None
    sensitivity: dict | None = None


def realized_per_period(realized: RealizedRecord, period: str) -> tuple[pd.DataFrame, tuple]:
    """Realized long/short USD per period and the span the record covers."""
    if not realized.events.empty:
        per = aggregate_events(realized.events, period)
        start = realized.events[COL_DATE].iloc[0].floor(period)
        end = realized.events[COL_DATE].iloc[-1].floor(period)
        if not realized.aggregated.empty:
            raise ValidationError("give either event files or aggregated CSVs, not both")
    elif not realized.aggregated.empty:
        agg = realized.aggregated
        own = realized.period
        step = pd.Timedelta(period)
        if own is not None and (step < own or step % own != pd.Timedelta(0)):
            raise ValidationError(
                f"the record holds totals of {own}; it can be scored at that period or a "
                f"multiple of it, not {period}"
            )
        per = agg.groupby(agg.index.floor(period)).sum()
        if own is None:
            start, end = per.index[0], per.index[-1]
        else:
            # only the periods the record covers from their start to their end
            start = agg.index[0].ceil(period)
            end = (agg.index[-1] + own).floor(period) - step
            per = per[(per.index >= start) & (per.index <= end)]
        if per.empty:
            raise ValidationError(f"the record covers no complete {period} period")
    else:
        raise ValidationError("the realized record holds no liquidations")
    return per, (start, end)


def period_table(
    features: pd.DataFrame, realized: pd.DataFrame, span: tuple, period: str, tf_s: int
) -> pd.DataFrame:
    """Implied, realized and baseline per complete period inside ``span``."""
    dates = pd.DatetimeIndex(features["date"])
    key = dates.floor(period)
    typical = (features["high"] + features["low"] + features["close"]) / 3.0
    frame = pd.DataFrame(
        {
            "open": features["open"].to_numpy(),
            "high": features["high"].to_numpy(),
            "low": features["low"].to_numpy(),
            "close": features["close"].to_numpy(),
            "quote_volume": (features["volume"] * typical).to_numpy(),
            P_IMPLIED_LONG: features[C.LONG_SWEPT_USD].to_numpy(),
            P_IMPLIED_SHORT: features[C.SHORT_SWEPT_USD].to_numpy(),
            "_n": 1,
        },
        index=key,
    )
    grouped = frame.groupby(level=0)
    per = grouped.agg(
        open=("open", "first"),
        high=("high", "max"),
        low=("low", "min"),
        close=("close", "last"),
        quote_volume=("quote_volume", "sum"),
        implied_long_usd=(P_IMPLIED_LONG, "sum"),
        implied_short_usd=(P_IMPLIED_SHORT, "sum"),
        n=("_n", "sum"),
    )
    expected = int(pd.Timedelta(period).total_seconds() // tf_s)
    per = per[(per["n"] == expected) & (per.index >= span[0]) & (per.index <= span[1])]
    per[P_BASE_LONG], per[P_BASE_SHORT] = naive_baselines(
        per["open"].to_numpy(),
        per["high"].to_numpy(),
        per["low"].to_numpy(),
        per["quote_volume"].to_numpy(),
    )
    aligned = realized.reindex(per.index, fill_value=0.0)
    per[P_REALIZED_LONG] = aligned[COL_LONG_USD].to_numpy()
    per[P_REALIZED_SHORT] = aligned[COL_SHORT_USD].to_numpy()
    return per.drop(columns="n")


def side_scores(per: pd.DataFrame, side: str) -> SideScores:
    implied, realized, base = (
        (P_IMPLIED_LONG, P_REALIZED_LONG, P_BASE_LONG)
        if side == SIDE_LONG
        else (P_IMPLIED_SHORT, P_REALIZED_SHORT, P_BASE_SHORT)
    )
    x, y, z = (per[c].to_numpy() for c in (implied, realized, base))
    return SideScores(spearman(x, y), spearman(z, y), partial_spearman(x, y, z))


def score_periods(per: pd.DataFrame) -> tuple[SideScores, SideScores]:
    """Long and short per-period scores."""
    return side_scores(per, SIDE_LONG), side_scores(per, SIDE_SHORT)


@dataclass(frozen=True)
class ZoneGrid:
    """Zones of ``width`` engine bins on the engine's absolute log grid: zone z holds bins
    ``z·width … z·width + width − 1``, i.e. prices in ``[edges[j], edges[j+1])`` for
    ``j = z − zones[0]`` (bin k spans ``[e^((k−½)δ), e^((k+½)δ))``)."""

    zones: np.ndarray
    edges: np.ndarray
    grid_step: float
    width: int

    @classmethod
    def around(cls, centers: np.ndarray, grid_step: float, width: int) -> ZoneGrid:
        """The zones covering the bins whose price centres are ``centers``."""
        k = np.rint(np.log(centers) / grid_step).astype(np.int64)
        z = np.floor_divide(k, width)
        zones = np.arange(z.min(), z.max() + 1)
        edges = np.exp((np.r_[zones, zones[-1] + 1] * width - 0.5) * grid_step)
        return cls(zones, edges, grid_step, width)

    def index_of(self, prices: np.ndarray) -> np.ndarray:
        """Column (``zone − zones[0]``) of each price; may fall outside ``[0, len)``."""
        k = np.rint(np.log(np.asarray(prices, dtype=float)) / self.grid_step).astype(np.int64)
        return np.floor_divide(k, self.width) - self.zones[0]


def _zone_scores(
    run: ModelRun,
    events: pd.DataFrame,
    per: pd.DataFrame,
    settings: ValidationSettings,
    tf_s: int,
) -> tuple[ZonePrecision, ZonePrecision]:
    """Map snapshots every ``zone_step`` inside the scored span, each scored on the
    realized events of the following ``zone_horizon``."""
    dates = pd.DatetimeIndex(run.features["date"])
    tf = pd.Timedelta(seconds=tf_s)
    step = int(pd.Timedelta(settings.zone_step) / tf)
    horizon = int(pd.Timedelta(settings.zone_horizon) / tf)
    end = per.index[-1] + pd.Timedelta(settings.period)
    inside = np.flatnonzero((dates >= per.index[0]) & (dates + tf <= end))
    if len(inside) <= horizon:
        raise ValidationError(
            f"the scored span is shorter than the zone horizon {settings.zone_horizon}"
        )
    wanted = inside[step - 1 :: step]
    wanted = wanted[wanted + horizon <= inside[-1]]
    if len(wanted) == 0:
        raise ValidationError("no map snapshot has a full zone horizon inside the scored span")
    hist = _snapshots(run, wanted, step)
    idx = hist.index
    grid = ZoneGrid.around(hist.centers, run.params.cfg.grid_step, run.params.cfg.cluster_bins)
    zones = grid.zones
    edges = grid.edges
    col = grid.index_of(hist.centers)

    def to_zones(book: np.ndarray) -> np.ndarray:
        out = np.zeros((book.shape[0], len(zones)))
        np.add.at(out.T, col, book.T)  # column j of book into zone column col[j]
        return out

    long_z, short_z = to_zones(hist.long_usd), to_zones(hist.short_usd)
    high, low = run.inputs.high, run.inputs.low
    n_snap = len(idx)
    reach_low = np.empty(n_snap)
    reach_high = np.empty(n_snap)
    hit_long = np.zeros((n_snap, len(zones)), dtype=bool)
    hit_short = np.zeros((n_snap, len(zones)), dtype=bool)
    ev_time = events[COL_DATE].dt.tz_convert(None).to_numpy(dtype="datetime64[ns]")
    ev_zone = grid.index_of(events[COL_PRICE].to_numpy())
    ev_long = (events[COL_SIDE] == SIDE_LONG).to_numpy()
    for row, i in enumerate(idx):
        stop = i + 1 + horizon
        reach_low[row] = low[i + 1 : stop].min()
        reach_high[row] = high[i + 1 : stop].max()
        sel = (ev_time >= _naive(dates[i] + tf)) & (ev_time < _naive(dates[stop - 1] + tf))
        sel &= (ev_zone >= 0) & (ev_zone < len(zones))
        hit_long[row, ev_zone[sel & ev_long]] = True
        hit_short[row, ev_zone[sel & ~ev_long]] = True
    close = run.inputs.close[idx]
    return (
        zone_precision(
            edges,
            long_z,
            close,
            reach_low,
            hit_long,
            SIDE_LONG,
            settings.zone_band_pct,
            settings.top_quantile,
        ),
        zone_precision(
            edges,
            short_z,
            close,
            reach_high,
            hit_short,
            SIDE_SHORT,
            settings.zone_band_pct,
            settings.top_quantile,
        ),
    )


def _naive(ts: pd.Timestamp) -> np.datetime64:
    return ts.tz_convert(None).to_datetime64().astype("datetime64[ns]")


def _snapshots(run: ModelRun, idx: np.ndarray, every: int) -> BookHistory:
    """Books after the candles ``idx`` (one per period, so spaced ``every`` candles on
    gap-free candles; any that fall off that spacing after a gap are dropped)."""
    start = max(int(idx[0]) - every + 1, 0)
    hist = book_history(run.inputs, run.params, every=every, start=start)
    keep = np.isin(hist.index, idx)
    return BookHistory(
        hist.index[keep], hist.edges, hist.centers, hist.long_usd[keep], hist.short_usd[keep]
    )


def magnet_scores(
    run: ModelRun,
    start: pd.Timestamp,
    end: pd.Timestamp,
    settings: ValidationSettings,
    tf_s: int,
) -> dict[str, MagnetResult]:
    """The magnet test at every ``magnet_step`` inside ``[start, end)``, for the largest
    clusters (``liq_magnet_*``) and the nearest significant ones (``liq_nearest_*``)."""
    f = run.features
    high = f["high"].to_numpy(dtype=float)
    low = f["low"].to_numpy(dtype=float)
    close = f["close"].to_numpy(dtype=float)
    atr = talib.ATR(high, low, close, timeperiod=settings.atr_period)
    dates = pd.DatetimeIndex(f["date"])
    inside = np.flatnonzero((dates >= start) & (dates < end))
    tf = pd.Timedelta(seconds=tf_s)
    decision = inside[:: int(pd.Timedelta(settings.magnet_step) / tf)]
    out = {}
    for name, (up_p, up_u, down_p, down_u) in MAGNET_VARIANTS.items():
        out[name] = matched_distance_magnet_test(
            close,
            high,
            low,
            atr,
            f[up_p].to_numpy(dtype=float),
            f[up_u].to_numpy(dtype=float),
            f[down_p].to_numpy(dtype=float),
            f[down_u].to_numpy(dtype=float),
            decision,
            int(pd.Timedelta(settings.magnet_horizon) / tf),
            distance_ratio_max=settings.distance_ratio_max,
            size_ratio_min=settings.size_ratio_min,
            atr_min=settings.atr_min,
            atr_max=settings.atr_max,
        )
    return out


def validate_magnets(
    frames: PairFrames,
    *,
    pair: str,
    start: pd.Timestamp,
    stop: pd.Timestamp,
    timeframe: str = "5m",
    config: ModelConfig | None = None,
    settings: ValidationSettings | None = None,
) -> ValidationResult:
    """Only the magnet test, which needs candles but no realized record: the map's own
    claim ("price goes to the larger cluster") checked against the price path."""
    cfg = config or ModelConfig()
    settings = settings or ValidationSettings()
    tf_s = timeframe_seconds(timeframe)
    run = run_model(frames, pair=pair, timeframe=timeframe, config=cfg)
    dates = pd.DatetimeIndex(frames.candles["date"])
    magnet = magnet_scores(run, start, stop, settings, tf_s)
    modes = run.features[C.MODE].value_counts().to_dict()
    return ValidationResult(
        pair=pair,
        settings=settings,
        config=cfg,
        candles_span=(dates[0], dates[-1]),
        scored_span=(max(start, dates[0]), min(stop, dates[-1] + pd.Timedelta(seconds=tf_s))),
        periods=None,
        long=None,
        short=None,
        zones_long=None,
        zones_short=None,
        magnet=magnet,
        realized_events=0,
        notes=[
            "no realized record: only the magnet test was run",
            f"engine modes over the candles: {modes}",
        ],
    )


def validate(
    frames: PairFrames,
    realized: RealizedRecord,
    *,
    pair: str,
    timeframe: str = "5m",
    config: ModelConfig | None = None,
    settings: ValidationSettings | None = None,
) -> ValidationResult:
    """Score the model on ``frames`` against ``realized``.

    :param frames: the pair's frames; candles covering the record plus a warm-up before it
    :param realized: from :func:`liq_signals.evaluation.realized.load_realized`
    :raise ValidationError: when candles and record do not overlap in enough periods
    """
    cfg = config or ModelConfig()
    settings = settings or ValidationSettings()
    tf_s = timeframe_seconds(timeframe)
    if pd.Timedelta(settings.period).total_seconds() % tf_s:
        raise ValidationError(f"period {settings.period} is not a multiple of {timeframe}")
    run = run_model(frames, pair=pair, timeframe=timeframe, config=cfg)
    realized_per, span = realized_per_period(realized, settings.period)
    realized_per = realized_per * settings.coverage
    per = period_table(run.features, realized_per, span, settings.period, tf_s)
    dates = pd.DatetimeIndex(frames.candles["date"])
    notes = []
    if settings.skip_empty_periods:
        active = (per[P_REALIZED_LONG] + per[P_REALIZED_SHORT]) > 0
        notes.append(
            f"scored only the {int(active.sum())} of {len(per)} periods with at least "
            "one realized event (recording windows unknown)"
        )
        per = per[active]
    if len(per) < 5:
        raise ValidationError(
            f"only {len(per)} complete {settings.period} period(s) where the candles "
            f"({dates[0]} → {dates[-1]}) overlap the realized record ({span[0]} → {span[1]}); "
            "download candles for the record's window (see docs/validation.md)"
        )
    long_s, short_s = score_periods(per)
    per, card = standing_scores(run, per, settings, tf_s)
    if "move_open_interest" not in card["baseline_kinds"]["ex_ante"]:
        notes.append(
            f"baseline move_open_interest left out: open interest is known at the start of "
            f"{card['open_interest_known_periods']} of {len(per)} scored periods (it needs "
            "all; --timerange can restrict the window to where it is)"
        )
    if settings.versus_volume_mode:
        if frames.open_interest is None or not len(frames.open_interest):
            notes.append("--versus-volume-mode: no open-interest series, nothing to compare")
        else:
            card["versus_volume_mode"] = versus_volume_mode(
                frames, run, per, settings, pair=pair, timeframe=timeframe
            )
    sensitivity = sensitivity_sweep(run, pair, per, settings) if settings.sensitivity else None
    zones_long = zones_short = None
    if realized.events.empty:
        notes.append("zone precision needs individual events with prices; the record is aggregated")
    else:
        try:
            zones_long, zones_short = _zone_scores(run, realized.events, per, settings, tf_s)
        except ValidationError as exc:
            notes.append(f"zone test skipped: {exc}")
    magnet = magnet_scores(
        run, per.index[0], per.index[-1] + pd.Timedelta(settings.period), settings, tf_s
    )
    modes = run.features[C.MODE].value_counts().to_dict()
    notes.append(f"engine modes over the candles: {modes}")
    warm = per.index[0] - dates[0]
    if warm < pd.Timedelta(hours=cfg.decay_half_life_hours):
        notes.append(
            f"warm-up before the scored window is {warm}, shorter than the decay half-life "
            f"({cfg.decay_half_life_hours} h): early implied values are underestimated"
        )
    return ValidationResult(
        pair=pair,
        settings=settings,
        config=cfg,
        candles_span=(dates[0], dates[-1]),
        scored_span=(per.index[0], per.index[-1] + pd.Timedelta(settings.period)),
        periods=per,
        long=long_s,
        short=short_s,
        zones_long=zones_long,
        zones_short=zones_short,
        magnet=magnet,
        realized_events=len(realized.events),
        notes=notes,
        standing=card,
        sensitivity=sensitivity,
    )


def mean_rho(result_long: Correlation, result_short: Correlation) -> float:
    """Objective of the calibration: mean of the long and short Spearman ρ (NaN-safe)."""
    values = [c.rho for c in (result_long, result_short) if math.isfinite(c.rho)]
    return float(np.mean(values)) if values else math.nan


#: the standard sensitivity sweep: (field, how to move it); each entry gives two configs
SWEEP: tuple[tuple[str, str, float], ...] = (
    ("decay_half_life_hours", "times", 0.25),
    ("decay_half_life_hours", "times", 4.0),
    ("leverage_alpha", "plus", -0.5),
    ("leverage_alpha", "plus", 0.5),
    ("participation", "times", 0.2),
    ("participation", "times", 5.0),
)
#: a score whose spread over the sweep is below this does not measure the model
SENSITIVITY_MIN_SPREAD = 0.02


def block_periods(settings: ValidationSettings) -> int:
    """Bootstrap block length in whole periods (at least one)."""
    return max(1, math.ceil(pd.Timedelta(settings.block) / pd.Timedelta(settings.period)))


def _standing_columns(
    per: pd.DataFrame, sb: StandingBook, starts: np.ndarray, stops: np.ndarray
) -> pd.DataFrame:
    out = per.copy()
    out[S_LONG], out[S_SHORT], out[S_NEAR] = sb.long_usd, sb.short_usd, sb.near_usd
    for col, o in ((P_IMPLIED_LONG, Out.LONG_SWEPT_USD), (P_IMPLIED_SHORT, Out.SHORT_SWEPT_USD)):
        c = np.concatenate([[0.0], np.cumsum(sb.out[:, o])])
        out[col] = c[stops] - c[starts]
    return out


def _card(per: pd.DataFrame, settings: ValidationSettings, n_boot: int) -> dict:
    return scorecard(
        per,
        realized_long=P_REALIZED_LONG,
        realized_short=P_REALIZED_SHORT,
        nowcast_long=P_IMPLIED_LONG,
        nowcast_short=P_IMPLIED_SHORT,
        block_periods=block_periods(settings),
        n_boot=n_boot,
        seed=settings.seed,
        coverage=settings.coverage,
        folds=settings.folds,
    )


def standing_scores(
    run: ModelRun, per: pd.DataFrame, settings: ValidationSettings, tf_s: int
) -> tuple[pd.DataFrame, dict]:
    """The period table with the standing book and the baselines, and its scorecard."""
    dates = pd.DatetimeIndex(run.features["date"])
    starts, stops = period_candles(dates, pd.DatetimeIndex(per.index), settings.period)
    if starts[0] < 1:
        raise ValidationError("the first scored period starts at the first candle: no book yet")
    sb = standing_book(run.inputs, run.params, starts, stops, settings.near_pct)
    per = add_baselines(per, run.features, starts, stops, tf_s, oi=run.inputs.oi)
    per = _standing_columns(per, sb, starts, stops)
    card = _card(per, settings, settings.n_boot)
    known = int(np.isfinite(run.inputs.oi[starts - 1]).sum())
    card["open_interest_known_periods"] = known
    card["bootstrap"] = {
        "method": "moving block, percentile",
        "block": settings.block,
        "block_periods": block_periods(settings),
        "resamples": settings.n_boot,
        "seed": settings.seed,
    }
    card["coverage"] = settings.coverage
    card["magnitude"] = {
        "realized_long_usd": float(per[P_REALIZED_LONG].sum()),
        "realized_short_usd": float(per[P_REALIZED_SHORT].sum()),
        "standing_long_usd": float(per[S_LONG].sum()),
        "standing_short_usd": float(per[S_SHORT].sum()),
        "nowcast_long_usd": float(per[P_IMPLIED_LONG].sum()),
        "nowcast_short_usd": float(per[P_IMPLIED_SHORT].sum()),
    }
    return per, card


def versus_volume_mode(
    frames: PairFrames,
    run: ModelRun,
    per: pd.DataFrame,
    settings: ValidationSettings,
    *,
    pair: str,
    timeframe: str,
) -> dict:
    """The same model on the same candles and periods without the open-interest series
    (volume mode), and per side, for the standing book and the nowcast, ρ(OI run) −
    ρ(volume run) against realized with a paired moving-block bootstrap interval (both ρ
    on the same resampled periods).

    :param run: the run with open interest (the one ``per`` was scored on)
    :param per: the scored period table (standing-book and nowcast columns of ``run``)
    """
    vol = run_model(
        replace(frames, open_interest=None), pair=pair, timeframe=timeframe, config=run.params.cfg
    )
    dates = pd.DatetimeIndex(run.features["date"])
    starts, stops = period_candles(dates, pd.DatetimeIndex(per.index), settings.period)
    sb = standing_book(vol.inputs, vol.params, starts, stops, settings.near_pct)
    vper = _standing_columns(per, sb, starts, stops)
    idx = block_indices(len(per), block_periods(settings), settings.n_boot, settings.seed)
    cache: dict = {}
    out: dict = {
        "oi_mode_periods": int((run.features[C.MODE].to_numpy()[starts] == C.MODE_OI).sum()),
        "periods": len(per),
    }
    for book, cols in (
        ("standing", {"long": S_LONG, "short": S_SHORT}),
        ("nowcast", {"long": P_IMPLIED_LONG, "short": P_IMPLIED_SHORT}),
    ):
        out[book] = {}
        for side, real in (("long", P_REALIZED_LONG), ("short", P_REALIZED_SHORT)):
            d = paired_difference(
                per[cols[side]].to_numpy(dtype=float),
                vper[cols[side]].to_numpy(dtype=float),
                per[real].to_numpy(dtype=float),
                idx,
                cache,
            )
            out[book][side] = {
                "oi": d["a"],
                "volume": d["b"],
                "oi_minus_volume": d["a_minus_b"],
            }
    return out


def sweep_configs(cfg: ModelConfig) -> list[tuple[str, ModelConfig]]:
    """``(label, config)`` of the standard sweep around ``cfg``."""
    out = []
    for name, how, amount in SWEEP:
        value = getattr(cfg, name)
        new = value * amount if how == "times" else value + amount
        if name == "participation":
            new = min(new, 1.0)
        if name == "leverage_alpha":
            new = max(new, 0.0)
        label = f"{name} {'×' if how == 'times' else '+'}{amount:g}"
        out.append((label, replace(cfg, **{name: new})))
    return out


def sensitivity_sweep(
    run: ModelRun, pair: str, per: pd.DataFrame, settings: ValidationSettings
) -> dict:
    """Each headline score at the model and over :func:`sweep_configs`; its spread (max −
    min) and whether it moves at least :data:`SENSITIVITY_MIN_SPREAD`."""
    from liq_signals.features.params import engine_params_for

    dates = pd.DatetimeIndex(run.features["date"])
    starts, stops = period_candles(dates, pd.DatetimeIndex(per.index), settings.period)
    rows = {"model": headline(_card(per, settings, 0))}
    for label, cfg in sweep_configs(run.params.cfg):
        params = engine_params_for(pair, cfg)
        sb = standing_book(run.inputs, params, starts, stops, settings.near_pct)
        rows[label] = headline(_card(_standing_columns(per, sb, starts, stops), settings, 0))
    scores = {}
    for key in rows["model"]:
        values = np.array([r[key] for r in rows.values()], dtype=float)
        finite = values[np.isfinite(values)]
        spread = float(np.ptp(finite)) if finite.size else math.nan
        scores[key] = {
            "spread": spread,
            "moves": bool(math.isfinite(spread) and spread >= SENSITIVITY_MIN_SPREAD),
        }
    return {"configs": rows, "scores": scores, "min_spread": SENSITIVITY_MIN_SPREAD}
