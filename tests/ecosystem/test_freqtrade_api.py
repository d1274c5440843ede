"""liq_signals.freqtrade, the strategy author's API, with freqtrade's own objects."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from freqtrade.exceptions import OperationalException

import liq_signals.freqtrade as lf
from liq_signals import columns as C
from liq_signals.config import ModelConfig


def test_every_name_resolves() -> None:
    for name in lf.__all__:
        assert getattr(lf, name) is not None, name


def test_model_config_reads_the_section_relative_to_user_data(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text('{"model_config": {"decay_half_life_hours": 6}, // x\n}')
    config = {"user_data_dir": str(tmp_path), "liq_signals": {"model_config": "m.json"}}
    assert lf.model_config(config).decay_half_life_hours == 6
    assert lf.model_config({}) == ModelConfig()
    base = ModelConfig(decay_half_life_hours=24.0)
    assert lf.model_config({}, base=base) is base


@pytest.mark.parametrize(
    ("section", "expect"),
    [
        ({"model_confg": "m.json"}, "unknown key(s) ['model_confg']; valid keys: model_config"),
        ({"model_config": "missing.json"}, "missing.json: cannot read model parameters"),
        ("m.json", "must be an object"),
    ],
)
def test_model_config_stops_freqtrade_with_the_reason(section, expect: str, tmp_path) -> None:
    config = json.loads(json.dumps({"user_data_dir": str(tmp_path), "liq_signals": section}))
    with pytest.raises(OperationalException, match=re.escape(expect)):
        lf.model_config(config)


def test_open_interest_timeframes_are_the_loaders() -> None:
    assert lf.open_interest_timeframes("5m") == ["5m", "1h"]
    assert lf.open_interest_timeframes("1h") == ["1h"]


# --- one context per strategy instance ---------------------------------------------------------
PAIR = "BTC/USDT:USDT"


def _strategy(runmode: str = "backtest", timeframe: str = "5m", **config: object):
    """The attributes of freqtrade's IStrategy that liq_signals reads (no exchange)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        timeframe=timeframe,
        startup_candle_count=0,
        dp=SimpleNamespace(runmode=runmode),
        config={"runmode": runmode, "trading_mode": "futures", **config},
    )


@pytest.fixture(scope="module")
def inputs():
    from liq_signals.data.load import load_pair_inputs
    from tests.conftest import DATADIR_OI

    return load_pair_inputs(DATADIR_OI, PAIR, "5m", "futures")


def test_one_context_holds_model_provider_and_checked_files(inputs, monkeypatch) -> None:
    """check_strategy_data (the strategy's __init__) and strategy_features share one
    object: the model, one provider, the pairs already checked (read once, not twice)."""
    from liq_signals.data import preflight
    from tests.conftest import DATADIR_OI

    reads: list[str] = []
    check = preflight.check_pair_files
    monkeypatch.setattr(
        preflight,
        "check_pair_files",
        lambda d, pair, *a, **k: (reads.append(pair), check(d, pair, *a, **k)),
    )
    strategy = _strategy(datadir=str(DATADIR_OI), exchange={"pair_whitelist": [PAIR]})
    model = ModelConfig(decay_half_life_hours=8.0)
    candles = inputs.candles.iloc[:600]

    lf.check_strategy_data(strategy, model)
    first = lf.strategy_features(strategy, candles, pair=PAIR, config=model)
    again = lf.strategy_features(
        strategy, candles, pair=PAIR, config=ModelConfig(decay_half_life_hours=8.0)
    )

    assert [k for k in vars(strategy) if "liq" in k] == [lf.CONTEXT_ATTRIBUTE]
    context = lf.strategy_context(strategy)
    assert isinstance(context, lf.StrategyContext)
    assert context.model == model
    assert context.checked == {(PAIR, "5m")}
    assert reads == [PAIR]  # checked in __init__, not again by the feature path
    assert list(context.providers) == ["5m"]
    assert context.providers["5m"].config == model
    pd.testing.assert_frame_equal(first, again)


def test_a_second_different_model_is_an_error_the_same_one_is_not() -> None:
    from liq_signals.errors import LiqSignalsError

    strategy = _strategy(runmode="dry_run")  # the data check does nothing in dry-run
    lf.check_strategy_data(strategy, ModelConfig())
    lf.check_strategy_data(strategy, ModelConfig())  # equal: fine
    lf.check_strategy_data(strategy)  # none: the one already fixed

    with pytest.raises(lf.ModelConflictError) as err:
        lf.strategy_features(
            strategy, pd.DataFrame(), pair=PAIR, config=ModelConfig(decay_half_life_hours=8.0)
        )

    message = str(err.value)
    assert isinstance(err.value, LiqSignalsError)
    assert isinstance(err.value, OperationalException)  # freqtrade prints it as one line
    assert "\n" not in message
    assert "decay_half_life_hours 12.0 -> 8.0" in message
    assert lf.strategy_context(strategy).model == ModelConfig()  # the first one stays


def test_without_a_model_the_context_takes_the_configs(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text('{"model_config": {"decay_half_life_hours": 6}}')
    strategy = _strategy(
        runmode="dry_run", user_data_dir=str(tmp_path), liq_signals={"model_config": "m.json"}
    )
    lf.check_strategy_data(strategy)
    assert lf.strategy_context(strategy).model == ModelConfig(decay_half_life_hours=6)
    with pytest.raises(lf.ModelConflictError, match="decay_half_life_hours 6"):
        lf.check_strategy_data(strategy, ModelConfig())


def test_strategy_features_runs_on_the_timeframe_of_its_candles(inputs) -> None:
    """Candles of an informative timeframe (1h under a 5m strategy) are modelled as 1h
    candles (the open interest's timing and outages follow their timeframe), on a provider
    of their own; without ``timeframe`` the strategy's is used."""
    from liq_signals.features.pipeline import compute_features

    ohlcv = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    hourly = inputs.candles.set_index("date").resample("1h").agg(ohlcv).dropna().reset_index()
    oi = inputs.open_interest
    hourly_oi = oi[oi["date"].dt.minute == 0].reset_index(drop=True)
    strategy = _strategy(timeframe="5m")

    five = lf.strategy_features(strategy, inputs.candles, pair=PAIR, open_interest=oi)
    hour = lf.strategy_features(
        strategy, hourly, pair=PAIR, open_interest=hourly_oi, timeframe="1h"
    )

    def batch(candles: pd.DataFrame, open_interest: pd.DataFrame, tf: str) -> pd.DataFrame:
        return compute_features(candles, pair=PAIR, open_interest=open_interest, timeframe=tf)

    pd.testing.assert_frame_equal(hour, batch(hourly, hourly_oi, "1h"))
    # read as 5m candles, the hourly frame would have other stale and open-interest rows
    assert not hour[C.STALE].equals(batch(hourly, hourly_oi, "5m")[C.STALE])
    pd.testing.assert_frame_equal(five, batch(inputs.candles, oi, "5m"))
    assert sorted(lf.strategy_context(strategy).providers) == ["1h", "5m"]
