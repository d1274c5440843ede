"""`liq-signals import-binance-metrics` against the loopback emulator serving real-format zips.

The archive is built from the real 2026-06 recording (see vision_helpers), including its
real open-interest outage; extra mirrors inject each archive quirk.  No test touches the
real archive host: every --base-url is the emulator on 127.0.0.1.
"""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from vision_helpers import (
    OUTAGE_DAYS,
    PAIR,
    REPO,
    SYMBOL,
    archive_requests,
    archive_server,
    expected_oi,
    sample_rows,
    synthetic_ratios,
    write_mirror,
)

from liq_signals import columns as C
from liq_signals.cli import main as cli_main
from liq_signals.data import sidecar
from liq_signals.data.importers import binance_vision as bv
from liq_signals.data.importers import vision_mirror as vm
from liq_signals.data.importers.archive_http import RetryPolicy
from liq_signals.data.importers.metrics_import import (
    ImportConfig,
    Manifest,
    import_metrics,
    oi_path,
)
from liq_signals.offline.faults import Fault

TIMERANGE = "20260605-20260625"  # 2 days before and 3 after the recording: 404s
FAST = RetryPolicy(attempts=4, base_delay_s=0.02, max_delay_s=0.1, timeout_s=5)


def _config(datadir: Path, url: str, first: date, last: date, **kw) -> ImportConfig:
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    stop = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    kw.setdefault("retry", FAST)
    return ImportConfig(pairs=(PAIR,), start=start, stop=stop, datadir=datadir, base_url=url, **kw)


def _read_oi(datadir: Path) -> pd.DataFrame:
    from freqtrade.data.history import get_datahandler
    from freqtrade.enums import CandleType

    frame = get_datahandler(datadir, "feather").ohlcv_load(
        PAIR, "5m", CandleType.OPEN_INTEREST, fill_missing=False, warn_no_data=False
    )
    return frame.reset_index(drop=True)


def _read_side(datadir: Path) -> pd.DataFrame:
    return sidecar.read_sidecar(datadir, PAIR, "5m")


