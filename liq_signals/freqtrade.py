"""Liquidation features in a freqtrade strategy of your own: the three calls it needs.

``informative_pairs(strategy)``
    the extra series the map reads: open interest (the strategy's timeframe, then 1h when
    coarser) and mark candles, for every whitelisted pair.  Dry-run/live fetch only what a
    strategy declares; without them the map runs in the weaker volume mode.
``liquidation_features(strategy, dataframe, metadata)``
    the ``liq_*`` columns (:mod:`liq_signals.columns`) appended to ``dataframe``: one
    batch run in backtests, in dry-run/live an incremental update over the new candles
    only, resumed after a restart, with ``liq_stale`` set on rows whose inputs are late
    or missing (do not enter on them).
``model_config(config)``
    the model the config asks for (``"liq_signals": {"model_config": FILE}``), so the
    strategy trades the map ``liq-signals`` commands draw with the same config.

A strategy that wants its hands on the inputs (the shipped ``LiquidationMagnetStrategy``
does) reads them with :func:`pair_open_interest`, :func:`pair_mark` and
:func:`pair_metrics` and passes them to :func:`strategy_features`, which returns the
feature columns alone; the same call appends them in :func:`liquidation_features`.  In
backtesting/hyperopt it warns once per pair when the map cannot signal on most candles
after the strategy's startup, and why: a history no longer than ``startup_candle_count``,
or stale inputs (an open-interest outage), with their span.  A backtest with no trades
then says why in its log.

``check_strategy_data(strategy, model)`` (optional, from the strategy's ``__init__``) checks
the whitelisted pairs' files before freqtrade's loader reads them, so a bad file ends the
run with one line naming file, pair and fix instead of a traceback; ``startup_candles``
gives a ``startup_candle_count`` that follows the model's half-life.  ``liquidation_terms``
(the study's ``liq_term_*`` columns) and ``cluster_bands`` (FreqUI annotations of the
clusters) are the shipped strategy's.

**One model per strategy instance.**  liq_signals keeps what it needs between calls in one
:class:`StrategyContext` per strategy instance (the attribute :data:`CONTEXT_ATTRIBUTE`):
the model, the feature provider of each timeframe, the pairs whose files were checked and
the warnings already given.  The first call that names a model (or, without one, reads
the config's, :func:`model_config`) fixes it; a later call with a different model raises
:class:`ModelConflictError` instead of being ignored.

Walk-through: ``docs/own-strategy.md``.  The shipped strategies import only this module
and :mod:`liq_signals.columns`, as a strategy of your own does.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, fields
from typing import Any

import pandas as pd
from freqtrade.exceptions import OperationalException

from liq_signals import columns as C
from liq_signals.config import ModelConfig
from liq_signals.data import preflight
from liq_signals.data.frames import PairFrames
from liq_signals.errors import ConfigError
from liq_signals.live.provider import LIVE_RUNMODES, LiveFeatureProvider, provider_for
from liq_signals.study.terms import liquidation_terms
from liq_signals.viz.annotations import cluster_bands

__all__ = [
    "CONTEXT_ATTRIBUTE",
    "ModelConfig",
    "ModelConflictError",
    "StrategyContext",
    "check_strategy_data",
    "cluster_bands",
    "informative_pairs",
    "liquidation_features",
    "liquidation_terms",
    "model_config",
    "open_interest_timeframes",
    "pair_mark",
    "pair_metrics",
    "pair_open_interest",
    "pair_series",
    "startup_candles",
    "strategy_context",
    "strategy_features",
]

logger = logging.getLogger(__name__)

#: the candle columns the model reads from the strategy's dataframe
CANDLE_COLUMNS = ["date", "open", "high", "low", "close", "volume"]
#: run modes whose whole history is analysed at once, where :func:`why_no_signal` is asked
_BATCH = frozenset({"backtest", "hyperopt"})
#: warn when fewer than this share of the candles after the startup can signal
CAN_SIGNAL_WARN_SHARE = 0.5
#: the one attribute liq_signals sets on a strategy instance (a :class:`StrategyContext`)
CONTEXT_ATTRIBUTE = "_liq_signals"


class ModelConflictError(ConfigError, OperationalException):
    """A second, different model for a strategy instance whose features already run on
    one: its provider's state and checked files belong to the first.  Also a freqtrade
    ``OperationalException``, so freqtrade prints the one-line message and stops."""


@dataclass
class StrategyContext:
    """What liq_signals keeps for one strategy instance, created once
    (:func:`strategy_context`)."""

    #: the map's model: fixed by the first call that needs one (:meth:`use_model`)
    model: ModelConfig | None = None
    #: the feature provider (batch, or per-pair incremental state) of each timeframe
    providers: dict[str, LiveFeatureProvider] = field(default_factory=dict)
    #: ``(pair, timeframe)`` whose files passed :func:`check_strategy_data`'s check
    checked: set[tuple[str, str]] = field(default_factory=set)
    #: ``(what, pair)`` of the once-per-pair warnings already given
    warned: set[tuple[str, str]] = field(default_factory=set)

    def use_model(self, strategy: Any, model: ModelConfig | None) -> ModelConfig:
        """The context's model, fixed on first use to ``model`` (``None``: the model of
        ``strategy.config``, :func:`model_config`).

        :raise ModelConflictError: ``model`` differs from the one already fixed
        """
        if self.model is None:
            self.model = model if model is not None else model_config(strategy.config)
        elif model is not None and model != self.model:
            changed = ", ".join(
                f"{f.name} {getattr(self.model, f.name)!r} -> {getattr(model, f.name)!r}"
                for f in fields(ModelConfig)
                if getattr(self.model, f.name) != getattr(model, f.name)
            )
            raise ModelConflictError(
                f"{type(strategy).__name__}: a second model for the same strategy instance "
                f"({changed}); its features already run on the first — pass one "
                "ModelConfig to every liq_signals call, or none (the config's)"
            )
        return self.model

    def provider(self, strategy: Any, timeframe: str) -> LiveFeatureProvider:
        """The feature provider of ``timeframe``'s candles (created on first use)."""
        provider = self.providers.get(timeframe)
        if provider is None:
            provider = provider_for(strategy, self.use_model(strategy, None), timeframe)
            self.providers[timeframe] = provider
        return provider

    def warn_once(self, what: str, pair: str) -> bool:
        """True the first time ``(what, pair)`` is asked (then give the warning)."""
        first = (what, pair) not in self.warned
        self.warned.add((what, pair))
        return first


