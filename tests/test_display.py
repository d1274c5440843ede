"""Numbers people read: one USD and one N:1 renderer for snapshot, heatmap and dry-run log."""

from __future__ import annotations

import math

import pytest

from liq_signals.display import format_usd, ratio_text
from liq_signals.live.provider import ratio_text as log_ratio_text
from liq_signals.viz.model import format_ratio
from liq_signals.viz.model import format_usd as viz_format_usd


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (14e9, "$14B"),
        (1.234e9, "$1.23B"),
        (45.6e6, "$45.6M"),
        (789e3, "$789K"),
        (123_456, "$123K"),
        (12_345, "$12.3K"),
        (950, "$950"),
        (0, "$0"),
        (999_600, "$1M"),  # rounding carries into the next unit (was "$1e+03K")
        (1.234e12, "$1,234B"),
        (-2.5e6, "-$2.5M"),
        (math.nan, "n/a"),
    ],
)
def test_format_usd(value: float, text: str) -> None:
    assert format_usd(value) == text


@pytest.mark.parametrize(
    ("shorts", "longs", "text", "bare"),
    [
        (2.4e6, 1e6, "2.4:1 shorts above", "2.4:1"),
        (1e6, 3e6, "1:3.0 longs below", "1:3.0"),
        (1e6, 1e6, "1.0:1 shorts above", "1.0:1"),
        (1e6, 0.0, "all shorts above", "all shorts"),
        (0.0, 1e6, "all longs below", "all longs"),
        (0.0, 0.0, "n/a (empty)", "n/a"),
        (math.nan, 1e6, "n/a", "n/a"),
    ],
)
def test_ratio_text(shorts: float, longs: float, text: str, bare: str) -> None:
    assert ratio_text(shorts, longs) == text
    assert ratio_text(shorts, longs, sides=False) == bare


def test_every_surface_uses_the_one_renderer() -> None:
    assert viz_format_usd is format_usd
    assert format_ratio is ratio_text
    assert log_ratio_text(math.log(2.4)) == ratio_text(2.4, 1.0, sides=False) == "2.4:1"
