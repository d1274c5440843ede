"""Follow docs/own-strategy.md in a user directory outside this repository, offline.

    python tools/own_strategy_check.py WORKDIR [--shipped]

Run with the Python of the environment under test (a fresh venv with liq-signals
installed, or the project's own): it writes the files the page shows
(``<!-- file: PATH -->`` before a code block) under ``WORKDIR``, copies the embedded
June 2026 BTC data (candles, 5m open interest) as the page's ``download-data`` would have
fetched it, then runs, from ``WORKDIR`` and against the loopback exchange emulator:

1. ``liq-signals --version`` and the import of ``liq_signals.freqtrade``;
2. ``freqtrade backtesting`` of the page's strategy (must trade; its result JSON is read);
3. ``liq-signals features -c user_data/config.json`` (the map must run on open interest
   with the page's model file, comments and all);
4. ``freqtrade plot-dataframe`` (the page's cluster lines must be in the figure);
5. a replayed ``freqtrade trade --dry-run`` of the page's strategy (a minute of wall
   time at 240x): thanks to its ``informative_pairs`` every candle's map must run on open
   interest (``mode=oi`` in the provider's per-candle line), never in volume mode;
6. with ``--shipped``: ``liq-signals install-strategies`` and a backtest of the shipped
   ``LiquidationMagnetStrategy`` from the copied files.

Exits 0 when every step did what the page says, else 1 naming the step.  Used by
``.ci/run`` (fresh venvs on Python 3.12 and 3.13) and ``tests/ecosystem``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "own-strategy.md"
#: the embedded data the check backtests on (BTC/USDT:USDT 5m with 5m open interest)
DATA = REPO / "user_data" / "data" / "binance-oi-2026-06" / "futures"
TIMERANGE = "20260610-20260622"
STRATEGY = "MyLiqStrategy"
#: replay start of the dry-run step (inside the embedded open-interest sample)
DRY_RUN_START = "2026-06-13T00:32:00Z"
#: ``<!-- file: PATH -->``, then a fenced block: PATH gets the block's text
_FILE_BLOCK = re.compile(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", re.S)


class CheckFailed(Exception):
    """A step did not do what the page says."""


def page_files(page: Path = PAGE) -> dict[str, str]:
    """Relative path -> text of every file the page shows."""
    files = dict(_FILE_BLOCK.findall(page.read_text(encoding="utf-8")))
    if not files:
        raise CheckFailed(f"{page}: no '<!-- file: PATH -->' code blocks")
    return files


def set_up(workdir: Path) -> None:
    """The user's directory: the page's files and the data download-data would fetch."""
    for rel, text in page_files().items():
        path = workdir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    futures = workdir / "user_data" / "data" / "binance" / "futures"
    futures.mkdir(parents=True, exist_ok=True)
    for f in DATA.glob("*.feather"):
        shutil.copyfile(f, futures / f.name)


def run(workdir: Path, *args: str, step: str, timeout: float = 600) -> str:
    """Run ``args`` in ``workdir``; its output, or :class:`CheckFailed` naming ``step``."""
    proc = subprocess.run(
        args, cwd=workdir, capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
        raise CheckFailed(f"{step}: exit {proc.returncode}: {' '.join(args)}\n{tail}")
    return proc.stdout + proc.stderr


def liq_signals(workdir: Path, *args: str, step: str) -> str:
    return run(workdir, sys.executable, "-m", "liq_signals.cli", *args, step=step)


def backtest(workdir: Path, strategy: str, *extra: str, require_trade: bool = True) -> dict:
    """Backtest ``strategy`` offline; its stats from freqtrade's result JSON.

    ``require_trade``: the page's strategy must trade in the window; the shipped one needs
    8 days of startup candles out of the sample's 15 and may legitimately not (its trades
    are checked by the repository's own tests on the longer embedded data)."""
    from freqtrade.data.btanalysis import load_backtest_stats

    results = workdir / "user_data" / "backtest_results"
    liq_signals(
        workdir,
        "offline",
        "--",
        "backtesting",
        "-c",
        "user_data/config.json",
        "--strategy",
        strategy,
        "--timerange",
        TIMERANGE,
        "--export",
        "trades",
        *extra,
        step=f"backtesting {strategy}",
    )
    stats = load_backtest_stats(results)["strategy"][strategy]  # the newest result
    if require_trade and stats["total_trades"] < 1:
        raise CheckFailed(f"backtesting {strategy}: no trade in {TIMERANGE}")
    return stats