def strategy_context(strategy: Any) -> StrategyContext:
    """The strategy instance's :class:`StrategyContext`, created on first use."""
    context = vars(strategy).get(CONTEXT_ATTRIBUTE)
    if context is None:
        context = StrategyContext()
        setattr(strategy, CONTEXT_ATTRIBUTE, context)
    return context


def open_interest_timeframes(timeframe: str) -> list[str]:
    """Open-interest timeframes read under candles of ``timeframe``, in the order tried
    (its own, then 1h when that is a coarser whole multiple)."""
    from liq_signals.data.load import open_interest_timeframes as tried

    return tried(timeframe)


#: half-lives of book warm-up: < 0.1 % of the book then depends on where the window
#: starts (5 left 3 %, which the strategy's pull term amplified to 4 %: recursive-analysis)
WARMUP_HALF_LIVES = 10


def startup_candles(model: ModelConfig, timeframe: str, extra_hours: float = 0.0) -> int:
    """A ``startup_candle_count`` that follows the model's half-life: the candles of
    :data:`WARMUP_HALF_LIVES` half-lives (the book forgets where the window starts) plus
    ``extra_hours`` for the strategy's own look-back.  freqtrade loads about 2,490 5m
    candles at a Binance start-up, so at 5m a half-life much above 12 h does not fit."""
    from liq_signals.timeframes import timeframe_seconds

    hours = WARMUP_HALF_LIVES * model.decay_half_life_hours + extra_hours
    return math.ceil(hours * 3600 / timeframe_seconds(timeframe))


def _futures(strategy: Any) -> bool:
    return strategy.config.get("trading_mode", "spot") == "futures"


def informative_pairs(strategy: Any) -> list[tuple[str, str, str]]:
    """The ``(pair, timeframe, candle_type)`` declarations the map needs; return them from
    (or add them to) the strategy's ``informative_pairs()``.  Empty in spot mode (no open
    interest there: volume mode)."""
    if not _futures(strategy):
        return []
    pairs = strategy.dp.current_whitelist()
    oi = [
        (pair, tf, "open_interest")
        for pair in pairs
        for tf in open_interest_timeframes(strategy.timeframe)
    ]
    return oi + [(pair, strategy.timeframe, "mark") for pair in pairs]


def pair_series(
    strategy: Any, pair: str, candle_type: str, timeframe: str | None = None
) -> pd.DataFrame | None:
    """A declared extra series of ``pair`` (``open_interest``, ``mark``, ...) as freqtrade's
    DataProvider holds it, of ``timeframe`` (default: the strategy's); None when it has no
    rows, and always on spot (freqtrade has none there)."""
    if not _futures(strategy):
        return None
    frame = strategy.dp.get_pair_dataframe(
        pair, timeframe or strategy.timeframe, candle_type=candle_type
    )
    return frame if len(frame) else None


