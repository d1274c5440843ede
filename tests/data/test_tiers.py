"""Maintenance tiers per pair: each shipped pair gets its own table from freqtrade's file.

The expected values are read here, independently, from the ``binance_leverage_tiers.json``
of the installed freqtrade (the file freqtrade itself applies in dry-run), and the few
numbers written out below are that file's, so a tier table mixed up between pairs (ETH or
SOL getting BTC's) fails.
"""

from __future__ import annotations

import json
from importlib.resources import files

import numpy as np
import pytest

from liq_signals.config import ModelConfig
from liq_signals.data.tiers import load_tiers
from liq_signals.features.params import engine_params_for

SHIPPED = ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"]


@pytest.fixture(scope="module")
def freqtrade_tiers() -> dict[str, list[dict]]:
    text = (files("freqtrade") / "exchange" / "binance_leverage_tiers.json").read_text("utf-8")
    tiers = json.loads(text)
    return {p: sorted(tiers[p], key=lambda r: r["minNotional"]) for p in SHIPPED}


@pytest.mark.parametrize("pair", SHIPPED)
def test_each_shipped_pair_reads_its_own_rows(pair: str, freqtrade_tiers) -> None:
    rows = freqtrade_tiers[pair]
    table = load_tiers(pair)

    assert not table.is_default
    np.testing.assert_array_equal(table.floor, [r["minNotional"] for r in rows])
    np.testing.assert_array_equal(table.cap, [r["maxNotional"] for r in rows])
    np.testing.assert_array_equal(table.mmr, [r["maintenanceMarginRate"] for r in rows])
    np.testing.assert_array_equal(table.cum, [float(r["info"]["cum"]) for r in rows])
    np.testing.assert_array_equal(table.max_leverage, [r["maxLeverage"] for r in rows])


def test_eth_and_sol_tables_are_not_btcs(freqtrade_tiers) -> None:
    btc, eth, sol = (load_tiers(p) for p in SHIPPED)

    # SOL: 100x max on its first tier (0.5 %), BTC 150x (0.4 %); 10 tiers vs 12.
    assert sol.max_leverage[0] == freqtrade_tiers["SOL/USDT:USDT"][0]["maxLeverage"] == 100
    assert btc.max_leverage[0] == freqtrade_tiers["BTC/USDT:USDT"][0]["maxLeverage"] == 150
    assert sol.mmr[0] == 0.005
    assert btc.mmr[0] == 0.004
    assert len(sol.floor) == 10
    assert len(btc.floor) == 12
    # ETH shares BTC's small tiers but not its large ones: 25x ends at 50M for ETH, 70M for BTC.
    assert eth.lookup(12_000_000.0) == btc.lookup(12_000_000.0) == (0.02, 132_000.0, 25.0)
    assert eth.lookup(60_000_000.0) == (0.025, 382_000.0, 20.0)
    assert btc.lookup(60_000_000.0) == (0.02, 132_000.0, 25.0)


@pytest.mark.parametrize(
    ("notional", "pair"),
    [
        (10_000.0, "SOL/USDT:USDT"),  # the default representative position
        (60_000_000.0, "ETH/USDT:USDT"),
        (60_000_000.0, "SOL/USDT:USDT"),
    ],
)
def test_engine_uses_the_pairs_own_tier(notional: float, pair: str, freqtrade_tiers) -> None:
    """The engine's leverage mix (what the strategy's features are built with) takes the
    pair's tier for the representative position, and it differs from BTC's there."""
    cfg = ModelConfig(position_notional_usd=notional)
    row = next(r for r in freqtrade_tiers[pair] if r["minNotional"] <= notional < r["maxNotional"])

    mix = engine_params_for(pair, cfg).mix
    btc = engine_params_for("BTC/USDT:USDT", cfg).mix

    assert (mix.mmr, mix.cum, mix.max_leverage) == (
        row["maintenanceMarginRate"],
        float(row["info"]["cum"]),
        row["maxLeverage"],
    )
    assert (mix.mmr, mix.cum, mix.max_leverage) != (btc.mmr, btc.cum, btc.max_leverage)
    assert not np.array_equal(mix.long_log_ratio, btc.long_log_ratio)


def test_spot_names_get_the_perpetuals_tiers() -> None:
    for pair in SHIPPED:
        spot = pair.split(":")[0]
        np.testing.assert_array_equal(load_tiers(spot).mmr, load_tiers(pair).mmr)
