"""Run any freqtrade command against the loopback emulator.

``run_freqtrade(["backtesting", "--strategy", "X", ...], datadir=...)`` starts an
:class:`~liq_signals.offline.emulator.Emulator` on the datadir (unless one is passed),
writes the overlay config (:mod:`liq_signals.offline.overlay`) under
``user_data/.offline/``, runs the real ``freqtrade`` CLI of this interpreter's venv with
``--config <yours…> --config <overlay> --datadir <datadir>``, tees its output live and
returns its exit status — non-zero also when freqtrade logged a fatal/configuration error
but exited 0 (it does for ``ConfigurationError``).

The served datadir is read-only to freqtrade: a command that writes into its datadir
(``download-data``, the convert commands) is refused when that datadir is, or lies inside,
the one the emulator serves.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from liq_signals.errors import InputError
from liq_signals.offline.emulator import Emulator
from liq_signals.offline.overlay import build_overlay, replay_internals
from liq_signals.paths import DEFAULT_DATADIR

logger = logging.getLogger(__name__)

OVERLAY_DIR = Path("user_data/.offline")
DOWNLOAD_CANDLE_TYPES = "futures mark funding_rate open_interest"
# commands that read candles from the datadir (so missing data is checked up front)
DATA_COMMANDS = frozenset(
    {
        "backtesting",
        "hyperopt",
        "lookahead-analysis",
        "recursive-analysis",
        "plot-dataframe",
    }
)
# commands that accept --config / --datadir
CONFIG_COMMANDS = DATA_COMMANDS | {
    "trade",
    "download-data",
    "list-data",
    "list-markets",
    "list-pairs",
    "test-pairlist",
    "plot-profit",
    "backtesting-analysis",
    "backtesting-show",
    "convert-data",
    "list-timeframes",
    "webserver",
}
# freqtrade's own fatal lines: its main module logs every FreqtradeException /
# ConfigurationError at ERROR (and exits 0 for the latter); configuration and resolver
# modules log unusable configs/strategies at ERROR before raising.
_FATAL_RE = re.compile(
    r" - freqtrade(?:\.configuration[\w.]*|\.resolvers[\w.]*|\.main)? - (?:ERROR|CRITICAL) - "
    r"|^Traceback \(most recent call last\)"
    # argparse usage errors ("unrecognized arguments") — freqtrade exits 0 on these too
    r"|^freqtrade: error: "
)
# commands that write into freqtrade's datadir (download-data: the candles it fetched;
# the convert commands: the converted files), so it must not be the served one
WRITE_COMMANDS = frozenset(
    {"download-data", "convert-data", "convert-trade-data", "trades-to-ohlcv"}
)
# freqtrade's own spellings (freqtrade/commands/cli_options.py)
DATADIR_OPTIONS = ("-d", "--datadir", "--data-dir")
USERDIR_OPTIONS = ("--userdir", "--user-data-dir")
EXCHANGE = "binance"  # the overlay's exchange: freqtrade's datadir is <userdir>/data/binance
_SIGINT_EXIT = 130
_NO_HISTORY_RE = re.compile(r"No history for (\S+), (\w+), (\w+) found")


@dataclass(frozen=True)
class Result:
    """Outcome of one wrapped freqtrade run.

    :param returncode: freqtrade's exit status, or 1 when it exited 0 after logging a
        fatal error or the datadir lacks what the command needs, or 2 when the wrapper
        refused the command (it would write into the served datadir)
    :param output: freqtrade's combined stdout/stderr (plus the wrapper's own messages)
    :param errors: the fatal lines found in the output
    """

    returncode: int
    output: str
    errors: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class MissingDataError(InputError, RuntimeError):
    """The datadir lacks what the command needs; the message says how to download it."""


def download_command(pairs: Sequence[str], timeframes: Sequence[str], datadir: Path) -> str:
    """The exact ``freqtrade download-data`` command that fetches what is missing."""
    return (
        "freqtrade download-data --exchange binance --trading-mode futures "
        f"--pairs {' '.join(pairs) or 'BTC/USDT:USDT'} "
        f"--timeframes {' '.join(timeframes) or '5m 1h'} "
        f"--candle-types {DOWNLOAD_CANDLE_TYPES} --datadir {shlex.quote(str(datadir))}"
    )


def _subcommand(args: Sequence[str]) -> str | None:
    return next((a for a in args if not a.startswith("-")), None)


def _option_values(args: Sequence[str], *names: str) -> list[str]:
    """All values of options ``names`` (``--x v``, ``--x=v``, ``-xv``, ``--x v1 v2`` for
    lists)."""
    out: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        name, eq, val = a.partition("=")
        short = next((n for n in names if len(n) == 2 and a[:2] == n and len(a) > 2), None)
        if short is not None and not a.startswith("--"):  # argparse's -dDIR
            out.append(a[2:])
        elif name in names:
            if eq:
                out.append(val)
            else:
                j = i + 1
                while j < len(args) and not args[j].startswith("-"):
                    out.append(args[j])
                    j += 1
                i = j
                continue
        i += 1
    return out


def _load_configs(configs: Sequence[str]) -> dict:
    """The user's configs merged by freqtrade's own loader (comments,
    ``add_config_files``), without its "Using config" lines (freqtrade prints them when it
    starts); ``{}`` when there are none or they do not load — freqtrade itself reports
    broken configs better than we can."""
    if not configs:
        return {}
    loader_log = logging.getLogger("freqtrade.configuration.load_config")
    level = loader_log.level
    loader_log.setLevel(logging.WARNING)
    try:
        from freqtrade.configuration.load_config import load_from_files

        return dict(load_from_files(list(configs)))
    except Exception:  # noqa: BLE001 - left to freqtrade to report
        return {}
    finally:
        loader_log.setLevel(level)


def freqtrade_datadir(args: Sequence[str], config: dict, cwd: Path) -> Path:
    """The datadir freqtrade itself uses for ``args``, absolute, decided as freqtrade
    decides it (``Configuration._process_datadir_options``): ``-d/--datadir``, else
    ``<userdir>/data/binance`` with the userdir from ``--userdir/--user-data-dir``, else
    the configs' ``user_data_dir``, else ``user_data``; relative paths are from ``cwd``.
    A ``datadir`` key in a config file is ignored, by freqtrade too.

    :param args: freqtrade arguments
    :param config: the user's merged configs (:func:`_load_configs`)
    :param cwd: freqtrade's working directory
    """
    given = next(iter(_option_values(args, *DATADIR_OPTIONS)), None)
    if given is None:
        userdir = next(iter(_option_values(args, *USERDIR_OPTIONS)), None)
        userdir = userdir or config.get("user_data_dir") or "user_data"
        given = str(Path(userdir) / "data" / EXCHANGE)
    path = Path(given)
    return path if path.is_absolute() else cwd / path


def _refuse_write_into_served(sub: str | None, destination: Path, served: Path) -> str | None:
    """Why ``sub`` must not run (it would write into the served datadir), or ``None``."""
    if sub not in WRITE_COMMANDS:
        return None
    dest, src = destination.resolve(), served.resolve()
    if dest != src and src not in dest.parents:
        return None
    return (
        f"{sub} would write into {served}, the datadir the emulator serves (its files "
        "would be overwritten with what it serves back); give freqtrade another "
        "destination after --, e.g. --datadir user_data/data/download"
    )


def check_data(
    args: Sequence[str], datadir: Path, configs: Sequence[str], loaded: dict | None = None
) -> None:
    """Fail early, with the download command, when the datadir cannot serve the run.

    :param args: freqtrade arguments (``-p/--pairs``, ``-i/--timeframe``)
    :param datadir: the datadir to check
    :param configs: the user's config files (whitelist, timeframe)
    :param loaded: those configs already merged (:func:`_load_configs`), to read them once
    :raise MissingDataError: datadir missing, or no futures candles for a requested pair /
        timeframe
    """
    cfg = _load_configs(configs) if loaded is None else loaded
    pairs = _option_values(args, "--pairs", "-p")
    pairs = pairs or list(cfg.get("exchange", {}).get("pair_whitelist", []))
    timeframe = next(iter(_option_values(args, "--timeframe", "-i")), None)
    timeframe = timeframe or cfg.get("timeframe")
    tfs = [timeframe] if timeframe else []
    if not datadir.is_dir():
        raise MissingDataError(
            f"datadir {datadir} does not exist.  Download the data with:\n  "
            + download_command(pairs, tfs, datadir)
        )
    from liq_signals.offline.market_data import FUTURES, MarketData

    market = MarketData(datadir)
    have = {pf.pair: pf for pf in market.pairs.values()}
    missing_pairs = [p for p in pairs if p not in have]
    missing_tf = [
        p for p in pairs if p in have and timeframe and (FUTURES, timeframe) not in have[p].files
    ]
    if missing_pairs or missing_tf:
        what = []
        if missing_pairs:
            what.append(f"no futures data for {', '.join(missing_pairs)}")
        if missing_tf:
            what.append(f"no {timeframe} futures candles for {', '.join(missing_tf)}")
        raise MissingDataError(
            f"datadir {datadir}: {'; '.join(what)}.  Download it with:\n  "
            + download_command(missing_pairs + missing_tf, tfs, datadir)
        )


def freqtrade_command() -> list[str]:
    """The freqtrade CLI of this interpreter's environment."""
    script = Path(sys.executable).with_name("freqtrade")
    return [str(script)] if script.exists() else [sys.executable, "-m", "freqtrade"]


