"""Names of the feature columns added by :func:`liq_signals.features.compute_features`,
and of the input columns it reads that freqtrade's candle columns do not name.

Every name says what it holds: side, unit and band.  USD amounts are notionals at the
estimated liquidation price; distances are percent of the candle's close (``_dist_pct``) or
ATRs (``_dist_atr``), positive both up and down.  Strategies and tools import these
constants instead of spelling the strings.
"""

from __future__ import annotations

#: Open interest in contracts (base units): freqtrade's open_interest files, Binance's
#: ``sumOpenInterest``.  The model's unit (docs/model.md).
OI_AMOUNT = "open_interest_amount"
#: Open interest in quote currency (USD): freqtrade's open_interest files,
#: ``sumOpenInterestValue``; turned into contracts where only it is known.
OI_VALUE = "open_interest_value"

#: The metrics sidecar's value columns (:mod:`liq_signals.data.sidecar`, docs/data.md),
#: per candle: taker buy/sell volume ratio, top traders' long/short ratios (accounts,
#: positions), all accounts' long/short ratio, and the taker net flow in base units
#: (buy − sell; the recorder's, where no ratio is published).
TAKER_RATIO = "taker_buy_sell_ratio"
TOP_TRADER_LS_RATIO_ACCOUNTS = "top_trader_long_short_ratio_accounts"
TOP_TRADER_LS_RATIO_POSITIONS = "top_trader_long_short_ratio_positions"
GLOBAL_LS_RATIO = "global_long_short_ratio"
TAKER_NET_BASE = "taker_net_base"
#: the sidecar's value columns in file order
SIDECAR_VALUE_COLUMNS: tuple[str, ...] = (
    TAKER_RATIO,
    TOP_TRADER_LS_RATIO_ACCOUNTS,
    TOP_TRADER_LS_RATIO_POSITIONS,
    GLOBAL_LS_RATIO,
    TAKER_NET_BASE,
)

#: Band widths (percent of close) that give the default band column names.
DEFAULT_BANDS_PCT: tuple[float, ...] = (2.0, 5.0, 10.0)

LONG_SWEPT_USD = "liq_long_swept_usd"
SHORT_SWEPT_USD = "liq_short_swept_usd"

MAGNET_UP_PRICE = "liq_magnet_up_price"
MAGNET_UP_DIST_PCT = "liq_magnet_up_dist_pct"
MAGNET_UP_USD = "liq_magnet_up_usd"
MAGNET_DOWN_PRICE = "liq_magnet_down_price"
MAGNET_DOWN_DIST_PCT = "liq_magnet_down_dist_pct"
MAGNET_DOWN_USD = "liq_magnet_down_usd"

NEAREST_UP_PRICE = "liq_nearest_up_price"
NEAREST_UP_DIST_PCT = "liq_nearest_up_dist_pct"
NEAREST_UP_USD = "liq_nearest_up_usd"
NEAREST_DOWN_PRICE = "liq_nearest_down_price"
NEAREST_DOWN_DIST_PCT = "liq_nearest_down_dist_pct"
NEAREST_DOWN_USD = "liq_nearest_down_usd"

#: Distances of the same clusters in ATRs of the candles (Wilder's ATR, ``atr_period``
#: candles; NaN during its warm-up and when there is no cluster).
MAGNET_UP_DIST_ATR = "liq_magnet_up_dist_atr"
MAGNET_DOWN_DIST_ATR = "liq_magnet_down_dist_atr"
NEAREST_UP_DIST_ATR = "liq_nearest_up_dist_atr"
NEAREST_DOWN_DIST_ATR = "liq_nearest_down_dist_atr"

#: Cluster notional as a fraction of open interest (USD ÷ (OI contracts · close)); NaN in
#: volume mode, where there is no open interest to compare with.
MAGNET_UP_OI_FRAC = "liq_magnet_up_oi_frac"
MAGNET_DOWN_OI_FRAC = "liq_magnet_down_oi_frac"
NEAREST_UP_OI_FRAC = "liq_nearest_up_oi_frac"
NEAREST_DOWN_OI_FRAC = "liq_nearest_down_oi_frac"

