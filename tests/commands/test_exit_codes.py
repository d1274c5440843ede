"""The exit-code rule, for every sub-command: 2 bad arguments or configuration, 1 bad data.

Each case runs the real command in-process on the embedded data (or a broken copy in
``tmp_path``) and checks the code and that stderr holds exactly one line,
``liq-signals COMMAND: error: ...``, naming the problem.  Two cases also run as a separate
process to show that no traceback reaches the user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from liq_signals.cli import main
from tests.conftest import DATADIR_OI, REPO, TESTDATA

PAIR = "BTC/USDT:USDT"
OI_FILE = "BTC_USDT_USDT-5m-open_interest.feather"
CANDLE_FILE = "BTC_USDT_USDT-5m-futures.feather"


def _broken_datadir(tmp_path: Path) -> Path:
    """A copy of the embedded futures data whose candle file has a close above the high at
    row 7 (a bad open-interest row is quarantined, not an error)."""
    datadir = tmp_path / "broken"
    if datadir.exists():
        return datadir
    shutil.copytree(DATADIR_OI, datadir)
    path = datadir / "futures" / CANDLE_FILE
    candles = pd.read_feather(path)
    candles.loc[7, "close"] = candles.loc[7, "high"] * 1.01
    candles.to_feather(path)
    return datadir


def _bad_record(tmp_path: Path) -> Path:
    """A realized-liquidation CSV with a negative amount on line 3."""
    path = tmp_path / "agg-bad.csv"
    path.write_text(
        "date,long_usd,short_usd\n2026-06-10T17:00:00Z,1,2\n2026-06-10T18:00:00Z,-3,2\n"
    )
    return path


def _garbage_oi(tmp_path: Path) -> Path:
    """A datadir whose existing open-interest file is not arrow at all."""
    datadir = tmp_path / "garbage"
    (datadir / "futures").mkdir(parents=True, exist_ok=True)
    (datadir / "futures" / OI_FILE).write_bytes(b"garbage, not arrow")
    return datadir


def _edited_strategy(tmp_path: Path) -> Path:
    """A user directory whose copy of a shipped strategy the user has edited."""
    userdir = tmp_path / "ud"
    (userdir / "strategies").mkdir(parents=True, exist_ok=True)
    (userdir / "strategies" / "BaselineStrategy.py").write_text("# edited\n")
    return userdir


def _case(tmp: Path, command: str, kind: str) -> tuple[list[str], str]:
    """Command line and the text stderr must contain, for ``command`` and ``kind``.

    Builds every case's files (small; the broken datadir is a copy of 4 files), then
    picks one."""
    oi = ["--datadir", str(DATADIR_OI), "--pair", PAIR]
    missing_model = ["--model-config", str(tmp / "missing.json")]
    closed_port = "http://127.0.0.1:9"  # never contacted: the command fails before fetching
    cases: dict[tuple[str, str], tuple[list[str], str]] = {
        ("features", "config"): (
            ["features", *oi, "--out", str(tmp / "f.xlsx")],
            "--out must end in .feather or .csv",
        ),
        ("features", "data"): (
            [
                "features",
                "--datadir",
                str(_broken_datadir(tmp)),
                "--pair",
                PAIR,
                "--out",
                str(tmp / "f.csv"),
            ],
            "row 7",
        ),
        ("snapshot", "config"): (
            ["snapshot", *oi, "--at", "not a time"],
            "is not a timestamp",
        ),
        ("snapshot", "data"): (
            [
                "snapshot",
                "--datadir",
                str(_broken_datadir(tmp)),
                "--pair",
                PAIR,
                "--at",
                "2026-06-20 12:00",
            ],
            "row 7",
        ),
        ("heatmap", "config"): (
            ["heatmap", *oi, "--out", str(tmp / "m.svg")],
            "use a .html or .png file name",
        ),
        ("heatmap", "data"): (
            [
                "heatmap",
                "--datadir",
                str(tmp / "nope"),
                "--pair",
                PAIR,
                "--out",
                str(tmp / "m.html"),
            ],
            str(tmp / "nope"),
        ),
        ("validate", "config"): (
            ["validate", *oi, "--realized", str(TESTDATA), *missing_model],
            "missing.json: cannot read model parameters",
        ),
        ("validate", "data"): (
            ["validate", *oi, "--realized", str(_bad_record(tmp)), "--out", str(tmp / "r.md")],
            "agg-bad.csv: line 3: long_usd",
        ),
        ("calibrate", "config"): (
            [
                "calibrate",
                *oi,
                "--realized",
                str(TESTDATA),
                "--fit-range",
                "20260610-",
                "--test-range",
                "20260612-20260614",
                "--out",
                str(tmp / "p.json"),
            ],
            "need both a start and an end date",
        ),
        ("calibrate", "data"): (
            [
                "calibrate",
                *oi,
                "--realized",
                str(_bad_record(tmp)),
                "--fit-range",
                "20260610-20260612",
                "--test-range",
                "20260612-20260614",
                "--out",
                str(tmp / "p.json"),
            ],
            "agg-bad.csv: line 3: long_usd",
        ),
        ("import-binance-metrics", "config"): (
            ["import-binance-metrics", "--pairs", PAIR, "--timerange", "2026-06-07"],
            "bad --timerange '2026-06-07'",
        ),
        ("import-binance-metrics", "data"): (
            [
                "import-binance-metrics",
                "--pairs",
                PAIR,
                "--timerange",
                "20260607-20260609",
                "--datadir",
                str(_garbage_oi(tmp)),
                "--base-url",
                closed_port,
                "--no-progress",
            ],
            "cannot read existing open-interest file",
        ),
        ("record-liquidations", "config"): (
            ["record-liquidations", "--exchange", "binance", "--pairs", PAIR, "--backoff-max", "0"],
            "need 0 < backoff_initial <= backoff_max",
        ),
        ("offline", "config"): (["offline"], "give the freqtrade command after --"),
        ("install-strategies", "config"): (
            ["install-strategies", "--userdir", str(_edited_strategy(tmp))],
            "already exist with other contents; --force overwrites them",
        ),
    }
    return cases[(command, kind)]


CASES = [
    ("features", "config"),
    ("features", "data"),
    ("snapshot", "config"),
    ("snapshot", "data"),
    ("heatmap", "config"),
    ("heatmap", "data"),
    ("validate", "config"),
    ("validate", "data"),
    ("calibrate", "config"),
    ("calibrate", "data"),
    ("import-binance-metrics", "config"),
    ("import-binance-metrics", "data"),
    ("record-liquidations", "config"),
    # record-liquidations reads only a live stream: no bad-data case without a network.
    ("offline", "config"),
    ("install-strategies", "config"),
    # install-strategies reads only the package's own files: no bad-data case.
    # offline: missing data exits 1 with the download commands on stderr (several lines):
    # tests/offline/test_offline_runner.py::test_cli_command_returns_the_wrapper_status.
]


@pytest.mark.parametrize(("command", "kind"), CASES, ids=[f"{c}-{k}" for c, k in CASES])
def test_exit_code_and_one_clean_line(command: str, kind: str, tmp_path: Path, capsys) -> None:
    argv, expect = _case(tmp_path, command, kind)
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == (2 if kind == "config" else 1), err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"liq-signals {command}: error: "), err
    assert expect in lines[0], err
    assert not [p for p in tmp_path.iterdir() if p.name.split(".")[0] in ("f", "m", "r", "p")]


@pytest.mark.parametrize(("command", "kind"), [("features", "data"), ("validate", "config")])
def test_a_real_process_prints_no_traceback(command: str, kind: str, tmp_path: Path) -> None:
    argv, expect = _case(tmp_path, command, kind)
    proc = subprocess.run(
        [sys.executable, "-m", "liq_signals.cli", *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=os.environ.copy(),
        timeout=300,
    )
    assert proc.returncode == (2 if kind == "config" else 1), proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.splitlines()
    errors = [line for line in lines if ": error: " in line or " ERROR " in line]
    assert errors == [f"liq-signals {command}: error: {errors[0].split(': error: ', 1)[-1]}"]
    assert expect in errors[0], proc.stderr
