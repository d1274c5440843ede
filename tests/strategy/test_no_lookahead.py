"""Our own look-ahead gate: every analysed value of candle k is the same whether the
strategy saw the candles up to k or the whole window (prefix invariance; timing rules in
docs/architecture.md).

It runs the strategies exactly as freqtrade does (resolver + backtest DataProvider), so
open interest and the metrics sidecar are read over the *whole* window while the candles
are cut: a feature that peeked at later open interest would differ.  The planted copy in
tests/strategy/planted proves the check can fail.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from strategy_harness import DATADIR_2025, DATADIR_OI, PLANTED, analyse, load_candles, load_strategy

# OI-mode sample (open interest + taker-flow sidecar) and a volume-mode window.
WINDOWS = {
    "oi": (DATADIR_OI, "20260612-20260614"),
    "volume": (DATADIR_2025, "20251009-20251012"),
}
#: Prefix lengths cut from the end of the window (candles).
CUTS = (433, 300, 97, 1)


def prefix_mismatches(strategy, candles: pd.DataFrame) -> dict[str, int]:
    """Columns whose values on a prefix differ from the same rows of the full run.

    :return: column -> number of differing rows, summed over the cuts in CUTS
    """
    full = analyse(strategy, candles)
    bad: dict[str, int] = {}
    for cut in CUTS:
        part = analyse(strategy, candles.iloc[:-cut])
        ref = full.iloc[: len(part)]
        assert list(part.columns) == list(ref.columns)
        for column in part.columns:
            a, b = part[column], ref[column]
            if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
                same = np.isclose(
                    a.to_numpy(dtype=float),
                    b.to_numpy(dtype=float),
                    rtol=1e-9,
                    atol=0.0,
                    equal_nan=True,
                )
            else:
                same = (
                    a.astype(object).fillna("<NA>") == b.astype(object).fillna("<NA>")
                ).to_numpy()
            if not same.all():
                bad[column] = bad.get(column, 0) + int((~same).sum())
    return bad


@pytest.mark.parametrize("window", sorted(WINDOWS))
@pytest.mark.parametrize("name", ["BaselineStrategy", "LiquidationMagnetStrategy"])
def test_analysed_frame_is_prefix_invariant(name: str, window: str) -> None:
    datadir, timerange = WINDOWS[window]
    strategy = load_strategy(name, datadir, timerange)
    candles = load_candles(datadir, timerange, strategy.startup_candle_count)
    assert len(candles) > max(CUTS) + 300

    assert prefix_mismatches(strategy, candles) == {}


def test_prefix_check_flags_the_planted_look_ahead() -> None:
    datadir, timerange = WINDOWS["oi"]
    strategy = load_strategy("LiquidationMagnetPeeking", datadir, timerange, PLANTED)
    candles = load_candles(datadir, timerange, strategy.startup_candle_count)

    bad = prefix_mismatches(strategy, candles)

    # The peeked column differs at the last row of every prefix (it saw the next candle),
    # and the score built from it follows.
    assert bad.get("liq_term_pull_excess", 0) >= len(CUTS)
    assert "entry_score" in bad
