"""The strategy callbacks on hand-computed rows: ATR stop and target in both strategies, the
twin property, exits that never read the map, leverage cap, spot behaviour, missing open
interest, no entries on stale maps.

The strategies run inside freqtrade's own objects (resolver, DataProvider with an analysed
frame, LocalTrade without a database), as in a backtest.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from strategy_harness import (
    DATADIR_2025,
    DATADIR_OI,
    PAIR,
    REPO,
    analyse,
    load_candles,
    load_strategy,
)

from liq_signals import columns as C

T0 = datetime(2025, 10, 1, 12, 0, tzinfo=UTC)
ATR = 0.5


def _frame(**last: float) -> pd.DataFrame:
    """Two analysed candles at T0 (signal) and T0+5m; price 100, ATR 0.5, clusters at
    98 (nearest below), 101 (nearest above), 93 / 109 (largest), overridable on both rows."""
    row = {
        "open": 100.0,
        "high": 100.2,
        "low": 99.8,
        "close": 100.0,
        "volume": 1.0,
        "atr": ATR,
        C.NEAREST_DOWN_PRICE: 98.0,
        C.NEAREST_UP_PRICE: 101.0,
        C.MAGNET_DOWN_PRICE: 93.0,
        C.MAGNET_UP_PRICE: 109.0,
    }
    rows = [dict(row, date=T0), dict(row, date=T0 + timedelta(minutes=5), **last)]
    return pd.DataFrame(rows)


@pytest.fixture
def no_db():
    from freqtrade.persistence import CustomDataWrapper, FtNoDBContext

    with FtNoDBContext("5m"):
        CustomDataWrapper.reset_custom_data()
        yield
        CustomDataWrapper.reset_custom_data()


def _wire(strategy, frame: pd.DataFrame) -> None:
    from freqtrade.enums import CandleType

    strategy.dp._set_cached_df(PAIR, "5m", frame, CandleType.FUTURES)
    strategy.dp._set_dataframe_max_index(PAIR, len(frame))


def _trade(is_short: bool = False, open_rate: float = 100.0):
    from freqtrade.enums import TradingMode
    from freqtrade.persistence import LocalTrade

    return LocalTrade(
        pair=PAIR,
        open_rate=open_rate,
        open_date=T0 + timedelta(minutes=5),
        amount=1.0,
        stake_amount=50.0,
        fee_open=0.0005,
        fee_close=0.0005,
        exchange="binance",
        is_short=is_short,
        leverage=2.0,
        trading_mode=TradingMode.FUTURES,
    )


def _strategy(name: str):
    strategy = load_strategy(name, DATADIR_2025, "20251001-20251002")
    strategy.stoploss = -0.10
    strategy.min_stop_pct.value = 0.006
    strategy.stop_atr_mult.value = 3.0
    strategy.target_atr_mult.value = 6.0
    return strategy


def _stop(strategy, trade, rate: float = 100.0) -> float:
    return strategy.custom_stoploss(
        pair=PAIR,
        trade=trade,
        current_time=T0 + timedelta(minutes=10),
        current_rate=rate,
        current_profit=0.0,
        after_fill=False,
    )


@pytest.mark.parametrize("name", ["BaselineStrategy", "LiquidationMagnetStrategy"])
@pytest.mark.parametrize(
    ("last", "is_short", "expected"),
    [
        # 3 ATR = 1.5 % of price -> 3 % at 2x, wherever the clusters are
        ({}, False, -0.03),
        ({}, True, -0.03),
        ({C.NEAREST_DOWN_PRICE: 99.9, C.NEAREST_UP_PRICE: 100.1}, False, -0.03),
        # ATR stop tighter than min_stop_pct (0.6 % -> 1.2 %)
        ({"atr": 0.1}, False, -0.012),
    ],
    ids=["long", "short", "clusters-hugging-price", "min-clamp"],
)
@pytest.mark.usefixtures("no_db")
def test_stop_is_the_atr_stop_in_both_strategies(name, last, is_short, expected) -> None:
    """The study found no magnet effect (the larger cluster is reached first less often
    than a driftless walk says): the liquidation strategy's stop ignores clusters."""
    strategy = _strategy(name)
    _wire(strategy, _frame(**last))

    assert _stop(strategy, _trade(is_short)) == pytest.approx(expected, rel=1e-9)


def _exit(strategy, trade, rate: float):
    return strategy.custom_exit(
        pair=PAIR,
        trade=trade,
        current_time=T0 + timedelta(minutes=10),
        current_rate=rate,
        current_profit=0.0,
    )


@pytest.mark.parametrize("name", ["BaselineStrategy", "LiquidationMagnetStrategy"])
@pytest.mark.usefixtures("no_db")
def test_take_profit_is_the_atr_target_not_a_cluster(name: str) -> None:
    strategy = _strategy(name)
    trade = _trade()
    _wire(strategy, _frame(high=101.2))  # the nearest cluster above (101) is swept
    assert _exit(strategy, trade, 101.0) is None
    _wire(strategy, _frame(high=103.2))
    assert _exit(strategy, trade, 102.9) == "atr_target_swept"  # 100 + 6 x 0.5
    assert _exit(strategy, trade, 103.0) == "atr_target_reached"


def _analysed(name: str, timerange: str = "20251005-20251012"):
    strategy = load_strategy(name, DATADIR_2025, timerange)
    candles = load_candles(DATADIR_2025, timerange, strategy.startup_candle_count)
    return strategy, candles