def pair_open_interest(strategy: Any, pair: str) -> pd.DataFrame | None:
    """The first open-interest series of :func:`open_interest_timeframes` that has rows,
    in backtest and dry-run alike.  None: the map runs in volume-flow mode, which is
    logged once per pair (a warning on futures, where open interest should exist)."""
    frame = next(
        (
            f
            for tf in open_interest_timeframes(strategy.timeframe)
            if (f := pair_series(strategy, pair, "open_interest", tf)) is not None
        ),
        None,
    )
    if frame is None and strategy_context(strategy).warn_once("no open interest", pair):
        if _futures(strategy):
            logger.warning(
                "%s: no open interest (candle type 'open_interest'; declare "
                "liq_signals.freqtrade.informative_pairs; backtests: freqtrade download-data "
                "--candle-types open_interest) — the liquidation map runs in volume-flow mode.",
                pair,
            )
        else:
            logger.info("%s: spot has no open interest; the map runs in volume-flow mode.", pair)
    return frame


def pair_mark(strategy: Any, pair: str) -> pd.DataFrame | None:
    """Mark candles of the strategy's timeframe, in dry-run/live only.

    Liquidations trigger on the mark price, and the engine uses mark candles of the
    candles' own timeframe.  Binance serves 5m mark klines live; recorded datadirs usually
    hold 1h mark only (freqtrade's funding-fee timeframe), so backtests use the trade
    candles' high/low instead of asking for a file that is not there.
    """
    if _runmode(strategy) not in LIVE_RUNMODES:
        return None
    return pair_series(strategy, pair, "mark")


def pair_metrics(strategy: Any, pair: str) -> pd.DataFrame | None:
    """The taker-flow sidecar beside the pair's candles (freqtrade has no candle type for
    it; ``liq-signals import-binance-metrics`` writes it), futures only as in
    :func:`liq_signals.data.load.load_pair_inputs`; None when there is none.

    :raise SidecarError: the file exists but cannot be read (the message names it)
    """
    from liq_signals.data.sidecar import read_sidecar

    datadir = strategy.config.get("datadir")
    if not _futures(strategy) or not datadir:
        return None
    frame = read_sidecar(datadir, pair, strategy.timeframe)
    return frame if len(frame) else None


def _runmode(strategy: Any) -> str:
    runmode = getattr(getattr(strategy, "dp", None), "runmode", None)
    if runmode is None:
        runmode = (getattr(strategy, "config", None) or {}).get("runmode")
    return str(getattr(runmode, "value", runmode) or "")


def check_strategy_data(strategy: Any, config: ModelConfig | None = None) -> None:
    """Check the files of every whitelisted pair of the strategy before freqtrade's loader
    reads them, in the run modes where freqtrade loads the datadir itself; call it from the
    strategy's ``__init__`` (:func:`liq_signals.data.preflight.check_strategy_data`).  A
    pair checked here is not read again by :func:`strategy_features`.

    :param config: the strategy's model (fixes the context's, :class:`StrategyContext`)
    :raise LiqInputError: a pair's files fail the boundary (one line: file, pair, fix)
    :raise ModelConflictError: ``config`` differs from the model the strategy already uses
    """
    context = strategy_context(strategy)
    model = context.use_model(strategy, config)
    preflight.check_strategy_data(strategy, model, checked=context.checked)


def strategy_features(
    strategy: Any,
    candles: pd.DataFrame,
    *,
    pair: str,
    open_interest: pd.DataFrame | None = None,
    mark: pd.DataFrame | None = None,
    metrics: pd.DataFrame | None = None,
    timeframe: str | None = None,
    config: ModelConfig | None = None,
) -> pd.DataFrame:
    """Drop-in for ``compute_features`` inside a freqtrade strategy: one batch run in
    backtests (after the pair's files are checked once,
    :func:`liq_signals.data.preflight.check_strategy_pair`), an incremental update per pair
    in dry-run/live (:class:`liq_signals.live.provider.LiveFeatureProvider`, one per
    timeframe); run mode read from ``strategy.dp``.

    In backtesting and hyperopt, the first call for a pair logs one warning when the map
    cannot signal on most candles after the strategy's startup, and why
    (:func:`why_no_signal`); dry-run/live flag each stale candle instead.

    :param strategy: the ``IStrategy`` instance (its :class:`StrategyContext` holds the
        per-pair state)
    :param timeframe: the timeframe of ``candles`` (default: the strategy's); an
        informative timeframe gets its own provider and state
    :param config: the model (default: the strategy's, :meth:`StrategyContext.use_model`)
    :return: as :func:`liq_signals.features.compute_features`
    :raise LiqInputError: outside dry-run/live, the pair's files fail the boundary:
        freqtrade prints the one-line message and exits non-zero
    :raise ModelConflictError: ``config`` differs from the model the strategy already uses
    """
    context = strategy_context(strategy)
    model = context.use_model(strategy, config)
    timeframe = timeframe or strategy.timeframe
    runmode = _runmode(strategy)
    if runmode not in LIVE_RUNMODES:  # dry-run/live quarantine row by row instead
        preflight.check_strategy_pair(
            strategy, pair, model, timeframe=timeframe, checked=context.checked
        )
    frames = PairFrames(candles, open_interest, mark, metrics)
    features = context.provider(strategy, timeframe).features(frames, pair=pair, runmode=runmode)
    own = timeframe == strategy.timeframe  # startup_candle_count counts these candles
    if own and runmode in _BATCH and context.warn_once("no signal", pair):
        startup = int(getattr(strategy, "startup_candle_count", 0) or 0)
        why = why_no_signal(features, startup, timeframe)
        if why:
            logger.warning("%s %s: %s", type(strategy).__name__, pair, why)
    return features


