"""Open interest coarser than the candles: hourly OI under 5-minute candles.

Timing rule (liq_signals.features.align): the row stamped T of a series with period p holds
the value at the end of its period, so the candle opening at c reads the latest row with
``T + p + (oi_lag_candles − 1)·tf ≤ c``; held between rows (the book is reconciled only
when a value arrives) and across at most ``OI_MAX_MISSING_PERIODS`` missing periods.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from liq_signals import columns as C
from liq_signals.cli import main
from liq_signals.config import ModelConfig
from liq_signals.data.boundary import LiqInputError
from liq_signals.data.frames import PairFrames
from liq_signals.data.load import load_pair_inputs
from liq_signals.features.align import OI_MAX_MISSING_PERIODS
from liq_signals.features.incremental import IncrementalFeatures
from liq_signals.features.pipeline import compute_features, prepare_inputs
from tests.conftest import DATADIR_2025

PAIR = "BTC/USDT:USDT"
H = pd.Timedelta("1h")
M5 = pd.Timedelta("5min")


@pytest.fixture(scope="module")
def btc_dec():
    """Embedded BTC 2025 5m candles 2025-12-03 → 2025-12-29 (the hourly OI file starts
    2025-12-04 06:00; 2025-12-27 18:00 is missing in it) and the hourly OI file."""
    inputs = load_pair_inputs(DATADIR_2025, PAIR, "5m")
    assert inputs.files["open_interest"].name == "BTC_USDT_USDT-1h-open_interest.feather"
    c = inputs.candles
    c = c[(c["date"] >= "2025-12-03") & (c["date"] < "2025-12-29")].reset_index(drop=True)
    return c, inputs.open_interest


def hand_candles(start: str, n: int) -> pd.DataFrame:
    close = 100.0 + np.arange(n) * 0.01
    return pd.DataFrame(
        {
            "date": pd.date_range(start, periods=n, freq="5min", tz="UTC"),
            "open": close,
            "high": close + 0.5,
            "low": close - 0.5,
            "close": close,
            "volume": np.full(n, 10.0),
        }
    )


def hourly(stamps: list[str], amounts: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.to_datetime(stamps, utc=True),
            "open_interest_amount": amounts,
            "open_interest_value": np.nan,
        }
    )


def early(oi: pd.DataFrame) -> pd.DataFrame:
    """The planted bug: every row used one period early (from T instead of T + 1h)."""
    return oi.assign(date=oi["date"] - H)


def known_at(oi: pd.DataFrame, close: pd.Timestamp, period: pd.Timedelta = H) -> pd.DataFrame:
    """The rows of ``oi`` whose value is known at ``close`` (row T: at T + period)."""
    return oi[oi["date"] + period <= close]


# ---------------------------------------------------------------- hand cases
def test_row_stamped_10_00_first_reaches_the_11_00_candle() -> None:
    c = hand_candles("2024-01-01 09:00", 48)  # 09:00 .. 12:55
    oi = hourly(["2024-01-01 08:00", "2024-01-01 09:00", "2024-01-01 10:00"], [100, 200, 300])
    x = prepare_inputs(PairFrames(c, open_interest=oi), pair=PAIR).inputs
    got = pd.Series(x.oi, index=c["date"].dt.strftime("%H:%M"))
    assert (got["09:00":"09:55"] == 100).all()
    assert (got["10:00":"10:55"] == 200).all()
    assert got["10:55"] == 200  # never 10:55
    assert (got["11:00":"11:55"] == 300).all()  # from 11:00 on
    # 12:00 .. 12:55: row 11:00 is missing -> the 10:00 value is held (a gap, not a zero)
    assert (got["12:00":"12:55"] == 300).all()

    f = compute_features(c, pair=PAIR, open_interest=oi)
    assert (f[C.MODE] == "oi").sum() == 48  # every candle reads a known value
    assert not f[C.STALE].any()

    # changing the 10:00 row leaves every candle before 11:00 unchanged
    g = compute_features(c, pair=PAIR, open_interest=oi.assign(open_interest_amount=[100, 200, 9]))
    before = f["date"] < "2024-01-01 11:00"
    pd.testing.assert_frame_equal(f[before], g[before])
    assert not f.loc[~before, C.COVERAGE].equals(g.loc[~before, C.COVERAGE])


def test_flow_only_when_a_value_arrives() -> None:
    c = hand_candles("2024-01-01 09:00", 36)
    oi = hourly(["2024-01-01 08:00", "2024-01-01 09:00", "2024-01-01 10:00"], [100, 160, 130])
    prep = prepare_inputs(PairFrames(c, open_interest=oi), pair=PAIR)
    dq = np.diff(prep.inputs.oi)
    arrives = c["date"].iloc[1:].dt.minute.to_numpy() == 0
    assert (dq[~arrives] == 0).all()
    assert list(dq[arrives]) == [60.0, -30.0]


def test_gap_is_held_up_to_the_limit_then_stale() -> None:
    assert OI_MAX_MISSING_PERIODS == 2  # the expectations below are for this limit
    c = hand_candles("2024-01-01 01:00", 12 * 8)  # 01:00 .. 08:55
    # hours 02:00 .. 05:00 missing: candles 03:00 .. 04:55 hold the 01:00 value (one and
    # two missing periods), 05:00 .. 06:55 are beyond the limit (no OI: volume, stale)
    oi = hourly(
        ["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 06:00", "2024-01-01 07:00"],
        [100, 110, 120, 130],
    )
    x = prepare_inputs(PairFrames(c, open_interest=oi), pair=PAIR).inputs.oi
    got = pd.Series(x, index=c["date"].dt.strftime("%H:%M"))
    assert (got["03:00":"04:55"] == 110).all()
    assert got["05:00":"06:55"].isna().all()  # never a zero
    assert (got["07:00":"07:55"] == 120).all()
    f = compute_features(c, pair=PAIR, open_interest=oi).set_index(got.index)
    assert not f.loc[:"04:55", C.STALE].any()
    assert (f.loc["01:05":"04:55", C.MODE] == "oi").all()
    assert f.loc["05:00":"06:55", C.STALE].all()
    assert (f.loc["05:00":"06:55", C.MODE] == "volume").all()
    assert not f.loc["07:00":, C.STALE].any()
    assert (f.loc["07:00":, C.MODE] == "oi").all()  # the value is known again


def test_same_timeframe_rule_unchanged() -> None:
    """5m OI under 5m candles: exact row at c − lag·tf; a missing row is a volume-mode,
    stale candle (not held); candle 0 precedes the series (volume mode, not stale)."""
    c = hand_candles("2024-01-01 00:00", 10)
    oi = pd.DataFrame(
        {
            "date": c["date"].drop(index=4),
            "open_interest_amount": np.arange(9) + 100.0,
        }
    )
    x = prepare_inputs(PairFrames(c, open_interest=oi), pair=PAIR)
    want = np.r_[np.nan, 100, 101, 102, 103, np.nan, 104, 105, 106, 107]
    np.testing.assert_array_equal(x.inputs.oi, want)
    assert list(np.flatnonzero(x.stale)) == [5]


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("stamps", "row"),
    [
        (["00:00", "00:01", "00:02"], 1),  # 1m under 5m candles
        (["00:00", "00:07", "00:14"], 1),  # 7m: not a whole multiple
        (["00:00", "01:00", "01:30", "02:30", "03:15"], 4),  # off the 30m step
    ],
)
def test_step_that_does_not_fit_the_candles_is_an_error(stamps, row) -> None:
    c = hand_candles("2024-01-01 00:00", 60)
    oi = hourly([f"2024-01-01 {s}" for s in stamps], [100.0] * len(stamps))
    with pytest.raises(LiqInputError) as err:
        compute_features(c, pair=PAIR, open_interest=oi)
    msg = str(err.value)
    assert "\n" not in msg
    assert PAIR in msg
    assert "[open_interest]" in msg
    assert f"row {row} (date {oi['date'].iloc[row]})" in msg


@pytest.mark.parametrize(
    ("amounts", "dates", "what"),
    [
        ([100.0] * 3, ["00:00", "01:00", "01:00"], "duplicate date at row 2"),
        ([100.0] * 3, ["00:00", "02:00", "01:00"], "unsorted date at row 2"),
    ],
)
def test_bad_hourly_rows_name_the_first_bad_row(amounts, dates, what) -> None:
    c = hand_candles("2024-01-01 00:00", 60)
    stamps = [f"2024-01-01 {s}" for s in (dates or ["00:00", "01:00", "02:00"])]
    oi = hourly(stamps, amounts)
    with pytest.raises(LiqInputError, match=what) as err:
        compute_features(c, pair=PAIR, open_interest=oi)
    assert "\n" not in str(err.value)
    assert "[open_interest]" in str(err.value)


@pytest.mark.parametrize(
    ("stamps", "amounts", "row"),
    [
        (["00:00", "01:00", "01:07"], [1.0, 2.0, 3.0], 2),  # step off the candles' grid
    ],
)
def test_bad_hourly_file_is_named_with_its_first_bad_row(
    tmp_path, capsys, stamps, amounts, row
) -> None:
    fut = tmp_path / "futures"
    fut.mkdir()
    hand_candles("2024-01-01 00:00", 60).to_feather(fut / "BTC_USDT_USDT-5m-futures.feather")
    path = fut / "BTC_USDT_USDT-1h-open_interest.feather"
    hourly([f"2024-01-01 {s}" for s in stamps], amounts).to_feather(path)
    assert load_pair_inputs(tmp_path, PAIR, "5m").files["open_interest"] == path
    rc = main(
        ["features", "--datadir", str(tmp_path), "--pair", PAIR, "--out", str(tmp_path / "f.csv")]
    )
    assert rc == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"row {row} (date " in err
    assert str(path) in err
    assert not (tmp_path / "f.csv").exists()


def test_features_command_runs_in_oi_mode_from_2025_12_05(tmp_path) -> None:
    out = tmp_path / "f.feather"
    rc = main(
        ["features", "--datadir", str(DATADIR_2025), "--pair", PAIR]
        + ["--timerange", "20251205-20260220", "--out", str(out)]
    )
    assert rc == 0
    f = pd.read_feather(out)
    assert f["date"].iloc[0] == pd.Timestamp("2025-12-05", tz="UTC")
    assert len(f) > 22_000
    assert (f[C.MODE] == "oi").all()
    assert not f[C.STALE].any()


def test_candles_before_the_hourly_file_starts_are_volume_mode_not_stale(btc_dec) -> None:
    """The file starts 2025-12-04 06:00 (usable from the 07:00 candle): earlier candles
    run in volume mode like a pair without OI, and are not flagged as an outage."""
    candles, oi = btc_dec
    f = compute_features(candles, pair=PAIR, open_interest=oi)
    first_oi = pd.Timestamp("2025-12-04 07:00", tz="UTC")
    before = f[f["date"] < first_oi]
    assert len(before) == 24 * 12 + 7 * 12  # 2025-12-03 00:00 → 2025-12-04 06:55
    assert (before[C.MODE] == C.MODE_VOLUME).all()
    assert not before[C.STALE].any()
    after = f[(f["date"] > first_oi) & (f["date"] < "2025-12-27")]
    assert (after[C.MODE] == C.MODE_OI).all()
    assert not after[C.STALE].any()


# ---------------------------------------------------------------- real data
def five_minute_equivalent(oi: pd.DataFrame, candles: pd.DataFrame) -> pd.DataFrame:
    """A 5m OI series constant within each hour that changes at the same moments as the
    hourly one under the hourly rule: the 5m row stamped s (read by the candle at s + 5m)
    holds the hourly row stamped floor(s + 5m) − 1h, or the last one before it (a missing
    hour is held, as the hourly rule holds it)."""
    s = candles["date"] - M5
    hour = (s + M5).dt.floor("h") - H
    src = oi.set_index("date")["open_interest_amount"]
    src_ns = src.index.as_unit("ns").asi8
    idx = np.searchsorted(src_ns, hour.array.as_unit("ns").asi8, side="right") - 1
    ok = idx >= 0
    amount = np.where(ok, src.to_numpy()[np.maximum(idx, 0)], np.nan)
    return pd.DataFrame({"date": s, "open_interest_amount": amount})


def test_hourly_equals_a_5m_series_constant_within_the_hour(btc_dec) -> None:
    candles, oi = btc_dec
    hourly_f = compute_features(candles, pair=PAIR, open_interest=oi)
    fine_f = compute_features(candles, pair=PAIR, open_interest=five_minute_equivalent(oi, candles))
    pd.testing.assert_frame_equal(hourly_f, fine_f)
    after = hourly_f["date"] >= "2025-12-05"
    assert (hourly_f.loc[after, C.MODE] == "oi").all()  # the missing 12-27 18:00 included
    assert not hourly_f.loc[after, C.STALE].any()


def _cuts(candles: pd.DataFrame) -> list[int]:
    """Prefix ends around 2025-12-05: every minute of one hour, plus hour boundaries."""
    d = candles["date"]
    hour = np.flatnonzero((d >= "2025-12-05 10:00") & (d < "2025-12-05 11:05"))
    far = np.flatnonzero(d.isin(pd.to_datetime(["2025-12-06 00:00", "2025-12-27 19:30"], utc=True)))
    return [int(k) for k in np.r_[hour, far]]


def prefix_mismatches(candles: pd.DataFrame, oi: pd.DataFrame, shift=lambda f: f) -> list[str]:
    """Candles k whose features differ between the full run and a run on candles ``:k+1``
    with only the OI rows known at k's close (``shift`` applied to the OI frame the model
    gets, after the cut, as a strategy would)."""
    full = compute_features(candles, pair=PAIR, open_interest=shift(oi))
    bad = []
    for k in _cuts(candles):
        part = candles.iloc[: k + 1]
        close = part["date"].iloc[-1] + M5
        got = compute_features(part, pair=PAIR, open_interest=shift(known_at(oi, close)))
        if not got.iloc[-1].equals(full.iloc[k]):
            bad.append(str(part["date"].iloc[-1]))
    return bad


def test_prefix_invariance_with_only_the_rows_known_at_each_close(btc_dec) -> None:
    candles, oi = btc_dec
    assert prefix_mismatches(candles, oi) == []


def test_the_check_catches_rows_used_one_period_early(btc_dec) -> None:
    candles, oi = btc_dec
    bad = prefix_mismatches(candles, oi, shift=early)
    # every cut inside an hour but its last candle (hh:55, whose close is the hour's end)
    assert "2025-12-05 10:00:00+00:00" in bad
    assert "2025-12-05 10:50:00+00:00" in bad
    assert "2025-12-05 10:55:00+00:00" not in bad


def test_incremental_equals_batch_with_hourly_oi(btc_dec, caplog) -> None:
    candles, oi = btc_dec
    candles = candles[candles["date"] < "2025-12-06"].reset_index(drop=True)
    cfg = ModelConfig()
    inc = IncrementalFeatures(PAIR, "5m", cfg)
    start = int(np.flatnonzero(candles["date"] == "2025-12-05 09:30")[0])
    caplog.set_level(logging.WARNING)
    for k in range(start, start + 100):
        part = candles.iloc[: k + 1]
        close = part["date"].iloc[-1] + M5
        got = inc.update(PairFrames(part, open_interest=known_at(oi, close)))
    assert inc.full_updates < 10  # mostly the fast path
    want = compute_features(part, pair=PAIR, open_interest=known_at(oi, close), config=cfg)
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12)
    exact = [c for c in want.columns if not c.endswith("_dist_atr")]
    pd.testing.assert_frame_equal(got[exact], want[exact])
    # a late row for a processed candle's hour sends it down the full path, same values
    late = known_at(oi, close).assign(
        open_interest_amount=lambda f: f["open_interest_amount"].where(
            f["date"] != "2025-12-05 10:00", 1.0
        )
    )
    n = inc.full_updates
    got = inc.update(PairFrames(part, open_interest=late))
    assert inc.full_updates == n + 1
    want = compute_features(part, pair=PAIR, open_interest=late, config=cfg)
    pd.testing.assert_frame_equal(got[exact], want[exact])


def test_engine_sees_no_flow_between_hourly_values(btc_dec) -> None:
    candles, oi = btc_dec
    prep = prepare_inputs(PairFrames(candles, open_interest=oi), pair=PAIR)
    x = prep.inputs.oi
    on = candles["date"] >= "2025-12-05"
    dq = np.diff(x)[on.to_numpy()[1:]]
    minute = candles["date"].dt.minute.to_numpy()[1:][on.to_numpy()[1:]]
    assert (dq[minute != 0] == 0).all()
    assert (dq[minute == 0] != 0).mean() > 0.9


def test_usd_only_hourly_rows_are_priced_at_the_end_of_their_hour(btc_dec) -> None:
    candles, oi = btc_dec
    usd = oi.assign(open_interest_amount=np.nan)
    prep = prepare_inputs(PairFrames(candles, open_interest=usd), pair=PAIR)
    c = candles.set_index("date")["open"]
    x = pd.Series(prep.inputs.oi, index=candles["date"])
    row = oi.set_index("date").loc["2025-12-05 10:00"]
    want = row["open_interest_value"] / c[pd.Timestamp("2025-12-05 11:00", tz="UTC")]
    assert x[pd.Timestamp("2025-12-05 11:00", tz="UTC")] == want
    # the dry-run fast path converts the same way
    part = candles[candles["date"] < "2025-12-05 12:00"]
    inc = IncrementalFeatures(PAIR, "5m", ModelConfig())
    for k in range(len(part) - 30, len(part) + 1):
        sub = part.iloc[:k]
        got = inc.update(PairFrames(sub, open_interest=known_at(usd, sub["date"].iloc[-1] + M5)))
    assert inc.full_updates < 5
    want_f = compute_features(
        sub, pair=PAIR, open_interest=known_at(usd, sub["date"].iloc[-1] + M5)
    )
    exact = [col for col in want_f.columns if not col.endswith("_dist_atr")]
    pd.testing.assert_frame_equal(got[exact], want_f[exact])