@pytest.fixture(scope="module")
def sample_mirror(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("mirror_sample")
    write_mirror(root, sample_rows())
    return root


@pytest.fixture(scope="module")
def quirky(tmp_path_factory) -> tuple[Path, pd.DataFrame, dict]:
    """A mirror of the sample (with ratio values) where each quirk is planted on some day.

    Returns the root, the rows an ideal import must yield (before zero-OI removal), and
    the planted counts.
    """
    root = tmp_path_factory.mktemp("mirror_quirky")
    rows = synthetic_ratios(sample_rows())
    days = vm.split_days(rows)
    truth = {d: part.reset_index(drop=True) for d, part in days.items()}
    files = {d: part.reset_index(drop=True) for d, part in days.items()}
    d_dup, d_order, d_zero, d_empty, d_spill, d_gap = (
        date(2026, 6, 8),
        date(2026, 6, 9),
        date(2026, 6, 10),
        date(2026, 6, 11),
        date(2026, 6, 12),
        date(2026, 6, 21),
    )
    # duplicated rows: one identical, one with other values (first kept)
    bad = files[d_dup].iloc[[30]].copy()
    bad[bv.SUM_OPEN_INTEREST] *= 1.5
    files[d_dup] = pd.concat([files[d_dup], files[d_dup].iloc[[10]], bad], ignore_index=True)
    # out of order
    f = files[d_order]
    files[d_order] = pd.concat([f.iloc[200:], f.iloc[:200]], ignore_index=True)
    # zero open interest on 3 rows
    for i in (50, 51, 52):
        files[d_zero].loc[i, bv.SUM_OPEN_INTEREST] = 0.0
        truth[d_zero].loc[i, bv.SUM_OPEN_INTEREST] = 0.0
    # a day with two ratio columns blank
    for col in (bv.COUNT_LS_RATIO, bv.SUM_TOPTRADER_LS_RATIO):
        files[d_empty][col] = np.nan
        truth[d_empty][col] = np.nan
    # spill: day d_spill's file carries the next day's first row with wrong values (the
    # owner must win), and the next day's second row, which the owner lacks (a hole the
    # spill fills)
    nxt = d_spill + timedelta(days=1)
    wrong = files[nxt].iloc[[0]].copy()
    wrong[bv.SUM_OPEN_INTEREST_VALUE] += 1e6
    filler = files[nxt].iloc[[1]].copy()
    files[d_spill] = pd.concat([files[d_spill], wrong, filler], ignore_index=True)
    files[nxt] = files[nxt].drop(index=1).reset_index(drop=True)
    # an irregular gap: 6 rows missing in the middle of a day
    files[d_gap] = files[d_gap].drop(index=range(100, 106)).reset_index(drop=True)
    truth[d_gap] = truth[d_gap].drop(index=range(100, 106)).reset_index(drop=True)
    for d, part in files.items():
        vm.write_metrics_day(root, SYMBOL, d, part)
    # out of order: the rotation on d_order, and the duplicates appended at d_dup's end
    planted = {"dup": 2, "conflict": 1, "order": 2, "zero": 3, "spill": 2, "empty_days": 2}
    return root, pd.concat(truth.values(), ignore_index=True), planted


# --------------------------------------------------------------------------- real sample
def test_real_sample_import_through_the_cli(tmp_path, sample_mirror, caplog):
    caplog.set_level(logging.INFO)
    datadir = tmp_path / "binance"
    with archive_server(sample_mirror) as emu:
        code = cli_main(
            [
                "import-binance-metrics",
                "--pairs",
                PAIR,
                "--timerange",
                TIMERANGE,
                "--datadir",
                str(datadir),
                "--base-url",
                emu.url,
                "--no-progress",
            ]
        )
    assert code == 0
    oi = _read_oi(datadir)
    want = expected_oi(sample_rows())
    assert len(oi) == 2727
    np.testing.assert_array_equal(oi["date"].to_numpy(), want["date"].to_numpy())
    np.testing.assert_array_equal(oi["open_interest_value"], want["open_interest_value"])
    np.testing.assert_allclose(oi["open_interest_amount"], want["open_interest_amount"], rtol=1e-15)
    side = _read_side(datadir)
    assert len(side) == 2727
    assert side[list(bv.RATIO_TO_SIDECAR.values())].isna().all().all()
    text = caplog.text
    missing = [
        date(2026, 6, 5),
        date(2026, 6, 6),
        *OUTAGE_DAYS,
        date(2026, 6, 23),
        date(2026, 6, 24),
    ]
    assert (
        "days not in the archive (HTTP 404): " + ", ".join(d.isoformat() for d in missing) in text
    )
    # the real outage 2026-06-14 15:05 -> 2026-06-20 10:55 is one gap, left unfilled
    assert "1 gaps, 1679 missing 5m snapshots (left missing)" in text
    assert "2727 empty taker_buy_sell_ratio cells left NaN (11 files with the column empty)" in text
    assert oi["date"].diff().max() == pd.Timedelta("5 days 20:00:00")


def test_second_run_skips_days_already_imported(tmp_path, sample_mirror):
    datadir = tmp_path / "binance"
    with archive_server(sample_mirror) as emu:
        first = import_metrics(_config(datadir, emu.url, date(2026, 6, 5), date(2026, 6, 24)))
        before = (
            oi_path(datadir, PAIR).read_bytes(),
            sidecar.sidecar_path(datadir, PAIR, "5m").read_bytes(),
        )
        emu.faults.clear_log()
        second = import_metrics(_config(datadir, emu.url, date(2026, 6, 5), date(2026, 6, 24)))
        asked = archive_requests(emu)
    assert first.pairs[0].days_imported == 11
    assert second.pairs[0].days_skipped == 11
    assert second.pairs[0].oi_rows == first.pairs[0].oi_rows == 2727
    # only the 9 days the archive did not have are asked again (they may appear later)
    assert len(asked) == 9
    assert not any(p.endswith(".CHECKSUM") for p in asked)
    assert (
        oi_path(datadir, PAIR).read_bytes(),
        sidecar.sidecar_path(datadir, PAIR, "5m").read_bytes(),
    ) == before


def test_force_refetches_a_republished_day(tmp_path, sample_mirror):
    """The archive sometimes repairs a partial day later; --force picks the repair up."""
    mirror = tmp_path / "mirror"
    shutil.copytree(sample_mirror, mirror)
    rows = sample_rows()
    day = vm.split_days(rows)[date(2026, 6, 8)]
    vm.write_metrics_day(mirror, SYMBOL, date(2026, 6, 8), day.iloc[:100])  # partial
    datadir = tmp_path / "binance"
    with archive_server(mirror) as emu:
        _run(datadir, emu.url, date(2026, 6, 7), date(2026, 6, 9))
        assert len(_read_oi(datadir)) == len(rows[rows[bv.CREATE_TIME] < "2026-06-10"]) - 188
        vm.write_metrics_day(mirror, SYMBOL, date(2026, 6, 8), day)  # re-published whole
        _run(datadir, emu.url, date(2026, 6, 7), date(2026, 6, 9))
        assert len(_read_oi(datadir)) < len(rows[rows[bv.CREATE_TIME] < "2026-06-10"])
        code = cli_main(
            [
                "import-binance-metrics",
                "--pairs",
                PAIR,
                "--timerange",
                "20260607-20260610",
                "--datadir",
                str(datadir),
                "--base-url",
                emu.url,
                "--no-progress",
                "--force",
            ]
        )
    assert code == 0
    want = expected_oi(rows[rows[bv.CREATE_TIME] < "2026-06-10"])
    pd.testing.assert_frame_equal(_read_oi(datadir), want)


# --------------------------------------------------------------------------- quirks
def test_each_quirk_is_repaired_and_counted(tmp_path, quirky):
    root, truth, planted = quirky
    datadir = tmp_path / "binance"
    with archive_server(root) as emu:
        report = import_metrics(_config(datadir, emu.url, date(2026, 6, 7), date(2026, 6, 22)))
    rep = report.pairs[0]
    c = rep.counts
    assert report.ok
    assert rep.days_imported == 11
    assert (c.duplicated_rows, c.conflicting_duplicates) == (planted["dup"], planted["conflict"])
    assert c.out_of_order_rows == planted["order"]
    assert c.zero_open_interest_rows == planted["zero"]
    assert c.spill_rows == planted["spill"]
    assert c.empty_ratio_days == {
        C.GLOBAL_LS_RATIO: 1,
        C.TOP_TRADER_LS_RATIO_POSITIONS: 1,
    }
    assert (c.gaps, c.missing_slots) == (2, 6 + 1679)
    oi = _read_oi(datadir)
    want = expected_oi(truth)
    assert len(oi) == len(want)
    np.testing.assert_array_equal(oi["date"].to_numpy(), want["date"].to_numpy())
    np.testing.assert_array_equal(oi["open_interest_value"], want["open_interest_value"])
    side = _read_side(datadir)
    truth_sorted = truth.sort_values(bv.CREATE_TIME).reset_index(drop=True)
    assert len(side) == len(truth_sorted)
    np.testing.assert_allclose(
        side[C.TAKER_RATIO], truth_sorted[bv.SUM_TAKER_LS_VOL_RATIO], atol=5e-9
    )
    # the 3 zero-OI rows are absent from open_interest but their ratios are in the sidecar
    zero_dates = truth.loc[truth[bv.SUM_OPEN_INTEREST] == 0, bv.CREATE_TIME]
    assert not oi["date"].isin(zero_dates).any()
    assert side.loc[side[sidecar.DATE].isin(zero_dates), C.GLOBAL_LS_RATIO].notna().all()


def _run(datadir: Path, url: str, first: date, last: date) -> None:
    report = import_metrics(_config(datadir, url, first, last, chunk_days=3))
    assert report.ok


@pytest.mark.parametrize("keep_manifest", [True, False])
def test_overlapping_runs_equal_a_one_shot_import(tmp_path, quirky, keep_manifest):
    """Any order of overlapping runs (with the resume manifest, or without it so that the
    overlap is re-merged) gives exactly the one-shot files; the quirky mirror's spill rows
    cross the run boundaries."""
    root, _, _ = quirky
    a = (date(2026, 6, 7), date(2026, 6, 12))
    b = (date(2026, 6, 11), date(2026, 6, 22))
    with archive_server(root) as emu:
        _run(tmp_path / "one", emu.url, date(2026, 6, 7), date(2026, 6, 22))
        for name, order in (("ab", (a, b)), ("ba", (b, a))):
            datadir = tmp_path / name
            for first, last in order:
                _run(datadir, emu.url, first, last)
                if not keep_manifest:
                    shutil.rmtree(datadir / "futures" / ".binance-vision")
            pd.testing.assert_frame_equal(_read_oi(datadir), _read_oi(tmp_path / "one"))
            pd.testing.assert_frame_equal(_read_side(datadir), _read_side(tmp_path / "one"))


# --------------------------------------------------------------------------- failures
def _broken_mirror(src: Path, dst: Path, day: date, how: str) -> Path:
    shutil.copytree(src, dst)
    path = dst / bv.metrics_path(SYMBOL, day)
    name = path.name
    if how == "checksum":
        path.with_name(name + ".CHECKSUM").write_text("0" * 64 + f"  {name}\n")
    elif how == "bomb":  # a zip bomb: ~24 KiB that inflates to 24 MiB, checksum matching
        csv = b"0" * (bv.MAX_CSV_BYTES + 8 * 2**20)
        vm.write_day(dst, SYMBOL, day, vm.zip_bytes(csv, name.removesuffix(".zip") + ".csv"))
    else:  # a truncated zip whose published checksum matches the broken bytes
        payload = path.read_bytes()[:200]
        vm.write_day(dst, SYMBOL, day, payload)
    return dst


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("checksum", "checksum mismatch"),
        ("zip", "not a readable zip file"),
        ("bomb", "the CSV inflates beyond 16 MiB"),
    ],
)
def test_bad_file_is_named_good_days_are_kept_and_a_rerun_fixes_it(
    tmp_path, sample_mirror, caplog, how, message
):
    caplog.set_level(logging.INFO)
    bad_day = date(2026, 6, 9)
    broken = _broken_mirror(sample_mirror, tmp_path / "broken", bad_day, how)
    datadir = tmp_path / "binance"
    with archive_server(broken) as emu:
        code = cli_main(
            [
                "import-binance-metrics",
                "--pairs",
                PAIR,
                "--timerange",
                "20260607-20260614",
                "--datadir",
                str(datadir),
                "--base-url",
                emu.url,
                "--no-progress",
                "--chunk-days",
                "2",
            ]
        )
    assert code == 1
    assert f"BTCUSDT-metrics-2026-06-09.zip: {message}" in caplog.text
    oi = _read_oi(datadir)
    days_written = set(oi["date"].dt.date)
    assert bad_day not in days_written
    assert days_written == {date(2026, 6, d) for d in (7, 8, 10, 11, 12, 13)}
    manifest = Manifest(datadir, SYMBOL)
    manifest.load(outputs_present=True)
    assert not manifest.done(bad_day)
    assert manifest.done(date(2026, 6, 10))
    # the mirror is repaired: the re-run fetches only the bad day and ends as a one-shot
    with archive_server(sample_mirror) as emu:
        _run(datadir, emu.url, date(2026, 6, 7), date(2026, 6, 13))
        assert archive_requests(emu) == [
            "/" + bv.metrics_path(SYMBOL, bad_day),
            "/" + bv.metrics_path(SYMBOL, bad_day) + ".CHECKSUM",
        ]
        _run(tmp_path / "one", emu.url, date(2026, 6, 7), date(2026, 6, 13))
    pd.testing.assert_frame_equal(_read_oi(datadir), _read_oi(tmp_path / "one"))


