"""IncrementalFeatures (dry-run) gives exactly the batch features."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd

from liq_signals import columns as C
from liq_signals.features import compute_features
from liq_signals.incremental import IncrementalFeatures

PAIR = "BTC/USDT:USDT"


def test_candle_by_candle_equals_batch(oi_data) -> None:
    c = oi_data.candles.iloc[:700]
    kw = dict(open_interest=oi_data.open_interest, metrics=oi_data.metrics)
    batch = compute_features(c, pair=PAIR, **kw)
    inc = IncrementalFeatures(PAIR, "5m")
    first = inc.update(c.iloc[:500], **kw)
    pd.testing.assert_frame_equal(first, batch.iloc[:500])
    for k in range(501, 701):
        out = inc.update(c.iloc[:k], **kw)
        pd.testing.assert_frame_equal(out.iloc[-1:], batch.iloc[k - 1 : k])
    pd.testing.assert_frame_equal(out, batch)
    assert inc.recomputes == 0 and inc.state.candles_seen == 700


def test_late_open_interest_triggers_a_recompute_matching_batch(oi_data) -> None:
    c = oi_data.candles.iloc[:400]
    oi = oi_data.open_interest
    stamp = c["date"].iloc[300]
    assert np.isfinite(
        oi.set_index("date").loc[[stamp, c["date"].iloc[299]], "open_interest_amount"]
    ).all()
    late = oi[oi["date"] != stamp]
    inc = IncrementalFeatures(PAIR, "5m")
    early = inc.update(c, open_interest=late)
    assert early[C.STALE].iloc[301]  # OI of candle 300 missing -> candle 301 stale
    out = inc.update(c, open_interest=oi)  # the row arrives
    assert inc.recomputes == 1
    pd.testing.assert_frame_equal(out, compute_features(c, pair=PAIR, open_interest=oi))
    assert not out[C.STALE].iloc[301] and out[C.MODE].iloc[301] == C.MODE_OI


def test_rewritten_history_triggers_a_recompute(oi_data) -> None:
    c = oi_data.candles.iloc[:300].copy()
    inc = IncrementalFeatures(PAIR, "5m")
    inc.update(c)
    c.loc[c.index[100], "low"] *= 0.98
    out = inc.update(c)
    assert inc.recomputes == 1
    pd.testing.assert_frame_equal(out, compute_features(c, pair=PAIR))


def test_sliding_window_keeps_the_longer_history(oi_data) -> None:
    """freqtrade may drop old rows: values stay those of the full history seen."""
    c = oi_data.candles.iloc[:900]
    kw = dict(open_interest=oi_data.open_interest, metrics=oi_data.metrics)
    batch = compute_features(c, pair=PAIR, **kw)
    inc = IncrementalFeatures(PAIR, "5m")
    inc.update(c.iloc[:500], **kw)
    for start in range(1, 400, 7):  # a window of 500 rows sliding by 7 candles
        out = inc.update(c.iloc[start : start + 500], **kw)
        pd.testing.assert_frame_equal(out, batch.iloc[start : start + 500])
    assert inc.recomputes == 0
    assert len(inc._time) == 500  # records older than the window are forgotten
    # a frame reaching back before what was kept is recomputed from its own first candle
    back = inc.update(c.iloc[:600], **kw)
    assert inc.recomputes == 1
    pd.testing.assert_frame_equal(back, batch.iloc[:600])


def test_state_pickles_and_continues(oi_data) -> None:
    c = oi_data.candles.iloc[:320]
    inc = IncrementalFeatures(PAIR, "5m")
    inc.update(c.iloc[:300])
    clone = pickle.loads(pickle.dumps(inc))
    pd.testing.assert_frame_equal(clone.update(c), inc.update(c))
