"""Honest validation of the liquidation map against realized liquidations (DESIGN §8).

* :mod:`.metrics` — score functions on arrays (Spearman, partial Spearman beyond the
  range × volume baseline, Wilson proportions, zone precision, magnet test, log ratio);
* :mod:`.runner` — engine run + per-period table + the three tests;
* :mod:`.report` — markdown and figures;
* :mod:`.calibrate` — grid fit of the model's free parameters on a fit window;
* :mod:`.params` — the parameter JSON the strategy and CLI read back.
"""

from liq_signals.validation.params import load_model_config, save_model_config

__all__ = ["load_model_config", "save_model_config"]