def test_header_only_day_is_counted_and_skipped_not_fatal(tmp_path, sample_mirror, caplog):
    """A day whose archive file holds the header and no row: the other days are imported,
    the day is reported (and fetched again next run), the exit code is 0 (before: the
    empty frame broke the merge and nothing was written for the pair)."""
    caplog.set_level(logging.INFO)
    empty_day = date(2026, 6, 10)
    root = tmp_path / "mirror"
    shutil.copytree(sample_mirror, root)
    vm.write_metrics_day(root, SYMBOL, empty_day, sample_rows().iloc[:0])
    datadir = tmp_path / "binance"
    with archive_server(root) as emu:
        report = import_metrics(_config(datadir, emu.url, date(2026, 6, 7), date(2026, 6, 13)))
    assert report.ok
    (rep,) = report.pairs
    assert rep.empty_days == [empty_day]
    assert rep.days_imported == 6
    assert f"holds no rows (header only), skipped: {empty_day.isoformat()}" in caplog.text
    assert set(_read_oi(datadir)["date"].dt.date) == {
        date(2026, 6, d) for d in (7, 8, 9, 11, 12, 13)
    }
    manifest = Manifest(datadir, SYMBOL)
    manifest.load(outputs_present=True)
    assert not manifest.done(empty_day)


