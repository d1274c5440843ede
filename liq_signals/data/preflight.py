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

An open-interest file that exists but cannot be read is an error unless the freqtrade
config sets ``"liq_signals": {"oi_volume_fallback": true}`` (docs/data.md): then it is
skipped with a warning and the pair runs in volume mode.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from liq_signals.config import ModelConfig
from liq_signals.data.load import OI_FALLBACK_KEY, OI_FALLBACK_SECTION, load_pair_inputs

logger = logging.getLogger(__name__)


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
    prepare_inputs(
        inputs.candles,
        pair=pair,
        open_interest=inputs.open_interest,
        mark=inputs.mark,
        metrics=inputs.metrics,
        timeframe=timeframe,
        config=config,
    )


def check_strategy_pair(strategy: Any, pair: str, config: ModelConfig | None = None) -> None:
    """:func:`check_pair_files` for ``pair`` of a freqtrade strategy, once per pair and
    strategy instance (its datadir, timeframe, trading mode and fallback setting come from
    ``strategy.config``); nothing without a ``datadir`` in the config."""
    checked: set[str] = strategy.__dict__.setdefault("_liq_checked_pairs", set())
    ft_config = getattr(strategy, "config", None) or {}
    datadir = ft_config.get("datadir")
    if pair in checked or not datadir:
        return
    mode = ft_config.get("trading_mode") or "spot"  # a str or freqtrade's TradingMode
    check_pair_files(
        datadir,
        pair,
        strategy.timeframe,
        trading_mode=str(getattr(mode, "value", mode)),
        config=config,
        volume_fallback=oi_volume_fallback(ft_config),
    )
    checked.add(pair)
