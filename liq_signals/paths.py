"""Default locations shared by the commands, the loaders and the offline runner.

Standard library only: ``liq-signals --help`` imports it.
"""

from __future__ import annotations

from pathlib import Path

#: freqtrade's exchange data folder for Binance, relative to the working directory
#: (what ``freqtrade download-data`` writes by default)
DEFAULT_DATADIR = Path("user_data/data/binance")