def test_failed_run_leaves_existing_files_untouched(tmp_path, sample_mirror):
    datadir = tmp_path / "binance"
    with archive_server(sample_mirror) as emu:
        _run(datadir, emu.url, date(2026, 6, 7), date(2026, 6, 8))
    before = oi_path(datadir, PAIR).read_bytes()
    shutil.rmtree(datadir / "futures" / ".binance-vision")  # force a full re-import
    broken = tmp_path / "broken"
    shutil.copytree(sample_mirror, broken)
    for day in (date(2026, 6, 7), date(2026, 6, 8)):
        _broken_mirror(sample_mirror, tmp_path / f"b{day.day}", day, "checksum")
        p = broken / bv.metrics_path(SYMBOL, day)
        p.with_name(p.name + ".CHECKSUM").write_text("f" * 64 + "  x\n")
    with archive_server(broken) as emu:
        report = import_metrics(_config(datadir, emu.url, date(2026, 6, 7), date(2026, 6, 8)))
    assert not report.ok
    assert len(report.pairs[0].failures) == 2
    assert oi_path(datadir, PAIR).read_bytes() == before


def test_rate_limits_and_server_errors_are_retried_honouring_retry_after(tmp_path, sample_mirror):
    datadir = tmp_path / "binance"
    with archive_server(sample_mirror) as emu:
        emu.set_fault("archive", Fault("ratelimit", times=2, retry_after=1))
        t0 = time.monotonic()
        report = import_metrics(
            _config(datadir, emu.url, date(2026, 6, 7), date(2026, 6, 7), workers=1)
        )
        waited = time.monotonic() - t0
        assert report.ok
        assert report.retries == 2
        # two 429s with Retry-After: 1 -> at least 2 s, although the back-off base is 20 ms
        assert waited >= 1.9
        emu.set_fault("archive", Fault("error", status=503, times=3))
        report = import_metrics(_config(datadir, emu.url, date(2026, 6, 8), date(2026, 6, 8)))
        assert report.ok
        assert report.retries == 3
        emu.set_fault("archive", Fault("timeout", hold_s=3.0, times=1))
        quick = RetryPolicy(attempts=3, base_delay_s=0.02, timeout_s=0.5)
        report = import_metrics(
            _config(datadir, emu.url, date(2026, 6, 9), date(2026, 6, 9), retry=quick)
        )
        assert report.ok
        assert report.retries == 1
    assert set(_read_oi(datadir)["date"].dt.date) == {date(2026, 6, d) for d in (7, 8, 9)}


