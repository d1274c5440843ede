"""Corrupted datadirs end in a one-line error naming the file, or a documented, logged repair.

Each case copies the real 2026-06 BTC datadir (5m candles, 5m open interest, metrics
sidecar) and breaks one thing.  Every case goes through ``liq-signals features``; a
representative subset also through a real ``freqtrade backtesting`` of
LiquidationMagnetStrategy (loopback emulator, no network), where the check runs inside
the strategy's feature path (:mod:`liq_signals.data.preflight`) — so plain freqtrade exits
non-zero on a bad file, not only the ``liq-signals offline`` wrapper.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from liq_signals.cli import main
from tests.conftest import DATADIR_OI

PAIR = "BTC/USDT:USDT"
CANDLES = "BTC_USDT_USDT-5m-futures.feather"
OI = "BTC_USDT_USDT-5m-open_interest.feather"
SIDECAR = "BTC_USDT_USDT-5m-metrics.arrow"
ROW = 2000  # a candle inside the freqtrade timerange below (2026-06-14 03:20)
OI_ROW = 1500
TIMERANGE = "20260612-20260616"


def _frame(path: Path, change: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    change(pd.read_feather(path)).reset_index(drop=True).to_feather(path)


def _set(col: str, row: int, value: Callable[[pd.DataFrame], object]):
    def change(d: pd.DataFrame) -> pd.DataFrame:
        d.loc[row, col] = value(d)
        return d

    return change


def _scale(cols: tuple[str, ...], row: int, factor: float):
    def change(d: pd.DataFrame) -> pd.DataFrame:
        for c in cols:
            d.loc[row, c] *= factor
        return d

    return change


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


PRICES = ("open", "high", "low", "close")


@dataclass(frozen=True)
class Case:
    """One corruption: which file, how, and what must come out.

    :param error: regex the one-line error must match (None: a repair, the run succeeds)
    :param log: regex a log line of the repair must match
    """

    file: str
    corrupt: Callable[[Path], None]
    error: str | None = None
    log: str | None = None


def _edit(change) -> Callable[[Path], None]:
    return lambda path: _frame(path, change)


CASES = {
    "nan close": Case(
        CANDLES, _edit(_set("close", ROW, lambda _: np.nan)), r"close=nan .*row 2000 "
    ),
    "duplicate candle": Case(
        CANDLES,
        _edit(lambda d: pd.concat([d.iloc[: ROW + 1], d.iloc[ROW:]])),
        r"duplicate date at row 2001 ",
    ),
    "unsorted candles": Case(
        CANDLES,
        _edit(lambda d: d.iloc[[*range(ROW), ROW + 1, ROW, *range(ROW + 2, len(d))]]),
        r"unsorted date at row 2001 ",
    ),
    "gap in candles": Case(
        CANDLES,
        _edit(lambda d: d.drop(index=range(ROW, ROW + 10))),
        log=r"1 gap\(s\) between candles \(10 candle\(s\) missing",
    ),
    "zero open interest": Case(
        OI,
        _edit(_set("open_interest_amount", OI_ROW, lambda _: 0.0)),
        log=rf"open_interest_amount=0.0 at row {OI_ROW} .*dropped",
    ),
    "negative open interest": Case(
        OI,
        _edit(_set("open_interest_amount", OI_ROW, lambda _: -5.0)),
        log=rf"open_interest_amount=-5.0 at row {OI_ROW} .*dropped",
    ),
    "x1000 open interest": Case(
        OI,
        _edit(_scale(("open_interest_amount", "open_interest_value"), OI_ROW, 1000.0)),
        log=rf"at row {OI_ROW} .*dropped",
    ),
    "nan open interest": Case(
        OI,
        _edit(_scale(("open_interest_amount", "open_interest_value"), OI_ROW, np.nan)),
        log=r"open-interest row\(s\) are NaN",
    ),
    "high below low": Case(
        CANDLES,
        _edit(_set("high", ROW, lambda d: d.loc[ROW, "low"] * 0.99)),
        r"high .* < low .* at row 2000 ",
    ),
    "close above high": Case(
        CANDLES,
        _edit(_set("close", ROW, lambda d: d.loc[ROW, "high"] * 1.01)),
        r"close .* outside \[low .*, high .*\] at row 2000 ",
    ),
    "x1000 candle": Case(
        CANDLES,
        _edit(_scale(PRICES, ROW, 1000.0)),
        r"open=.* at row 2000 .* beyond 10× the median",
    ),
    "naive timestamps": Case(
        CANDLES,
        _edit(lambda d: d.assign(date=d["date"].dt.tz_localize(None))),
        r"'date' is timezone-naive",
    ),
    "text prices": Case(
        CANDLES,
        _edit(lambda d: d.assign(close=d["close"].astype(str))),
        r"column 'close' has dtype",
    ),
    "empty candle file": Case(CANDLES, _edit(lambda d: d.iloc[:0]), r"no candles in"),
    "truncated candle file": Case(CANDLES, _truncate, r"cannot read file"),
    "garbage candle file": Case(
        CANDLES, lambda p: p.write_bytes(b"not a feather file\n" * 64), r"cannot read file"
    ),
    "open interest without its columns": Case(
        OI,
        _edit(lambda d: d.drop(columns=["open_interest_amount", "open_interest_value"])),
        r"missing column\(s\) \['open_interest_amount', 'open_interest_value'\]",
    ),
    "truncated open-interest file": Case(OI, _truncate, r"cannot read file.*oi_volume_fallback"),
    "garbage sidecar": Case(
        SIDECAR, lambda p: p.write_bytes(b"not a sidecar\n" * 64), r"cannot read sidecar file"
    ),
}


def corrupted_datadir(tmp_path: Path, case: Case) -> tuple[Path, Path]:
    """A copy of the 2026-06 datadir with ``case`` applied; returns (datadir, broken file)."""
    datadir = tmp_path / "binance"
    shutil.copytree(DATADIR_OI, datadir)
    path = datadir / "futures" / case.file
    case.corrupt(path)
    return datadir, path


@pytest.mark.parametrize("name", list(CASES))
def test_features_command_on_a_corrupted_datadir(name, tmp_path, capsys, caplog) -> None:
    caplog.set_level(logging.INFO)
    case = CASES[name]
    datadir, path = corrupted_datadir(tmp_path, case)
    out = tmp_path / "f.feather"
    rc = main(["features", "--datadir", str(datadir), "--pair", PAIR, "--out", str(out)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if case.error is None:
        assert rc == 0, err
        assert out.is_file()
        assert re.search(case.log or "", caplog.text), caplog.text[-2000:]
        return
    assert rc == 1
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert str(path) in lines[0]
    assert PAIR in lines[0]
    assert re.search(case.error, lines[0]), lines[0]
    assert not out.exists()


#: the cases also run through a real freqtrade backtesting (each run takes seconds): the
#: issue-21 matrix — files freqtrade's own loader chokes on (truncated, empty, garbage,
#: timezone-naive candles; a truncated or column-less open-interest file) and a row the
#: boundary rejects — plus a repair (zero open interest) and a sidecar freqtrade never reads
FREQTRADE_CASES = (
    "truncated open-interest file",
    "naive timestamps",
    "garbage candle file",
    "close above high",
    "open interest without its columns",
    "truncated candle file",
    "empty candle file",
    "text prices",
    "zero open interest",
    "garbage sidecar",
)


def _backtest(freqtrade_offline, datadir: Path, tmp_path: Path, extra_config: dict | None = None):
    args = ["backtesting", "--config", "user_data/config_backtest.json"]
    if extra_config is not None:
        cfg = tmp_path / "extra.json"
        cfg.write_text(json.dumps(extra_config))
        args += ["--config", str(cfg)]
    args += ["--strategy", "LiquidationMagnetStrategy", "--timerange", TIMERANGE]
    args += ["--pairs", PAIR, "--cache", "none", "--datadir", str(datadir)]
    env = {**os.environ, "COLUMNS": "1000"}  # one log record, one line
    return freqtrade_offline(args, datadir=datadir, timeout=600, env=env)


#: what freqtrade's own data handler logs (with a traceback) for a file it cannot read,
#: before any strategy code runs; it then hands over an empty frame
FREQTRADE_LOADER_ERROR = "Error loading data from"


def _error_lines(output: str) -> list[str]:
    """ERROR log lines other than freqtrade's loader's (see FREQTRADE_LOADER_ERROR)."""
    return [
        ln for ln in output.splitlines() if " - ERROR - " in ln and FREQTRADE_LOADER_ERROR not in ln
    ]


def _tracebacks_not_from_freqtrades_loader(output: str) -> int:
    """Tracebacks other than the one freqtrade's own data handler logs when it cannot read
    a file (it turns the file into an empty frame before any strategy code runs)."""
    freqtrade_output = output.split("\nliq-signals offline:", 1)[0]  # not the wrapper's notes
    records = re.split(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ - )", freqtrade_output)
    return sum(
        "Traceback" in r and FREQTRADE_LOADER_ERROR not in r.split("\n", 1)[0] for r in records
    )


@pytest.mark.parametrize("name", FREQTRADE_CASES)
def test_freqtrade_backtesting_on_a_corrupted_datadir(
    name, freqtrade_offline, tmp_path: Path
) -> None:
    """Plain ``freqtrade backtesting``: the strategy checks its pairs when freqtrade builds
    it, before freqtrade's loader reads a file — so no traceback at all (the loader's own
    included), one ERROR line naming file, pair and fix, and a non-zero exit."""
    case = CASES[name]
    datadir, path = corrupted_datadir(tmp_path, case)
    result = _backtest(freqtrade_offline, datadir, tmp_path)
    freqtrade_output = result.output.split("\nliq-signals offline:", 1)[0]
    assert "Traceback" not in freqtrade_output, result.output[-3000:]
    assert FREQTRADE_LOADER_ERROR not in freqtrade_output
    if case.error is None:
        assert result.returncode == 0, result.output[-3000:]
        assert re.search(case.log or "", result.output), result.output[-3000:]
        assert "TOTAL" in result.output or "STRATEGY SUMMARY" in result.output
        return
    assert result.returncode != 0, result.output[-3000:]
    errors = _error_lines(result.output)
    assert len(errors) == 1, result.output[-3000:]
    assert str(path) in errors[0]
    assert PAIR in errors[0]
    assert re.search(case.error, errors[0]), errors[0]
    assert "Dataload complete" not in freqtrade_output  # stopped before freqtrade's loader


def test_truncated_open_interest_file_with_the_volume_fallback_runs_in_volume_mode(
    freqtrade_offline, tmp_path: Path
) -> None:
    """Only the explicit config key turns an unreadable open-interest file into volume
    mode; the warning names the file and the key."""
    datadir, path = corrupted_datadir(tmp_path, CASES["truncated open-interest file"])
    result = _backtest(
        freqtrade_offline, datadir, tmp_path, {"liq_signals": {"oi_volume_fallback": True}}
    )
    # freqtrade itself exits 0; its loader still logs a traceback for the file it cannot
    # read (before any strategy code), which the offline wrapper reports as exit 1
    assert "STRATEGY SUMMARY" in result.output, result.output[-3000:]
    skipped = [ln for ln in result.output.splitlines() if "oi_volume_fallback is set" in ln]
    assert skipped, result.output[-3000:]
    assert str(path) in skipped[0]
    assert _error_lines(result.output) == []
    assert _tracebacks_not_from_freqtrades_loader(result.output) == 0


def test_the_early_check_runs_only_where_freqtrade_loads_the_datadir(tmp_path: Path) -> None:
    """``check_strategy_data`` (the strategy's ``__init__``): batch modes stop on a bad
    file; dry-run/live (row-by-row quarantine) and utility commands do not read files;
    whitelist patterns and pairs without any candle file are left to the feature path and
    to freqtrade ("No history": the other pairs run)."""
    from types import SimpleNamespace

    from liq_signals.data.boundary import LiqInputError
    from liq_signals.data.preflight import check_strategy_data

    datadir, path = corrupted_datadir(tmp_path, CASES["truncated candle file"])

    def strategy(runmode: str, whitelist: tuple[str, ...] = (PAIR,)) -> SimpleNamespace:
        config = {"runmode": runmode, "datadir": str(datadir), "trading_mode": "futures"}
        return SimpleNamespace(
            timeframe="5m", config={**config, "exchange": {"pair_whitelist": list(whitelist)}}
        )

    for runmode in ("dry_run", "live", "util_no_exchange"):
        check_strategy_data(strategy(runmode))
    check_strategy_data(strategy("backtest", (".*/USDT:USDT", "ETH/USDT:USDT")))  # no file
    for runmode in ("backtest", "hyperopt"):
        with pytest.raises(LiqInputError, match=re.escape(str(path))):
            check_strategy_data(strategy(runmode))
