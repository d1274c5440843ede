"""Dry-run only: the per-candle feature provider, its saved state, and live series
(open interest, metrics) fetched while the bot runs."""
