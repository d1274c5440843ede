"""Heatmap speed and size for one year of 5m candles (embedded 2025 data, volume mode).

Targets (issue #7): the year renders to self-contained HTML in <= 10 s and the file stays
<= 20 MB.  Each figure is printed with its ratio to a baseline measured in the same run:

- time: the whole ``liq-signals heatmap`` job (load, features, book history, figure,
  write) against ``compute_features`` alone on the same candles -- the engine run every
  consumer of the model pays anyway;
- size: the page against an empty plotly page (plotly.js inlined, no data);
- the cold command (new process: Python start-up and imports included), which is what a
  user waits for.

Run: ``.venv/bin/python bench/bench_heatmap.py`` (from the repository root).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DATADIR = REPO / "user_data" / "data" / "binance"
PAIR = "BTC/USDT:USDT"
TIMERANGE = "20250101-20260101"
TARGET_SECONDS = 10.0
TARGET_MB = 20.0


def main() -> int:
    import plotly.graph_objects as go

    from liq_signals.data.load import load_pair_inputs
    from liq_signals.features.pipeline import compute_features
    from liq_signals.viz.plotly_figure import write_html
    from liq_signals.viz.render import Request, render

    with tempfile.TemporaryDirectory(dir=REPO) as tmp:
        out = Path(tmp) / "year.html"
        empty = Path(tmp) / "empty.html"
        inputs = load_pair_inputs(DATADIR, PAIR, "5m")
        year = inputs.candles[
            (inputs.candles["date"] >= "2025-01-01") & (inputs.candles["date"] < "2026-01-01")
        ]
        compute_features(year.iloc[:2000], pair=PAIR, timeframe="5m")  # numba warm-up
        t0 = time.perf_counter()
        compute_features(year, pair=PAIR, timeframe="5m")
        baseline_s = time.perf_counter() - t0

        render(Request(DATADIR, PAIR, "5m", "20250101-20250108", out))  # imports warm-up
        t0 = time.perf_counter()
        summary = render(Request(DATADIR, PAIR, "5m", TIMERANGE, out, warmup_days=0))
        html_s = time.perf_counter() - t0
        size_mb = out.stat().st_size / 1e6
        empty_mb = write_html(go.Figure(), empty) / 1e6

        t0 = time.perf_counter()
        render(Request(DATADIR, PAIR, "5m", TIMERANGE, out.with_suffix(".png"), warmup_days=0))
        png_s = time.perf_counter() - t0

        cli = Path(sys.executable).with_name("liq-signals")
        t0 = time.perf_counter()
        subprocess.run(
            [
                str(cli),
                "heatmap",
                "--datadir",
                str(DATADIR),
                "--pair",
                PAIR,
                "--timerange",
                TIMERANGE,
                "--out",
                str(Path(tmp) / "cli.html"),
            ],
            check=True,
            capture_output=True,
            cwd=REPO,
        )
        cli_s = time.perf_counter() - t0

    print(f"candles: {len(year)} (5m, {TIMERANGE}); figure: {summary}")
    print(f"baseline compute_features(year): {baseline_s:.2f} s")
    print(
        f"heatmap HTML time: {html_s:.2f} s = {html_s / baseline_s:.2f}x baseline "
        f"(target <= {TARGET_SECONDS:g} s: {'ok' if html_s <= TARGET_SECONDS else 'MISSED'})"
    )
    print(
        f"heatmap HTML size: {size_mb:.1f} MB = {size_mb / empty_mb:.2f}x empty plotly page "
        f"({empty_mb:.1f} MB) (target <= {TARGET_MB:g} MB: "
        f"{'ok' if size_mb <= TARGET_MB else 'MISSED'})"
    )
    print(f"heatmap PNG time: {png_s:.2f} s = {png_s / baseline_s:.2f}x baseline")
    print(
        f"cold CLI run (new process, imports, 30 days warm-up): {cli_s:.2f} s = "
        f"{cli_s / baseline_s:.2f}x baseline (target <= {TARGET_SECONDS:g} s: "
        f"{'ok' if cli_s <= TARGET_SECONDS else 'MISSED'})"
    )
    return 0 if max(html_s, cli_s) <= TARGET_SECONDS and size_mb <= TARGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
