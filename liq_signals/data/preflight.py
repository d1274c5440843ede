"""The boundary inside freqtrade runs: a pair's files checked with the project's own loader.

freqtrade's data handler turns a file it cannot read into an empty frame (a truncated
open-interest file would silently become "no data" and the map would run in volume mode),
and repairs duplicates and unsorted rows without saying so.  In backtesting, hyperopt and
the analysis commands the strategy's feature path therefore reads each pair's files once
with :func:`liq_signals.data.load.load_pair_inputs` and runs the boundary over them
(:func:`liq_signals.features.pipeline.prepare_inputs`): a bad file stops the run with one
line naming file, pair, first bad row and the fix (a :class:`LiqInputError`, which
freqtrade prints without a traceback and exits non-zero), and quarantined rows are logged
as in ``liq-signals features``.  Dry-run/live do not stop: they quarantine row by row.

That check would come too late for files freqtrade's own loader chokes on: it reads every
pair before any strategy code runs, logs a traceback for a file it cannot read and goes on
with an empty frame ("No data found" for a truncated or empty candle file), and stops with
its own traceback on timezone-naive dates.  So the strategy also checks its whitelisted
pairs when freqtrade constructs it (:func:`check_strategy_data`, called from the
strategy's ``__init__``, which freqtrade runs before loading data; ``bot_start`` runs
after it in backtesting).  Plain ``freqtrade`` and the ``liq-signals offline`` wrapper (which
runs it) then end with the one-line error, before freqtrade's loader has printed anything.

An open-interest file that exists but cannot be read is an error unless the freqtrade
config sets ``"liq_signals": {"oi_volume_fallback": true}`` (docs/data.md): then it is
skipped with a warning and the pair runs in volume mode.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from liq_signals.config import ModelConfig
from liq_signals.data.load import (
    DATA_FORMATS,
    OI_FALLBACK_KEY,
    OI_FALLBACK_SECTION,
    load_pair_inputs,
    pair_data_path,
)

logger = logging.getLogger(__name__)

#: Run modes in which freqtrade loads the whole datadir before any strategy code (a bad
#: file stops them); dry-run/live quarantine row by row instead, utility commands read no
#: candles.
BATCH_RUNMODES = frozenset({"backtest", "hyperopt", "plot"})
#: Whitelist entries that are patterns (expanded by freqtrade against the markets), not pairs.
_PATTERN = re.compile(r"[][*+?()|\\^${}]")


def oi_volume_fallback(config: dict[str, Any]) -> bool:
    """Is the explicit volume fallback for an unreadable open-interest file set?"""
    section = config.get(OI_FALLBACK_SECTION) or {}
    return isinstance(section, dict) and section.get(OI_FALLBACK_KEY) is True


def check_pair_files(
    datadir: Path | str,
    pair: str,
    timeframe: str,
    *,
    trading_mode: str = "futures",
    config: ModelConfig | None = None,
    volume_fallback: bool = False,
) -> None:
    """Read ``pair``'s files with the project's loader and run the boundary over them.

    :raise LiqInputError: a file is missing, unreadable (open interest: unless
        ``volume_fallback``) or breaks a rule of :mod:`liq_signals.data.boundary`; the
        message is one line naming the file, the pair, the first bad row and the fix.
    """
    from liq_signals.features.pipeline import prepare_inputs

    inputs = load_pair_inputs(
        datadir, pair, timeframe, trading_mode, oi_volume_fallback=volume_fallback
    )
    prepare_inputs(inputs, pair=pair, timeframe=timeframe, config=config)


def check_strategy_pair(
    strategy: Any,
    pair: str,
    config: ModelConfig | None = None,
    *,
    timeframe: str | None = None,
    checked: set[tuple[str, str]] | None = None,
) -> None:
    """:func:`check_pair_files` for ``pair`` of a freqtrade strategy (its datadir, trading
    mode and fallback setting come from ``strategy.config``); nothing without a
    ``datadir`` in the config.

    :param timeframe: the candles' timeframe (default: the config's, else the strategy's)
    :param checked: ``(pair, timeframe)`` already checked, skipped; a pair that passes is
        added (the caller keeps it per strategy instance: ``liq_signals.freqtrade``'s
        ``StrategyContext``).  None: check every time.
    """
    ft_config = getattr(strategy, "config", None) or {}
    datadir = ft_config.get("datadir")
    # the config's timeframe overrides the class attribute (freqtrade sets it on the
    # instance only after constructing it)
    timeframe = timeframe or ft_config.get("timeframe") or strategy.timeframe
    if not datadir or (checked is not None and (pair, timeframe) in checked):
        return
    mode = ft_config.get("trading_mode") or "spot"  # a str or freqtrade's TradingMode
    check_pair_files(
        datadir,
        pair,
        timeframe,
        trading_mode=str(getattr(mode, "value", mode)),
        config=config,
        volume_fallback=oi_volume_fallback(ft_config),
    )
    if checked is not None:
        checked.add((pair, timeframe))


def _literal_pairs(pairs: Sequence[str]) -> list[str]:
    return [p for p in pairs if isinstance(p, str) and not _PATTERN.search(p)]


def check_strategy_data(
    strategy: Any,
    config: ModelConfig | None = None,
    *,
    checked: set[tuple[str, str]] | None = None,
) -> None:
    """:func:`check_strategy_pair` for every pair of the strategy's whitelist, in the run
    modes where freqtrade loads the datadir itself (:data:`BATCH_RUNMODES`); call it from
    the strategy's ``__init__`` — freqtrade constructs the strategy before it loads data.

    Whitelist patterns (``.*/USDT:USDT``) are skipped: they are checked when their pairs
    reach the feature path.  So is a pair without any candle file: freqtrade says "No
    history" and backtests the other pairs, as it would without this check.

    :param checked: as :func:`check_strategy_pair`'s
    :raise LiqInputError: a pair's files fail the boundary (one line: file, pair, fix).
    """
    ft_config = getattr(strategy, "config", None) or {}
    runmode = ft_config.get("runmode")
    if str(getattr(runmode, "value", runmode)) not in BATCH_RUNMODES:
        return
    datadir = ft_config.get("datadir")
    if not datadir:
        return
    timeframe = ft_config.get("timeframe") or strategy.timeframe
    mode = ft_config.get("trading_mode") or "spot"
    ctype = "futures" if str(getattr(mode, "value", mode)) == "futures" else "spot"
    whitelist = (ft_config.get("exchange") or {}).get("pair_whitelist") or []
    for pair in _literal_pairs(whitelist):
        paths = (pair_data_path(datadir, pair, timeframe, ctype, fmt) for fmt in DATA_FORMATS)
        if any(path.exists() for path in paths):
            check_strategy_pair(strategy, pair, config, timeframe=timeframe, checked=checked)
