"""The shipped freqtrade configs: no empty credentials, an explicit dry-run database.

Loaded and validated with freqtrade's own configuration code, as ``freqtrade trade`` does
before it starts the bot (:func:`trade_config`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from freqtrade.configuration import Configuration, validate_config_consistency
from freqtrade.configuration.load_config import load_config_file
from freqtrade.enums import RunMode
from freqtrade.exceptions import ConfigurationError

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted((REPO / "user_data").glob("config*.json"))
DRYRUN = {
    "config_dryrun.json": "sqlite:///user_data/tradesv3.dryrun.sqlite",
    "config_dryrun_spot.json": "sqlite:///user_data/tradesv3.dryrun-spot.sqlite",
}


def trade_config(*files: Path | str) -> dict:
    """The config ``freqtrade trade --config …`` runs with: loaded, then validated as
    ``FreqtradeBot`` validates it (schema included) before the API server starts."""
    from freqtrade.resolvers import StrategyResolver

    args = {"config": [str(f) for f in files], "strategy": "LiquidationMagnetStrategy"}
    config = Configuration(args, RunMode.DRY_RUN).get_config()
    StrategyResolver.load_strategy(config)  # the strategy sets stoploss, timeframe, ...
    validate_config_consistency(config)
    return config


def test_the_scan_sees_the_shipped_configs() -> None:
    names = {p.name for p in CONFIGS}
    assert {"config.json", *DRYRUN} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_no_shipped_api_server_block_with_empty_credentials(path: Path) -> None:
    api = load_config_file(str(path)).get("api_server")
    if api is None:
        return
    for key in ("username", "password", "jwt_secret_key"):
        assert api.get(key), f"{path.name}: api_server.{key} empty or missing"


@pytest.mark.parametrize(
    "overlay",
    [
        {"enabled": True},
        {"enabled": True, "listen_ip_address": "127.0.0.1", "listen_port": 8080},
    ],
)
def test_enabling_the_api_server_without_credentials_is_refused(
    tmp_path: Path, overlay: dict
) -> None:
    """What a user gets who only switches the API server on over the shipped configs:
    freqtrade refuses to start, naming what is missing (before, the shipped block's empty
    username and password were accepted and let anyone log in)."""
    extra = tmp_path / "api.json"
    extra.write_text(json.dumps({"api_server": overlay}))
    with pytest.raises(ConfigurationError, match="is a required property"):
        trade_config(REPO / "user_data" / "config_dryrun.json", extra)


def test_a_complete_private_api_block_is_accepted(tmp_path: Path) -> None:
    """The block docs/dryrun.md tells users to add passes (so the refusal above is about
    the credentials, not about the shipped configs)."""
    extra = tmp_path / "api.json"
    block = {
        "enabled": True,
        "listen_ip_address": "127.0.0.1",
        "listen_port": 8080,
        "username": "me",
        "password": "a long secret",
        "jwt_secret_key": "x" * 40,
    }
    extra.write_text(json.dumps({"api_server": block}))
    config = trade_config(REPO / "user_data" / "config_dryrun.json", extra)
    assert config["api_server"]["username"] == "me"


@pytest.mark.parametrize(("name", "url"), DRYRUN.items())
def test_dry_run_database_is_explicit_and_documented(name: str, url: str) -> None:
    config = trade_config(REPO / "user_data" / name)
    assert config["dry_run"] is True
    assert config["db_url"] == url
    assert url in (REPO / "docs" / "dryrun.md").read_text(encoding="utf-8")


def test_the_dry_run_configs_do_not_share_a_database() -> None:
    urls = [trade_config(REPO / "user_data" / n)["db_url"] for n in DRYRUN]
    assert len(set(urls)) == len(urls)
