"""DataFrame in, liquidation-map features out (docs/model.md), causal by construction.

:func:`run` is the one way to run the model over a frame: it validates the frames once
(:mod:`liq_signals.data.boundary`), aligns the optional series to the candles with the
timing rules (:mod:`liq_signals.features.align`), runs the engine
(:mod:`liq_signals.engine`) from the first candle, and builds the columns of
:mod:`liq_signals.columns` (:mod:`liq_signals.features.values`).  The strategy
(:func:`compute_features`), the validation runner, ``liq-signals snapshot`` and the
heatmap all call it, so they describe the same model run.

Three repairs happen on the way, each logged with its extent:

* open interest known only in USD (``open_interest_value``; freqtrade allows either
  column to be all-NaN) is turned into contracts
  (:func:`liq_signals.data.boundary.open_interest_contracts`: value ÷ the open of the
  candle starting at the snapshot time);
* a taker-buy share from ``taker_net_base`` is only accepted when the net flow is
  smaller than the candle's volume (see :mod:`liq_signals.features.align`);
* open-interest, mark and sidecar rows that are zero, negative, non-finite or a jump
  (:mod:`liq_signals.data.boundary`) are quarantined: dropped, logged once with pair,
  file and row, and read as missing for the candle that reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from liq_signals.config import ModelConfig
from liq_signals.data.boundary import (
    OI_AMOUNT,
    OI_VALUE,
    TAKER_NET_BASE,
    TAKER_RATIO,
    open_interest_contracts,
    source_name,
    validate_candles,
    validate_mark,
    validate_metrics,
    validate_open_interest,
)
from liq_signals.data.frames import PairFrames
from liq_signals.engine import book as B
from liq_signals.features.align import (
    AlignSources,
    align_inputs,
    oi_series_start_ns,
)
from liq_signals.features.atr import candle_atr
from liq_signals.features.params import engine_params_for
from liq_signals.features.sources import Seen, mark_rows, metrics_rows, oi_rows
from liq_signals.features.values import attach_features, feature_values
from liq_signals.timeframes import timeframe_seconds


@dataclass(frozen=True)
class PreparedInputs:
    """Engine inputs aligned to the candles, plus what only the feature layer needs.

    :param inputs: the kernel's per-candle arrays.
    :param stale: per-candle staleness flag (``liq_stale``).
    :param atr: Wilder's ATR of the candles (``atr_period``), NaN during warm-up; scales
        the ``*_dist_atr`` columns.
    """

    inputs: B.EngineInputs
    stale: np.ndarray
    atr: np.ndarray | None = None

    def feature_values(self, out: np.ndarray, cfg: ModelConfig) -> dict[str, np.ndarray]:
        """:func:`~liq_signals.features.values.feature_values` of engine ``out`` with
        everything these inputs know (close, staleness, ATR, open interest)."""
        return feature_values(
            out, self.inputs.close, self.stale, cfg, atr=self.atr, oi=self.inputs.oi
        )


def _oi_source(
    open_interest: pd.DataFrame | None,
    candles: pd.DataFrame,
    pair: str,
    tf_s: int,
    seen: Seen | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray, int] | None, int | None]:
    """Validated ``(dates ns, contracts, step s)`` of the open-interest frame, value-only
    rows converted, bad rows quarantined, and where the series starts
    (:func:`oi_series_start_ns`, read before the quarantine as the dry-run reads it);
    ``(None, None)`` without a frame or with an empty one."""
    if open_interest is None or not len(open_interest):
        return None, None
    source = source_name(open_interest, "open_interest")
    open_interest = open_interest_contracts(open_interest, candles, pair=pair, timeframe_s=tf_s)
    o_ns = validate_open_interest(open_interest, pair=pair, timeframe_s=tf_s)
    amount = open_interest[OI_AMOUNT].to_numpy(dtype=np.float64, na_value=np.nan)
    value = (
        open_interest[OI_VALUE].to_numpy(dtype=np.float64, na_value=np.nan)
        if OI_VALUE in open_interest
        else None
    )
    start = oi_series_start_ns(o_ns, amount, value)
    candle_ns = candles["date"].array.as_unit("ns").asi8
    return oi_rows(
        o_ns,
        amount,
        None,  # value-only rows are already contracts (open_interest_contracts, logged)
        0,
        len(o_ns),
        tf_s=tf_s,
        candles=(candle_ns, candles["open"].to_numpy(dtype=np.float64)),
        pair=pair,
        source=source,
        seen=seen,
    ), start


def _mark_source(
    mark: pd.DataFrame | None, pair: str, seen: Seen | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int] | None:
    """Validated ``(dates ns, high, low, step s)`` of the mark frame (bad rows
    quarantined: NaN, their candles use trade high/low), or None."""
    if mark is None or not len(mark):
        return None
    source = source_name(mark, "mark")
    m_ns = validate_mark(mark, pair=pair)
    high = mark["high"].to_numpy(dtype=np.float64, na_value=np.nan)
    low = mark["low"].to_numpy(dtype=np.float64, na_value=np.nan)
    return mark_rows(m_ns, high, low, 0, len(m_ns), pair=pair, source=source, seen=seen)


def _metrics_source(
    metrics: pd.DataFrame | None, pair: str, seen: Seen | None = None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None] | None:
    """Validated ``(dates ns, taker ratio, taker_net_base)`` (a column absent -> None;
    bad values quarantined); None when there is no sidecar or it holds no taker value at
    all."""
    if metrics is None or not len(metrics):
        return None
    source = source_name(metrics, "metrics")
    mt_ns = validate_metrics(metrics, pair=pair)
    columns = {
        c: metrics[c].to_numpy(dtype=np.float64, na_value=np.nan)
        for c in (TAKER_RATIO, TAKER_NET_BASE)
        if c in metrics.columns
    }
    return metrics_rows(mt_ns, columns, 0, len(mt_ns), pair=pair, source=source, seen=seen)


def prepare_inputs(
    frames: PairFrames,
    *,
    pair: str,
    timeframe: str = "5m",
    config: ModelConfig | None = None,
    seen: Seen | None = None,
) -> PreparedInputs:
    """Validate the frames and align them to the candles (timing rules in
    :mod:`liq_signals.features.align`); :func:`run` without the engine.

    :param seen: quarantined rows already logged (the dry-run's set, so each is logged
        once per bot); None logs every quarantined row of this call.
    :raise LiqInputError: any input problem (see :mod:`liq_signals.data.boundary`).
    """
    cfg = config or ModelConfig()
    tf_s = timeframe_seconds(timeframe)
    candles = frames.candles
    c_ns = validate_candles(candles, pair=pair, timeframe_s=tf_s)
    high = candles["high"].to_numpy(dtype=np.float64)
    low = candles["low"].to_numpy(dtype=np.float64)
    close = candles["close"].to_numpy(dtype=np.float64)
    volume = candles["volume"].to_numpy(dtype=np.float64)
    oi, oi_start_ns = _oi_source(frames.open_interest, candles, pair, tf_s, seen)
    sources = AlignSources(
        oi=oi,
        mark=_mark_source(frames.mark, pair, seen),
        metrics=_metrics_source(frames.metrics, pair, seen),
        oi_start_ns=oi_start_ns,
    )
    inputs, stale = align_inputs(
        c_ns, high, low, close, volume, sources, pair=pair, tf_s=tf_s, cfg=cfg
    )
    return PreparedInputs(inputs, stale, candle_atr(high, low, close, cfg.atr_period))


@dataclass(frozen=True)
class ModelRun:
    """One run of the model over a frame: what each caller of :func:`run` reads.

    :param features: a copy of the candles with the feature columns (what the strategy
        sees).
    :param prepared: the validated, aligned engine inputs (replayed by
        :func:`liq_signals.engine.book_history` for map snapshots and heatmaps).
    :param params: the engine parameters used.
    :param state: the book after the last candle (the map at that candle).
    :param out: the engine's raw per-candle output rows (columns:
        :class:`liq_signals.engine.kernel.Out`).
    """

    features: pd.DataFrame
    prepared: PreparedInputs
    params: B.EngineParams
    state: B.BookState
    out: np.ndarray

    @property
    def inputs(self) -> B.EngineInputs:
        """The engine inputs (``prepared.inputs``)."""
        return self.prepared.inputs


def run(
    frames: PairFrames,
    *,
    pair: str,
    timeframe: str,
    config: ModelConfig | None = None,
) -> ModelRun:
    """Run the model over ``frames`` from the first candle: features, inputs, final book.

    Validates and aligns the frames once, so callers that also need the engine inputs or
    the book do not prepare the same candles twice.

    :param frames: the pair's candles (freqtrade OHLCV, ``date`` column, UTC, sorted) and
        optional series (:class:`~liq_signals.data.frames.PairFrames`: open interest —
        value-only rows are converted to contracts, logged; none -> volume mode
        throughout —, mark candles of the same timeframe, the metrics sidecar).
    :param pair: freqtrade pair name; picks the maintenance tiers (``BTC/USDT:USDT``).
    :param timeframe: the candles' timeframe.
    :param config: model parameters (defaults: :class:`ModelConfig`).
    :return: the :class:`ModelRun`.
    :raise LiqInputError: bad input, naming the pair, the source and the first bad row.
    """
    cfg = config or ModelConfig()
    prep = prepare_inputs(frames, pair=pair, timeframe=timeframe, config=cfg)
    params = engine_params_for(pair, cfg)
    state, out = B.run(prep.inputs, params)
    features = attach_features(frames.candles, prep.feature_values(out, cfg))
    return ModelRun(features, prep, params, state, out)


def compute_features(
    candles: pd.DataFrame,
    *,
    pair: str,
    open_interest: pd.DataFrame | None = None,
    mark: pd.DataFrame | None = None,
    metrics: pd.DataFrame | None = None,
    timeframe: str = "5m",
    config: ModelConfig | None = None,
) -> pd.DataFrame:
    """Liquidation-map features for every candle, built from the first candle on
    (:func:`run`, keeping only the frame): the public entry for a frame and its optional
    series as freqtrade hands them over.

    :param candles: freqtrade OHLCV frame (``date`` column, UTC, sorted).
    :param open_interest: freqtrade ``open_interest`` frame (``date`` and
        ``open_interest_amount`` and/or ``open_interest_value``); None -> volume mode.
    :param mark: mark-price candles of the same timeframe (coarser ones are ignored).
    :param metrics: metrics sidecar (``taker_buy_sell_ratio`` or ``taker_net_base``).
    Other parameters as for :func:`run` (``timeframe`` defaults to ``5m`` here).

    :return: a copy of ``candles`` (index and columns kept) with the feature columns of
        :func:`liq_signals.columns.feature_columns` for ``config.bands_pct``.
    :raise LiqInputError: bad input, naming the pair, the source and the first bad row.
    """
    frames = PairFrames(candles, open_interest, mark, metrics)
    return run(frames, pair=pair, timeframe=timeframe, config=config).features
