"""The feature layer: the only place where pandas meets the engine.

* :mod:`.pipeline` — align the validated inputs to the candles (timing rules), run the
  engine over them, and turn its output arrays into the ``liq_*`` columns;
* :mod:`.incremental` — the same features one new candle at a time (dry-run), bit-identical
  to the batch run.

See ``docs/architecture.md`` for where this sits in the data flow.
"""

from liq_signals.features.incremental import IncrementalFeatures
from liq_signals.features.pipeline import compute_features

__all__ = ["IncrementalFeatures", "compute_features"]
