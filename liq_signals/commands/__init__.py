"""Sub-commands of ``liq-signals``; one module per command (see :mod:`liq_signals.cli`)."""