def test_persistent_server_errors_fail_each_file_after_bounded_attempts(tmp_path, sample_mirror):
    datadir = tmp_path / "binance"
    with archive_server(sample_mirror) as emu:
        emu.set_fault("archive", Fault("error", status=502))
        report = import_metrics(_config(datadir, emu.url, date(2026, 6, 7), date(2026, 6, 8)))
        asked = archive_requests(emu)
    failures = report.pairs[0].failures
    assert len(failures) == 2
    assert all("gave up after 4 attempts (HTTP 502)" in f for f in failures)
    assert "BTCUSDT-metrics-2026-06-07.zip" in failures[0]
    assert len(asked) == 2 * FAST.attempts
    assert not oi_path(datadir, PAIR).exists()


# --------------------------------------------------------------------------- interruption
def test_killed_run_resumes_without_refetching_finished_days(tmp_path, sample_mirror):
    """SIGKILL a real CLI process mid-import (slowed by a per-request delay), then resume:
    finished days are not fetched again and the result equals a one-shot import."""
    datadir = tmp_path / "binance"
    manifest = Manifest(datadir, SYMBOL)
    with archive_server(sample_mirror) as emu:
        emu.set_fault("archive", Fault("timeout", hold_s=0.15))
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "liq_signals.cli",
                "import-binance-metrics",
                "--pairs",
                PAIR,
                "--timerange",
                "20260607-20260623",
                "--datadir",
                str(datadir),
                "--base-url",
                emu.url,
                "--workers",
                "1",
                "--chunk-days",
                "1",
                "--no-progress",
            ],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        done: set[str] = set()
        while time.monotonic() < deadline and proc.poll() is None:
            if manifest.path.exists():
                m = Manifest(datadir, SYMBOL)
                m.load(outputs_present=True)
                done = set(m.days)
                if len(done) >= 3:
                    break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
        emu.faults.clear()
        m = Manifest(datadir, SYMBOL)
        m.load(outputs_present=True)
        done = set(m.days)
        assert 3 <= len(done) < 11
        emu.faults.clear_log()
        report = import_metrics(_config(datadir, emu.url, date(2026, 6, 7), date(2026, 6, 22)))
        asked = archive_requests(emu)
        _run(tmp_path / "one", emu.url, date(2026, 6, 7), date(2026, 6, 22))
    assert report.ok
    assert report.pairs[0].days_skipped == len(done)
    assert not any(day in path for day in done for path in asked)
    pd.testing.assert_frame_equal(_read_oi(datadir), _read_oi(tmp_path / "one"))
    pd.testing.assert_frame_equal(_read_side(datadir), _read_side(tmp_path / "one"))
    leftovers = [p.name for p in (datadir / "futures").rglob(".*") if p.name.endswith(".tmp")]
    assert leftovers == []