def _wait(proc: subprocess.Popen, stop_after: float | None, timeout: float | None) -> int:
    """Wait for freqtrade; with ``stop_after`` send SIGINT then (freqtrade's own clean
    shutdown) and wait the rest of ``timeout``."""
    if stop_after is None:
        return proc.wait(timeout=timeout)
    try:
        return proc.wait(timeout=stop_after)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGINT)
    rest = None if timeout is None else max(1.0, timeout - stop_after)
    rc = proc.wait(timeout=rest)
    return 0 if rc == _SIGINT_EXIT else rc  # freqtrade's clean exit after our SIGINT


def _child_env(env: dict[str, str] | None, echo: TextIO | None) -> dict[str, str]:
    """freqtrade's rich log handler wraps at ``COLUMNS`` (80 on a pipe), which would split
    the error lines the wrapper watches: use the user's terminal width when teeing to a
    terminal, else a wide one."""
    out = dict(os.environ if env is None else env)
    if "COLUMNS" not in out:
        tty = echo is not None and hasattr(echo, "isatty") and echo.isatty()
        out["COLUMNS"] = str(shutil.get_terminal_size().columns if tty else 200)
    return out


def _tee(stream: TextIO, sink: TextIO | None, lines: list[str]) -> None:
    for line in stream:
        lines.append(line)
        if sink is not None:
            sink.write(line)
            sink.flush()


