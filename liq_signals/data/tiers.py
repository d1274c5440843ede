"""Binance maintenance-margin tiers, read from the file that ships inside freqtrade.

freqtrade bundles ``freqtrade/exchange/binance_leverage_tiers.json`` (the tiers it uses in
dry-run without any request, docs/offline.md).  We read the same file from the installed
package, so the liquidation prices of the model follow exactly the margin rules freqtrade
applies.  A pair missing from the file gets :data:`DEFAULT_TIERS` (a conservative
alt-coin table) and a logged warning.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

TIERS_PACKAGE = "freqtrade.exchange"
TIERS_FILE = "binance_leverage_tiers.json"

#: Fallback tiers (notional floor USD, maintenance margin rate, max leverage), shaped like
#: a typical Binance alt-coin USDT-M table.  ``cum`` is derived so the maintenance margin
#: ``N·m − cum`` is continuous across tier boundaries, as Binance defines it.
DEFAULT_TIERS: tuple[tuple[float, float, float], ...] = (
    (0.0, 0.015, 50.0),
    (5_000.0, 0.02, 25.0),
    (25_000.0, 0.025, 20.0),
    (100_000.0, 0.05, 10.0),
    (250_000.0, 0.1, 5.0),
    (1_000_000.0, 0.125, 4.0),
    (3_000_000.0, 0.25, 2.0),
    (5_000_000.0, 0.5, 1.0),
)


@dataclass(frozen=True)
class TierTable:
    """Maintenance tiers of one pair, sorted by notional floor (read-only arrays).

    :param pair: the pair the table belongs to (for messages).
    :param floor: notional floor of each tier (USD, inclusive).
    :param cap: notional cap of each tier (USD, exclusive).
    :param mmr: maintenance margin rate ``m`` of each tier.
    :param cum: maintenance amount ``cum`` of each tier (USD).
    :param max_leverage: max initial leverage allowed in each tier.
    :param is_default: True when the pair had no tiers and :data:`DEFAULT_TIERS` is used.
    """

    pair: str
    floor: np.ndarray
    cap: np.ndarray
    mmr: np.ndarray
    cum: np.ndarray
    max_leverage: np.ndarray
    is_default: bool = False

    def __post_init__(self) -> None:
        for name in ("floor", "cap", "mmr", "cum", "max_leverage"):
            arr = np.array(getattr(self, name), dtype=np.float64)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        n = len(self.floor)
        if n == 0 or any(len(getattr(self, a)) != n for a in ("cap", "mmr", "cum", "max_leverage")):
            raise ValueError(f"tier table for {self.pair}: empty or ragged arrays")
        if np.any(np.diff(self.floor) <= 0):
            raise ValueError(f"tier table for {self.pair}: notional floors not increasing")
        if np.any((self.mmr <= 0) | (self.mmr >= 1)) or np.any(self.max_leverage < 1):
            raise ValueError(f"tier table for {self.pair}: mmr must be in (0,1), max leverage >= 1")

    def lookup(self, notional_usd: float) -> tuple[float, float, float]:
        """Tier of a position of ``notional_usd``: ``(mmr, cum, max_leverage)``.

        A notional exactly on a floor belongs to the tier starting there (Binance brackets
        are ``[floor, cap)``); above the last cap the last tier applies.
        """
        if not notional_usd >= 0:
            raise ValueError(f"notional must be >= 0, got {notional_usd!r}")
        i = int(np.searchsorted(self.floor, notional_usd, side="right")) - 1
        return float(self.mmr[i]), float(self.cum[i]), float(self.max_leverage[i])


def _cum_from_floors(floor: np.ndarray, mmr: np.ndarray) -> np.ndarray:
    """cum_i = cum_{i-1} + floor_i·(m_i − m_{i-1}) (continuity of N·m − cum)."""
    steps = np.concatenate([[0.0], floor[1:] * np.diff(mmr)])
    return np.cumsum(steps)


def default_tiers(pair: str) -> TierTable:
    """:data:`DEFAULT_TIERS` as a :class:`TierTable` flagged ``is_default``."""
    floor = np.array([t[0] for t in DEFAULT_TIERS])
    mmr = np.array([t[1] for t in DEFAULT_TIERS])
    return TierTable(
        pair=pair,
        floor=floor,
        cap=np.append(floor[1:], np.inf),
        mmr=mmr,
        cum=_cum_from_floors(floor, mmr),
        max_leverage=np.array([t[2] for t in DEFAULT_TIERS]),
        is_default=True,
    )


def tier_file_path() -> Path:
    """The tier file inside the installed freqtrade package.

    Located through the package's import spec rather than ``importlib.resources`` on
    ``freqtrade.exchange``: importing that package pulls in ccxt (~100 MB) for one JSON file.
    """
    spec = importlib.util.find_spec(TIERS_PACKAGE.split(".")[0])
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("freqtrade is not installed; it ships the Binance tier file")
    return Path(spec.submodule_search_locations[0]) / "exchange" / TIERS_FILE


def _tier_rows(pair: str) -> list[dict] | None:
    """The pair's rows of the tier file (the file is parsed and dropped: ~3 MB of JSON)."""
    with open(tier_file_path(), encoding="utf-8") as fh:
        return json.load(fh).get(pair)


def _futures_pair(pair: str) -> str:
    """``BTC/USDT`` (spot name) -> ``BTC/USDT:USDT`` (the tier file's futures name)."""
    if ":" in pair or "/" not in pair:
        return pair
    return f"{pair}:{pair.split('/')[1]}"


@lru_cache(maxsize=256)
def load_tiers(pair: str) -> TierTable:
    """Maintenance tiers for ``pair`` from freqtrade's bundled Binance tier file.

    A spot pair name (``BTC/USDT``) is looked up as its USDT-M perpetual (``BTC/USDT:USDT``)
    because volume-mode spot users still want realistic futures margin rules.

    :param pair: freqtrade pair name, e.g. ``BTC/USDT:USDT``.
    :return: the pair's :class:`TierTable`, or :func:`default_tiers` (logged warning) when
        the file has no entry for it.
    """
    rows = _tier_rows(_futures_pair(pair))
    if not rows:
        logger.warning(
            "No maintenance tiers for %s in freqtrade's %s; using the default tier table "
            "(docs/model.md) — liquidation prices are approximate for this pair.",
            pair,
            TIERS_FILE,
        )
        return default_tiers(pair)
    rows = sorted(rows, key=lambda r: r["minNotional"])
    return TierTable(
        pair=pair,
        floor=np.array([r["minNotional"] for r in rows]),
        cap=np.array([r["maxNotional"] for r in rows]),
        mmr=np.array([r["maintenanceMarginRate"] for r in rows]),
        cum=np.array([float(r["info"].get("cum", 0.0)) for r in rows]),
        max_leverage=np.array([r["maxLeverage"] for r in rows]),
    )
