"""The wrapper runs the real freqtrade CLI against the emulator and judges the outcome."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import ccxt
import pandas as pd
import pytest
from emu_helpers import DATADIR_2025, REPO

from liq_signals import cli
from liq_signals.offline.overlay import build_overlay
from liq_signals.offline.runner import download_command

PROBE = ["--strategy-path", "tests/offline/strategies", "--strategy", "OfflineProbeStrategy"]
BACKTEST_CONFIG = ["--config", "user_data/config_backtest.json"]


def test_overlay_remaps_every_ccxt_binance_url_to_loopback() -> None:
    overlay = build_overlay("http://127.0.0.1:5555")
    urls = overlay["exchange"]["ccxt_config"]["urls"]["api"]
    real = ccxt.binance().urls["api"]
    assert set(urls) == set(real)
    for key, url in urls.items():
        assert url == "http://127.0.0.1:5555" + urlsplit(real[key]).path
    assert overlay["exchange"]["ccxt_config"]["options"]["fetchMarkets"]["types"] == ["linear"]
    assert overlay["exchange"]["enable_ws"] is False
    assert overlay["exchange"]["only_from_ccxt"] is True  # no data.binance.vision downloads
    assert overlay["entry_pricing"]["use_order_book"]
    assert overlay["exit_pricing"]["use_order_book"]


@pytest.mark.freqtrade
def test_backtesting_through_the_wrapper_reports_trades(
    freqtrade_offline, emulator_factory, tmp_path
) -> None:
    from freqtrade.data.btanalysis import load_backtest_stats

    emu = emulator_factory(DATADIR_2025)
    results = tmp_path / "user_data" / "backtest_results"  # the fixture's --user-data-dir
    result = freqtrade_offline(
        [
            "backtesting",
            *BACKTEST_CONFIG,
            *PROBE,
            "--timerange",
            "20251001-20251015",
            "--export",
            "trades",
        ],
        emulator=emu,
    )
    assert result.returncode == 0, result.output[-3000:]
    assert "BACKTESTING REPORT" in result.output
    stats = load_backtest_stats(results)["strategy"]["OfflineProbeStrategy"]
    assert stats["total_trades"] > 0
    assert stats["pairlist"] == ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"]
    # freqtrade loaded its markets from the emulator, and needed nothing else
    assert {r.endpoint for r in emu.requests()} == {"exchangeInfo"}


@pytest.mark.freqtrade
def test_download_data_through_the_wrapper_writes_the_served_candles(freqtrade_offline, tmp_path):
    out = tmp_path / "dl"
    result = freqtrade_offline(
        [
            "download-data",
            "--exchange",
            "binance",
            "--trading-mode",
            "futures",
            "--pairs",
            "BTC/USDT:USDT",
            "--timeframes",
            "1h",
            "--candle-types",
            "futures",
            "funding_rate",
            "--timerange",
            "20260210-20260219",
            "--datadir",
            str(out),
        ],
    )  # served: user_data/data/binance (freqtrade's --datadir is the destination)
    assert result.returncode == 0, result.output[-3000:]
    got = pd.read_feather(out / "futures" / "BTC_USDT_USDT-1h-futures.feather")
    src = pd.read_feather(DATADIR_2025 / "futures" / "BTC_USDT_USDT-1h-futures.feather")
    merged = got.merge(src, on="date", suffixes=("_got", "_src"))
    assert len(merged) == len(got) > 200
    assert (merged["close_got"] == merged["close_src"]).all()
    fr = pd.read_feather(out / "futures" / "BTC_USDT_USDT-1h-funding_rate.feather")
    assert len(fr) > 20


@pytest.mark.freqtrade
def test_wrapper_fails_on_invalid_json_although_freqtrade_exits_0(freqtrade_offline, tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text('{"max_open_trades": 1,')
    result = freqtrade_offline(["backtesting", *BACKTEST_CONFIG, "--config", str(bad), *PROBE])
    assert result.returncode == 1
    assert "freqtrade exited 0 but reported an error" in result.output
    assert any("Configuration error" in e for e in result.errors)


def test_wrapper_fails_on_an_unknown_argument_although_freqtrade_exits_0(freqtrade_offline):
    result = freqtrade_offline(["backtesting", *BACKTEST_CONFIG, *PROBE, "--no-such-flag"])
    assert result.returncode == 1
    assert any("unrecognized arguments: --no-such-flag" in e for e in result.errors)


@pytest.mark.freqtrade
def test_wrapper_fails_on_unknown_strategy(freqtrade_offline) -> None:
    result = freqtrade_offline(
        [
            "backtesting",
            *BACKTEST_CONFIG,
            "--strategy",
            "NoSuchStrategy",
            "--timerange",
            "20251001-20251002",
        ]
    )
    assert result.returncode != 0
    assert any("Impossible to load Strategy 'NoSuchStrategy'" in e for e in result.errors), (
        result.output[-2000:]
    )


def test_missing_datadir_names_it_and_gives_the_download_command(freqtrade_offline, tmp_path):
    missing = tmp_path / "nowhere" / "binance"
    result = freqtrade_offline(["backtesting", *BACKTEST_CONFIG, *PROBE, "--datadir", str(missing)])
    assert result.returncode == 1
    assert f"datadir {missing} does not exist" in result.output
    shipped = ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"]  # the config's whitelist
    assert download_command(shipped, ["5m"], missing) in result.output
    assert "--candle-types futures mark funding_rate open_interest" in result.output


def test_missing_pair_and_timeframe_are_named(freqtrade_offline) -> None:
    result = freqtrade_offline(
        [
            "backtesting",
            *BACKTEST_CONFIG,
            *PROBE,
            "--pairs",
            "XRP/USDT:USDT",
            "BTC/USDT:USDT",
            "--timeframe",
            "15m",
        ]
    )
    assert result.returncode == 1
    assert "no futures data for XRP/USDT:USDT" in result.output
    assert "no 15m futures candles for BTC/USDT:USDT" in result.output
    assert "--pairs XRP/USDT:USDT BTC/USDT:USDT --timeframes 15m" in result.output


def test_cli_command_returns_the_wrapper_status(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    rc = cli.main(
        [
            "offline",
            "--datadir",
            str(tmp_path / "none"),
            "--",
            "backtesting",
            *BACKTEST_CONFIG,
            *PROBE,
        ]
    )
    assert rc == 1
    assert "freqtrade download-data --exchange binance" in capsys.readouterr().err
    assert cli.main(["offline"]) == 2


def test_overlay_files_are_removed_after_the_run(freqtrade_offline, tmp_path) -> None:
    freqtrade_offline(["list-data", "--trading-mode", "futures"], datadir=DATADIR_2025)
    assert list((tmp_path / "overlay").glob("*.json")) == []
    assert Path(tmp_path / "overlay").is_dir()


@pytest.mark.freqtrade
def test_hyperopt_through_the_wrapper_finds_a_best_result(freqtrade_offline, tmp_path) -> None:
    # hyperopt writes <strategy>.json next to the strategy file: run a copy in tmp_path
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    shutil.copy(REPO / PROBE[1] / "OfflineProbeStrategy.py", strategies)
    result = freqtrade_offline(
        [
            "hyperopt",
            *BACKTEST_CONFIG,
            "--strategy-path",
            str(strategies),
            "--strategy",
            "OfflineProbeStrategy",
            "--hyperopt-loss",
            "SharpeHyperOptLoss",
            "--spaces",
            "roi",
            "stoploss",
            "-e",
            "3",
            "-j",
            "1",
            "--timerange",
            "20251001-20251008",
        ]
    )
    assert result.returncode == 0, result.output[-3000:]
    assert "Best result:" in result.output
    assert (strategies / "OfflineProbeStrategy.json").is_file()
    assert not (REPO / PROBE[1] / "OfflineProbeStrategy.json").exists()


@pytest.mark.freqtrade
def test_lookahead_and_recursive_analysis_through_the_wrapper(freqtrade_offline) -> None:
    look = freqtrade_offline(
        [
            "lookahead-analysis",
            *BACKTEST_CONFIG,
            *PROBE,
            "--timerange",
            "20251001-20251008",
            "--minimum-trade-amount",
            "1",
            "--targeted-trade-amount",
            "2",
        ]
    )
    assert look.returncode == 0, look.output[-3000:]
    row = re.search(
        r"OfflineProbeStrategy\.py\s*│\s*OfflineProbeStrategy\s*│\s*(\w+)\s*│\s*(\d+)", look.output
    )
    assert row is not None, look.output[-3000:]
    # RSI on closed candles: no bias
    assert row.group(1) == "No"
    assert int(row.group(2)) >= 1
    rec = freqtrade_offline(
        ["recursive-analysis", *BACKTEST_CONFIG, *PROBE, "--timerange", "20251001-20251008"]
    )
    assert rec.returncode == 0, rec.output[-3000:]
    assert "Calculating indicators using startup candle of" in rec.output


@pytest.mark.freqtrade
def test_plot_dataframe_through_the_wrapper_writes_the_plot(freqtrade_offline, tmp_path) -> None:
    result = freqtrade_offline(
        [
            "plot-dataframe",
            *BACKTEST_CONFIG,
            *PROBE,
            "--no-trades",
            "--timerange",
            "20251001-20251003",
        ]
    )
    assert result.returncode == 0, result.output[-3000:]
    plots = list((tmp_path / "user_data" / "plot").glob("*BTC_USDT_USDT-5m.html"))
    assert len(plots) == 1
    assert plots[0].stat().st_size > 10_000


@pytest.mark.freqtrade
def test_dry_run_polls_the_emulator_and_stops_cleanly(
    freqtrade_offline, emulator_factory, tmp_path
) -> None:
    emu = emulator_factory(DATADIR_2025, replay_start="2026-01-10T12:00:00Z", speed=60)
    result = freqtrade_offline(
        [
            "trade",
            "--dry-run",
            "--config",
            "user_data/config_dryrun.json",
            *PROBE,
            "--db-url",
            f"sqlite:///{tmp_path / 'dry.sqlite'}",
        ],
        emulator=emu,
        stop_after=12,
    )
    assert result.returncode == 0, result.output[-3000:]
    assert result.errors == ()
    served = {r.endpoint for r in emu.requests() if r.status == 200}
    assert {"exchangeInfo", "klines"} <= served
    assert "Bot heartbeat" in result.output


def test_missing_optional_data_is_a_note_saying_what_the_run_did(tmp_path) -> None:
    """freqtrade's "No history … open_interest" lines after a successful run (the demo's
    ETH and SOL have no open-interest file, BTC only an hourly one) give one note saying
    what the run did without it, not an alarm; the exit status stays 0."""
    from liq_signals.offline.runner import _judge

    (tmp_path / "futures").mkdir()
    (tmp_path / "futures" / "BTC_USDT_USDT-1h-open_interest.feather").write_bytes(b"")
    missing = [("BTC/USDT:USDT", "5m"), ("ETH/USDT:USDT", "1h"), ("ETH/USDT:USDT", "5m")]
    lines = [
        f"2026-01-01 00:00:00,000 - freqtrade.data.history.datahandlers.idatahandler - WARNING"
        f" - No history for {pair}, open_interest, {tf} found. Use `freqtrade download-data` "
        "to download the data\n"
        for pair, tf in missing
    ]
    result = _judge(0, lines, tmp_path, None)
    assert result.returncode == 0
    notes = result.output.splitlines()[len(lines) :]
    assert notes[0] == (
        f"liq-signals offline: note: no open_interest data in {tmp_path} for ETH/USDT:USDT "
        "1h, 5m: the liquidation map ran in volume-flow mode for these pairs.  No "
        "open_interest file for BTC/USDT:USDT 5m: another timeframe's was used.  To add it:"
    )
    pairs = ["BTC/USDT:USDT", "ETH/USDT:USDT"]
    assert notes[1].strip() == download_command(pairs, ["1h", "5m"], tmp_path)
    assert len(notes) == 2