def dry_run(workdir: Path) -> str:
    """Paper-trade the page's strategy on the replayed exchange; one line of what the map
    ran on."""
    from liq_signals.offline.runner import run_freqtrade

    # The replay runs the bot's clock at 240x: freqtrade's default 5 s loop would write its
    # database 48 times a wall second, and the SIGINT that ends the run could land inside
    # a write (freqtrade then logs a SQLAlchemy traceback on shutdown).  A 30 s loop, as in
    # tests/live, still sees every 5m candle.
    replay = workdir / "replay-loop.json"
    replay.write_text(json.dumps({"internals": {"process_throttle_secs": 30}}))
    result = run_freqtrade(
        [
            "trade",
            "--dry-run",
            "-c",
            "user_data/config.json",
            "-c",
            str(replay),
            "--db-url",
            f"sqlite:///{workdir / 'user_data' / 'dryrun.sqlite'}",
        ],
        replay_start=DRY_RUN_START,
        speed=240.0,
        stop_after=60.0,
        timeout=180.0,
        cwd=workdir,
    )
    candles = re.findall(r"liq BTC/USDT:USDT \S+ \S+ close=\S+ mode=(\w+)", result.output)
    if result.returncode != 0 or len(candles) < 3 or set(candles) != {"oi"}:
        tail = "\n".join(result.output.splitlines()[-25:])
        raise CheckFailed(
            f"dry-run: exit {result.returncode}, map modes {candles} (want >= 3, all oi)\n{tail}"
        )
    return f"dry-run: {len(candles)} candles updated incrementally, all mode=oi"


def check(workdir: Path, shipped: bool) -> list[str]:
    """Every step of the module docstring; one line per step for the log."""
    set_up(workdir)
    lines = [liq_signals(workdir, "--version", step="--version").strip()]
    run(
        workdir,
        sys.executable,
        "-c",
        "import liq_signals.freqtrade as f; print(f.liquidation_features.__name__)",
        step="import liq_signals.freqtrade",
    )
    stats = backtest(workdir, STRATEGY)
    lines.append(
        f"{STRATEGY}: {stats['total_trades']} trades, profit {stats['profit_total']:.2%} "
        f"({TIMERANGE}, BTC/USDT:USDT 5m)"
    )
    out = liq_signals(
        workdir,
        "features",
        "-c",
        "user_data/config.json",
        "--out",
        "features.feather",
        step="liq-signals features -c",
    )
    if "mode: oi" not in out or "decay_half_life_hours" not in out:
        raise CheckFailed(f"features: expected open-interest mode and the model file:\n{out}")
    lines += [line for line in out.splitlines() if " wrote " in line]
    run(
        workdir,
        sys.executable,
        "-m",
        "liq_signals.cli",
        "offline",
        "--",
        "plot-dataframe",
        "-c",
        "user_data/config.json",
        "--timerange",
        TIMERANGE,
        step="plot-dataframe",
    )
    plots = sorted((workdir / "user_data" / "plot").glob("freqtrade-plot-*.html"))
    html = plots[0].read_text(encoding="utf-8") if plots else ""
    if not all(name in html for name in ("liq_nearest_up_price", "liq_nearest_down_price")):
        raise CheckFailed(f"plot-dataframe: no cluster lines in {plots or 'no figure'}")
    lines.append(f"plot-dataframe: {plots[0].name} draws liq_nearest_up/down_price")
    lines.append(dry_run(workdir))
    if shipped:
        lines.append(
            liq_signals(
                workdir, "install-strategies", "--userdir", "user_data", step="install"
            ).strip()
        )
        stats = backtest(workdir, "LiquidationMagnetStrategy", require_trade=False)
        lines.append(f"LiquidationMagnetStrategy (installed copy): {stats['total_trades']} trades")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path, help="user directory (created; outside the repo)")
    parser.add_argument("--shipped", action="store_true", help="also the shipped strategies")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    try:
        lines = check(args.workdir.resolve(), args.shipped)
    except (CheckFailed, subprocess.TimeoutExpired) as exc:
        print(f"own-strategy check FAILED: {exc}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    print(json.dumps({"own_strategy_check": "ok", "python": sys.version.split()[0]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