def _refusal(
    args: Sequence[str],
    sub: str | None,
    served: Path,
    ft_datadir: Path,
    configs: Sequence[str],
    config: dict,
    *,
    started: bool,
) -> tuple[int, str] | None:
    """Why the wrapper does not start freqtrade, as ``(exit status, message)``, or ``None``:
    2 for a writing command whose destination is the served datadir (bad arguments), 1
    for missing data (:func:`check_data`: always for the commands that read candles, and
    for the others but the writing ones when the served datadir does not exist and no
    emulator was ``started`` by the caller)."""
    why = _refuse_write_into_served(sub, ft_datadir, served)
    if why is not None:
        return 2, why
    lacking = sub not in WRITE_COMMANDS and not started and not served.is_dir()
    if sub in DATA_COMMANDS or lacking:
        try:
            check_data(args, served, configs, config)
        except MissingDataError as e:
            return 1, str(e)
    return None


def _served_datadir(datadir: Path | None, sub: str | None, ft_datadir: Path, cwd: Path) -> Path:
    """The datadir the emulator serves (see :func:`run_freqtrade`'s ``datadir``), absolute."""
    if datadir is not None:
        src = Path(datadir)
    elif sub in WRITE_COMMANDS:  # freqtrade's datadir is the destination, not what to serve
        src = DEFAULT_DATADIR
    else:
        return ft_datadir
    return src if src.is_absolute() else cwd / src


def _configs(
    args: list[str], configs: Sequence[str | Path], sub: str | None, cwd: Path
) -> tuple[list[str], list[str]]:
    """``(configs to add to the command, every user config)``; a command that needs a config
    and was given none gets freqtrade's default one from ``cwd``, as freqtrade would."""
    extra = [str(c) for c in configs]
    user = _option_values(args, "--config", "-c") + extra
    if not user and sub in CONFIG_COMMANDS:
        default = next(
            (p for p in ("config.json", "user_data/config.json") if (cwd / p).is_file()), None
        )
        extra += [default] if default else []
        user += [default] if default else []
    return extra, user


