"""Numbers people read: USD notional and the shorts-to-longs "N:1" ratio.

One renderer for the snapshot table, the heatmap hover and liquidation-map subtitle, and
the dry-run log line, so the same map reads the same everywhere.  Standard library only:
command modules import it at parse time.
"""

from __future__ import annotations

import math

_UNITS = ((1e9, "B"), (1e6, "M"), (1e3, "K"))


def format_usd(value: float) -> str:
    """``$1.23B`` / ``$45.6M`` / ``$789K`` / ``$950``: three significant digits, as traders
    quote liquidation notional; ``n/a`` for NaN.

    The unit is chosen after rounding, so 999,600 reads ``$1M`` (not ``$1e+03K``).
    """
    if not math.isfinite(value):
        return "n/a"
    sign = "-" if value < 0 else ""
    rounded = float(f"{abs(value):.3g}")
    for div, unit in _UNITS:
        if rounded >= div:
            scaled = rounded / div
            # beyond 999B keep every digit ("$1,234B"); below, three significant at most
            text = f"{abs(value) / div:,.0f}" if scaled >= 1000 else f"{scaled:.3g}"
            return f"{sign}${text}{unit}"
    return f"{sign}${abs(value):,.0f}"


def ratio_text(short_above: float, long_below: float, *, sides: bool = True) -> str:
    """Short-liquidation notional above price against long notional below, ``shorts:longs``.

    ``2.4:1 shorts above`` when shorts dominate, ``1:3.0 longs below`` when longs do
    (one decimal: the ratio is an estimate), ``all shorts above`` / ``all longs below``
    when one side is empty, ``n/a (empty)`` when both are, ``n/a`` for NaN (warm-up).

    :param sides: name the heavier side; without it only the numbers (``2.4:1``), for
        the compact ``key=value`` log line
    """
    if not (math.isfinite(short_above) and math.isfinite(long_below)):
        return "n/a"
    if short_above <= 0 and long_below <= 0:
        return "n/a (empty)" if sides else "n/a"
    if short_above >= long_below:
        side, text = "shorts above", (f"{short_above / long_below:.1f}:1" if long_below > 0 else "")
    else:
        side, text = "longs below", (f"1:{long_below / short_above:.1f}" if short_above > 0 else "")
    if not text:  # one side empty: no finite ratio
        return f"all {side}" if sides else f"all {side.split()[0]}"
    return f"{text} {side}" if sides else text
