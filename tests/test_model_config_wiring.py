"""One model for the strategy and the commands: ``--model-config FILE`` on every command and
``"liq_signals": {"model_config": FILE}`` in the freqtrade config.

Each command is run through the real CLI on the embedded June 2026 data (open interest +
taker-flow sidecar) with a parameter file that changes the decay half-life; its output must
change and must equal what the library computes with the loaded config.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import pandas as pd
import pytest

from liq_signals import columns as C
from liq_signals.cli import main
from liq_signals.config import ModelConfig, load_model_config
from liq_signals.data.load import load_pair_inputs
from liq_signals.features.pipeline import compute_features
from tests.conftest import import_strategy

REPO = Path(__file__).resolve().parents[1]
DATADIR = REPO / "user_data" / "data" / "binance-oi-2026-06"
SHIPPED_MODEL = REPO / "user_data" / "liq_model.json"
STRATEGIES = REPO / "strategies"
CONFIG_BACKTEST = REPO / "user_data" / "config_backtest.json"
PAIR = "BTC/USDT:USDT"
AT = "2026-06-13 12:00"
#: a half-life neither the default nor the strategy's MODEL (24 h) uses
CHANGED = {"decay_half_life_hours": 8.0}


def _write(path: Path, values: dict) -> Path:
    path.write_text(json.dumps({"model_config": values}), encoding="utf-8")
    return path


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    return _write(tmp_path / "model.json", CHANGED)


def _features_with(config: ModelConfig) -> pd.DataFrame:
    inputs = load_pair_inputs(DATADIR, PAIR, "5m", "futures")
    return compute_features(
        inputs.candles,
        pair=PAIR,
        open_interest=inputs.open_interest,
        mark=inputs.mark,
        metrics=inputs.metrics,
        timeframe="5m",
        config=config,
    )


# --- the shipped file ------------------------------------------------------------------------
def test_shipped_model_file_is_exactly_the_strategy_model() -> None:
    MODEL = import_strategy("LiquidationMagnetStrategy").MODEL

    assert load_model_config(SHIPPED_MODEL) == MODEL
    # one model: the strategy trades what every command shows by default
    assert MODEL == ModelConfig()


def test_startup_follows_the_models_half_life_and_the_terms_look_back() -> None:
    """10 half-lives of book + the pull's momentum window (study.terms.RESIDUAL_DAYS):
    2304 5m candles at 12 h, within the ~2,490 freqtrade loads at a Binance start-up."""
    from liq_signals.freqtrade import WARMUP_HALF_LIVES
    from liq_signals.study.terms import RESIDUAL_DAYS

    module = import_strategy("LiquidationMagnetStrategy")
    assert module.MOMENTUM_DAYS == RESIDUAL_DAYS
    hours = WARMUP_HALF_LIVES * module.MODEL.decay_half_life_hours + 24 * RESIDUAL_DAYS
    assert module.LiquidationMagnetStrategy.startup_candle_count == hours * 12 == 2304


# --- features ----------------------------------------------------------------------------------
def test_features_writes_the_values_of_the_given_model(tmp_path: Path, model_file: Path) -> None:
    plain, tuned = tmp_path / "plain.feather", tmp_path / "tuned.feather"
    base = ["features", "--datadir", str(DATADIR), "--pair", PAIR]

    assert main([*base, "--out", str(plain)]) == 0
    assert main([*base, "--out", str(tuned), "--model-config", str(model_file)]) == 0

    got_plain, got_tuned = pd.read_feather(plain), pd.read_feather(tuned)
    col = C.short_above_usd(5.0)
    assert not got_plain[col].equals(got_tuned[col])
    expected = _features_with(ModelConfig(**CHANGED))[["date", *C.FEATURE_COLUMNS]]
    pd.testing.assert_frame_equal(got_tuned, expected.reset_index(drop=True))


# --- snapshot ----------------------------------------------------------------------------------
def test_snapshot_prints_the_map_of_the_given_model(capsys, model_file: Path) -> None:
    from liq_signals.display import format_usd as _usd

    base = ["snapshot", "--datadir", str(DATADIR), "--pair", PAIR, "--at", AT]
    assert main(base) == 0
    plain = capsys.readouterr().out
    assert main([*base, "--model-config", str(model_file)]) == 0
    tuned = capsys.readouterr().out

    assert plain != tuned
    feats = _features_with(ModelConfig(**CHANGED))
    row = feats[feats["date"] == pd.Timestamp(AT, tz="UTC")].iloc[0]
    line = next(x for x in tuned.splitlines() if x.strip().startswith("±5%"))
    assert _usd(float(row[C.short_above_usd(5.0)])) in line
    assert _usd(float(row[C.long_below_usd(5.0)])) in line


# --- heatmap -----------------------------------------------------------------------------------
def test_heatmap_draws_the_map_of_the_given_model(tmp_path: Path, model_file: Path) -> None:
    from liq_signals.viz import render

    common = [
        "heatmap",
        "--datadir",
        str(DATADIR),
        "--pair",
        PAIR,
        "--at",
        AT,
        "--warmup-days",
        "2",
        "--width",
        "400",
        "--height",
        "300",
    ]
    plain, tuned, direct = (tmp_path / f"{n}.png" for n in ("plain", "tuned", "direct"))

    assert main([*common, "--out", str(plain)]) == 0
    assert main([*common, "--out", str(tuned), "--model-config", str(model_file)]) == 0
    render.render(
        render.Request(
            datadir=DATADIR,
            pair=PAIR,
            timeframe="5m",
            timerange=None,
            out=direct,
            at=AT,
            width=400,
            height=300,
            warmup_days=2.0,
            model=ModelConfig(**CHANGED),
        )
    )

    assert plain.read_bytes() != tuned.read_bytes()
    assert tuned.read_bytes() == direct.read_bytes()


# --- validate / calibrate -----------------------------------------------------------------------
def test_validate_scores_the_given_model(tmp_path: Path, model_file: Path) -> None:
    common = [
        "validate",
        "--datadir",
        str(DATADIR),
        "--pair",
        PAIR,
        "--timerange",
        "20260610-20260613",
        "--warmup",
        "2D",
    ]
    plain, tuned, alias = (tmp_path / f"{n}.md" for n in ("plain", "tuned", "alias"))

    assert main([*common, "--out", str(plain)]) == 0
    assert main([*common, "--out", str(tuned), "--model-config", str(model_file)]) == 0
    assert main([*common, "--out", str(alias), "--params", str(model_file)]) == 0

    default = ModelConfig().decay_half_life_hours
    assert f"decay_half_life_hours = {default}" in plain.read_text(encoding="utf-8")
    assert "decay_half_life_hours = 8.0" in tuned.read_text(encoding="utf-8")
    assert "decay_half_life_hours = 8.0" in alias.read_text(encoding="utf-8")


# --- bad files: every command refuses, naming the file -------------------------------------------
def _command_args(command: str, tmp_path: Path) -> list[str]:
    out = tmp_path / "out"
    return {
        "features": [
            "features",
            "--datadir",
            str(DATADIR),
            "--pair",
            PAIR,
            "--out",
            f"{out}.feather",
        ],
        "snapshot": ["snapshot", "--datadir", str(DATADIR), "--pair", PAIR, "--at", AT],
        "heatmap": [
            "heatmap",
            "--datadir",
            str(DATADIR),
            "--pair",
            PAIR,
            "--at",
            AT,
            "--out",
            f"{out}.png",
        ],
        "validate": [
            "validate",
            "--datadir",
            str(DATADIR),
            "--pair",
            PAIR,
            "--timerange",
            "20260610-20260613",
            "--out",
            f"{out}.md",
        ],
        "calibrate": [
            "calibrate",
            "--datadir",
            str(DATADIR),
            "--pair",
            PAIR,
            "--realized",
            str(REPO / "tests" / "testdata"),
            "--fit-range",
            "20260610-20260612",
            "--test-range",
            "20260612-20260614",
            "--out",
            f"{out}.json",
        ],
    }[command]


@pytest.mark.parametrize("command", ["features", "snapshot", "heatmap", "validate", "calibrate"])
@pytest.mark.parametrize("problem", ["missing", "unknown_field", "bad_value"])
def test_a_bad_model_file_is_an_error_naming_it(
    command: str, problem: str, tmp_path: Path, capsys
) -> None:
    path = tmp_path / f"{problem}.json"
    if problem == "unknown_field":
        _write(path, {"decay_half_life_hour": 24.0})
        expect = "decay_half_life_hour"
    elif problem == "bad_value":
        _write(path, {"decay_half_life_hours": -1.0})
        expect = "decay_half_life_hours"
    else:
        expect = "cannot read"

    rc = main([*_command_args(command, tmp_path), "--model-config", str(path)])

    assert rc == 2  # a bad model file is bad configuration, in every command
    errors = capsys.readouterr().err.splitlines()
    assert any(str(path) in m and expect in m for m in errors), errors
    assert not list(tmp_path.glob("out*"))  # nothing written from a model nobody asked for


# --- the strategy --------------------------------------------------------------------------------
def _strategy(tmp_path: Path, section: dict | None):
    """LiquidationMagnetStrategy through freqtrade's configuration and resolver, with an
    extra config file carrying ``section`` as ``liq_signals`` (freqtrade merges the files)."""
    from freqtrade.configuration import Configuration
    from freqtrade.data.dataprovider import DataProvider
    from freqtrade.enums import RunMode
    from freqtrade.resolvers import StrategyResolver

    files = [str(CONFIG_BACKTEST)]
    if section is not None:
        extra = tmp_path / "liq.json"
        extra.write_text(json.dumps({"liq_signals": section}), encoding="utf-8")
        files.append(str(extra))
    config = Configuration(
        {
            "config": files,
            "strategy": "LiquidationMagnetStrategy",
            "strategy_path": str(STRATEGIES),
            "datadir": str(DATADIR),
            "timerange": "20260612-20260614",
        },
        RunMode.BACKTEST,
    ).get_config()
    config.setdefault("dataformat_ohlcv", "feather")
    strategy = StrategyResolver.load_strategy(config)
    strategy.dp = DataProvider(config, None)
    return strategy


def _strategy_features(strategy) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The strategy's indicator frame and compute_features on the same inputs with
    ``strategy.model``."""
    from freqtrade.data.history import load_pair_history
    from freqtrade.enums import CandleType

    candles = load_pair_history(
        pair=PAIR,
        timeframe="5m",
        datadir=DATADIR,
        candle_type=CandleType.FUTURES,
        data_format="feather",
    )
    frame = strategy.advise_indicators(candles.copy(), {"pair": PAIR})
    expected = compute_features(
        candles[["date", "open", "high", "low", "close", "volume"]],
        pair=PAIR,
        open_interest=strategy._extra_series(PAIR, "open_interest", "5m"),
        metrics=strategy._metrics(PAIR),
        timeframe="5m",
        config=strategy.model,
    )
    return frame, expected


