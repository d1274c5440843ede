"""The feature layer: the only place where pandas meets the engine.

* :mod:`.pipeline` — :func:`run`, the one way to run the model over a frame (validate,
  align, run the engine, build the columns), and :func:`compute_features`, its frame;
* :mod:`.align` — the timing rules that align the optional series to the candles;
* :mod:`.atr`, :mod:`.params`, :mod:`.values` — the ATR, the engine parameters per pair,
  and the engine output -> ``liq_*`` columns;
* :mod:`.incremental` — the same features one new candle at a time (dry-run), bit-identical
  to the batch run.

See ``docs/architecture.md`` for where this sits in the data flow.
"""

from liq_signals.features.incremental import IncrementalFeatures
from liq_signals.features.pipeline import ModelRun, compute_features, run

__all__ = ["IncrementalFeatures", "ModelRun", "compute_features", "run"]