def test_the_twin_differs_only_by_the_liquidation_term() -> None:
    """Same candles: identical technical part and exits; with ``w_pull = 0`` identical
    entries too; with the default weight the entries differ (the term does something)."""
    base, candles = _analysed("BaselineStrategy")
    liq, _ = _analysed("LiquidationMagnetStrategy")
    b = analyse(base, candles)
    liq_frame = analyse(liq, candles)
    pd.testing.assert_series_equal(b["ta_confirmation"], liq_frame["ta_confirmation"])
    for col in ("exit_long", "exit_short"):
        pd.testing.assert_series_equal(b[col].fillna(0), liq_frame[col].fillna(0))
    entries = ["enter_long", "enter_short"]
    assert not b[entries].fillna(0).equals(liq_frame[entries].fillna(0))

    liq.w_pull.value = 0.0
    usable = liq_frame["liq_term_pull_excess"].notna()
    zero = analyse(liq, candles)
    pd.testing.assert_frame_equal(
        b.loc[usable, entries].fillna(0), zero.loc[usable, entries].fillna(0)
    )
    assert usable.mean() > 0.5


def test_exit_signals_do_not_read_the_map() -> None:
    """Every liq_* column NaN and the map flagged stale: the exit signals are unchanged."""
    liq, candles = _analysed("LiquidationMagnetStrategy")
    frame = analyse(liq, candles)
    blind = frame.drop(columns=["exit_long", "exit_short"])
    liq_cols = [c for c in blind.columns if c.startswith("liq_") and blind[c].dtype.kind == "f"]
    blind[liq_cols] = np.nan
    blind["entry_score"] = np.nan
    blind = liq.advise_exit(blind, {"pair": PAIR})
    for col in ("exit_long", "exit_short"):
        pd.testing.assert_series_equal(frame[col].fillna(0), blind[col].fillna(0))
    assert frame["exit_long"].fillna(0).sum() > 0


def test_leverage_is_two_capped_by_the_exchange() -> None:
    strategy = _strategy("LiquidationMagnetStrategy")
    kwargs = dict(
        pair=PAIR,
        current_time=T0,
        current_rate=100.0,
        proposed_leverage=1.0,
        entry_tag=None,
        side="long",
    )
    assert strategy.leverage(max_leverage=125.0, **kwargs) == 2.0
    assert strategy.leverage(max_leverage=1.5, **kwargs) == 1.5


def test_spot_config_is_long_only_without_open_interest() -> None:
    from freqtrade.configuration import Configuration
    from freqtrade.enums import RunMode
    from freqtrade.resolvers import StrategyResolver

    config = Configuration(
        {
            "config": [str(REPO / "user_data" / "config_dryrun_spot.json")],
            "strategy": "LiquidationMagnetStrategy",
            "strategy_path": str(REPO / "strategies"),
        },
        RunMode.DRY_RUN,
    ).get_config()
    strategy = StrategyResolver.load_strategy(config)  # raises if can_short stayed True

    assert strategy.can_short is False
    assert strategy.informative_pairs() == []


def test_missing_open_interest_runs_volume_mode_with_a_warning(caplog) -> None:
    strategy = load_strategy("LiquidationMagnetStrategy", DATADIR_2025, "20251001-20251002")
    candles = load_candles(DATADIR_2025, "20251001-20251002", strategy.startup_candle_count)

    with caplog.at_level(logging.WARNING):
        frame = analyse(strategy, candles)

    messages = [r.getMessage() for r in caplog.records]
    assert any("volume-flow mode" in m and PAIR in m for m in messages)
    assert set(frame[C.MODE]) == {C.MODE_VOLUME}
    assert frame["liq_term_imbalance_5"].abs().max() > 0


def test_no_entries_while_the_map_is_stale() -> None:
    # 2026-06-14 15:05 -> 06-20 10:55: the recorded open interest has a real outage.
    timerange = "20260613-20260621"
    strategy = load_strategy("LiquidationMagnetStrategy", DATADIR_OI, timerange)
    candles = load_candles(DATADIR_OI, timerange, strategy.startup_candle_count)

    frame = analyse(strategy, candles)

    stale = frame[C.STALE].astype(bool)
    entries = (frame["enter_long"].fillna(0) + frame["enter_short"].fillna(0)) > 0
    assert stale.sum() > 1000
    assert (~stale).sum() > 500
    assert frame.loc[stale, "liq_term_magnet"].isna().all()
    assert frame.loc[stale, "liq_term_pull_excess"].isna().all()
    assert not entries[stale].any()
    assert entries[~stale].sum() > 0
    # (the first candle after each gap has no previous open interest: volume mode)
    assert (frame.loc[~stale, C.MODE] == C.MODE_OI).mean() > 0.99


@pytest.mark.parametrize("name", ["BaselineStrategy", "LiquidationMagnetStrategy"])
def test_plot_config_names_columns_the_strategy_produces(name: str) -> None:
    strategy = load_strategy(name, DATADIR_OI, "20260612-20260613")
    frame = analyse(strategy, load_candles(DATADIR_OI, "20260612-20260613", 0))
    plot = strategy.plot_config
    named = set(plot["main_plot"]) | {c for sub in plot["subplots"].values() for c in sub}

    assert named - set(frame.columns) == set()
    if name == "LiquidationMagnetStrategy":
        assert {C.MAGNET_UP_PRICE, C.IMBALANCE_LOG_5PCT, "liq_term_magnet"} <= named