# --------------------------------------------------------------------------- engine
def test_engine_runs_in_oi_mode_on_imported_data(tmp_path, sample_mirror):
    from liq_signals import columns as C
    from liq_signals.data.load import load_pair_inputs
    from liq_signals.features.pipeline import compute_features

    datadir = tmp_path / "binance"
    (datadir / "futures").mkdir(parents=True)
    shutil.copy(
        REPO / "user_data/data/binance-oi-2026-06/futures/BTC_USDT_USDT-5m-futures.feather",
        datadir / "futures",
    )
    with archive_server(sample_mirror) as emu:
        _run(datadir, emu.url, date(2026, 6, 7), date(2026, 6, 22))
    inputs = load_pair_inputs(datadir, PAIR, "5m")
    assert inputs.open_interest is not None
    assert len(inputs.open_interest) == 2727
    feats = compute_features(
        inputs.candles,
        pair=PAIR,
        open_interest=inputs.open_interest,
        metrics=inputs.metrics,
        timeframe="5m",
    )
    mode = feats[C.MODE]
    in_oi = mode == C.MODE_OI
    # every candle whose lagged OI snapshot exists runs in OI mode; the outage does not
    assert in_oi.sum() >= 2700
    outage = (feats["date"] > "2026-06-15") & (feats["date"] < "2026-06-20")
    assert not in_oi[outage].any()


