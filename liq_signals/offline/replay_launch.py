"""``python -m liq_signals.offline.replay_launch <freqtrade args…>``: freqtrade on replay time.

Runs the real freqtrade CLI (``freqtrade.main.main``) in this process after installing
:mod:`liq_signals.offline.replay_time` synced to the loopback emulator named by the overlay
config among ``--config`` (the one :mod:`liq_signals.offline.runner` writes).  When no
config points at a replaying emulator (real clock, speed 1) nothing is installed and this
is plain ``freqtrade``.

Why a launcher rather than a strategy hook: freqtrade binds its clock functions when its
modules are imported, and computes its first candle requests before any strategy code
runs; the clock must be replay time before freqtrade is imported.
"""

from __future__ import annotations

import faulthandler
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from liq_signals.offline import replay_time

logger = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _configs(args: list[str]) -> list[Path]:
    out = []
    for i, a in enumerate(args):
        if a in ("--config", "-c") and i + 1 < len(args):
            out.append(Path(args[i + 1]))
        elif a.startswith("--config="):
            out.append(Path(a.split("=", 1)[1]))
    return out


def emulator_url(args: list[str]) -> str | None:
    """Base URL of the loopback emulator the overlay config points ccxt at, if any."""
    for path in _configs(args):
        try:
            cfg: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # user configs with comments: not the overlay
        api = cfg.get("exchange", {}).get("ccxt_config", {}).get("urls", {}).get("api", {})
        for url in api.values() if isinstance(api, dict) else ():
            parts = urlsplit(str(url))
            if parts.hostname in LOOPBACK:
                return f"{parts.scheme}://{parts.netloc}"
    return None


def main(argv: list[str] | None = None) -> int:
    """Install the replay clock if the emulator replays, then run freqtrade's CLI."""
    args = list(sys.argv[1:] if argv is None else argv)
    # Ctrl-C / SIGINT stops the bot even when started from a non-interactive shell (which
    # starts background children with SIGINT ignored, and Python then keeps it ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if hasattr(signal, "SIGUSR1"):  # `kill -USR1 <pid>` prints every thread's stack
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    url = emulator_url(args)
    if url is not None:
        replay_time.prepare()
        now_s, speed = replay_time.read_emulator_clock(url)
        if replay_time.is_replaying(now_s, speed):
            replay_time.install(now_s, speed)
            print(
                f"liq-signals replay clock: {url} replay time "
                f"{replay_time.FakeDatetime.now(replay_time._dt.UTC):%Y-%m-%d %H:%M:%S} UTC "
                f"at {speed:g}x",
                file=sys.stderr,
                flush=True,
            )
    from freqtrade.main import main as freqtrade_main

    sys.argv = ["freqtrade", *args]
    try:
        freqtrade_main(args)
    except SystemExit as e:
        return int(e.code or 0) if not isinstance(e.code, str) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
