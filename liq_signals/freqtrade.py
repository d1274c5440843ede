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

``strategy_features`` (also ``liq_signals.strategy_features``, which the shipped strategy
calls) is the provider's, plus one warning per pair in backtesting/hyperopt when the map
cannot signal on most candles after the strategy's startup, and why: a history no longer
than ``startup_candle_count``, or stale inputs (an open-interest outage), with their span.
A backtest with no trades then says why in its log.

Walk-through: ``docs/own-strategy.md``.  The shipped ``LiquidationMagnetStrategy`` uses
the same pieces.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import pandas as pd

from liq_signals import columns as C
from liq_signals.config import ModelConfig
from liq_signals.live.provider import strategy_features as _provider_features

__all__ = [
    "informative_pairs",
    "liquidation_features",
    "model_config",
    "open_interest_timeframes",
    "startup_candles",
    "strategy_features",
    "ModelConfig",
]

logger = logging.getLogger(__name__)

#: the candle columns the model reads from the strategy's dataframe
CANDLE_COLUMNS = ["date", "open", "high", "low", "close", "volume"]
#: freqtrade run modes (``RunMode.value``) in which mark candles are fetched live
_LIVE = frozenset({"dry_run", "live"})
#: run modes whose whole history is analysed at once, where :func:`why_no_signal` is asked
_BATCH = frozenset({"backtest", "hyperopt"})
#: warn when fewer than this share of the candles after the startup can signal
CAN_SIGNAL_WARN_SHARE = 0.5


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


def _series(strategy: Any, pair: str, timeframe: str, candle_type: str) -> pd.DataFrame | None:
    frame = strategy.dp.get_pair_dataframe(pair, timeframe, candle_type=candle_type)
    return frame if len(frame) else None


def _runmode(strategy: Any) -> str:
    runmode = getattr(getattr(strategy, "dp", None), "runmode", None)
    if runmode is None:
        runmode = (getattr(strategy, "config", None) or {}).get("runmode")
    return str(getattr(runmode, "value", runmode) or "")


_warned: set[tuple[int, str]] = set()


def strategy_features(
    strategy: Any,
    candles: pd.DataFrame,
    *,
    pair: str,
    open_interest: pd.DataFrame | None = None,
    mark: pd.DataFrame | None = None,
    metrics: pd.DataFrame | None = None,
    timeframe: str = "5m",
    config: ModelConfig | None = None,
) -> pd.DataFrame:
    """Drop-in for ``compute_features`` inside a freqtrade strategy: batch in backtests,
    incremental per pair in dry-run/live (:func:`liq_signals.live.provider.strategy_features`).

    In backtesting and hyperopt, the first call for a pair logs one warning when the map
    cannot signal on most candles after the strategy's startup, and why
    (:func:`why_no_signal`); dry-run/live flag each stale candle instead.

    :raise LiqInputError: outside dry-run/live, the pair's files fail the boundary
    """
    features = _provider_features(
        strategy,
        candles,
        pair=pair,
        open_interest=open_interest,
        mark=mark,
        metrics=metrics,
        timeframe=timeframe,
        config=config,
    )
    key = (id(strategy), f"signal {pair}")
    if key not in _warned and _runmode(strategy) in _BATCH:
        _warned.add(key)
        startup = int(getattr(strategy, "startup_candle_count", 0) or 0)
        why = why_no_signal(features, startup, strategy.timeframe)
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

    Reads the declared series through ``strategy.dp`` (open interest: the first of
    :func:`open_interest_timeframes` that has rows; mark candles in dry-run/live only, as
    recorded datadirs rarely hold them at the strategy's timeframe) and the taker-flow
    sidecar next to the candles when there is one.  Never raises for missing data: no open
    interest means volume mode (warned once per pair), and a failed live update gives NaN
    features flagged ``liq_stale``.

    :param config: the model (default: :func:`model_config` of the strategy's config,
        read once and kept on the strategy)
    """
    from liq_signals.data.sidecar import read_sidecar

    pair = metadata["pair"]
    if config is None:
        config = getattr(strategy, "_liq_signals_model", None)
        if config is None:
            config = model_config(strategy.config)
            strategy._liq_signals_model = config
    open_interest = mark = metrics = None
    if _futures(strategy):
        open_interest = next(
            (
                f
                for tf in open_interest_timeframes(strategy.timeframe)
                if (f := _series(strategy, pair, tf, "open_interest")) is not None
            ),
            None,
        )
        if _runmode(strategy) in _LIVE:
            mark = _series(strategy, pair, strategy.timeframe, "mark")
        if strategy.config.get("datadir"):
            sidecar = read_sidecar(strategy.config["datadir"], pair, strategy.timeframe)
            metrics = sidecar if len(sidecar) else None
        if open_interest is None and (id(strategy), pair) not in _warned:
            _warned.add((id(strategy), pair))
            logger.warning(
                "%s: no open interest (declare liq_signals.freqtrade.informative_pairs; "
                "backtests: freqtrade download-data --candle-types open_interest) — the "
                "liquidation map runs in volume mode.",
                pair,
            )
    features = strategy_features(
        strategy,
        dataframe[CANDLE_COLUMNS],
        pair=pair,
        open_interest=open_interest,
        mark=mark,
        metrics=metrics,
        timeframe=strategy.timeframe,
        config=config,
    )
    added = features.columns.difference(dataframe.columns, sort=False)
    return pd.concat([dataframe, features[added]], axis=1)


def model_config(config: dict[str, Any], base: ModelConfig | None = None) -> ModelConfig:
    """The model a freqtrade config asks for: ``base`` (default ``ModelConfig()``), or the
    file named by its ``liq_signals`` section laid over it (relative paths: the current
    directory, then ``user_data_dir``; JSON with comments, as freqtrade configs).

    :raise OperationalException: an unknown key in the section, a missing or invalid
        file — freqtrade then stops with that message instead of trading another map
    """
    from freqtrade.exceptions import OperationalException

    from liq_signals.config import model_config_from_freqtrade
    from liq_signals.errors import ConfigError

    try:
        return model_config_from_freqtrade(config, base=base)
    except ConfigError as exc:
        raise OperationalException(str(exc)) from exc
