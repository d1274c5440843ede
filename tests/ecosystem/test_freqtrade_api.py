"""liq_signals.freqtrade, the strategy author's API, with freqtrade's own objects."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from freqtrade.exceptions import OperationalException

import liq_signals.freqtrade as lf
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
