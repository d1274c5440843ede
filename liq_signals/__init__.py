"""liq-signals: liquidation maps rebuilt from public exchange data, for freqtrade.

The curated public API of the library (features, inputs, the model's parameters, the
metrics sidecar, the column names), so that scripts and notebooks do not depend on the
package's inner layout.  Names are resolved lazily (PEP 562) so that ``import liq_signals``
and ``liq-signals --help`` stay fast: pandas, the engine (numba), freqtrade and plotting
libraries load only when a name that needs them is first used.

A freqtrade strategy imports :mod:`liq_signals.freqtrade` (and :mod:`liq_signals.columns`
for the names) instead: everything it needs is there, and the shipped strategies use
nothing else (docs/own-strategy.md).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "ModelConfig": "liq_signals.config",
    "compute_features": "liq_signals.features",
    "IncrementalFeatures": "liq_signals.features.incremental",
    "PairFrames": "liq_signals.data.frames",
    "load_pair_inputs": "liq_signals.data.load",
    "LiqInputError": "liq_signals.data.boundary",
    "read_sidecar": "liq_signals.data.sidecar",
    "write_sidecar": "liq_signals.data.sidecar",
    "taker_buy_share_proxy": "liq_signals.data.oi_sources",
    "load_model_config": "liq_signals.config",
    "LiveSeries": "liq_signals.live.series",
    "strategy_features": "liq_signals.freqtrade",
    "cluster_bands": "liq_signals.viz.annotations",
    "liquidation_terms": "liq_signals.study.terms",
}

__all__ = [
    "__version__",
    "columns",
    "ModelConfig",
    "compute_features",
    "IncrementalFeatures",
    "PairFrames",
    "load_pair_inputs",
    "LiqInputError",
    "read_sidecar",
    "write_sidecar",
    "taker_buy_share_proxy",
    "load_model_config",
    "LiveSeries",
    "strategy_features",
    "cluster_bands",
    "liquidation_terms",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from liq_signals import columns
    from liq_signals.config import ModelConfig, load_model_config
    from liq_signals.data.boundary import LiqInputError
    from liq_signals.data.frames import PairFrames
    from liq_signals.data.load import load_pair_inputs
    from liq_signals.data.oi_sources import taker_buy_share_proxy
    from liq_signals.data.sidecar import read_sidecar, write_sidecar
    from liq_signals.features.incremental import IncrementalFeatures
    from liq_signals.features.pipeline import compute_features
    from liq_signals.freqtrade import strategy_features
    from liq_signals.live.series import LiveSeries
    from liq_signals.study.terms import liquidation_terms
    from liq_signals.viz.annotations import cluster_bands


def __getattr__(name: str) -> Any:
    if name == "columns":
        return importlib.import_module("liq_signals.columns")
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'liq_signals' has no attribute {name!r}") from None
    return getattr(importlib.import_module(module), name)
