"""LiquidationMagnetStrategy with test-only parameters, for the dry-run replay tests.

Everything (indicators, liquidation features through ``liq_signals.live.provider``, entry
and exit logic, stops, targets) is the real strategy's.  Only parameters differ, so that a
replay of a few simulated hours opens *and* closes trades (the tuned strategy trades a few
times a week, too rarely for a test of minutes):

* ``entry_threshold`` 0.35 and ``adx_min`` 15: entries on smaller score crossings;
* ``target_atr_mult`` 1.5 and ``exit_threshold`` 0.2: exits within an hour or two;
* no cooldown: a second trade can follow the first within the window;
* ``startup_candle_count`` 1440 (the real strategy asks for 2304): the OI sample holds only
  six days before the replay start, and the restart test needs run 2's window to start
  after run 1's.

The stale-features rule is unchanged: entry terms are NaN on stale rows, so no entry.
"""

from pathlib import Path

from freqtrade.resolvers.iresolver import PathModifier
from freqtrade.strategy import DecimalParameter, IntParameter

# freqtrade makes only this file's folder importable while loading it: import the real
# strategy from the project's strategies folder the same way.
with PathModifier(Path(__file__).resolve().parents[3] / "strategies"):
    from LiquidationMagnetStrategy import LiquidationMagnetStrategy


class DryRunLiqStrategy(LiquidationMagnetStrategy):
    entry_threshold = DecimalParameter(0.3, 1.8, default=0.35, decimals=2, space="buy")
    adx_min = IntParameter(10, 40, default=15, space="buy")
    exit_threshold = DecimalParameter(0.0, 1.0, default=0.2, decimals=2, space="sell")
    target_atr_mult = DecimalParameter(1.0, 12.0, default=1.5, decimals=1, space="sell")
    cooldown_candles = IntParameter(0, 24, default=0, space="protection")
    startup_candle_count = 1440
