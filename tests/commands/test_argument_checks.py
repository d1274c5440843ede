"""One argument-checking rule for every command, before any work: a malformed
``--timerange``, a pair typo and an unknown timeframe each give one line on stderr and
exit 2 (:func:`liq_signals.commands._data_args.resolve_data_arguments`).

Every case runs the real command in-process on the embedded data; none reaches the data
(nothing is written, no book is built: the whole matrix takes seconds).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from liq_signals.cli import main
from tests.conftest import DATADIR_OI, TESTDATA

PAIR = "BTC/USDT:USDT"
TYPO = "BTC/UDST:UDST"

#: per kind: (what replaces the good value, the text the one line must hold)
KINDS = {
    "timerange": ("2026-06-07", "bad --timerange '2026-06-07'"),
    "pair": (TYPO, f"pair '{TYPO}' is not a binance futures market"),
    "timeframe": ("7x", "unknown timeframe '7x'"),
}


def _argv(command: str, kind: str, tmp: Path) -> list[str]:
    """The command line of ``command`` with one bad value of ``kind``."""
    bad = KINDS[kind][0]
    pair = bad if kind == "pair" else PAIR
    timerange = bad if kind == "timerange" else "20260610-20260612"
    data = ["--datadir", str(DATADIR_OI), "-p", pair]
    tf = ["-i", bad] if kind == "timeframe" else []
    tr = ["--timerange", timerange]
    lines = {
        "features": ["features", *data, *tf, *tr, "--out", str(tmp / "f.csv")],
        "snapshot": ["snapshot", *data, *tf, "--at", "2026-06-11 12:00"],
        "heatmap": ["heatmap", *data, *tf, *tr, "--out", str(tmp / "m.html")],
        "study": ["study", *data, *tf, *tr, "--out", str(tmp / "s")],
        "validate": [
            "validate",
            *data,
            *tf,
            *tr,
            "--realized",
            str(TESTDATA),
            "--out",
            str(tmp / "r.md"),
        ],
        "calibrate": [
            "calibrate",
            *data,
            *tf,
            *tr,
            "--realized",
            str(TESTDATA),
            "--out",
            str(tmp / "p.json"),
        ],
        "import-binance-metrics": [
            "import-binance-metrics",
            *data,
            *(["-t", bad] if kind == "timeframe" else []),
            *tr,
            "--base-url",
            "http://127.0.0.1:9",  # never contacted: the command fails first
            "--no-progress",
        ],
    }
    return lines[command]


COMMANDS = (
    "features",
    "snapshot",
    "heatmap",
    "study",
    "validate",
    "calibrate",
    "import-binance-metrics",
)
# not in the matrix: record-liquidations (no timerange or timeframe; it takes exchange
# symbols such as BTCUSDT as they are), offline (freqtrade checks its own arguments),
# install-strategies (no data options); snapshot has no --timerange (one candle, --at).
CASES = [(c, k) for c in COMMANDS for k in KINDS if (c, k) != ("snapshot", "timerange")]


@pytest.mark.parametrize(("command", "kind"), CASES, ids=[f"{c}-{k}" for c, k in CASES])
def test_bad_argument_gives_one_line_and_exit_2(command, kind, tmp_path: Path, capsys) -> None:
    rc = main(_argv(command, kind, tmp_path))
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.count("\n") == 1, err
    assert err.startswith(f"liq-signals {command}: error: "), err
    assert KINDS[kind][1] in err, err
    assert list(tmp_path.iterdir()) == []  # failed before any work


def test_a_pair_typo_lists_the_pairs_on_disk_not_a_download(capsys) -> None:
    rc = main(["features", "--datadir", str(DATADIR_OI), "-p", TYPO, "--out", "never.csv"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert f"did you mean {PAIR}? pairs on disk at 5m: {PAIR}" in err, err
    assert "download-data" not in err


def test_a_real_market_not_downloaded_is_missing_data(tmp_path: Path, capsys) -> None:
    """ETH is a Binance market the datadir lacks: exit 1 with the download command."""
    rc = main(
        [
            "features",
            "--datadir",
            str(DATADIR_OI),
            "-p",
            "ETH/USDT:USDT",
            "--out",
            str(tmp_path / "f.csv"),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 1, err
    assert "freqtrade download-data" in err, err
    assert "ETH/USDT:USDT" in err, err


def test_study_reads_pairs_and_timeframe_from_a_freqtrade_config(tmp_path: Path, capsys):
    """``study -c`` takes the whitelist and the timeframe from the config: here a 7x
    timeframe in the config is refused as on the command line."""
    config = tmp_path / "config.json"
    config.write_text(
        '{"timeframe": "7x", "trading_mode": "futures", "margin_mode": "isolated", '
        '"exchange": {"name": "binance", "pair_whitelist": ["BTC/USDT:USDT"]}, '
        '"stake_currency": "USDT", "dry_run": true}'
    )
    rc = main(
        ["study", "-c", str(config), "--datadir", str(DATADIR_OI), "--out", str(tmp_path / "s")]
    )
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "unknown timeframe '7x'" in err, err
