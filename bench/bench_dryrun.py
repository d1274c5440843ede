"""Dry-run feature update cost: one new candle per pair, incremental vs full batch recompute.

Replays what freqtrade does in dry-run: a frame of ``--history`` closed candles (the
strategy's startup window) grows by one candle per loop and the strategy asks for its
features.  Measured, on the same frames in the same run:

* ``incremental``: :class:`liq_signals.live.provider.LiveFeatureProvider` (dry-run mode),
  per-call wall time when exactly one candle is new;
* ``batch``: :func:`liq_signals.features.compute_features` over the whole frame (what a
  strategy without the provider would do every candle);
* ``incremental + state saved``: the same provider persisting each pair's state after every
  candle (what dry-run/live do, so a restart resumes the book): the extra per-candle cost
  of saving (fingerprint + array copies; encoding, checksums and the file write run on a
  background thread), and a
  resume from the saved file checked equal to the provider that never stopped.

Prints one line per figure: p50 / p95 in milliseconds, and the p95 ratio batch/incremental.
Also checks the two agree on every new candle to 1e-12 relative (exit 1 if not).

Run: ``.venv/bin/python bench/bench_dryrun.py`` (about 20 s); add ``--from-log run1.log
run2.log`` to also summarise the update times a real dry-run logged (the replay test keeps
its bot output in ``.pytest_tmp/dryrun0/run*.log``).
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from liq_signals import columns as C  # noqa: E402
from liq_signals.config import ModelConfig  # noqa: E402
from liq_signals.data.frames import PairFrames  # noqa: E402
from liq_signals.features.pipeline import compute_features  # noqa: E402
from liq_signals.live import state_store  # noqa: E402
from liq_signals.live.provider import LiveFeatureProvider  # noqa: E402

DATADIR = REPO / "user_data" / "data" / "binance-oi-2026-06" / "futures"
PAIR = "BTC/USDT:USDT"


def _load() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from liq_signals.data.sidecar import read_sidecar

    candles = pd.read_feather(DATADIR / "BTC_USDT_USDT-5m-futures.feather")
    oi = pd.read_feather(DATADIR / "BTC_USDT_USDT-5m-open_interest.feather")
    return candles, oi, read_sidecar(DATADIR.parent, PAIR, "5m")


_LINE = re.compile(r" - liq_signals\.live\.provider - INFO - liq .* update=([\d.]+)ms/(\d+)")


def _from_logs(paths: list[Path]) -> None:
    """p50/p95 of the per-candle update time logged by the provider in a real dry-run
    (single-new-candle updates only; the first full computation is excluded)."""
    times = [
        float(m.group(1))
        for path in paths
        for line in path.read_text().splitlines()
        if (m := _LINE.search(line)) and m.group(2) == "1"
    ]
    if not times:
        raise SystemExit(f"no single-candle update lines in {paths}")
    t = np.array(times)
    print(
        f"dryrun replay run (freqtrade process) update per new candle: "
        f"p50 {np.percentile(t, 50):.2f} ms  p95 {np.percentile(t, 95):.2f} ms  (n={len(t)})"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--history", type=int, default=1500, help="candles in the first frame")
    p.add_argument("--candles", type=int, default=200, help="new candles replayed")
    p.add_argument(
        "--from-log",
        type=Path,
        nargs="*",
        default=None,
        help="also report the update times logged by a real dry-run (bot output "
        "files, e.g. the replay test's run1.log run2.log)",
    )
    a = p.parse_args(argv)
    if a.from_log:
        _from_logs(a.from_log)
    logging.disable(logging.INFO)
    cfg = ModelConfig(decay_half_life_hours=24.0)
    candles, oi, metrics = _load()
    end = a.history + a.candles
    if end > len(candles):
        raise SystemExit(f"need {end} candles, {DATADIR} has {len(candles)}")
    clock_s = [0.0]
    # freqtrade's clock during the loop that sees ``frame``: inside the candle after its last
    provider = LiveFeatureProvider(cfg, "5m", export_dir=None, clock=lambda: clock_s[0])
    state_tmp = tempfile.TemporaryDirectory(prefix=".pytest_tmp_bench_state_", dir=REPO)
    state_dir = Path(state_tmp.name)
    saving = LiveFeatureProvider(
        cfg, "5m", export_dir=None, clock=lambda: clock_s[0], state_dir=state_dir
    )
    numeric = [c for c in C.feature_columns(cfg.bands_pct) if c not in (C.MODE, C.STALE)]
    batch_ms: list[float] = []
    mismatches = 0
    for stop in range(a.history, end + 1):
        frame = candles.iloc[:stop]
        clock_s[0] = frame["date"].iloc[-1].timestamp() + 2 * 300 + 1
        got = provider.features(
            PairFrames(frame, open_interest=oi, metrics=metrics), pair=PAIR, runmode="dry_run"
        )
        saving.features(
            PairFrames(frame, open_interest=oi, metrics=metrics), pair=PAIR, runmode="dry_run"
        )
        t0 = time.perf_counter()
        ref = compute_features(
            frame, pair=PAIR, open_interest=oi, metrics=metrics, timeframe="5m", config=cfg
        )
        batch_ms.append((time.perf_counter() - t0) * 1000.0)
        last_got = got[numeric].iloc[-1].to_numpy(dtype=float)
        last_ref = ref[numeric].iloc[-1].to_numpy(dtype=float)
        if not np.allclose(last_got, last_ref, rtol=1e-12, atol=0, equal_nan=True) or (
            bool(got[C.STALE].iloc[-1]) != bool(ref[C.STALE].iloc[-1])
        ):
            mismatches += 1
    inc = np.array(provider.update_times_ms(PAIR))
    saved = np.array(saving.update_times_ms(PAIR))
    save_only = np.array(saving.save_times_ms(PAIR))
    saving.close()  # written; lock released for the resumed provider
    state_mb = state_store.state_path(state_dir, saving.strategy, PAIR, "5m").stat().st_size / 1e6
    # restart: a new provider resumes from the file on a later, slid window
    window = candles.iloc[a.candles : end + 1]
    restarted = LiveFeatureProvider(
        cfg, "5m", export_dir=None, clock=lambda: clock_s[0], state_dir=state_dir
    )
    resumed = restarted.features(
        PairFrames(window, open_interest=oi, metrics=metrics), pair=PAIR, runmode="dry_run"
    )
    restarted.close()
    never_stopped = provider.features(
        PairFrames(window, open_interest=oi, metrics=metrics), pair=PAIR, runmode="dry_run"
    )
    resume_ok = resumed.equals(never_stopped)
    state_tmp.cleanup()
    bat = np.array(batch_ms[1:])
    inc50, inc95 = np.percentile(inc, [50, 95])
    bat50, bat95 = np.percentile(bat, [50, 95])
    print(
        f"dryrun incremental update per new candle ({a.history}+ candles): "
        f"p50 {inc50:.2f} ms  p95 {inc95:.2f} ms  (n={len(inc)})"
    )
    print(
        f"dryrun batch recompute of the same frame (baseline): "
        f"p50 {bat50:.2f} ms  p95 {bat95:.2f} ms"
    )
    print(f"dryrun p95 speed-up incremental vs batch: {bat95 / inc95:.1f}x")
    sav50, sav95 = np.percentile(saved, [50, 95])
    print(
        f"dryrun incremental + state saved every candle: p50 {sav50:.2f} ms  "
        f"p95 {sav95:.2f} ms  (p95 {sav95 - inc95:+.2f} ms vs without; the save alone: "
        f"p50 {np.percentile(save_only, 50):.2f} ms  p95 {np.percentile(save_only, 95):.2f}"
        f" ms; state file {state_mb:.1f} MB)"
    )
    print(f"dryrun resume from the saved state == never stopped (slid window, exact): {resume_ok}")
    print(
        f"dryrun incremental == batch on the last candle of every frame: "
        f"{a.candles + 1 - mismatches}/{a.candles + 1}"
    )
    return 1 if mismatches or not resume_ok else 0


if __name__ == "__main__":
    sys.exit(main())
