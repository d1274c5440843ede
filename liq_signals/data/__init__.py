"""Reading a freqtrade datadir and the input boundary.

* :mod:`.load` — candles, mark, funding, open interest and the metrics sidecar of one pair,
  through freqtrade's own data handler;
* :mod:`.boundary` — every input rule, checked once, with a one-line error naming file,
  pair and first bad row (or a documented, logged repair);
* :mod:`.oi_sources`, :mod:`.sidecar`, :mod:`.tiers` — open interest in contracts, the
  per-candle metrics sidecar, the exchange's maintenance-margin tiers;
* :mod:`.importers` — downloaders of Binance's public archive into that datadir.
"""
