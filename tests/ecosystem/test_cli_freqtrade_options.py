"""The commands read a freqtrade setup as freqtrade does: -c/--config, --userdir, -p/--pairs,
every datadir format, pair-spelling hints, one --at rule, the liq_signals config section.

Every case runs the real ``liq-signals`` command (in-process, or as a process where the
point is what the user sees) on the embedded June 2026 BTC data in a user directory of
``tmp_path`` (conftest)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import pytest

import liq_signals
from liq_signals.cli import main
from liq_signals.data.load import load_pair_inputs
from tests.conftest import REPO
from tests.ecosystem.conftest import PAIR

EXTENSION = {"parquet": "-futures.parquet", "json": "-futures.json", "jsongz": ".json.gz"}
AT_AFTER = "2026-07-01 00:00"  # after the sample's last candle (2026-06-22 11:45)
AT_BEFORE = "2026-06-01 00:00"  # before its first (2026-06-07 04:40)


def _one_error_line(capsys, command: str) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"liq-signals {command}: error: "), err
    return lines[0].split(": error: ", 1)[1]


def _features(tmp: Path, name: str, *args: str) -> pd.DataFrame:
    out = tmp / f"{name}.feather"
    assert main(["features", *args, "--out", str(out)]) == 0
    return pd.read_feather(out)


def test_config_gives_datadir_pairs_timeframe_and_the_sections_model(
    userdir: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    from_config = _features(tmp_path, "config", "-c", "user_data/config.json")
    explicit = _features(
        tmp_path,
        "explicit",
        "--datadir",
        str(userdir / "data" / "binance"),
        "-p",
        PAIR,
        "-i",
        "5m",
        "--model-config",
        str(userdir / "liq_model.json"),
    )
    # --userdir alone: datadir USERDIR/data/binance, the built-in model; --pair still works
    default_model = _features(tmp_path, "userdir", "--userdir", "user_data", "--pair", PAIR)
    pd.testing.assert_frame_equal(from_config, explicit)
    assert len(from_config) == 4406
    assert (from_config["liq_mode"] == "oi").sum() > 2000  # the sample's open interest was read
    # the section's model file (24 h half-life, comments and all) is the one that ran
    assert not from_config["liq_long_below_usd_5pct"].equals(
        default_model["liq_long_below_usd_5pct"]
    )


@pytest.mark.usefixtures("userdir")
def test_the_command_line_wins_over_the_config(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    rc = main(["snapshot", "-c", "user_data/config.json", "-i", "1h", "--at", "2026-06-20 12:00"])
    assert rc == 1  # the sample has no 1h futures candles: the 1h asked for was looked for
    message = _one_error_line(capsys, "snapshot")
    assert "no candles in" in message
    assert "BTC_USDT_USDT-1h-futures.feather" in message
    assert "(nor as parquet, json, jsongz)" in message


@pytest.mark.parametrize(
    ("given", "mode", "hint"),
    [
        ("BTCUSDT", "futures", "did you mean BTC/USDT:USDT?"),
        ("BTC/USDT", "futures", "did you mean BTC/USDT:USDT?"),
        ("btc_usdt", "futures", "did you mean BTC/USDT:USDT?"),
        ("BTC/USDT:USDT", "spot", "did you mean BTC/USDT?"),
        ("BTCUSDT", "spot", "did you mean BTC/USDT?"),
    ],
)
def test_pair_spelling_hint(given: str, mode: str, hint: str, tmp_path: Path, capsys) -> None:
    rc = main(["features", "-p", given, "--trading-mode", mode, "--out", str(tmp_path / "f.csv")])
    assert rc == 2
    message = _one_error_line(capsys, "features")
    assert hint in message
    assert repr(given) in message
    assert not (tmp_path / "f.csv").exists()


@pytest.mark.parametrize(
    ("command", "extra"),
    [
        ("snapshot", ["--at", "2026-06-20 12:00"]),
        ("heatmap", []),
        ("validate", []),
        ("calibrate", ["--realized", "x", "--fit-range", "a", "--test-range", "b", "--out", "p"]),
        ("import-binance-metrics", ["--timerange", "20260601-20260602"]),
    ],
)
def test_every_data_command_gives_the_hint(command: str, extra: list[str], capsys) -> None:
    assert main([command, "-p", "BTCUSDT", *extra]) == 2
    assert "did you mean BTC/USDT:USDT?" in _one_error_line(capsys, command)


def test_a_one_pair_command_with_a_whitelist_of_several_asks_for_one(
    userdir: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    config = userdir / "config.json"
    config.write_text(
        config.read_text().replace('["BTC/USDT:USDT"]', '["BTC/USDT:USDT", "ETH/USDT:USDT"]')
    )
    assert main(["snapshot", "-c", str(config), "--at", "2026-06-20 12:00"]) == 2
    assert "choose one with -p" in _one_error_line(capsys, "snapshot")


def test_unknown_key_in_the_liq_signals_section_is_refused_with_the_valid_ones(
    userdir: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    config = userdir / "config.json"
    config.write_text(config.read_text().replace('"model_config"', '"model_confg"'))
    rc = main(["features", "-c", str(config), "--out", str(tmp_path / "f.csv")])
    assert rc == 2
    message = _one_error_line(capsys, "features")
    assert "unknown key(s) ['model_confg']" in message
    assert "valid keys: model_config:" in message


def test_a_broken_model_file_is_named(userdir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (userdir / "liq_model.json").write_text('{"model_config": {"decay_half_life_hours": }')
    assert main(["snapshot", "-c", "user_data/config.json", "--at", "2026-06-20 12:00"]) == 2
    message = _one_error_line(capsys, "snapshot")
    assert "liq_model.json: cannot read model parameters" in message


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out.strip()
    assert out == f"liq-signals {liq_signals.__version__} (freqtrade {version('freqtrade')})"


# --- datadir formats ---------------------------------------------------------------------
@pytest.mark.parametrize("data_format", ["parquet", "json", "jsongz"])
def test_every_format_freqtrade_writes_reads_the_same(
    data_format: str, userdir: Path, tmp_path: Path
) -> None:
    """freqtrade's own ``convert-data`` turns the feather datadir into ``data_format`` (and
    erases the feather files); the features are the same rows."""
    feather = userdir / "data" / "binance"
    converted = tmp_path / data_format
    converted.mkdir()
    shutil.copytree(feather, converted, dirs_exist_ok=True)
    freqtrade = Path(sys.executable).with_name("freqtrade")
    subprocess.run(
        [
            str(freqtrade),
            "convert-data",
            "--format-from",
            "feather",
            "--format-to",
            data_format,
            "--datadir",
            str(converted),
            "--trading-mode",
            "futures",
            "--candle-types",
            "futures",
            "open_interest",
            "funding_rate",
            "--erase",
            "-p",
            PAIR,
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert not list(converted.glob("futures/*.feather"))
    ours, theirs = load_pair_inputs(converted, PAIR, "5m"), load_pair_inputs(feather, PAIR, "5m")
    assert ours.files["candles"].name.endswith(EXTENSION[data_format])
    # json keeps 10 decimals (freqtrade's writer): equal to the last bits, not bit for bit
    exact = data_format == "parquet"
    for kind in ("candles", "open_interest", "funding", "metrics"):
        pd.testing.assert_frame_equal(
            getattr(ours, kind), getattr(theirs, kind), check_exact=exact, rtol=1e-12
        )
    want = _features(tmp_path, "feather", "-d", str(feather), "-p", PAIR)
    got = _features(tmp_path, data_format, "-d", str(converted), "-p", PAIR)
    assert (got["liq_mode"] == "oi").sum() == (want["liq_mode"] == "oi").sum() > 2000
    if exact:
        pd.testing.assert_frame_equal(got, want)


# --- --at: one rule for snapshot and heatmap ---------------------------------------------
@pytest.mark.parametrize("at", [AT_AFTER, AT_BEFORE])
def test_at_outside_the_data_is_refused_alike_by_snapshot_and_heatmap(
    at: str, userdir: Path, tmp_path: Path, capsys
) -> None:
    data = ["-d", str(userdir / "data" / "binance"), "-p", PAIR, "--at", at]
    assert main(["snapshot", *data]) == 2
    snapshot = _one_error_line(capsys, "snapshot")
    assert main(["heatmap", *data, "--out", str(tmp_path / "m.html")]) == 2
    heatmap = _one_error_line(capsys, "heatmap")
    assert snapshot == heatmap
    assert "no candle contains --at" in snapshot
    assert "data covers 2026-06-07 04:40 .. 2026-06-22 11:45 UTC" in snapshot


def test_at_inside_the_last_candle_is_that_candle(userdir: Path, capsys) -> None:
    data = ["-d", str(userdir / "data" / "binance"), "-p", PAIR]
    assert main(["snapshot", *data, "--at", "2026-06-22 11:49"]) == 0
    assert "@ 2026-06-22 11:45 UTC" in capsys.readouterr().out


# --- the plotting extra ------------------------------------------------------------------
_WITHOUT_PLOTTING = """
import sys

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("plotly", "matplotlib"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
from liq_signals.cli import main
from liq_signals.data.load import load_pair_inputs
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("suffix", [".html", ".png"])
def test_heatmap_without_the_plotting_extra_says_what_to_install(
    suffix: str, userdir: Path, tmp_path: Path
) -> None:
    out = tmp_path / f"m{suffix}"
    data = ["-d", str(userdir / "data" / "binance"), "-p", PAIR]
    proc = subprocess.run(
        [sys.executable, "-c", _WITHOUT_PLOTTING, "heatmap", *data, "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "error" in line.lower()]
    assert lines == [
        f"liq-signals heatmap: error: drawing {suffix} needs "
        f"{'plotly' if suffix == '.html' else 'plotly, matplotlib'}: "
        "install liq-signals[viz] (pip install 'liq-signals[viz]')"
    ]
    assert not out.exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("BTC_USDT_USDT-5m-futures.parquet", b"not parquet"),
        ("BTC_USDT_USDT-5m-futures.json", b"[[1781000000000, 1.0, 2.0]]"),  # 3 of 6 columns
    ],
)
def test_a_broken_file_of_any_format_is_named(
    name: str, content: bytes, tmp_path: Path, capsys
) -> None:
    (tmp_path / "futures").mkdir()
    (tmp_path / "futures" / name).write_bytes(content)
    out = tmp_path / "f.csv"
    assert main(["features", "-d", str(tmp_path), "-p", PAIR, "--out", str(out)]) == 1
    message = _one_error_line(capsys, "features")
    assert f"{PAIR} [{tmp_path / 'futures' / name}]: cannot read file" in message
    assert not out.exists()
