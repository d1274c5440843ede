"""The one ``--timerange`` parser (freqtrade's ``TimeRange`` underneath) and its row rule:
start inclusive, end exclusive, an open side open."""

from __future__ import annotations

import pandas as pd
import pytest

from liq_signals.errors import ConfigError
from liq_signals.timeframes import in_timerange, parse_closed_timerange, parse_timerange

UTC = "UTC"


def test_timerange_sides_and_the_rows_they_keep():
    start, stop = parse_timerange("20250102-20250104")
    assert (start, stop) == (pd.Timestamp("2025-01-02", tz=UTC), pd.Timestamp("2025-01-04", tz=UTC))
    assert parse_timerange("20250102-") == (pd.Timestamp("2025-01-02", tz=UTC), None)
    assert parse_timerange("") == (None, None)
    dates = pd.Series(pd.date_range("2025-01-01", periods=5, freq="1D", tz=UTC))
    assert list(in_timerange(dates, start, stop)) == [False, True, True, False, False]
    assert list(in_timerange(dates, None, stop)) == [True, True, True, False, False]


@pytest.mark.parametrize(
    ("text", "message"),
    [("2026-06-07", "bad --fit-range '2026-06-07'"), ("20260610-", "need both a start and an end")],
)
def test_bad_or_open_timerange_names_its_option(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_closed_timerange(text, "--fit-range")
