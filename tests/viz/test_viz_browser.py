"""The HTML page opens in a real headless Chromium and draws the map.

No network: plotly.js is inlined in the page, and Chromium runs with background
networking, component updates and sync disabled and every request sent to a dead proxy on
127.0.0.1:9 -- the page must draw anyway.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from liq_signals.display import format_usd
from liq_signals.viz import style
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
DATADIR_2025 = Path(__file__).resolve().parents[2] / "user_data" / "data" / "binance"
PAIR = "BTC/USDT:USDT"
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


# --- reading the page as a trader uses it: hover, axes, the colour control ------------------

# Headless Chromium under --virtual-time-budget draws no animation frames, and plotly runs
# a slider's command in one: the probe maps requestAnimationFrame onto a timer.
_PROBE = """
<script>
window.requestAnimationFrame = function (cb) {
  return setTimeout(function () { cb(performance.now()); }, 16);
};
(function () {
  var gd = document.querySelector('.plotly-graph-div');
  var out = {};
  function done() {
    var pre = document.createElement('pre');
    pre.id = 'probe';
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }
  function cellPoint(trace, r, j) {
    var cd = gd.calcdata[trace][0];
    var xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    var rect = gd.querySelector('.nsewdrag').getBoundingClientRect();
    return {
      x: rect.left + xa.l2p((cd.x[j] + cd.x[j + 1]) / 2),
      y: rect.top + ya.l2p((cd.y[r] + cd.y[r + 1]) / 2)
    };
  }
  function hover(targets, i) {
    if (i >= targets.length) { return actions(); }
    var t = targets[i];
    var p = cellPoint(t[0], t[1], t[2]);
    var drag = gd.querySelector('.nsewdrag');
    drag.dispatchEvent(new MouseEvent('mousemove', {clientX: p.x, clientY: p.y, bubbles: true}));
    setTimeout(function () {
      var layer = gd.querySelector('.hoverlayer');
      out['hover' + i] = layer ? layer.textContent : '';
      drag.dispatchEvent(new MouseEvent('mouseout', {clientX: p.x, clientY: p.y, bubbles: true}));
      Plotly.Fx.unhover(gd);
      setTimeout(function () { hover(targets, i + 1); }, 100);
    }, 400);
  }
  function actions() {
    var fl = gd._fullLayout;
    out.yrange = fl.yaxis.range;
    if (fl.yaxis2) { out.y2range = fl.yaxis2.range; }
    out.annotations = (fl.annotations || []).map(function (a) { return a.text; });
    var click = %(click)s;
    if (click !== null) {
      var rail = gd.querySelectorAll('.slider-rail-touch-rect')[click];
      var box = rail.getBoundingClientRect();
      var opts = {clientX: box.right - 4, clientY: box.top + box.height / 2, bubbles: true};
      rail.dispatchEvent(new MouseEvent('mousedown', opts));
      gd.dispatchEvent(new MouseEvent('mouseup', opts));
    }
    setTimeout(function () {
      out.zmin = [gd.data[0].zmin, gd.data[1].zmin];
      out.zmax = [gd.data[0].zmax, gd.data[1].zmax];
      done();
    }, 500);
  }
  setTimeout(function () { hover(%(targets)s, 0); }, 1500);
})();
</script>
"""


def _probe(page: Path, out: Path, *, targets=(), click: int | None = None) -> Path:
    """A copy of ``page`` whose script moves the mouse over cells (trace, row, column) and
    records the hover label, the axes and (``click``) clicks a slider's right end."""
    html = page.read_text(encoding="utf-8")
    script = _PROBE % {
        "targets": json.dumps([list(t) for t in targets]),
        "click": "null" if click is None else str(click),
    }
    out.write_text(html.replace("</body>", script + "</body>"), encoding="utf-8")
    return out


def _probed(dom: str) -> dict:
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, "the probe script did not finish"
    return json.loads(html_lib.unescape(found.group(1)))


def _one_book_cell(data, own: np.ndarray, other: np.ndarray) -> tuple[int, int]:
    """Row and column of the largest cell of ``own`` where ``other`` is empty, away from
    the plot's edges and from every line or marker drawn over the books (magnets,
    candles, price line, labels), so the mouse rests on the book alone."""
    masked = np.where(other > 0, 0.0, own)
    masked[:3, :] = masked[-3:, :] = 0.0
    masked[:, :3] = masked[:, -20:] = 0.0  # the cluster labels sit at the right edge
    mid = np.sqrt(data.row_edges[1:] * data.row_edges[:-1])
    step = float(np.median(np.diff(mid)))
    for j in range(masked.shape[1]):
        for level in (data.magnet_up[j], data.magnet_down[j], data.price):
            if np.isfinite(level):
                masked[np.abs(mid - level) < 4 * step, j] = 0.0
        lo, hi = data.low[max(j - 2, 0) : j + 3].min(), data.high[max(j - 2, 0) : j + 3].max()
        masked[(mid > lo - 4 * step) & (mid < hi + 4 * step), j] = 0.0
    r, j = np.unravel_index(int(np.argmax(masked)), masked.shape)
    assert masked[r, j] > 0
    return int(r), int(j)


def test_hover_shows_each_books_own_side_and_notional(heatmap_data, browser, tmp_path: Path):
    long_cell = _one_book_cell(heatmap_data, heatmap_data.long_rows, heatmap_data.short_rows)
    short_cell = _one_book_cell(heatmap_data, heatmap_data.short_rows, heatmap_data.long_rows)
    page = tmp_path / "map.html"
    write_html(build_figure(heatmap_data), page)
    probe = _probe(page, tmp_path / "probe.html", targets=[(0, *long_cell), (1, *short_cell)])
    got = _probed(browser.dump_dom(probe, WIDTH, HEIGHT))

    for text, (r, j), rows, side, other in (
        (got["hover0"], long_cell, heatmap_data.long_rows, "longs", "shorts"),
        (got["hover1"], short_cell, heatmap_data.short_rows, "shorts", "longs"),
    ):
        usd = float(np.float32(rows[r, j]))
        assert f"{side} liquidate at" in text, text
        assert f"${usd:,.0f}" in text, (text, usd)  # this cell's own notional
        assert other not in text, text
        assert "$0" not in text.replace(f"${usd:,.0f}", "")


