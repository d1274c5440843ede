"""LiquidationMagnetStrategy: the baseline plus one liquidation term the study supports.

Built on BaselineStrategy -- same entry score, exit signal, stop, target, leverage,
protections and parameter defaults -- plus one term in the entry score (docs/strategy.md
cites each figure; they come from ``liq-signals study`` on the in-sample windows BTC
2023-01 -> 2023-07 and BTC/ETH/SOL 2025-01 -> 2025-04):

* ``liq_term_pull_excess`` (weight ``w_pull``, sign free in [-1, 1]): the pull of the
  clusters above vs below *beyond what the past day's return explains*.  The raw pull
  (``liq_term_magnet``) is momentum in disguise (rank correlation +0.73..+0.84 with the
  past 24 h return) and its raw IC with the 4 h forward return is ~0 (-0.03..+0.01);
  partial on momentum and volatility it is +0.067/+0.114/+0.059 (BTC/ETH/SOL 2025) but
  +0.010 on BTC 2023, and the causal residual used here measured +0.065/+0.073/+0.032 in
  2025 and -0.070 in 2023 (out of sample: -0.028..+0.017, no interval excluding 0).
  The sign depends on the regime, so hyperopt picks it on each training window; the
  walk-forward (tools/compare.py) tests whether it holds on the next.

What the study refuted and this strategy therefore no longer does:

* **magnet targets and cluster stops**: the larger cluster is reached first *less* often
  than a driftless random walk predicts (excess -0.06/-0.11/-0.04 in 2025, +0.05 n.s.
  in 2023), so exits no longer aim at clusters; and a stop just beyond the nearest
  cluster on the stop side, though stopped out less often than a distance-matched ATR
  stop, does no better than the same rule on the map of 10-30 days earlier (placebo),
  so what helps is the shape of a cluster map, not what it knows now: stops stay the
  baseline's (docs/study.md, "Stops placed by the map");
* **raw imbalance, cascade and sweeps terms**: no sign survives across pairs and windows
  once momentum is controlled for (they stay in the frame, and in the study, as
  ``liq_term_*`` columns, but do not trade).

Exits never depend on the map: the exit signal, stop and target are the baseline's,
computed from the technical part only, so a stale map (warm-up, open-interest outage)
blocks entries (the term is NaN, NaN never crosses a threshold) and never an exit.

The model (``MODEL``) can be replaced by a parameter file (as ``liq-signals calibrate --out``
writes) named in the freqtrade config: ``"liq_signals": {"model_config": "FILE"}``; the
fields it names override ``MODEL``'s.  ``user_data/liq_model.json`` holds ``MODEL`` itself;
``tools/compare.py`` passes it explicitly, so a recalibrated file is what the walk-forward
trades.

Spot (``config_dryrun_spot.json``): long only; no open interest exists there, so the map
runs in volume-flow mode (logged).  Futures pairs without open-interest data do the same.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import pandas as pd
from BaselineStrategy import BaselineStrategy
from freqtrade.exceptions import OperationalException
from freqtrade.exchange import timeframe_to_seconds
from freqtrade.strategy import DecimalParameter
from pandas import DataFrame

from liq_signals import columns as C
from liq_signals.freqtrade import (
    ModelConfig,
    check_strategy_data,
    cluster_bands,
    informative_pairs,
    liquidation_terms,
    model_config,
    open_interest_timeframes,
    pair_mark,
    pair_metrics,
    pair_open_interest,
    pair_series,
    startup_candles,
    strategy_features,
)

logger = logging.getLogger(__name__)

#: The model behind the features: ``ModelConfig()``, the one model every ``liq-signals``
#: command shows (docs/validation.md), so the heatmap a user reads is the map this strategy
#: trades.  Changing it changes the indicators: re-run the study, the walk-forward and the
#: gates.
MODEL = ModelConfig()
#: Days the pull's momentum fit looks back (liq_signals.study.terms.RESIDUAL_DAYS).
MOMENTUM_DAYS = 3
#: Imbalance bands of the ``liq_term_imbalance_*`` columns (must be in MODEL.bands_pct).
IMBALANCE_BANDS = ("2", "5", "10")


def model_from_config(config: dict[str, Any]) -> ModelConfig:
    """The model the strategy runs: ``MODEL``, or the file ``config[liq_signals][model_config]``
    laid over it (relative paths: the current directory, then ``user_data_dir``;
    :func:`liq_signals.freqtrade.model_config`).

    :raise OperationalException: an unknown key in the section, the file is missing or
        invalid, or its ``bands_pct`` lacks the imbalance bands (freqtrade must not start
        trading a different map than the one asked for)
    """
    model = model_config(config, base=MODEL)
    missing = [b for b in IMBALANCE_BANDS if float(b) not in model.bands_pct]
    if missing:
        name = config["liq_signals"]["model_config"]  # MODEL has them all: a file was named
        raise OperationalException(
            f"liq_signals.model_config = {name!r}: bands_pct {list(model.bands_pct)} lacks "
            f"the strategy's imbalance band(s) {missing}"
        )
    return model


class LiquidationMagnetStrategy(BaselineStrategy):
    """The baseline's entry score plus ``w_pull`` times the pull beyond momentum."""

    # Follows MODEL's half-life (10 half-lives) plus the pull's momentum look-back: with
    # 12 h, 5 + 3 days = 2304 5m candles, within what freqtrade loads at start-up.
    # recursive-analysis in tests/strategy checks the terms are stable at this count.
    startup_candle_count: int = startup_candles(MODEL, "5m", extra_hours=24 * MOMENTUM_DAYS)

    # The only parameter the baseline does not have; the skeleton's parameters keep the
    # baseline's defaults (the twin differs by this term alone).  Default: the sign the
    # study measured on the 2025 in-sample window, magnitude not tuned.
    w_pull = DecimalParameter(-1.0, 1.0, default=0.5, decimals=2, space="buy")
    #: Span (candles) of the exponential average of the pull term before it enters the
    #: score (12 hours).  The raw term moves every 5 minutes: the strategy crossed its
    #: entry threshold four times as often as its twin (77 vs 20 trades on BTC 2023-Q3 with
    #: the defaults, 15 % of the slot in fees).  Chosen on the training window BTC, ETH,
    #: SOL 2025-04-01 -> 2025-07-01: spans 1 / 12 / 36 / 144 made 208 / 156 / 141 / 98
    #: trades and -17.5 / -0.8 / -6.4 / +4.6 % of the wallet.
    pull_smooth_candles: int = 144

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        #: the map's model: MODEL unless the config names a parameter file (read once here)
        self.model: ModelConfig = model_from_config(config)
        check_strategy_data(self, self.model)  # before freqtrade's loader reads the datadir

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
            "liq_term_pull_excess": {"color": "black"},
            "liq_term_magnet": {"color": "green"},
            "liq_term_imbalance_5": {"color": "blue"},
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
        return informative_pairs(self)

    # --- inputs (hooks: the placebo and the planted strategies of the tests override them)
    def _oi_timeframes(self) -> list[str]:
        return open_interest_timeframes(self.timeframe)

    def _extra_series(self, pair: str, candle_type: str, timeframe: str) -> DataFrame | None:
        return pair_series(self, pair, candle_type, timeframe)

    def _open_interest(self, pair: str) -> DataFrame | None:
        return pair_open_interest(self, pair)

    def _mark(self, pair: str) -> DataFrame | None:
        return pair_mark(self, pair)

    def _metrics(self, pair: str) -> DataFrame | None:
        return pair_metrics(self, pair)

    # --- indicators: the map, once per pair -----------------------------------------------
    def _map_features(self, dataframe: DataFrame, pair: str) -> DataFrame:
        """The ``liq_*`` columns for ``dataframe``'s candles (the placebo replaces this).

        compute_features over the whole frame in backtests; in dry-run/live the book is
        advanced over new candles only, and stale/failed updates are flagged (no entries).
        """
        return strategy_features(
            self,
            dataframe[["date", "open", "high", "low", "close", "volume"]],
            pair=pair,
            open_interest=self._open_interest(pair),
            mark=self._mark(pair),
            metrics=self._metrics(pair),
            timeframe=self.timeframe,
            config=self.model,
        )

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe = super().populate_indicators(dataframe, metadata)
        features = self._map_features(dataframe, metadata["pair"])
        added = features.columns.difference(dataframe.columns, sort=False)
        dataframe = pd.concat([dataframe, features[added]], axis=1)
        per_day = 86400 // timeframe_to_seconds(self.timeframe)
        terms = liquidation_terms(dataframe, dataframe["atr"], candles_per_day=per_day)
        return pd.concat([dataframe, terms], axis=1)

    # --- the skeleton's hook --------------------------------------------------------------
    def _liquidation_score(self, dataframe: DataFrame) -> pd.Series:
        """``w_pull`` x the pull beyond momentum, averaged over ``pull_smooth_candles``;
        NaN while the map is stale (no entries)."""
        term = dataframe["liq_term_pull_excess"]
        smooth = term.ewm(span=self.pull_smooth_candles, ignore_na=True).mean()
        return self.w_pull.value * smooth.where(term.notna())
