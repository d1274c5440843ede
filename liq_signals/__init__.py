"""liq-signals: liquidation maps rebuilt from public exchange data, for freqtrade.

The public API is re-exported here once the modules exist; see README for the layout.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
