"""The HTML page opens in a real headless Chromium and draws the map.

No network: plotly.js is inlined in the page, and Chromium runs with background
networking, component updates and sync disabled and every request sent to a dead proxy on
127.0.0.1:9 -- the page must draw anyway.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image

from liq_signals.viz.plotly_figure import (
    LONG_BOOK,
    MAGNET_ABOVE,
    MAGNET_BELOW,
    PRICE,
    SHORT_BOOK,
    SWEPT_LONGS,
    SWEPT_SHORTS,
    build_figure,
    write_html,
)

WIDTH, HEIGHT = 1400, 850
EXPECTED_TRACES = (
    LONG_BOOK,
    SHORT_BOOK,
    PRICE,
    MAGNET_ABOVE,
    MAGNET_BELOW,
    SWEPT_SHORTS,
    SWEPT_LONGS,
)


def _plot_rect(dom: str) -> tuple[int, int, int, int]:
    """x, y, width, height of plotly's main drag rectangle = the plot area."""
    tag = re.search(r"<rect[^>]*class=\"nsewdrag drag[^\"]*\"[^>]*>", dom)
    assert tag, "no plot area (nsewdrag rect) in the rendered DOM"
    attrs = dict(re.findall(r'(\w+)="([^"]*)"', tag.group(0)))
    return tuple(int(float(attrs[k])) for k in ("x", "y", "width", "height"))


def test_page_is_self_contained(heatmap_data, tmp_path: Path):
    page = tmp_path / "map.html"
    write_html(build_figure(heatmap_data), page)
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", html)  # nothing to fetch: plotly.js is inline
    assert not re.search(r"<link[^>]+href=", html)
    assert "Plotly.newPlot" in html


def test_chromium_draws_books_candles_and_overlays(heatmap_data, browser, tmp_path: Path):
    page = tmp_path / "map.html"
    write_html(build_figure(heatmap_data), page)

    dom = browser.dump_dom(page, WIDTH, HEIGHT)
    legend = re.findall(r'class="legendtext"[^>]*>([^<]*)<', dom)
    assert set(EXPECTED_TRACES) <= set(legend), legend
    assert dom.count('class="hm"') == 2  # both books rendered as heatmap images
    assert 'class="trace boxes"' in dom or "cartesianlayer" in dom
    x, y, w, h = _plot_rect(dom)
    # the plot fills the window
    assert w > WIDTH * 0.6
    assert h > HEIGHT * 0.6

    shot = browser.screenshot(page, tmp_path / "shot.png", WIDTH, HEIGHT)
    image = Image.open(shot).convert("RGB")
    assert image.size == (WIDTH, HEIGHT)
    area = np.asarray(image, dtype=np.int32)[y + 2 : y + h - 2, x + 2 : x + w - 2]
    r, g, b = area[..., 0], area[..., 1], area[..., 2]
    luminance = 0.299 * r + 0.587 * g + 0.114 * b
    assert luminance.std() > 20, "plot area is flat: nothing drawn"
    long_glow = ((r > b + 60) & (r > 80)).mean()  # red..yellow ramp of the long book
    short_glow = ((b > r + 60) & (b > 80)).mean()  # blue..cyan ramp of the short book
    assert long_glow > 0.05, f"long book covers only {long_glow:.1%} of the plot"
    assert short_glow > 0.05, f"short book covers only {short_glow:.1%} of the plot"
    light = ((r > 190) & (g > 190) & (b > 190) & (np.abs(r - b) < 30)).mean()
    assert light > 0.001, "no light-grey candle bodies in the plot area"