CASCADE_UP_USD_PER_PCT = "liq_cascade_up_usd_per_pct"
CASCADE_DOWN_USD_PER_PCT = "liq_cascade_down_usd_per_pct"

SWEPT_LONG_USD_RECENT = "liq_swept_long_usd_recent"
SWEPT_SHORT_USD_RECENT = "liq_swept_short_usd_recent"

MODE = "liq_mode"
COVERAGE = "liq_coverage"
STALE = "liq_stale"

#: Values of :data:`MODE`.
MODE_OI = "oi"
MODE_VOLUME = "volume"


def _band_label(band_pct: float) -> str:
    """``2.0 -> '2pct'``, ``2.5 -> '2p5pct'`` (no dots in column names)."""
    text = f"{band_pct:g}".replace(".", "p")
    return f"{text}pct"


def short_above_usd(band_pct: float) -> str:
    """Column: short-liquidation notional (USD) between close and close·(1 + band)."""
    return f"liq_short_above_usd_{_band_label(band_pct)}"


def long_below_usd(band_pct: float) -> str:
    """Column: long-liquidation notional (USD) between close·(1 − band) and close."""
    return f"liq_long_below_usd_{_band_label(band_pct)}"


def imbalance_log(band_pct: float) -> str:
    """Column: ln(short above / long below) within the band (see docs/model.md)."""
    return f"liq_imbalance_log_{_band_label(band_pct)}"


def band_columns(bands_pct: tuple[float, ...] = DEFAULT_BANDS_PCT) -> tuple[str, ...]:
    """The per-band columns for ``bands_pct``, in a fixed order."""
    return (
        tuple(short_above_usd(b) for b in bands_pct)
        + tuple(long_below_usd(b) for b in bands_pct)
        + tuple(imbalance_log(b) for b in bands_pct)
    )


SHORT_ABOVE_USD_2PCT = short_above_usd(2.0)
SHORT_ABOVE_USD_5PCT = short_above_usd(5.0)
SHORT_ABOVE_USD_10PCT = short_above_usd(10.0)
LONG_BELOW_USD_2PCT = long_below_usd(2.0)
LONG_BELOW_USD_5PCT = long_below_usd(5.0)
LONG_BELOW_USD_10PCT = long_below_usd(10.0)
IMBALANCE_LOG_2PCT = imbalance_log(2.0)
IMBALANCE_LOG_5PCT = imbalance_log(5.0)
IMBALANCE_LOG_10PCT = imbalance_log(10.0)


def feature_columns(bands_pct: tuple[float, ...] = DEFAULT_BANDS_PCT) -> tuple[str, ...]:
    """All feature columns for the given bands, in the order they are added."""
    return (
        (LONG_SWEPT_USD, SHORT_SWEPT_USD)
        + (MAGNET_UP_PRICE, MAGNET_UP_DIST_PCT, MAGNET_UP_USD)
        + (MAGNET_DOWN_PRICE, MAGNET_DOWN_DIST_PCT, MAGNET_DOWN_USD)
        + (NEAREST_UP_PRICE, NEAREST_UP_DIST_PCT, NEAREST_UP_USD)
        + (NEAREST_DOWN_PRICE, NEAREST_DOWN_DIST_PCT, NEAREST_DOWN_USD)
        + (MAGNET_UP_DIST_ATR, MAGNET_DOWN_DIST_ATR, NEAREST_UP_DIST_ATR, NEAREST_DOWN_DIST_ATR)
        + (MAGNET_UP_OI_FRAC, MAGNET_DOWN_OI_FRAC, NEAREST_UP_OI_FRAC, NEAREST_DOWN_OI_FRAC)
        + band_columns(bands_pct)
        + (CASCADE_UP_USD_PER_PCT, CASCADE_DOWN_USD_PER_PCT)
        + (SWEPT_LONG_USD_RECENT, SWEPT_SHORT_USD_RECENT)
        + (MODE, COVERAGE, STALE)
    )


#: Every feature column produced with the default bands (2, 5, 10 %).
FEATURE_COLUMNS: tuple[str, ...] = feature_columns()

__all__ = [name for name in dir() if name.isupper()] + [
    "short_above_usd",
    "long_below_usd",
    "imbalance_log",
    "band_columns",
    "feature_columns",
]