def why_no_signal(features: pd.DataFrame, startup: int, timeframe: str) -> str | None:
    """Why the map cannot signal on most of ``features``' candles after the first
    ``startup`` (freqtrade trades only those), or None when it can.

    A candle can signal when its inputs are not stale (``liq_stale``); the reason names
    the history's length against the startup, or the stale candles and their span.

    :param features: the frame of :func:`strategy_features` (``date``, ``liq_stale``)
    :param startup: the strategy's ``startup_candle_count``
    """
    from liq_signals.timeframes import timeframe_seconds

    def days(candles: int) -> str:
        return f"{candles * timeframe_seconds(timeframe) / 86400:.1f} days"

    total = len(features)
    if total <= startup:
        return (
            f"no signal: the {total} candles on file ({days(total)}) are all taken by the "
            f"strategy's startup_candle_count {startup} ({days(startup)}); download a longer "
            "history (freqtrade download-data --timerange / --days)"
        )
    after = features.iloc[startup:]
    stale = after[C.STALE].to_numpy(dtype=bool) if C.STALE in after else None
    if stale is None or (~stale).mean() >= CAN_SIGNAL_WARN_SHARE:
        return None
    dates = pd.DatetimeIndex(after["date"])
    first, last = dates[stale][0], dates[stale][-1]
    return (
        f"the liquidation map can signal on only {int((~stale).sum())} of the {len(after)} "
        f"candles after the startup ({startup} candles, {days(startup)}; trading from "
        f"{dates[0]:%Y-%m-%d %H:%M}): {int(stale.sum())} are stale (open interest or "
        f"another input missing or late, e.g. an outage) between {first:%Y-%m-%d %H:%M} "
        f"and {last:%Y-%m-%d %H:%M} UTC; no entries are made on them"
    )


def liquidation_features(
    strategy: Any,
    dataframe: pd.DataFrame,
    metadata: dict,
    config: ModelConfig | None = None,
) -> pd.DataFrame:
    """``dataframe`` with the liquidation-map columns appended, for ``populate_indicators``.

    Reads the declared series through ``strategy.dp`` (:func:`pair_open_interest`,
    :func:`pair_mark`) and the taker-flow sidecar next to the candles when there is one
    (:func:`pair_metrics`).  Never raises for missing data: no open interest means volume
    mode (warned once per pair), and a failed live update gives NaN features flagged
    ``liq_stale``.

    :param config: the model (default: :func:`model_config` of the strategy's config,
        read once and kept in the strategy's :class:`StrategyContext`)
    :raise ModelConflictError: ``config`` differs from the model the strategy already uses
    """
    pair = metadata["pair"]
    features = strategy_features(
        strategy,
        dataframe[CANDLE_COLUMNS],
        pair=pair,
        open_interest=pair_open_interest(strategy, pair),
        mark=pair_mark(strategy, pair),
        metrics=pair_metrics(strategy, pair),
        timeframe=strategy.timeframe,
        config=config,
    )
    added = features.columns.difference(dataframe.columns, sort=False)
    return pd.concat([dataframe, features[added]], axis=1)


def model_config(config: dict[str, Any], base: ModelConfig | None = None) -> ModelConfig:
    """The model a freqtrade config asks for: ``base`` (default ``ModelConfig()``), or the
    file named by its ``liq_signals`` section laid over it (relative paths: the current
    directory, then ``user_data_dir``; JSON with comments, as freqtrade configs).  A file
    read is logged with the model it gives.

    :raise OperationalException: an unknown key in the section, a missing or invalid
        file — freqtrade then stops with that message instead of trading another map
    """
    from liq_signals.config import model_config_from_freqtrade, model_config_path

    try:
        model = model_config_from_freqtrade(config, base=base)
        path = model_config_path(config)
    except ConfigError as exc:
        raise OperationalException(str(exc)) from exc
    if path is not None:
        logger.info("model config from %s: %s", path, model)
    return model