def test_price_line_labels_and_axis_range_on_the_page(heatmap_data, browser, tmp_path: Path):
    page = tmp_path / "map.html"
    write_html(build_figure(heatmap_data), page)
    got = _probed(browser.dump_dom(_probe(page, tmp_path / "probe.html"), WIDTH, HEIGHT))
    lo, hi = got["yrange"]
    assert lo == pytest.approx(heatmap_data.row_edges[0])
    assert hi == pytest.approx(heatmap_data.row_edges[-1])
    assert 0 < lo < heatmap_data.price < hi
    texts = got["annotations"]
    assert any(t.startswith(f"price {heatmap_data.price:,.0f}") for t in texts), texts
    labelled = heatmap_data.clusters_above + heatmap_data.clusters_below
    assert len(labelled) == 6  # three on each side
    for c in labelled:
        assert any(format_usd(c.usd) in t and f"{c.price:,.0f}"[:5] in t for t in texts), (c, texts)
    for c in heatmap_data.clusters_above:
        assert lo < c.price < hi
        assert c.price > heatmap_data.price


def test_threshold_slider_hides_the_faint_cells(heatmap_data, browser, tmp_path: Path):
    page = tmp_path / "map.html"
    write_html(build_figure(heatmap_data), page)
    before = browser.screenshot(page, tmp_path / "before.png", WIDTH, HEIGHT)
    probe = _probe(page, tmp_path / "probe.html", click=1)  # threshold slider, last step
    got = _probed(browser.dump_dom(probe, WIDTH, HEIGHT))
    threshold = style.cell_percentiles(
        (style.THRESHOLD_STEPS_PCT[-1],), heatmap_data.long_rows, heatmap_data.short_rows
    )[0]
    assert got["zmin"] == [pytest.approx(threshold)] * 2
    assert got["zmax"] == [pytest.approx(heatmap_data.zmax)] * 2

    after = browser.screenshot(probe, tmp_path / "after.png", WIDTH, HEIGHT)
    x, y, w, h = _plot_rect(browser.dump_dom(page, WIDTH, HEIGHT))

    def glow(path: Path) -> float:
        px = np.asarray(Image.open(path).convert("RGB"), dtype=np.int32)[y : y + h, x : x + w]
        r, b = px[..., 0], px[..., 2]
        return float((((r > b + 60) & (r > 80)) | ((b > r + 60) & (b > 80))).mean())

    assert Image.open(after).size == (WIDTH, HEIGHT)
    assert glow(after) < 0.5 * glow(before), (glow(before), glow(after))


def test_at_map_axes_start_at_zero_and_bands_are_drawn(browser, tmp_path: Path):
    from liq_signals.cli import main
    from liq_signals.viz.leverage_bands import LEVERAGE_BANDS

    page = tmp_path / "at.html"
    rc = main(
        [
            "heatmap",
            "--datadir",
            str(DATADIR_2025),
            "--pair",
            PAIR,
            "--at",
            "2025-10-10T18:00",
            "--warmup-days",
            "2",
            "--out",
            str(page),
        ]
    )
    assert rc == 0
    dom = browser.dump_dom(_probe(page, tmp_path / "probe.html"), WIDTH, HEIGHT)
    got = _probed(dom)
    assert got["yrange"][0] == 0
    assert got["yrange"][1] > 0
    assert got["y2range"][0] == 0
    assert got["y2range"][1] > 0
    legend = re.findall(r'class="legendtext"[^>]*>([^<]*)<', dom)
    for _, _, label in LEVERAGE_BANDS:
        assert html_lib.escape(f"{label} leverage") in legend, legend
    assert any(t.startswith("price 117,618.00") for t in got["annotations"]), got["annotations"]
    shot = browser.screenshot(page, tmp_path / "at.png", WIDTH, HEIGHT)
    assert Image.open(shot).size == (WIDTH, HEIGHT)


def test_a_cell_under_a_magnet_line_answers_the_hover(heatmap_data, browser, tmp_path: Path):
    """The mouse on a magnet line shows the book cell under it, not the line."""
    data = heatmap_data
    mid = np.sqrt(data.row_edges[1:] * data.row_edges[:-1])
    step = float(np.median(np.diff(mid)))
    cell = None
    for j in range(data.short_rows.shape[1] // 4, data.short_rows.shape[1] - 20):
        level = data.magnet_up[j]
        if not np.isfinite(level) or abs(level - data.price) < 6 * step:
            continue
        if data.high[max(j - 2, 0) : j + 3].max() > level - 6 * step:
            continue  # candles nearby would answer instead
        r = int(np.argmin(np.abs(mid - level)))
        if data.short_rows[r, j] > 0 and data.long_rows[r, j] == 0:
            cell = (r, j)
            break
    assert cell is not None, "no short-book cell under the magnet line away from candles"
    page = tmp_path / "map.html"
    write_html(build_figure(data), page)
    got = _probed(
        browser.dump_dom(_probe(page, tmp_path / "probe.html", targets=[(1, *cell)]), WIDTH, HEIGHT)
    )
    usd = float(np.float32(data.short_rows[cell]))
    assert "shorts liquidate at" in got["hover0"], got["hover0"]
    assert f"${usd:,.0f}" in got["hover0"], (got["hover0"], usd)
