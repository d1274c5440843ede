"""The --at map split by leverage band: exact against the engine, and what the PNG draws.

Independent check: with no open interest and no taker tilt the engine only opens, decays
and sweeps, so one band's book is what the engine builds from that band's leverages alone,
scaled by the band's share of the mix weights -- a second, separate engine run.  With open
interest (closes and caps) the bands must add up to the engine's book bin by bin.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from liq_signals.engine import book as B
from liq_signals.engine.history import book_history
from liq_signals.viz import engine_glue, style
from liq_signals.viz.leverage_bands import (
    LEVERAGE_BANDS,
    band_of_leverage,
    books_by_leverage,
)

REPO = Path(__file__).resolve().parents[2]
OI_DATADIR = REPO / "user_data" / "data" / "binance-oi-2026-06"


def _k(edges: np.ndarray) -> np.ndarray:
    """Absolute grid index of each bin (bin k's centre is exp(k·δ), δ = 0.001)."""
    return np.round(np.log(np.sqrt(edges[1:] * edges[:-1])) / 0.001).astype(np.int64)


def _on_grid(bands_edges: np.ndarray, engine_edges: np.ndarray, usd: np.ndarray) -> np.ndarray:
    """``usd`` (on ``engine_edges``) placed on the bins of ``bands_edges``, by grid index."""
    kb, ke = _k(bands_edges), _k(engine_edges)
    inside = (ke >= kb[0]) & (ke <= kb[-1])
    assert not usd[~inside].any(), "engine notional outside the split's bins"
    out = np.zeros(len(kb))
    out[ke[inside] - kb[0]] = usd[inside]
    return out


def test_leverages_fall_into_the_four_bands():
    lev = np.array([2.0, 10.0, 10.01, 25.0, 30.0, 50.0, 50.5, 125.0])
    assert band_of_leverage(lev).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert [b[2] for b in LEVERAGE_BANDS] == ["≤10x", "10–25x", "25–50x", ">50x"]


def test_each_band_is_the_engine_run_on_its_leverages_alone(engine_run):
    n = len(engine_run.inputs)
    inputs = dataclasses.replace(
        engine_run.inputs, oi=np.full(n, np.nan), taker_share=np.full(n, np.nan)
    )
    # without a taker share, direction tilt or side bias every candle opens with the same
    # weights, so each band is a fixed share of the opens (the per-candle tilts are covered
    # by the sum check inside books_by_leverage and the OI-mode test below)
    mix = engine_run.params.mix
    cfg = dataclasses.replace(engine_run.params.cfg, side_leverage_bias=0.0, direction_tilt=0.0)
    params = B.engine_params(cfg, mix)
    split = books_by_leverage(inputs, params)
    weights = np.exp(mix.log_leverage * -cfg.leverage_alpha)
    band = band_of_leverage(mix.leverage)
    for b, label in enumerate(split.labels):
        keep = band == b
        assert keep.any(), label
        sub = dataclasses.replace(
            mix,
            leverage=mix.leverage[keep],
            log_leverage=mix.log_leverage[keep],
            long_log_ratio=mix.long_log_ratio[keep],
            short_log_ratio=mix.short_log_ratio[keep],
        )
        hist = book_history(inputs, B.engine_params(cfg, sub), every=n)
        share = weights[keep].sum() / weights.sum()
        for name, mine in (("long", split.long_usd[b]), ("short", split.short_usd[b])):
            alone = _on_grid(split.edges, hist.edges, getattr(hist, f"{name}_usd")[-1] * share)
            assert alone.sum() > 0, (label, name)
            np.testing.assert_allclose(mine, alone, rtol=1e-9, atol=1e-6 * alone.max())


def test_bands_add_up_to_the_engine_book_in_oi_mode():
    loaded = engine_glue.load(OI_DATADIR, "BTC/USDT:USDT", "5m")
    from liq_signals.viz.engine_glue import Window

    run = engine_glue.run_engine(loaded, Window(0, 2999, 3000))
    assert (run.frame["liq_mode"] == "oi").mean() > 0.5
    split = books_by_leverage(run.inputs, run.params)
    hist = book_history(run.inputs, run.params, every=len(run.inputs))
    for name, bands in (("long", split.long_usd), ("short", split.short_usd)):
        engine = _on_grid(split.edges, hist.edges, getattr(hist, f"{name}_usd")[-1])
        np.testing.assert_allclose(bands.sum(axis=0), engine, rtol=1e-9, atol=1e-7 * engine.max())
        assert (bands.sum(axis=1) > 0).all(), name  # every band holds notional


def test_at_png_draws_the_engines_band_notional(run_until, tmp_path: Path):
    from liq_signals.viz.matplotlib_figure import write_liqmap_png
    from liq_signals.viz.render import liqmap_data_for

    cut, _ = run_until("2025-10-10T18:00")
    data = liqmap_data_for(cut, window_pct=15.0)
    out = tmp_path / "at.png"
    drawn = write_liqmap_png(data, out, width=1200, height=700)
    assert Image.open(out).size == (1200, 700)

    # the engine's per-band notional inside the drawn window, from the bins themselves
    split = books_by_leverage(cut.inputs, cut.params)
    centers = np.sqrt(split.edges[1:] * split.edges[:-1])
    below = (centers < data.price) & (centers >= data.edges[0])
    above = (centers > data.price) & (centers < data.edges[-1])
    assert set(drawn) == {label for *_, label in LEVERAGE_BANDS}
    for b, label in enumerate(split.labels):
        longs_below, shorts_above = drawn[label]
        assert longs_below == pytest.approx(split.long_usd[b][below].sum(), rel=0.02)
        assert shorts_above == pytest.approx(split.short_usd[b][above].sum(), rel=0.02)
    assert sum(v[0] for v in drawn.values()) == pytest.approx(data.longs_below_usd, rel=1e-9)
    assert sum(v[1] for v in drawn.values()) == pytest.approx(data.shorts_above_usd, rel=1e-9)

    # and every band's colour is on the image
    px = np.asarray(Image.open(out).convert("RGB"), dtype=np.int32)
    background = np.array([int(style.BACKGROUND[i : i + 2], 16) for i in (1, 3, 5)])
    for colour in style.LEVERAGE_COLOURS:
        bar = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
        rgb = 0.9 * bar + 0.1 * background  # bars are drawn at alpha 0.9
        near = (np.abs(px - rgb).sum(axis=2) < 40).mean()
        assert near > 0.001, (colour, near)
