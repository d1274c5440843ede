"""The liquidation clusters as price bands for FreqUI, through freqtrade's ``plot_annotations``.

freqtrade calls a strategy's ``plot_annotations(pair, start_date, end_date, dataframe)`` for
the chart FreqUI shows (``/pair_candles`` in dry-run/live, ``/pair_history`` in the
webserver) and validates every dict against its ``AnnotationType``.  :func:`cluster_bands`
turns the analysed frame's cluster columns into ``area`` annotations: one box per run of
candles in which the cluster stayed in the same bucket, spanning that bucket's price range
(the engine sums ``cluster_width_pct`` of grid bins into a bucket, aligned on the absolute
grid, so the band is exactly the range the feature's notional was summed over).

Only columns of each candle are read, so a band drawn at candle k is the one the strategy
saw at k.  NumPy/pandas only: importing this from a strategy loads no plotting library.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from liq_signals import columns as C
from liq_signals.config import ModelConfig
from liq_signals.display import format_usd


@dataclass(frozen=True)
class BandKind:
    """One cluster series drawn as bands: its columns, its name in the label, its colour."""

    price: str
    usd: str
    name: str
    colour: str


#: Drawn in this order; the largest clusters after the nearest ones so they sit on top.
BAND_KINDS: tuple[BandKind, ...] = (
    BandKind(C.NEAREST_UP_PRICE, C.NEAREST_UP_USD, "nearest shorts above", "rgba(33,182,255,0.12)"),
    BandKind(
        C.NEAREST_DOWN_PRICE, C.NEAREST_DOWN_USD, "nearest longs below", "rgba(255,90,54,0.12)"
    ),
    BandKind(C.MAGNET_UP_PRICE, C.MAGNET_UP_USD, "largest shorts above", "rgba(33,182,255,0.28)"),
    BandKind(C.MAGNET_DOWN_PRICE, C.MAGNET_DOWN_USD, "largest longs below", "rgba(255,90,54,0.28)"),
)

#: Most recent bands kept per kind: FreqUI draws every annotation it gets, and a month of
#: 5m candles would otherwise send thousands of boxes for a chart showing a few hundred.
DEFAULT_MAX_BANDS = 60


def bucket_range(price: float, cfg: ModelConfig) -> tuple[float, float]:
    """Price range of the cluster bucket holding ``price`` (the engine's bucket rule).

    Bin ``k`` holds prices that round to ``exp(k·δ)``, i.e. ``[exp((k-½)δ), exp((k+½)δ))``;
    bucket ``b`` is bins ``b·n .. b·n + n - 1`` with ``n = cfg.cluster_bins``.
    """
    delta, n = cfg.grid_step, cfg.cluster_bins
    bucket = math.floor(round(math.log(price) / delta) / n)
    return math.exp((bucket * n - 0.5) * delta), math.exp(((bucket + 1) * n - 0.5) * delta)


def _buckets(price: np.ndarray, cfg: ModelConfig) -> np.ndarray:
    """Bucket id per row (float: NaN where there is no cluster)."""
    out = np.full(len(price), np.nan)
    ok = np.isfinite(price) & (price > 0)
    out[ok] = np.floor(np.round(np.log(price[ok]) / cfg.grid_step) / cfg.cluster_bins)
    return out


def _runs(ids: np.ndarray) -> list[tuple[int, int]]:
    """``(first, last)`` row of every run of equal, non-NaN ids."""
    runs: list[tuple[int, int]] = []
    start = None
    for i, v in enumerate(ids):
        if start is not None and not (v == ids[start]):
            runs.append((start, i - 1))
            start = None
        if start is None and not np.isnan(v):
            start = i
    if start is not None:
        runs.append((start, len(ids) - 1))
    return runs


def cluster_bands(
    dataframe: pd.DataFrame,
    *,
    cfg: ModelConfig,
    timeframe_minutes: int,
    max_bands: int = DEFAULT_MAX_BANDS,
) -> list[dict[str, Any]]:
    """Area annotations for the nearest and the largest cluster above and below price.

    :param dataframe: the strategy's analysed frame (``date`` and the ``liq_nearest_*`` /
        ``liq_magnet_*`` columns; stale rows (``liq_stale``) are not drawn)
    :param cfg: the model the features were computed with (grid step, cluster width)
    :param timeframe_minutes: candle duration: a band ends at its last candle's close
    :param max_bands: most recent bands kept per kind
    :return: freqtrade ``AreaAnnotationType`` dicts (``type, label, color, start, end,
        y_start, y_end``), empty when the frame has none of the columns
    """
    if dataframe.empty or "date" not in dataframe:
        return []
    dates = pd.DatetimeIndex(dataframe["date"])
    step = timedelta(minutes=timeframe_minutes)
    stale = (
        dataframe[C.STALE].fillna(True).astype(bool).to_numpy()
        if C.STALE in dataframe
        else np.zeros(len(dataframe), dtype=bool)
    )
    present = [k for k in BAND_KINDS if k.price in dataframe and k.usd in dataframe]
    buckets = {
        k.price: _buckets(
            np.where(
                stale | ~(dataframe[k.usd].to_numpy(dtype=float) > 0),
                np.nan,
                dataframe[k.price].to_numpy(dtype=float),
            ),
            cfg,
        )
        for k in present
    }
    out: list[dict[str, Any]] = []
    for kind in present:
        price = dataframe[kind.price].to_numpy(dtype=float)
        usd = dataframe[kind.usd].to_numpy(dtype=float)
        ids = buckets[kind.price]
        twin = _largest_of(kind)
        if twin in buckets:  # a nearest cluster that is also the largest: one band, not two
            ids = np.where(ids == buckets[twin], np.nan, ids)
        for first, last in _runs(ids)[-max_bands:]:
            top = int(first + np.argmax(usd[first : last + 1]))
            y_start, y_end = bucket_range(float(price[top]), cfg)
            out.append(
                {
                    "type": "area",
                    "label": f"{kind.name}: {format_usd(float(usd[top]))} "
                    f"at {price[top]:,.{_decimals(price[top])}f}",
                    "color": kind.colour,
                    "start": _as_datetime(dates[first]),
                    "end": _as_datetime(dates[last]) + step,
                    "y_start": y_start,
                    "y_end": y_end,
                }
            )
    return out


def _largest_of(kind: BandKind) -> str:
    """The largest-cluster price column on the same side as a nearest-cluster kind."""
    return {C.NEAREST_UP_PRICE: C.MAGNET_UP_PRICE, C.NEAREST_DOWN_PRICE: C.MAGNET_DOWN_PRICE}.get(
        kind.price, ""
    )


def _decimals(price: float) -> int:
    """Enough decimals to tell buckets (0.5 % wide) apart at any price level."""
    return max(0, 4 - int(math.floor(math.log10(abs(price))))) if price > 0 else 2


def _as_datetime(ts: pd.Timestamp) -> datetime:
    return pd.Timestamp(ts).to_pydatetime()
