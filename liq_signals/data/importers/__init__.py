"""Importers of Binance's public data archive (data.binance.vision) into a freqtrade datadir."""
