"""See DESIGN §2 for what belongs in liq_signals.data."""
