"""IncrementalFeatures (dry-run) gives exactly the batch features."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from liq_signals import columns as C
from liq_signals.config import ModelConfig
from liq_signals.data.frames import PairFrames
from liq_signals.errors import InputError
from liq_signals.features.incremental import IncrementalFeatures
from liq_signals.features.pipeline import compute_features

PAIR = "BTC/USDT:USDT"


def test_candle_by_candle_equals_batch(oi_data) -> None:
    c = oi_data.candles.iloc[:700]
    kw = dict(open_interest=oi_data.open_interest, metrics=oi_data.metrics)
    batch = compute_features(c, pair=PAIR, **kw)
    inc = IncrementalFeatures(PAIR, "5m")
    first = inc.update(PairFrames(c.iloc[:500], **kw))
    pd.testing.assert_frame_equal(first, batch.iloc[:500])
    for k in range(501, 701):
        out = inc.update(PairFrames(c.iloc[:k], **kw))
        pd.testing.assert_frame_equal(out.iloc[-1:], batch.iloc[k - 1 : k])
    pd.testing.assert_frame_equal(out, batch)
    assert inc.recomputes == 0
    assert inc.state.candles_seen == 700


def test_late_open_interest_triggers_a_recompute_matching_batch(oi_data) -> None:
    c = oi_data.candles.iloc[:400]
    oi = oi_data.open_interest
    stamp = c["date"].iloc[300]
    assert np.isfinite(
        oi.set_index("date").loc[[stamp, c["date"].iloc[299]], "open_interest_amount"]
    ).all()
    late = oi[oi["date"] != stamp]
    inc = IncrementalFeatures(PAIR, "5m")
    early = inc.update(PairFrames(c, open_interest=late))
    assert early[C.STALE].iloc[301]  # OI of candle 300 missing -> candle 301 stale
    out = inc.update(PairFrames(c, open_interest=oi))  # the row arrives
    assert inc.recomputes == 1
    pd.testing.assert_frame_equal(out, compute_features(c, pair=PAIR, open_interest=oi))
    assert not out[C.STALE].iloc[301]
    assert out[C.MODE].iloc[301] == C.MODE_OI


def test_rewritten_history_triggers_a_recompute(oi_data) -> None:
    c = oi_data.candles.iloc[:300].copy()
    inc = IncrementalFeatures(PAIR, "5m")
    inc.update(PairFrames(c))
    c.loc[c.index[100], "low"] *= 0.98
    out = inc.update(PairFrames(c))
    assert inc.recomputes == 1
    pd.testing.assert_frame_equal(out, compute_features(c, pair=PAIR))


def test_sliding_window_keeps_the_longer_history(oi_data) -> None:
    """freqtrade may drop old rows: values stay those of the full history seen."""
    c = oi_data.candles.iloc[:900]
    kw = dict(open_interest=oi_data.open_interest, metrics=oi_data.metrics)
    batch = compute_features(c, pair=PAIR, **kw)
    inc = IncrementalFeatures(PAIR, "5m")
    inc.update(PairFrames(c.iloc[:500], **kw))
    for start in range(1, 400, 7):  # a window of 500 rows sliding by 7 candles
        out = inc.update(PairFrames(c.iloc[start : start + 500], **kw))
        pd.testing.assert_frame_equal(out, batch.iloc[start : start + 500])
    assert inc.recomputes == 0
    assert len(inc._time) == 500  # records older than the window are forgotten
    # a frame reaching back before what was kept is recomputed from its own first candle
    back = inc.update(PairFrames(c.iloc[:600], **kw))
    assert inc.recomputes == 1
    pd.testing.assert_frame_equal(back, batch.iloc[:600])


def test_state_pickles_and_continues(oi_data) -> None:
    c = oi_data.candles.iloc[:320]
    inc = IncrementalFeatures(PAIR, "5m")
    inc.update(PairFrames(c.iloc[:300]))
    clone = pickle.loads(pickle.dumps(inc))
    pd.testing.assert_frame_equal(clone.update(PairFrames(c)), inc.update(PairFrames(c)))


def test_save_then_restore_continues_as_if_never_stopped(oi_data) -> None:
    c = oi_data.candles.iloc[:340]
    kw = dict(open_interest=oi_data.open_interest, metrics=oi_data.metrics)
    inc = IncrementalFeatures(PAIR, "5m")
    inc.update(PairFrames(c.iloc[:300], **kw))
    arrays, scalars = inc.save()
    want = inc.update(
        PairFrames(c, **kw)
    )  # advances the book in place: the saved arrays must not move
    back = IncrementalFeatures.restore(PAIR, "5m", ModelConfig(), arrays, scalars)
    assert back.last_time_s == int(c["date"].iloc[299].timestamp())
    pd.testing.assert_frame_equal(back.update(PairFrames(c, **kw)), want)
    assert back.state.candles_seen == inc.state.candles_seen == 340


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.pop("raw_open"), "not those of a saved state"),
        (lambda a: a.update(input_oi=a["input_oi"][:-1]), "different lengths"),
        (lambda a: a.update(feat=a["feat"][:, :-1]), "feat"),
        (lambda a: a.update(time=a["time"][::-1].copy()), "not increasing"),
    ],
)
def test_restore_refuses_arrays_that_are_no_state_of_the_model(oi_data, change, message) -> None:
    inc = IncrementalFeatures(PAIR, "5m")
    inc.update(PairFrames(oi_data.candles.iloc[:50]))
    arrays, scalars = inc.save()
    IncrementalFeatures.restore(PAIR, "5m", ModelConfig(), dict(arrays), scalars)  # intact
    change(arrays)
    with pytest.raises(InputError, match=message):
        IncrementalFeatures.restore(PAIR, "5m", ModelConfig(), arrays, scalars)


DIST_ATR = (
    C.MAGNET_UP_DIST_ATR,
    C.MAGNET_DOWN_DIST_ATR,
    C.NEAREST_UP_DIST_ATR,
    C.NEAREST_DOWN_DIST_ATR,
)
#: ATR continued from the last candle vs TA-Lib over the whole history: TA-Lib 0.8's
#: recursion keeps state its output does not show (see features.continue_atr); measured
#: at most 8 ulps (1.2e-15 relative) over the 143,900 candles of 2023-24.
ATR_ULPS = 16
DIST_ATR_RTOL = 2.5e-15


def _assert_batch_equal(out: pd.DataFrame, batch: pd.DataFrame) -> None:
    """Bit for bit, except the ``*_dist_atr`` columns (ATR within ``DIST_ATR_RTOL``)."""
    pd.testing.assert_frame_equal(
        out.drop(columns=list(DIST_ATR)), batch.drop(columns=list(DIST_ATR)), check_exact=True
    )
    for col in DIST_ATR:
        a, b = out[col].to_numpy(), batch[col].to_numpy()
        assert np.array_equal(np.isnan(a), np.isnan(b)), col
        np.testing.assert_allclose(a, b, rtol=DIST_ATR_RTOL, atol=0, equal_nan=True)


def test_new_candles_only_path_is_bit_identical_to_batch(oi_data) -> None:
    """After the first call only the new candles are validated and aligned (the fast
    path); every column equals the batch run bit for bit, the ATR ones to rounding."""
    c = oi_data.candles.iloc[:700]
    kw = dict(open_interest=oi_data.open_interest, metrics=oi_data.metrics)
    batch = compute_features(c, pair=PAIR, **kw)
    inc = IncrementalFeatures(PAIR, "5m")
    _assert_batch_equal(inc.update(PairFrames(c.iloc[:500], **kw)), batch.iloc[:500])
    for k in range(501, 701, 3):  # one to three new candles per call
        _assert_batch_equal(inc.update(PairFrames(c.iloc[:k], **kw)), batch.iloc[:k])
    assert inc.full_updates == 1  # only the first call was full
    assert inc.recomputes == 0


def test_fast_path_with_value_only_open_interest_and_sliding_frames(oi_data) -> None:
    """Open interest known only in USD is converted for the new candles exactly as the
    batch run converts it, also when both the candles and the OI frame slide."""
    c = oi_data.candles.iloc[:800]
    oi = oi_data.open_interest.assign(open_interest_amount=np.nan)
    batch = compute_features(c, pair=PAIR, open_interest=oi, metrics=oi_data.metrics)
    assert (batch[C.MODE] == C.MODE_OI).sum() > 600  # the conversion did happen
    inc = IncrementalFeatures(PAIR, "5m")
    inc.update(PairFrames(c.iloc[:500], open_interest=oi, metrics=oi_data.metrics))
    for end in range(501, 800, 5):
        lo = end - 500
        window_oi = oi[oi["date"] >= c["date"].iloc[lo - 1]]
        out = inc.update(
            PairFrames(c.iloc[lo:end], open_interest=window_oi, metrics=oi_data.metrics)
        )
        _assert_batch_equal(out, batch.iloc[lo:end])
    assert inc.full_updates == 1
    assert inc.recomputes == 0


def test_bad_new_candle_is_named_by_its_row_in_the_whole_frame(oi_data) -> None:
    from liq_signals.data.boundary import LiqInputError

    c = oi_data.candles.iloc[:301].copy()
    inc = IncrementalFeatures(PAIR, "5m")
    inc.update(PairFrames(c.iloc[:300]))
    c.loc[c.index[300], "close"] = np.nan
    out = inc.update(PairFrames(c))  # the dry-run quarantines a bad candle (no features, stale)
    assert out[C.STALE].iloc[300]
    assert np.isnan(out[C.IMBALANCE_LOG_5PCT].iloc[300])
    assert inc.last_time_s == int(c["date"].iloc[299].timestamp())
    dup = pd.concat([oi_data.candles.iloc[:300], oi_data.candles.iloc[299:300]])
    with pytest.raises(LiqInputError, match=r"duplicate date at row 300 "):
        inc.update(PairFrames(dup))


def test_late_metrics_row_for_a_processed_candle_triggers_a_recompute(oi_data) -> None:
    c = oi_data.candles.iloc[:400]
    m = oi_data.metrics
    stamp = c["date"].iloc[350]
    inc = IncrementalFeatures(PAIR, "5m")
    inc.update(PairFrames(c.iloc[:399], metrics=m[m["date"] != stamp]))
    out = inc.update(PairFrames(c, metrics=m))  # the row arrives with the next candle
    assert inc.recomputes == 1
    _assert_batch_equal(out, compute_features(c, pair=PAIR, metrics=m))


def test_writing_into_the_returned_frame_leaves_the_next_one_alone(oi_data) -> None:
    c = oi_data.candles.iloc[:302]
    inc = IncrementalFeatures(PAIR, "5m")
    first = inc.update(PairFrames(c.iloc[:301]))
    first.loc[first.index[-1], C.STALE] = True  # as the provider flags an outdated feed
    first[C.MAGNET_UP_PRICE] = -1.0
    first.loc[first.index[5], C.COVERAGE] = -1.0
    _assert_batch_equal(inc.update(PairFrames(c)), compute_features(c, pair=PAIR))


def test_continued_atr_stays_within_a_few_ulps_of_talib(data_2023) -> None:
    """Why ``*_dist_atr`` is not bit for bit: TA-Lib cannot resume, and continuing its
    published values differs from its own run by rounding only (bounded: Wilder's
    smoothing shrinks old errors by 13/14 per candle)."""
    import talib

    from liq_signals.features.atr import continue_atr

    h, lo, cl = (data_2023.candles[k].to_numpy(np.float64) for k in ("high", "low", "close"))
    ref = talib.ATR(h, lo, cl, timeperiod=14)
    for k in (15, 50_000):
        got = continue_atr(ref[k - 1], cl[k - 1], h[k:], lo[k:], cl[k:], 14)
        ulps = np.abs(got - ref[k:]) / np.spacing(ref[k:])
        assert ulps.max() <= ATR_ULPS
        assert (ulps > 0).any()  # not bit-identical: if this fails, tighten the tests above


def _with_bad_rows(oi_data):
    """The 2026-06 files with bad rows: zero OI, ×1000 OI and a negative taker ratio
    (rows read by candles 250..400)."""
    oi = oi_data.open_interest.copy()
    m = oi_data.metrics.copy()
    c = oi_data.candles
    for stamp, factor in ((c["date"].iloc[260], 0.0), (c["date"].iloc[330], 1000.0)):
        oi.loc[oi["date"] == stamp, "open_interest_amount"] *= factor
    m.loc[m["date"] == c["date"].iloc[280], "taker_buy_sell_ratio"] = -1.0
    return oi, m


def test_candle_by_candle_equals_batch_on_files_with_bad_rows(oi_data, caplog) -> None:
    """The quarantine is one rule: the dry-run path (new rows checked with the past rows
    the jump rule reads) drops exactly the rows the batch run drops, and logs each once."""
    import logging

    caplog.set_level(logging.WARNING)
    c = oi_data.candles.iloc[:420]
    oi, m = _with_bad_rows(oi_data)
    # mark candles (the trade candles' own high/low) with a non-positive low and a ×1000 high
    mark = c[["date", "high", "low"]].reset_index(drop=True)
    mark.loc[270, "low"] = 0.0
    mark.loc[340, "high"] *= 1000
    kw = dict(open_interest=oi, metrics=m, mark=mark)
    batch = compute_features(c, pair=PAIR, **kw)
    caplog.clear()
    inc = IncrementalFeatures(PAIR, "5m")
    inc.update(PairFrames(c.iloc[:200], **kw))
    for k in range(201, 421):
        out = inc.update(PairFrames(c.iloc[:k], **kw))
    pd.testing.assert_frame_equal(out, batch)
    assert inc.full_updates == 1  # every bad row went through the new-rows-only path
    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(dropped) == 5, dropped
    for row in (260, 330):
        assert f"at row {row} " in next(d for d in dropped if str(c["date"].iloc[row]) in d)


def test_one_zero_open_interest_row_costs_one_stale_candle_then_normal_features(oi_data):
    """A replay candle by candle: the zero row blinds exactly the candle that reads it
    (before, every update failed until the row left the window); the features after it
    are those of a run where the row was simply missing."""
    c = oi_data.candles.iloc[:400]
    oi = oi_data.open_interest
    stamp = c["date"].iloc[300]
    zero = oi.assign(
        open_interest_amount=oi["open_interest_amount"].where(oi["date"] != stamp, 0.0)
    )
    missing = oi[oi["date"] != stamp]
    inc = IncrementalFeatures(PAIR, "5m")
    inc.update(PairFrames(c.iloc[:250], open_interest=zero))
    for k in range(251, 401):
        out = inc.update(PairFrames(c.iloc[:k], open_interest=zero))
    clean = compute_features(c, pair=PAIR, open_interest=oi)
    stale_new = out[C.STALE].to_numpy() & ~clean[C.STALE].to_numpy()
    assert np.flatnonzero(stale_new).tolist() == [301]
    pd.testing.assert_frame_equal(out, compute_features(c, pair=PAIR, open_interest=missing))
    assert inc.recomputes == 0


def test_bad_candle_is_quarantined_in_the_dry_run_and_stays_so(oi_data, caplog) -> None:
    """A ×1000 candle in a dry-run frame: no features for it (stale), the rest go on; it
    stays dropped when freqtrade's window slides until it is the first row (where the
    jump rule would have no past to compare with) and it is logged once."""
    import logging

    caplog.set_level(logging.WARNING)
    c = oi_data.candles.iloc[:500].copy()
    for col in ("open", "high", "low", "close"):
        c.loc[c.index[300], col] *= 1000
    clean = oi_data.candles.iloc[:500].drop(index=c.index[300])
    inc = IncrementalFeatures(PAIR, "5m")
    inc.update(PairFrames(c.iloc[:290]))
    for k in range(291, 401):
        out = inc.update(PairFrames(c.iloc[:k]))
    assert out[C.STALE].iloc[300]
    assert out[C.IMBALANCE_LOG_5PCT].isna().iloc[300]
    ref = compute_features(clean.iloc[:399], pair=PAIR)
    pd.testing.assert_frame_equal(
        out.drop(index=c.index[300])[ref.columns], ref, check_exact=False, rtol=1e-9
    )
    for start in range(250, 301, 10):  # the window slides over the bad candle
        out = inc.update(PairFrames(c.iloc[start:450]))
        assert out[C.STALE].loc[c.index[300]]
    assert inc.recomputes == 0
    assert sum("dropped" in r.getMessage() for r in caplog.records) == 1
