"""``liq-signals heatmap`` end to end on the embedded data: PNG size, --at, --freqtrade,
and clear errors for bad arguments."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from liq_signals.cli import main

REPO = Path(__file__).resolve().parents[2]
DATADIR = REPO / "user_data" / "data" / "binance"
PAIR = "BTC/USDT:USDT"


def _heatmap(*args: str) -> int:
    return main(["heatmap", "--datadir", str(DATADIR), "--pair", PAIR, *args])


def test_png_has_the_requested_size_and_shows_both_books(tmp_path: Path):
    out = tmp_path / "map.png"
    rc = _heatmap(
        "--timerange",
        "20251010-20251011",
        "--warmup-days",
        "1",
        "--out",
        str(out),
        "--width",
        "900",
        "--height",
        "560",
    )
    assert rc == 0
    image = Image.open(out)
    assert image.size == (900, 560)
    px = np.asarray(image.convert("RGB"), dtype=np.int32)[100:480, 100:780]
    r, b = px[..., 0], px[..., 2]
    assert ((r > b + 60) & (r > 80)).mean() > 0.05  # long book glow
    assert ((b > r + 60) & (b > 80)).mean() > 0.05  # short book glow


def test_png_threshold_and_saturation_flags_change_the_colours(tmp_path: Path):
    """--threshold-usd leaves faint cells uncoloured; a lower --saturation-pct brightens."""

    def png(name: str, *flags: str) -> np.ndarray:
        out = tmp_path / f"{name}.png"
        args = ["--timerange", "20251010-20251011", "--warmup-days", "1", "--out", str(out)]
        assert _heatmap(*args, "--width", "900", "--height", "560", *flags) == 0
        return np.asarray(Image.open(out).convert("RGB"), dtype=np.int32)[100:480, 100:780]

    def glow(px: np.ndarray) -> float:
        r, b = px[..., 0], px[..., 2]
        return float((((r > b + 60) & (r > 80)) | ((b > r + 60) & (b > 80))).mean())

    def brightness(px: np.ndarray) -> float:
        return float(px.mean())

    default = png("default")
    hidden = png("threshold", "--threshold-usd", "5e6")
    bright = png("bright", "--saturation-pct", "50")
    assert glow(hidden) < 0.6 * glow(default), (glow(hidden), glow(default))
    assert brightness(bright) > brightness(default) + 5


def test_at_draws_the_cumulative_map_of_that_candle(tmp_path: Path, run_until):
    from liq_signals import columns as C

    out = tmp_path / "at.html"
    rc = _heatmap(
        "--at", "2025-10-11T12:02", "--window-pct", "10", "--warmup-days", "2", "--out", str(out)
    )
    assert rc == 0
    html = out.read_text(encoding="utf-8")
    assert "liquidation map at 2025-10-11 12:00 UTC" in html
    assert "of shorts above (to +10%)" in html

    # the map's totals agree with the engine's own band features at that candle (same
    # warm-up: the session run starts 2025-10-07 00:00, two days before 2025-10-09)
    from liq_signals.viz.render import liqmap_data_for

    cut, pos = run_until("2025-10-11T12:00")
    data = liqmap_data_for(cut, window_pct=10.0)
    shorts_feature = cut.frame[C.short_above_usd(10.0)].iloc[pos]
    longs_feature = cut.frame[C.long_below_usd(10.0)].iloc[pos]
    assert shorts_feature > 0
    assert longs_feature > 0
    # rows are whole 0.1 % bins, so the window edge may differ by up to one bin's notional
    assert data.shorts_above_usd == pytest.approx(shorts_feature, rel=0.03)
    assert data.longs_below_usd == pytest.approx(longs_feature, rel=0.03)
    assert data.cum_short_above[data.above][-1] == pytest.approx(data.shorts_above_usd)


def test_at_png_has_the_requested_size(tmp_path: Path):
    out = tmp_path / "at.png"
    rc = _heatmap(
        "--at",
        "2025-10-11T12:00",
        "--warmup-days",
        "1",
        "--out",
        str(out),
        "--width",
        "640",
        "--height",
        "400",
    )
    assert rc == 0
    assert Image.open(out).size == (640, 400)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--timerange", "20300101-20300201"],
            "BTC/USDT:USDT: no candles in timerange '20300101-20300201'",
        ),
        (["--timerange", "20251010-20251010"], "no candles in timerange"),
        (["--timerange", "2025-10-10"], "Incorrect syntax for timerange"),
        (["--at", "2031-01-01T00:00"], "no candle contains --at 2031-01-01 00:00:00+00:00"),
        (["--at", "yesterday-ish"], "is not a timestamp"),
        (["--timeframe", "7x"], "unknown timeframe '7x'"),
        (["--out", "map.svg"], "use a .html or .png file name"),
        (["--freqtrade", "--out", "x.png"], "--freqtrade draws freqtrade's interactive figure"),
        (["--labels", "-1"], "--labels must be >= 0"),
        (["--saturation-pct", "0"], "--saturation-pct must be in (0, 100]"),
        (["--threshold-usd", "-5"], "--threshold-usd must be >= 0"),
    ],
)
def test_bad_arguments_give_a_clear_error(args, message, capsys, tmp_path: Path):
    if "--out" not in args:
        args = [*args, "--out", str(tmp_path / "map.html")]
    else:
        args = [a if a not in ("map.svg", "x.png") else str(tmp_path / a) for a in args]
    rc = _heatmap(*args)
    assert rc == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "map.html").exists()


def test_unknown_pair_names_the_pair_and_the_file(capsys, tmp_path: Path):
    """Missing data: exit 1, as in every command (bad arguments exit 2)."""
    out = str(tmp_path / "m.html")
    rc = main(["heatmap", "--datadir", str(DATADIR), "--pair", "DOGE/USDT:USDT", "--out", out])
    err = capsys.readouterr().err
    assert rc == 1
    assert "DOGE/USDT:USDT" in err
    assert "DOGE_USDT_USDT-5m-futures.feather" in err


def test_missing_datadir_is_named(capsys, tmp_path: Path):
    out = str(tmp_path / "m.html")
    rc = main(["heatmap", "--datadir", str(tmp_path / "nope"), "--pair", PAIR, "--out", out])
    assert rc == 1
    assert str(tmp_path / "nope") in capsys.readouterr().err


def test_freqtrade_figure_has_plot_config_and_heatmap_behind_candles(engine_run, heatmap_data):
    import plotly.graph_objects as go

    from liq_signals.viz.freqtrade_plot import analyse_with_strategy, freqtrade_figure
    from liq_signals.viz.plotly_figure import LONG_BOOK, MAGNET_ABOVE, SHORT_BOOK

    fig = freqtrade_figure(
        engine_run,
        heatmap_data,
        strategy="LiquidationMagnetStrategy",
        strategy_path=REPO / "strategies",
        datadir=DATADIR,
        config_files=(REPO / "user_data" / "config_backtest.json",),
    )
    names = [t.name for t in fig.data]
    assert names[:2] == [LONG_BOOK, SHORT_BOOK]  # drawn first = behind everything
    assert all(t.xaxis == "x" and t.yaxis == "y" for t in fig.data[:2])  # price row
    candles = [t for t in fig.data if isinstance(t, go.Candlestick)]
    assert len(candles) == 1
    assert candles[0].yaxis in (None, "y")
    np.testing.assert_array_equal(
        np.nan_to_num(np.asarray(fig.data[0].z, dtype=float)),  # empty cells are gaps
        heatmap_data.long_rows.astype(np.float32),
    )
    analysed, plot_config = analyse_with_strategy(
        engine_run.frame[["date", "open", "high", "low", "close", "volume"]],
        pair=PAIR,
        timeframe="5m",
        datadir=DATADIR,
        strategy="LiquidationMagnetStrategy",
        strategy_path=REPO / "strategies",
        config_files=(REPO / "user_data" / "config_backtest.json",),
    )
    wanted = [c for c in plot_config["main_plot"] if c in analysed.columns]
    for sub in plot_config.get("subplots", {}).values():
        wanted += [c for c in sub if c in analysed.columns]
    assert wanted, "strategy plot_config names no column it computes"
    assert set(wanted) <= set(names)
    if any(c.startswith("liq_magnet") for c in plot_config["main_plot"]):
        assert MAGNET_ABOVE not in names  # the strategy already draws the magnets

    # the strategy's plot_annotations (FreqUI's cluster bands) are drawn as rectangles
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(rects) >= 4
    labelled = [s.label.text for s in rects if s.label and s.label.text]
    assert any(t.startswith("largest shorts above: $") for t in labelled), labelled
    assert any(t.startswith("largest longs below: $") for t in labelled), labelled
    for rect in rects:
        assert rect.y0 < rect.y1
        assert heatmap_data.row_edges[0] * 0.8 < rect.y0 < heatmap_data.row_edges[-1] * 1.2


def test_freqtrade_figure_draws_the_configs_strategy_quietly(tmp_path: Path):
    """``heatmap --freqtrade -c CONFIG`` from a folder outside the checkout: the config's
    strategy is drawn (not LiquidationMagnetStrategy), the config's ``strategy_path`` that
    does not exist there is reported once, and freqtrade's INFO log stays hidden."""
    import subprocess
    import sys

    (tmp_path / "ud").mkdir()
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "add_config_files": [str(REPO / "user_data" / "config_backtest.json")],
                "strategy": "BaselineStrategy",
                "user_data_dir": str(tmp_path / "ud"),
            }
        )
    )
    out = tmp_path / "ft.html"
    argv = ["heatmap", "--freqtrade", "-c", str(config), "-p", PAIR, "--datadir", str(DATADIR)]
    argv += ["--timerange", "20251010-20251011", "--warmup-days", "0.5", "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "liq_signals.cli", *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # the config's "strategies/" does not exist here
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    log = done.stderr.splitlines()
    assert [line for line in log if "does not exist" in line] == [
        next(line for line in log if "strategy_path strategies/ does not exist" in line)
    ], done.stderr
    assert not [line for line in log if " freqtrade." in line or " - freqtrade." in line], log
    assert len(log) <= 5, done.stderr
    titles = re.findall(r'"title":\{"text":"([^"]*)"', out.read_text(encoding="utf-8"))
    assert any("BaselineStrategy plot_config" in t for t in titles), titles
    assert not any("LiquidationMagnetStrategy" in t for t in titles), titles