def run_freqtrade(
    args: Sequence[str],
    *,
    datadir: Path | None = None,
    configs: Sequence[str | Path] = (),
    replay_start: str | int | None = None,
    speed: float = 1.0,
    port: int = 0,
    timeout: float | None = None,
    stop_after: float | None = None,
    emulator: Emulator | None = None,
    command: Sequence[str] | None = None,
    overlay_dir: Path | None = None,
    echo: TextIO | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Result:
    """Run ``freqtrade <args…>`` against the emulator and return its result.

    :param args: freqtrade arguments, sub-command first (``["backtesting", "--strategy", …]``)
    :param datadir: datadir the emulator serves and freqtrade reads (default: the one
        freqtrade would use, :func:`freqtrade_datadir` — ``-d/--datadir`` in ``args``, else
        ``<userdir>/data/binance``; for a writing command (``download-data``, the convert
        commands) ``user_data/data/binance``, freqtrade's datadir being the destination,
        which must lie outside the served one or the run is refused with status 2); a
        ``-d/--datadir`` in ``args`` wins for freqtrade
    :param configs: configs passed before the overlay (in addition to any in ``args``)
    :param replay_start: replay clock start (ISO / epoch ms); ``None`` = real time
    :param speed: replay speed factor
    :param port: emulator port (0 = free port)
    :param timeout: kill freqtrade after this many seconds (returncode 124)
    :param stop_after: send SIGINT after this many seconds (for ``trade``, which never
        ends by itself); freqtrade's clean exit on that SIGINT (130) is reported as 0
    :param emulator: an already running emulator to use (not stopped afterwards)
    :param command: the program to run instead of ``freqtrade`` (e.g. a launcher that
        shifts the bot's clock for replays: ``[sys.executable, "-m", "pkg.launcher"]``)
    :param overlay_dir: where to write the overlay (default ``<cwd>/user_data/.offline``)
    :param echo: stream to tee freqtrade's output to live (``None`` = silent)
    :param env: environment for freqtrade (default: inherited)
    :param cwd: working directory of freqtrade (default: current)
    :return: :class:`Result`
    """
    args = list(args)
    cwd = Path.cwd() if cwd is None else Path(cwd)
    sub = _subcommand(args)
    extra_configs, user_configs = _configs(args, configs, sub, cwd)
    config_paths = [str(cwd / c) for c in user_configs]
    user_config = _load_configs(config_paths)
    ft_datadir = freqtrade_datadir(args, user_config, cwd)
    src = _served_datadir(datadir, sub, ft_datadir, cwd)
    refused = _refusal(
        args, sub, src, ft_datadir, config_paths, user_config, started=emulator is not None
    )
    if refused is not None:
        return _refuse(*refused, echo)

    with ExitStack() as stack:
        if emulator is None:
            emulator = stack.enter_context(
                Emulator(
                    src if src.is_dir() else None,
                    replay_start=replay_start,
                    speed=speed,
                    port=port,
                )
            )
        out_dir = (cwd / OVERLAY_DIR) if overlay_dir is None else Path(overlay_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        overlay = out_dir / f"overlay-{uuid.uuid4().hex[:12]}.json"
        overlay_config = build_overlay(emulator.url)
        if sub == "trade":
            overlay_config.update(replay_internals(user_config, emulator.clock.speed))
        overlay.write_text(json.dumps(overlay_config, indent=2))
        stack.callback(overlay.unlink, missing_ok=True)

        if command is None and sub == "trade":
            # A replayed dry-run must live in replay time: the launcher syncs freqtrade's
            # clock to the emulator's before freqtrade is imported (plain freqtrade when the
            # emulator does not replay).
            command = [sys.executable, "-m", "liq_signals.offline.replay_launch"]
        cmd = list(command or freqtrade_command()) + args
        if sub in CONFIG_COMMANDS:
            for c in extra_configs:
                cmd += ["--config", c]
            cmd += ["--config", str(overlay)]
            if not _option_values(args, *DATADIR_OPTIONS):
                # explicit: what the emulator serves, or for a writing command the
                # destination checked above
                cmd += ["--datadir", str(ft_datadir if sub in WRITE_COMMANDS else src)]
        logger.info("running %s", shlex.join(cmd))
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=_child_env(env, echo),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        lines: list[str] = []
        reader = threading.Thread(target=_tee, args=(proc.stdout, echo, lines), daemon=True)
        reader.start()
        try:
            rc = _wait(proc, stop_after, timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            rc = 124
            lines.append(f"liq-signals offline: freqtrade killed after {timeout} s\n")
        except BaseException:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
            raise
        reader.join(timeout=10)
    return _judge(rc, lines, src, echo)


def _refuse(returncode: int, message: str, echo: TextIO | None) -> Result:
    """A run the wrapper did not start: ``message`` on stderr (apart from freqtrade's own
    output) when teeing, and as the result's output and only error."""
    msg = f"liq-signals offline: error: {message}\n"
    if echo is not None:
        sys.stderr.write(msg)
    return Result(returncode, msg, (message,))


def _interrupt_tracebacks(lines: list[str]) -> set[int]:
    """Indices of ``Traceback`` lines whose exception is a ``KeyboardInterrupt``.

    Stopping a bot with Ctrl-C / SIGINT can land inside a pending asyncio task (ccxt's
    throttler); asyncio then prints that task's ``KeyboardInterrupt`` traceback while
    freqtrade shuts down cleanly.  That is the stop the user asked for, not an error.
    """
    found: set[int] = set()
    start: int | None = None
    for i, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last)"):
            start = i
        elif start is not None and line and not line[0].isspace():
            # the first unindented line after the frames names the exception
            if line.startswith("KeyboardInterrupt"):
                found.add(start)
            start = None
    return found


def fatal_lines(lines: list[str]) -> tuple[str, ...]:
    """freqtrade's fatal lines in its output (see ``_FATAL_RE``), minus the tracebacks of a
    requested stop (:func:`_interrupt_tracebacks`)."""
    stopped = _interrupt_tracebacks(lines)
    return tuple(
        line.rstrip() for i, line in enumerate(lines) if _FATAL_RE.search(line) and i not in stopped
    )


def _missing_note(kind: str, missing: list[tuple[str, str]], datadir: Path) -> str:
    """What freqtrade found no ``kind`` data for, and what the run did without it — said
    as what it is, not as a failure.  A pair that has a ``kind`` file at another of the
    timeframes the run asked for (the strategies try their own timeframe, then 1h) used
    that one."""
    by_pair: dict[str, list[str]] = {}
    for pair, tf in missing:
        by_pair.setdefault(pair, []).append(tf)
    asked = {tf for _, tf in missing}

    def found_other(pair: str) -> bool:
        stem = re.sub(r"[/ .@$+:]", "_", pair)
        others = asked - set(by_pair[pair])
        return any(any(datadir.glob(f"**/{stem}-{tf}-{kind}.*")) for tf in others)

    listed = {p: f"{p} {', '.join(sorted(tfs))}" for p, tfs in sorted(by_pair.items())}
    if kind != "open_interest":
        what = "; ".join(listed.values())
        return f"no {kind} data in {datadir} for {what}; the run went on without it."
    none = [listed[p] for p in listed if not found_other(p)]
    other = [listed[p] for p in listed if found_other(p)]
    parts = []
    if none:
        parts.append(
            f"no open_interest data in {datadir} for {'; '.join(none)}: the liquidation map "
            "ran in volume-flow mode for these pairs."
        )
    if other:
        parts.append(f"No open_interest file for {'; '.join(other)}: another timeframe's was used.")
    return "  ".join(parts)


def _judge(rc: int, lines: list[str], datadir: Path, echo: TextIO | None) -> Result:
    errors = fatal_lines(lines)
    extra: list[str] = []
    missing = sorted({m.groups() for line in lines if (m := _NO_HISTORY_RE.search(line))})
    for kind in sorted({c for _, c, _ in missing}):
        of_kind = [(p, tf) for p, c, tf in missing if c == kind]
        pairs = sorted({p for p, _ in of_kind})
        extra.append(
            f"liq-signals offline: note: {_missing_note(kind, of_kind, datadir)}  To add it:\n  "
            + download_command(pairs, sorted({tf for _, tf in of_kind}), datadir)
            + "\n"
        )
    if rc == 0 and errors:
        rc = 1
        extra.append(
            "liq-signals offline: freqtrade exited 0 but reported an error:\n  "
            + "\n  ".join(errors)
            + "\n"
        )
    if echo is not None:
        for e in extra:
            echo.write(e)
    return Result(rc, "".join(lines + extra), errors)
