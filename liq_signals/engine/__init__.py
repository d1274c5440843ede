"""The liquidation book: pure NumPy + numba, arrays in, arrays out (docs/model.md).

No pandas, freqtrade, I/O or clocks here; :mod:`liq_signals.features` is the DataFrame
glue and :mod:`liq_signals.data` the boundary that validates raw input.
"""

from liq_signals.config import ModelConfig
from liq_signals.engine.book import (
    BookState,
    EngineInputs,
    EngineParams,
    advance,
    engine_params,
    new_state,
    run,
)
from liq_signals.engine.clusters import Cluster, top_clusters
from liq_signals.engine.history import BookHistory, book_history
from liq_signals.engine.leverage import (
    LeverageMix,
    build_leverage_mix,
    liquidation_ratio_long,
    liquidation_ratio_short,
)

__all__ = [
    "BookHistory",
    "BookState",
    "Cluster",
    "EngineInputs",
    "EngineParams",
    "LeverageMix",
    "ModelConfig",
    "advance",
    "book_history",
    "build_leverage_mix",
    "engine_params",
    "liquidation_ratio_long",
    "liquidation_ratio_short",
    "new_state",
    "run",
    "top_clusters",
]
