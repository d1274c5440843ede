"""The wrapper runs the real freqtrade CLI against the emulator and judges the outcome."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import ccxt
import pandas as pd
import pytest
from emu_helpers import DATADIR_2025, DATADIR_OI, REPO

from liq_signals import cli
from liq_signals.offline.overlay import build_overlay, replay_internals
from liq_signals.offline.runner import download_command, freqtrade_datadir

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


def _checksums(folder: Path) -> dict[str, str]:
    return {
        str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted(folder.rglob("*"))
        if f.is_file()
    }


DOWNLOAD = [
    "download-data",
    "--exchange",
    "binance",
    "--trading-mode",
    "futures",
    "--pairs",
    "BTC/USDT:USDT",
    "--timeframes",
    "5m",
    "--candle-types",
    "futures",
    "open_interest",
    "--timerange",
    "20260620-20260623",
]


@pytest.mark.freqtrade
def test_download_data_through_the_wrapper_never_writes_into_the_served_data(
    freqtrade_offline, tmp_path, capsys
) -> None:
    """Issue 22: with no freqtrade --datadir the wrapper used to append the served one,
    which for download-data is the destination (the served files lost their last rows)."""
    served = tmp_path / "user_data" / "data" / "binance"  # the fixture's --user-data-dir
    shutil.copytree(DATADIR_OI, served)
    before = _checksums(served)

    # freqtrade's destination (<userdir>/data/binance) is the served datadir: refused
    refused = freqtrade_offline(DOWNLOAD, datadir=served)
    assert refused.returncode == 2
    assert refused.output == (
        f"liq-signals offline: error: download-data would write into {served}, the datadir "
        "the emulator serves (its files would be overwritten with what it serves back); "
        "give freqtrade another destination after --, e.g. --datadir user_data/data/download\n"
    )
    # the same through the command line, with -d spelling the destination
    rc = cli.main(["offline", "--datadir", str(served), "--", *DOWNLOAD, "-d", str(served)])
    assert rc == 2
    assert capsys.readouterr().err.count("\n") == 1

    # another destination: a real download of the served candles, the source untouched
    dest = tmp_path / "download"
    result = freqtrade_offline([*DOWNLOAD, "--datadir", str(dest)], datadir=served)
    assert result.returncode == 0, result.output[-3000:]
    assert _checksums(served) == before
    got = pd.read_feather(dest / "futures" / "BTC_USDT_USDT-5m-futures.feather")
    src = pd.read_feather(served / "futures" / "BTC_USDT_USDT-5m-futures.feather")
    merged = got.merge(src, on="date", suffixes=("_got", "_src"))
    assert len(merged) == len(got) > 500
    assert (merged["close_got"] == merged["close_src"]).all()
    oi = pd.read_feather(dest / "futures" / "BTC_USDT_USDT-5m-open_interest.feather")
    assert len(oi) > 500


@pytest.mark.parametrize(
    ("args", "config", "expected"),
    [
        (["-d", "d1"], {}, "d1"),
        (["--datadir=d1"], {}, "d1"),
        (["-dd1"], {}, "d1"),
        (["--data-dir", "/abs/d1", "--userdir", "u"], {}, "/abs/d1"),
        (["--userdir", "ft/user_data"], {"user_data_dir": "cfg"}, "ft/user_data/data/binance"),
        (["--user-data-dir", "u"], {}, "u/data/binance"),
        ([], {"user_data_dir": "cfg"}, "cfg/data/binance"),
        ([], {}, "user_data/data/binance"),
    ],
)
def test_freqtrade_datadir_follows_freqtrades_own_flags(args, config, expected) -> None:
    cwd = Path("/work/here")
    assert freqtrade_datadir(["backtesting", *args], config, cwd) == cwd / expected


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
    """From a folder without data, freqtrade's own ``-d DIR`` is what the wrapper serves
    (issue 22: it served ``./user_data/data/binance`` and hyperopt found no data)."""
    # hyperopt writes <strategy>.json next to the strategy file: run a copy in tmp_path
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    shutil.copy(REPO / PROBE[1] / "OfflineProbeStrategy.py", strategies)
    result = freqtrade_offline(
        [
            "hyperopt",
            "--config",
            str(REPO / BACKTEST_CONFIG[1]),
            "-d",
            str(DATADIR_2025),
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
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.output[-3000:]
    assert "Best result:" in result.output
    assert (strategies / "OfflineProbeStrategy.json").is_file()
    assert not (REPO / PROBE[1] / "OfflineProbeStrategy.json").exists()


@pytest.mark.freqtrade
def test_userdir_after_the_double_dash_is_the_data_served(freqtrade_offline, tmp_path) -> None:
    """``--userdir ft/user_data``: freqtrade reads ``ft/user_data/data/binance``, so the
    wrapper serves it (issue 22: it served the working directory's user_data)."""
    shutil.copytree(DATADIR_OI, tmp_path / "ft" / "user_data" / "data" / "binance")
    result = freqtrade_offline(
        [
            "backtesting",
            "--config",
            str(REPO / BACKTEST_CONFIG[1]),
            "--strategy-path",
            str(REPO / PROBE[1]),
            "--strategy",
            "OfflineProbeStrategy",
            "--userdir",
            "ft/user_data",
            "--pairs",
            "BTC/USDT:USDT",
            "--timerange",
            "20260615-20260618",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.output[-3000:]
    from freqtrade.data.btanalysis import load_backtest_stats

    stats = load_backtest_stats(tmp_path / "ft" / "user_data" / "backtest_results")
    probe = stats["strategy"]["OfflineProbeStrategy"]
    assert probe["total_trades"] > 0
    assert probe["backtest_start"].startswith("2026-06-15")


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
    # freqtrade's heartbeat runs on the replay clock: every 60 replay seconds would be a
    # line per wall second of the run; the wrapper makes it one per wall minute
    assert result.output.count("Bot heartbeat") == 1


def test_replay_heartbeat_is_once_a_wall_minute_unless_the_config_sets_it() -> None:
    assert replay_internals({}, 240.0) == {"internals": {"heartbeat_interval": 14400}}
    assert replay_internals({"internals": {"heartbeat_interval": 600}}, 240.0) == {}
    assert replay_internals({}, 1.0) == {}  # the real pace: freqtrade's own default


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
