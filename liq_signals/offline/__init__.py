"""Run freqtrade without internet: a loopback Binance USDⓈ-M emulator serving a freqtrade
datadir (:class:`Emulator`), and the wrapper that runs any freqtrade command against it
(:mod:`liq_signals.offline.runner`).  See docs/offline.md."""

from liq_signals.offline.clock import ReplayClock
from liq_signals.offline.emulator import Emulator, parse_time_ms
from liq_signals.offline.faults import Fault, RequestRecord
from liq_signals.offline.runner import Result, run_freqtrade

__all__ = [
    "Emulator",
    "Fault",
    "ReplayClock",
    "RequestRecord",
    "Result",
    "parse_time_ms",
    "run_freqtrade",
]
