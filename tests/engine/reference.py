"""A slow, obviously-correct reference of the liquidation book (docs/model.md).

Plain Python over a list of cohorts — one per (candle, side, leverage) — with the
liquidation price of each cohort computed straight from the isolated-margin formula
(docs/model.md) with an
explicit entry E and size Q.  No lazy scales, no pointers, no windows: every step touches
every cohort.  The fast engine must agree with it to floating-point tolerance.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from liq_signals.config import ModelConfig


@dataclass
class Cohort:
    long: bool
    k: int  # absolute grid bin of the liquidation price
    qty: float  # contracts


def liq_price_long(entry: float, lev: float, mmr: float, cum: float, qty: float) -> float:
    """Isolated-margin liquidation price (docs/model.md): E·(1 − 1/L)/(1 − m) − cum/(Q·(1 − m))."""
    return entry * (1 - 1 / lev) / (1 - mmr) - cum / (qty * (1 - mmr))


def liq_price_short(entry: float, lev: float, mmr: float, cum: float, qty: float) -> float:
    """Isolated-margin liquidation price (docs/model.md): E·(1 + 1/L)/(1 + m) + cum/(Q·(1 + m))."""
    return entry * (1 + 1 / lev) / (1 + mmr) + cum / (qty * (1 + mmr))


class ReferenceBook:
    """The book as a list of cohorts; :meth:`step` processes one candle."""

    def __init__(self, cfg: ModelConfig, mmr: float, cum: float, max_leverage: float) -> None:
        self.cfg = cfg
        self.mmr = mmr
        self.cum = cum
        top = max_leverage if cfg.leverage_max is None else min(cfg.leverage_max, max_leverage)
        low = min(cfg.leverage_min, top)
        self.leverages = (
            [low * (top / low) ** (i / (cfg.leverage_count - 1)) for i in range(cfg.leverage_count)]
            if cfg.leverage_count > 1
            else [top]
        )
        self.cohorts: list[Cohort] = []
        self.prev_t: int | None = None
        self.prev_oi = math.nan
        self.net_since = 0.0
        self.recent_long: deque[float] = deque(maxlen=cfg.recent_sweep_candles)
        self.recent_short: deque[float] = deque(maxlen=cfg.recent_sweep_candles)

    def price(self, k: int) -> float:
        return math.exp(k * self.cfg.grid_step)

    def total(self, long: bool) -> float:
        return sum(c.qty for c in self.cohorts if c.long == long)

    def step(self, t, high, low, close, typical, volume, oi, share) -> dict:  # noqa: C901 - plain on purpose
        cfg = self.cfg
        out: dict = {}
        # 1. consume
        swept = {True: [0.0, 0.0], False: [0.0, 0.0]}
        keep = []
        for c in self.cohorts:
            p = self.price(c.k)
            if (c.long and p >= low) or (not c.long and p <= high):
                swept[c.long][0] += c.qty
                swept[c.long][1] += c.qty * p
            else:
                keep.append(c)
        self.cohorts = keep
        # 2. decay
        dt = 0.0 if self.prev_t is None else float(t - self.prev_t)
        self.prev_t = t
        f = math.exp(-dt / cfg.decay_tau_seconds)
        before = {s: self.total(s) for s in (True, False)}
        for c in self.cohorts:
            c.qty *= f
        decayed = {s: before[s] * (1 - f) for s in (True, False)}
        # 3. flow: opens from volume in both modes; a new OI row reconciles both books
        liq = swept[True][0] + swept[False][0]
        closed = {True: 0.0, False: 0.0}
        opens = cfg.participation * volume
        mode_oi = math.isfinite(oi)
        if not mode_oi:
            self.prev_oi = math.nan
            self.net_since = 0.0
        else:
            if oi != self.prev_oi:
                if math.isfinite(self.prev_oi) and oi > 0:
                    gap = (oi - self.prev_oi) - self.net_since
                    keep = max(1.0 + cfg.oi_reconcile * gap / oi, 0.0)
                    for side in (True, False):
                        closed[side] = self.total(side) * (1 - keep)
                        for c in self.cohorts:
                            if c.long == side:
                                c.qty *= keep
                self.prev_oi = oi
                self.net_since = 0.0
            self.net_since += opens - liq
        # 4. open
        if opens > 0:
            g = cfg.taker_tilt * (2 * share - 1) if math.isfinite(share) else 0.0
            g += cfg.side_leverage_bias
            r = (2 * close - high - low) / (high - low) if high > low else 0.0
            g += cfg.direction_tilt * r
            b = cfg.side_notional_bias
            opens_l = opens * (1 + min(b, 0.0))
            opens_s = opens * (1 - max(b, 0.0))
            wl = [lev ** (-cfg.leverage_alpha + g) for lev in self.leverages]
            ws = [lev ** (-cfg.leverage_alpha - g) for lev in self.leverages]
            qty_pos = cfg.position_notional_usd / typical
            for lev, a, b in zip(self.leverages, wl, ws, strict=True):
                pl = liq_price_long(typical, lev, self.mmr, self.cum, qty_pos)
                ps = liq_price_short(typical, lev, self.mmr, self.cum, qty_pos)
                self.cohorts.append(
                    Cohort(True, round(math.log(pl) / cfg.grid_step), opens_l * a / sum(wl))
                )
                self.cohorts.append(
                    Cohort(False, round(math.log(ps) / cfg.grid_step), opens_s * b / sum(ws))
                )
        # 5. cap
        capped = {True: 0.0, False: 0.0}
        coverage = math.nan
        if math.isfinite(oi):
            for side in (True, False):
                tot = self.total(side)
                if tot > oi:
                    capped[side] = tot - oi
                    for c in self.cohorts:
                        if c.long == side:
                            c.qty *= oi / tot
            if mode_oi:
                coverage = 0.5 * (self.total(True) + self.total(False)) / oi
        self.recent_long.append(swept[True][1])
        self.recent_short.append(swept[False][1])
        out.update(
            long_swept_q=swept[True][0],
            short_swept_q=swept[False][0],
            long_swept_usd=swept[True][1],
            short_swept_usd=swept[False][1],
            long_decayed_q=decayed[True],
            short_decayed_q=decayed[False],
            long_closed_q=closed[True],
            short_closed_q=closed[False],
            long_capped_q=capped[True],
            short_capped_q=capped[False],
            opened_q=opens,
            long_total_q=self.total(True),
            short_total_q=self.total(False),
            mode_oi=mode_oi,
            coverage=coverage,
            long_recent_usd=sum(self.recent_long),
            short_recent_usd=sum(self.recent_short),
        )
        out.update(self.measure(close))
        return out

    def measure(self, close: float) -> dict:
        cfg = self.cfg
        widest = cfg.bands_pct[-1] / 100
        res: dict = {}
        for side, name in ((False, "up"), (True, "down")):
            tot = self.total(side)
            by_k: dict[int, float] = {}
            for c in self.cohorts:
                if c.long != side:
                    continue
                p = self.price(c.k)
                inside = (
                    (close < p <= close * (1 + widest))
                    if name == "up"
                    else (close * (1 - widest) <= p < close)
                )
                if inside:
                    by_k[c.k] = by_k.get(c.k, 0.0) + c.qty
            bands = []
            for b in cfg.bands_pct:
                lim = b / 100
                bands.append(
                    sum(
                        q * self.price(k)
                        for k, q in by_k.items()
                        if (
                            self.price(k) <= close * (1 + lim)
                            if name == "up"
                            else self.price(k) >= close * (1 - lim)
                        )
                    )
                )
            casc_lim = cfg.cascade_band_pct / 100
            casc = sum(
                q * self.price(k)
                for k, q in by_k.items()
                if (
                    self.price(k) <= close * (1 + casc_lim)
                    if name == "up"
                    else self.price(k) >= close * (1 - casc_lim)
                )
            )
            buckets: dict[int, list[float]] = {}
            for k, q in by_k.items():
                if q <= 0:
                    continue
                acc = buckets.setdefault(k // cfg.cluster_bins, [0.0, 0.0, 0.0])
                p = self.price(k)
                acc[0] += q
                acc[1] += q * p
                acc[2] += q * p * p
            magnet = (math.nan, 0.0)
            for _q, usd, pu in buckets.values():
                if usd > magnet[1]:
                    magnet = (pu / usd, usd)
            nearest = (math.nan, 0.0)
            order = sorted(buckets, reverse=(name == "down"))
            for key in order:
                q, usd, pu = buckets[key]
                if q >= cfg.nearest_min_share * tot:
                    nearest = (pu / usd, usd)
                    break
            res[f"{name}_bands"] = bands
            res[f"cascade_{name}"] = casc / cfg.cascade_band_pct
            res[f"magnet_{name}_price"], res[f"magnet_{name}_usd"] = magnet
            res[f"nearest_{name}_price"], res[f"nearest_{name}_usd"] = nearest
        return res


def reference_run(
    inputs, cfg: ModelConfig, mmr: float, cum: float, max_leverage: float
) -> list[dict]:
    """Run :class:`ReferenceBook` over :class:`~liq_signals.engine.book.EngineInputs`."""
    book = ReferenceBook(cfg, mmr, cum, max_leverage)
    rows = []
    for i in range(len(inputs)):
        rows.append(
            book.step(
                int(inputs.time_s[i]),
                float(inputs.high[i]),
                float(inputs.low[i]),
                float(inputs.close[i]),
                float(inputs.typical[i]),
                float(inputs.volume[i]),
                float(inputs.oi[i]),
                float(inputs.taker_share[i]),
            )
        )
    return rows


def as_array(rows: list[dict], key: str) -> np.ndarray:
    return np.array([r[key] for r in rows], dtype=np.float64)