def test_coarser_timeframes_hold_the_5m_snapshots_on_their_grid(tmp_path, sample_mirror):
    from freqtrade.data.history import get_datahandler
    from freqtrade.enums import CandleType

    datadir = tmp_path / "binance"
    with archive_server(sample_mirror) as emu:
        code = cli_main(
            [
                "import-binance-metrics",
                "--pairs",
                PAIR,
                "--timerange",
                "20260607-20260623",
                "--datadir",
                str(datadir),
                "--base-url",
                emu.url,
                "--no-progress",
                "-t",
                "1h",
                "4h",
            ]
        )
    assert code == 0
    five = _read_oi(datadir)
    handler = get_datahandler(datadir, "feather")
    for tf, minutes in (("1h", 60), ("4h", 240)):
        coarse = handler.ohlcv_load(
            PAIR, tf, CandleType.OPEN_INTEREST, fill_missing=False, warn_no_data=False
        ).reset_index(drop=True)
        on_grid = five[(five["date"].dt.hour * 60 + five["date"].dt.minute) % minutes == 0]
        assert len(coarse) > 0
        pd.testing.assert_frame_equal(coarse, on_grid.reset_index(drop=True))
    assert not sidecar.sidecar_path(datadir, PAIR, "1h").exists()


def test_two_pairs_in_one_run(tmp_path, sample_mirror):
    mirror = tmp_path / "mirror"
    shutil.copytree(sample_mirror, mirror)
    eth = sample_rows()
    eth[bv.SUM_OPEN_INTEREST] *= 20.0
    write_mirror(mirror, eth[eth[bv.CREATE_TIME] < "2026-06-10"], symbol="ETHUSDT")
    datadir = tmp_path / "binance"
    with archive_server(mirror) as emu:
        report = import_metrics(
            ImportConfig(
                pairs=(PAIR, "ETH/USDT:USDT"),
                start=datetime(2026, 6, 7, tzinfo=UTC),
                stop=datetime(2026, 6, 10, tzinfo=UTC),
                datadir=datadir,
                base_url=emu.url,
                retry=FAST,
            )
        )
    assert report.ok
    assert [p.days_imported for p in report.pairs] == [3, 3]
    btc = _read_oi(datadir)
    eth_oi = pd.read_feather(oi_path(datadir, "ETH/USDT:USDT"))
    assert len(btc) == len(eth_oi) == report.pairs[0].oi_rows
    np.testing.assert_allclose(eth_oi["open_interest_amount"], 20 * btc["open_interest_amount"])
    assert (datadir / "futures" / ".binance-vision" / "ETHUSDT-metrics.json").exists()


def test_unreadable_existing_oi_file_stops_before_writing(tmp_path, sample_mirror, capsys):
    """freqtrade's loader would read a broken file as "no data" and the merge would then
    overwrite the user's history; the importer refuses instead, naming the file."""
    datadir = tmp_path / "binance"
    path = oi_path(datadir, PAIR)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage, not arrow")
    with archive_server(sample_mirror) as emu:
        code = cli_main(
            [
                "import-binance-metrics",
                "--pairs",
                PAIR,
                "--timerange",
                "20260607-20260609",
                "--datadir",
                str(datadir),
                "--base-url",
                emu.url,
                "--no-progress",
            ]
        )
    assert code == 1
    assert f"{path}: cannot read existing open-interest file" in capsys.readouterr().err
    assert path.read_bytes() == b"garbage, not arrow"
    assert not Manifest(datadir, SYMBOL).path.exists()
    assert not sidecar.sidecar_path(datadir, PAIR, "5m").exists()
