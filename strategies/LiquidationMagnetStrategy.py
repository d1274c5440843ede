"""LiquidationMagnetStrategy: trade with the liquidation fuel, stop beyond it, exit at it.

Built on BaselineStrategy (same entry score, exit signal, stop, target, leverage and
protections); this file adds the liquidation map from ``liq_signals``:

* ``populate_indicators`` rebuilds the map once per pair from candles + open interest
  (freqtrade's native ``open_interest`` candle type) + mark candles + taker flow (batch
  in backtests, incrementally per new candle in dry-run: ``liq_signals.strategy_features``),
  and turns it into four terms, each a normalised difference ``(up - down) / (up + down)``
  in ``[-1, 1]`` (positive = favours a long):

  ========== ============================================================================
  imbalance  short-liquidation notional above vs long-liquidation notional below within
             ``imbalance_band`` % (``tanh(ln(above/below)/2)``): a short wall above and
             thin longs below is fuel for a squeeze up
  magnet     pull of the clusters above vs below: nearest + largest cluster on each
             side, each ``notional / (1 + distance in ATR)``: big and near pulls harder
  cascade    liquidation notional per 1 % of move up vs down (what a move would trigger)
  sweeps     long vs short liquidations the model saw in the last hour: longs flushed
             below = sell pressure exhausted (the weight may be negative: hyperopt
             decides whether sweeps mean reversal or momentum)
  ========== ============================================================================

* ``populate_entry_trend``: ``score = ta_confirmation + w_imb*imbalance + w_mag*magnet +
  w_casc*cascade + w_sweep*sweeps`` -- only arithmetic on those columns, so hyperopt
  epochs reuse the indicators.  While the map is warming up, stale, or has no data the
  terms are NaN and there are **no entries**.
* ``custom_stoploss``: beyond the nearest opposing cluster (the longs below a long, the
  shorts above a short) plus ``stop_buffer_atr`` ATRs, so a sweep of that cluster does
  not take the trade out; clamped to [``min_stop_pct``, ``stoploss``].
* ``custom_exit``: at the magnet the trade was entered for (the nearest cluster on the
  trade's side at entry -- the largest one sits ~9 % away, too far for a 5m trade), when
  price reaches it or a wick sweeps it.

The model (``MODEL``) can be replaced by a parameter file (as ``liq-signals calibrate --out``
writes) named in the freqtrade config: ``"liq_signals": {"model_config": "FILE"}``; the
fields it names override ``MODEL``'s.  ``user_data/liq_model.json`` holds ``MODEL`` itself,
for ``liq-signals heatmap ... --model-config user_data/liq_model.json``.

Spot (``config_dryrun_spot.json``): long only; no open interest exists there, so the map
runs in volume-flow mode (logged).  Futures pairs without open-interest data do the same.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from BaselineStrategy import BaselineStrategy
from freqtrade.enums import RunMode
from freqtrade.exceptions import OperationalException
from freqtrade.exchange import timeframe_to_seconds
from freqtrade.strategy import CategoricalParameter, DecimalParameter, IntParameter
from pandas import DataFrame

from liq_signals import (
    ModelConfig,
    cluster_bands,
    load_model_config,
    read_sidecar,
    strategy_features,
)
from liq_signals import columns as C

logger = logging.getLogger(__name__)

#: The model behind the features.  A 24 h half-life keeps the map's memory short enough
#: for freqtrade's startup window (below), and matches how long leveraged positions on
#: BTC typically stay open.  Changing it changes the indicators: re-run the gates.
MODEL = ModelConfig(decay_half_life_hours=24.0)
#: Imbalance bands the strategy can choose from (must be in MODEL.bands_pct).
IMBALANCE_BANDS = ("2", "5", "10")
#: Freqtrade config section of this strategy, and its key naming a model parameter file.
CONFIG_SECTION = "liq_signals"
CONFIG_MODEL_KEY = "model_config"


def model_from_config(config: dict[str, Any]) -> ModelConfig:
    """The model the strategy runs: ``MODEL``, or the file ``config[liq_signals][model_config]``
    laid over it.

    A relative path is tried against the current directory, then ``user_data_dir`` (where
    freqtrade users keep their files), so both ``user_data/liq_model.json`` run from the
    repository and ``liq_model.json`` next to the configs resolve.

    :raise OperationalException: the file is missing or invalid (freqtrade must not start
        trading a different map than the one asked for)
    """
    section = config.get(CONFIG_SECTION) or {}
    if not isinstance(section, dict):
        raise OperationalException(
            f"config {CONFIG_SECTION!r} must be an object, e.g. "
            f'{{"{CONFIG_MODEL_KEY}": "user_data/liq_model.json"}}; got {section!r}'
        )
    name = section.get(CONFIG_MODEL_KEY)
    if not name:
        return MODEL
    path = Path(name)
    if not path.is_absolute() and not path.exists() and config.get("user_data_dir"):
        path = Path(config["user_data_dir"]) / path
    try:
        model = load_model_config(path, base=MODEL)
    except ValueError as exc:
        raise OperationalException(
            f"{CONFIG_SECTION}.{CONFIG_MODEL_KEY} = {name!r} (relative paths: current "
            f"directory, then user_data_dir): {exc}"
        ) from exc
    missing = [b for b in IMBALANCE_BANDS if float(b) not in model.bands_pct]
    if missing:
        raise OperationalException(
            f"{path}: bands_pct {list(model.bands_pct)} lacks the strategy's imbalance "
            f"band(s) {missing}"
        )
    logger.info("model config from %s: %s", path, model)
    return model


def _normalised_difference(up: pd.Series, down: pd.Series) -> pd.Series:
    """``(up - down) / (up + down)`` in [-1, 1]; 0 when both are 0, NaN when either is NaN."""
    total = up + down
    return (
        ((up - down) / total.where(total > 0))
        .where(total > 0, 0.0)
        .where(up.notna() & down.notna())
    )


class LiquidationMagnetStrategy(BaselineStrategy):
    """Entries biased by liquidation magnets and imbalance; stops and exits at clusters."""

    # The book forgets with a 24 h half-life (MODEL): 1440 candles = 5 days = 5 half-lives,
    # so what the map inherits from before the window weighs < 3 % of it (recursive-analysis
    # in tests/strategy checks the score terms are stable at this count).
    startup_candle_count: int = 1440

    # Defaults: best of a 60-epoch seeded hyperopt (buy + sell spaces) on 2025-06-01 ->
    # 2025-09-01 only, tuned separately from the baseline (docs/strategy.md).
    # --- buy space: how much each liquidation term counts ---------------------------------
    w_imbalance = DecimalParameter(0.0, 1.5, default=0.24, decimals=2, space="buy")
    w_magnet = DecimalParameter(0.0, 1.5, default=1.35, decimals=2, space="buy")
    w_cascade = DecimalParameter(0.0, 1.5, default=0.12, decimals=2, space="buy")
    w_sweeps = DecimalParameter(-1.0, 1.0, default=0.21, decimals=2, space="buy")
    imbalance_band = CategoricalParameter(IMBALANCE_BANDS, default="10", space="buy")
    # the skeleton's parameters: same ranges as the baseline, this strategy's own defaults
    entry_threshold = DecimalParameter(0.3, 1.8, default=1.62, decimals=2, space="buy")
    adx_min = IntParameter(10, 40, default=38, space="buy")
    # --- sell space -----------------------------------------------------------------------
    stop_buffer_atr = DecimalParameter(0.0, 3.0, default=1.0, decimals=1, space="sell")
    exit_threshold = DecimalParameter(0.0, 1.0, default=0.79, decimals=2, space="sell")
    stop_atr_mult = DecimalParameter(1.0, 6.0, default=4.2, decimals=1, space="sell")
    target_atr_mult = DecimalParameter(2.0, 12.0, default=5.5, decimals=1, space="sell")
    min_stop_pct = DecimalParameter(0.003, 0.02, default=0.019, decimals=3, space="sell")

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        #: the map's model: MODEL unless the config names a parameter file (read once here)
        self.model: ModelConfig = model_from_config(config)

    @property
    def plot_config(self) -> dict[str, Any]:
        config = super().plot_config
        config["main_plot"].update(
            {
                C.MAGNET_UP_PRICE: {"color": "green", "type": "scatter"},
                C.MAGNET_DOWN_PRICE: {"color": "red", "type": "scatter"},
                C.NEAREST_UP_PRICE: {"color": "lightgreen"},
                C.NEAREST_DOWN_PRICE: {"color": "salmon"},
            }
        )
        config["subplots"]["liquidation terms"] = {
            "liq_term_imbalance_5": {"color": "blue"},
            "liq_term_magnet": {"color": "green"},
            "liq_term_cascade": {"color": "orange"},
            "liq_term_sweeps": {"color": "grey"},
        }
        config["subplots"]["imbalance (ln ratio)"] = {
            C.IMBALANCE_LOG_2PCT: {"color": "lightblue"},
            C.IMBALANCE_LOG_5PCT: {"color": "blue"},
            C.IMBALANCE_LOG_10PCT: {"color": "navy"},
        }
        return config

    def plot_annotations(
        self, pair: str, start_date: datetime, end_date: datetime, dataframe: DataFrame, **kwargs
    ) -> list[dict[str, Any]]:
        """The nearest and largest clusters above and below price as bands in FreqUI."""
        return cluster_bands(
            dataframe, cfg=self.model, timeframe_minutes=timeframe_to_seconds(self.timeframe) // 60
        )

    def informative_pairs(self) -> list[tuple[str, str, str]]:
        """Declare the extra series so dry-run fetches them (undeclared ones come back empty)."""
        if self.config.get("trading_mode", "spot") == "spot":
            return []
        pairs = self.dp.current_whitelist()
        return [(p, tf, "open_interest") for p in pairs for tf in self._oi_timeframes()] + [
            (p, self.timeframe, "mark") for p in pairs
        ]

    def _oi_timeframes(self) -> list[str]:
        """Open-interest timeframes, in the order tried: the strategy's own, then 1h when
        it is a coarser whole multiple (the engine uses a coarser row from the end of its
        period on; same order as ``liq_signals.data.load.open_interest_timeframes``)."""
        own = timeframe_to_seconds(self.timeframe)
        coarser = [
            tf
            for tf in ("1h",)
            if timeframe_to_seconds(tf) > own and timeframe_to_seconds(tf) % own == 0
        ]
        return [self.timeframe, *coarser]

    def _open_interest(self, pair: str) -> DataFrame | None:
        """The first open-interest series that exists, of :meth:`_oi_timeframes`, in
        backtest and dry-run alike."""
        for tf in self._oi_timeframes():
            frame = self._extra_series(pair, "open_interest", tf)
            if frame is not None:
                return frame
        return None

    # --- inputs ---------------------------------------------------------------------------
    def _extra_series(self, pair: str, candle_type: str, timeframe: str) -> DataFrame | None:
        if self.config.get("trading_mode", "spot") == "spot":
            return None
        frame = self.dp.get_pair_dataframe(pair, timeframe, candle_type=candle_type)
        return frame if len(frame) else None

    def _mark(self, pair: str) -> DataFrame | None:
        """Mark candles of the strategy timeframe, in dry-run/live only.

        Liquidations trigger on the mark price, and the engine uses mark candles of the
        candles' own timeframe.  Binance serves 5m mark klines live; recorded datadirs
        usually hold 1h mark only (freqtrade's funding-fee timeframe), so backtests use
        the trade candles' high/low instead of asking for a file that is not there.
        """
        if self.dp.runmode not in (RunMode.DRY_RUN, RunMode.LIVE):
            return None
        return self._extra_series(pair, "mark", self.timeframe)

    def _metrics(self, pair: str) -> DataFrame | None:
        """Taker-flow sidecar beside the candles, if any (freqtrade has no candle type for it)."""
        frame = read_sidecar(self.config["datadir"], pair, self.timeframe)
        return frame if len(frame) else None

    # --- indicators: the map, once per pair -----------------------------------------------
    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe = super().populate_indicators(dataframe, metadata)
        pair = metadata["pair"]
        open_interest = self._open_interest(pair)
        if open_interest is None:
            logger.warning(
                "%s: no open interest (candle type 'open_interest'); the liquidation map "
                "runs in volume-flow mode. Get it with `freqtrade download-data "
                "--candle-types open_interest`.",
                pair,
            )
        # compute_features over the whole frame in backtests; in dry-run/live the book is
        # advanced over new candles only, and stale/failed updates are flagged (no entries).
        features = strategy_features(
            self,
            dataframe[["date", "open", "high", "low", "close", "volume"]],
            pair=pair,
            open_interest=open_interest,
            mark=self._mark(pair),
            metrics=self._metrics(pair),
            timeframe=self.timeframe,
            config=self.model,
        )
        added = features.columns.difference(dataframe.columns, sort=False)
        dataframe = pd.concat([dataframe, features[added]], axis=1)

        usable = ~dataframe[C.STALE].astype(bool)
        for band in IMBALANCE_BANDS:
            imbalance = dataframe[C.imbalance_log(float(band))]
            dataframe[f"liq_term_imbalance_{band}"] = np.tanh(imbalance / 2.0).where(usable)
        close_in_atr = dataframe["close"] / dataframe["atr"]

        def pull(usd: str, dist_pct: str) -> pd.Series:
            """Notional / (1 + distance in ATR); a missing cluster pulls with 0."""
            distance_atr = dataframe[dist_pct] / 100.0 * close_in_atr
            return (dataframe[usd] / (1.0 + distance_atr)).fillna(0.0)

        pull_up = pull(C.NEAREST_UP_USD, C.NEAREST_UP_DIST_PCT) + pull(
            C.MAGNET_UP_USD, C.MAGNET_UP_DIST_PCT
        )
        pull_down = pull(C.NEAREST_DOWN_USD, C.NEAREST_DOWN_DIST_PCT) + pull(
            C.MAGNET_DOWN_USD, C.MAGNET_DOWN_DIST_PCT
        )
        dataframe["liq_term_magnet"] = _normalised_difference(pull_up, pull_down).where(
            usable & dataframe["atr"].notna()
        )
        dataframe["liq_term_cascade"] = _normalised_difference(
            dataframe[C.CASCADE_UP_USD_PER_PCT], dataframe[C.CASCADE_DOWN_USD_PER_PCT]
        ).where(usable)
        dataframe["liq_term_sweeps"] = _normalised_difference(
            dataframe[C.SWEPT_LONG_USD_RECENT], dataframe[C.SWEPT_SHORT_USD_RECENT]
        ).where(usable)
        return dataframe

    # --- the three hooks of the skeleton --------------------------------------------------
    def _liquidation_score(self, dataframe: DataFrame) -> pd.Series:
        return (
            self.w_imbalance.value * dataframe[f"liq_term_imbalance_{self.imbalance_band.value}"]
            + self.w_magnet.value * dataframe["liq_term_magnet"]
            + self.w_cascade.value * dataframe["liq_term_cascade"]
            + self.w_sweeps.value * dataframe["liq_term_sweeps"]
        )

    def _stop_anchor(self, row: pd.Series, current_rate: float, is_short: bool) -> float:
        """Beyond the nearest opposing cluster plus a buffer; the ATR stop if there is none."""
        cluster = row[C.NEAREST_UP_PRICE] if is_short else row[C.NEAREST_DOWN_PRICE]
        if not np.isfinite(cluster):
            return super()._stop_anchor(row, current_rate, is_short)
        buffer = self.stop_buffer_atr.value * row["atr"]
        return cluster + buffer if is_short else cluster - buffer

    def _target(self, row: pd.Series, entry_rate: float, is_short: bool) -> tuple[float, str]:
        """The nearest cluster on the trade's side, if beyond the entry; else the ATR target."""
        cluster = row[C.NEAREST_DOWN_PRICE] if is_short else row[C.NEAREST_UP_PRICE]
        beyond = (cluster < entry_rate) if is_short else (cluster > entry_rate)
        if np.isfinite(cluster) and beyond:
            return float(cluster), "magnet"
        return super()._target(row, entry_rate, is_short)
