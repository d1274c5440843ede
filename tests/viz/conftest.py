"""Fixtures for the figure tests: a real headless Chromium and one real engine run."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from liq_signals.config import ModelConfig

REPO = Path(__file__).resolve().parents[2]
DATADIR_2025 = REPO / "user_data" / "data" / "binance"

PAIR = "BTC/USDT:USDT"
# Three days around the 10 Oct 2025 crash: both books, big sweeps, fast to compute.
TIMERANGE = "20251009-20251012"
WARMUP_DAYS = 2.0
MAX_COLUMNS = 200  # 864 candles of 5m -> 30m columns (6 candles each)
MAX_ROWS = 120

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    # Any request the page might make goes to a closed loopback port: the page must draw
    # without network, and nothing can leave the machine.
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
)


def _find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _install_chromium() -> str:
    """Install Debian's chromium with apt-get; return why it failed ('' on success)."""
    if shutil.which("apt-get") is None:
        return "no apt-get on this machine"
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        return "apt-get needs root and the tests do not run as root"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (
        ["apt-get", "install", "-y", "-q", "chromium"],
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "chromium"],
    ):
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
        if cmd[1] == "install" and done.returncode == 0:
            return ""
    return f"apt-get install chromium failed: {done.stderr.strip()[-300:]}"


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a Chromium binary, installed with apt-get when missing (skip if impossible)."""
    found = _find_chromium()
    if found is None:
        why = _install_chromium()
        found = _find_chromium()
        if found is None:
            pytest.skip(f"headless Chromium unavailable and could not be installed: {why}")
    return found


@dataclass(frozen=True)
class Browser:
    """Runs the Chromium binary headless on a local file, nothing else."""

    binary: str
    profile: Path

    def _run(self, page: Path, extra: list[str]) -> subprocess.CompletedProcess:
        cmd = [
            self.binary,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={self.profile}",
            "--virtual-time-budget=15000",
            *extra,
            page.resolve().as_uri(),
        ]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    def screenshot(self, page: Path, out: Path, width: int, height: int) -> Path:
        done = self._run(page, [f"--window-size={width},{height}", f"--screenshot={out}"])
        assert out.exists(), f"chromium wrote no screenshot: {done.stderr[-500:]}"
        return out

    def dump_dom(self, page: Path, width: int, height: int) -> str:
        done = self._run(page, [f"--window-size={width},{height}", "--dump-dom"])
        assert done.returncode == 0, done.stderr[-500:]
        return done.stdout


@pytest.fixture
def browser(chromium: str, tmp_path: Path) -> Browser:
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    return Browser(chromium, profile)


#: The model the viz tests' days and cells were chosen with (the engine's former defaults):
#: the tests are about drawing a book, so they pin a model rather than follow the
#: calibrated defaults (under which these days hold other clusters and magnet paths).
VIZ_MODEL = ModelConfig(
    leverage_alpha=1.0,
    decay_half_life_hours=72.0,
    side_leverage_bias=0.0,
    direction_tilt=0.0,
    side_notional_bias=0.0,
)


@pytest.fixture(scope="session")
def engine_run():
    """One real run of loader + features + engine on the embedded 2025 data."""
    from liq_signals.viz import engine_glue
    from liq_signals.viz.render import select_window

    loaded = engine_glue.load(DATADIR_2025, PAIR, "5m")
    window = select_window(loaded.candles["date"], TIMERANGE, WARMUP_DAYS, pair=PAIR, source="test")
    return engine_glue.run_engine(loaded, window, VIZ_MODEL)


@pytest.fixture(scope="session")
def run_until(engine_run):
    """``run_until(when)``: the session run cut after the candle at ``when`` (the map as
    it stood then), and that candle's position in the frame."""
    import numpy as np
    import pandas as pd

    from liq_signals.viz.engine_glue import EngineRun

    def cut(when: str):
        frame = engine_run.frame
        pos = int(np.flatnonzero(frame["date"] == pd.Timestamp(when, tz="UTC"))[0])
        return EngineRun(
            engine_run.pair,
            engine_run.timeframe,
            frame.iloc[: pos + 1],
            engine_run.show,
            engine_run.inputs.slice(0, pos + 1),
            engine_run.params,
        ), pos

    return cut


@pytest.fixture(scope="session")
def heatmap_data(engine_run):
    from liq_signals.viz.render import heatmap_data_for

    return heatmap_data_for(engine_run, max_columns=MAX_COLUMNS, max_rows=MAX_ROWS, tf_minutes=5)