def test_strategy_trades_the_map_of_its_configured_model(
    tmp_path: Path, model_file: Path, caplog
) -> None:
    MODEL = import_strategy("LiquidationMagnetStrategy").MODEL

    with caplog.at_level(logging.INFO):
        tuned = _strategy(tmp_path, {"model_config": str(model_file)})
    plain = _strategy(tmp_path, None)

    assert tuned.model == dataclasses.replace(MODEL, **CHANGED)  # the file's fields over MODEL's
    assert plain.model == MODEL
    assert any(f"model config from {model_file}" in r.getMessage() for r in caplog.records)
    frame, expected = _strategy_features(tuned)
    plain_frame, _ = _strategy_features(plain)
    cols = list(C.FEATURE_COLUMNS)
    pd.testing.assert_frame_equal(frame[cols], expected[cols])
    assert not frame[C.short_above_usd(5.0)].equals(plain_frame[C.short_above_usd(5.0)])


def test_strategy_resolves_a_relative_model_file_against_user_data_dir(tmp_path: Path) -> None:
    model_from_config = import_strategy("LiquidationMagnetStrategy").model_from_config

    _write(tmp_path / "only-here.json", CHANGED)
    config = {"user_data_dir": str(tmp_path), "liq_signals": {"model_config": "only-here.json"}}

    assert model_from_config(config).decay_half_life_hours == 8.0


@pytest.mark.parametrize(
    ("values", "expect"),
    [
        (None, "cannot read"),
        ({"decay_half_life_hour": 24.0}, "decay_half_life_hour"),
        ({"bands_pct": [1.0, 3.0]}, "imbalance band"),
    ],
)
def test_strategy_refuses_to_start_on_a_bad_model_file(
    tmp_path: Path, values: dict | None, expect: str
) -> None:
    from freqtrade.exceptions import OperationalException

    path = tmp_path / "bad.json"
    if values is not None:
        _write(path, values)

    with pytest.raises(OperationalException) as err:
        _strategy(tmp_path, {"model_config": str(path)})

    assert str(path) in str(err.value)
    assert expect in str(err.value)


def test_strategy_refuses_a_typo_in_its_config_section(tmp_path: Path) -> None:
    """``model_confg`` would otherwise run the default map in silence."""
    from freqtrade.exceptions import OperationalException

    with pytest.raises(OperationalException) as err:
        _strategy(tmp_path, {"model_confg": "user_data/liq_model.json"})
    assert "model_confg" in str(err.value)
    assert "model_config" in str(err.value).split("valid keys")[1]
