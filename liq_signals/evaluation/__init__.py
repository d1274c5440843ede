"""Scoring the map against realized liquidations, and fitting its free parameters.

* :mod:`.realized` — parsers for realized-liquidation records (Binance forceOrder,
  aggregated CSV/JSON exports) into one :class:`~.realized.RealizedRecord`;
* :mod:`.recorder` — ``record-liquidations``: a live forceOrder stream to daily files;
* :mod:`.inputs` — the candles and record of one evaluation window;
* :mod:`.metrics` — score functions on arrays (Spearman, partial Spearman beyond the
  range × volume baseline, Wilson proportions, zone precision, magnet test, log ratio);
* :mod:`.runner` — engine run + per-period table + the tests;
* :mod:`.report` — markdown and figures;
* :mod:`.calibrate` — grid fit of the model's free parameters on a fit window.
"""
