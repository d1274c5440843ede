"""exchangeInfo entries for USDⓈ-M perpetuals, in Binance's real shape.

Values for the majors are Binance's published contract specs (rounded to what matters:
tick size, step size, min notional, precisions); any other pair found in a datadir gets
specs derived from its recent price so that freqtrade's precision and minimum-stake
logic behave as they would on the real exchange.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Binance's sentinel delivery date of perpetuals (2100-12-25); freqtrade compares it with
# BTCUSDT's to detect delistings.
PERPETUAL_DELIVERY_MS = 4133404800000
ORDER_TYPES = [
    "LIMIT",
    "MARKET",
    "STOP",
    "STOP_MARKET",
    "TAKE_PROFIT",
    "TAKE_PROFIT_MARKET",
    "TRAILING_STOP_MARKET",
]
TIME_IN_FORCE = ["GTC", "IOC", "FOK", "GTX", "GTD"]


@dataclass(frozen=True)
class ContractSpec:
    """The numbers of one contract that freqtrade/ccxt read from exchangeInfo."""

    tick_size: str
    step_size: str
    min_notional: str
    max_qty: str
    market_max_qty: str
    onboard_ms: int

    @property
    def price_precision(self) -> int:
        return _decimals(self.tick_size)

    @property
    def quantity_precision(self) -> int:
        return _decimals(self.step_size)


KNOWN_SPECS: dict[str, ContractSpec] = {
    "BTCUSDT": ContractSpec("0.10", "0.001", "100", "1000", "120", 1569398400000),
    "ETHUSDT": ContractSpec("0.01", "0.001", "20", "10000", "2000", 1569398400000),
    "BNBUSDT": ContractSpec("0.010", "0.01", "5", "100000", "2000", 1581292800000),
    "SOLUSDT": ContractSpec("0.0100", "1", "5", "1000000", "5000", 1600041600000),
    "XRPUSDT": ContractSpec("0.0001", "0.1", "5", "10000000", "2000000", 1578355200000),
    "DOGEUSDT": ContractSpec("0.000010", "1", "5", "50000000", "30000000", 1594252800000),
}


def _decimals(step: str) -> int:
    return len(step.split(".")[1].rstrip("0")) if "." in step else 0


def derived_spec(price: float) -> ContractSpec:
    """Specs for a pair Binance's table above does not list: about five significant
    digits of price, a quantity step worth roughly 0.1-1 USDT, min notional 5 USDT."""
    if not (price > 0 and math.isfinite(price)):
        price = 1.0
    tick_exp = math.floor(math.log10(price)) - 4
    step_exp = min(0, math.ceil(math.log10(1.0 / price)))
    tick = f"{10.0**tick_exp:.{max(0, -tick_exp)}f}"
    step = f"{10.0**step_exp:.{max(0, -step_exp)}f}"
    return ContractSpec(tick, step, "5", "10000000", "1000000", 1569398400000)


def symbol_entry(symbol: str, base: str, quote: str, spec: ContractSpec) -> dict:
    """One element of ``exchangeInfo.symbols`` for a USDⓈ-M perpetual."""
    return {
        "symbol": symbol,
        "pair": symbol,
        "contractType": "PERPETUAL",
        "deliveryDate": PERPETUAL_DELIVERY_MS,
        "onboardDate": spec.onboard_ms,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": base,
        "quoteAsset": quote,
        "marginAsset": quote,
        "pricePrecision": spec.price_precision,
        "quantityPrecision": spec.quantity_precision,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "settlePlan": 0,
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "maxMoveOrderLimit": 10000,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": spec.tick_size,
                "maxPrice": "4529764",
                "tickSize": spec.tick_size,
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": spec.step_size,
                "maxQty": spec.max_qty,
                "stepSize": spec.step_size,
            },
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": spec.step_size,
                "maxQty": spec.market_max_qty,
                "stepSize": spec.step_size,
            },
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
            {"filterType": "MIN_NOTIONAL", "notional": spec.min_notional},
            {
                "filterType": "PERCENT_PRICE",
                "multiplierUp": "1.0500",
                "multiplierDown": "0.9500",
                "multiplierDecimal": "4",
            },
        ],
        "orderTypes": ORDER_TYPES,
        "timeInForce": TIME_IN_FORCE,
        "permissionSet": ["GRID", "COPY"],
    }


def exchange_info(entries: list[dict], server_time_ms: int) -> dict:
    """The whole ``GET /fapi/v1/exchangeInfo`` body."""
    quotes = sorted({e["marginAsset"] for e in entries})
    return {
        "timezone": "UTC",
        "serverTime": server_time_ms,
        "futuresType": "U_MARGINED",
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": 2400,
            },
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
        ],
        "exchangeFilters": [],
        "assets": [
            {"asset": q, "marginAvailable": True, "autoAssetExchange": "-10000"} for q in quotes
        ],
        "symbols": entries,
    }
