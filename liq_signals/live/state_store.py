"""Per-pair incremental feature state on disk, so a restarted dry-run resumes its book.

Without it a restarted bot rebuilds the book from the candle window freqtrade downloads at
start-up, and the features then depend on where that window starts (the book remembers
everything it saw, discounted by the half-life): up to ~2 % on liquidation totals for the
same candles.  With it the restarted bot continues the very book it had, and the candles
it missed while down are processed as new ones — the features equal those of a bot that
never stopped.

**Files.**  One per strategy, pair and timeframe, ``<dir>/<Strategy>-<PAIR>-<tf>.liqstate``
(names made filesystem-safe), plus its lock file ``….liqstate.lock``.  A state file holds
numbers only — never code — in three parts, every byte of which is checked before use:

1. one ASCII line ``LIQSTATE <schema> <header bytes> <sha256 of the header>``;
2. a JSON header: the :class:`Fingerprint` (what the state was computed from), the
   payload's size and sha256, and the few scalars of the book;
3. the payload: a NumPy ``.npz`` (uncompressed) of the book and per-candle arrays, read
   with ``allow_pickle=False`` after each member's declared shape and dtype were checked
   against its size.

Written atomically (:mod:`liq_signals.atomic`: temp file in the same folder, fsync of file
and folder, rename); temp files left by a killed writer are removed when the lock is taken.

**Lock.**  A bot holds an exclusive ``flock`` on the lock file of each strategy + pair +
timeframe it persists, for as long as it runs (the kernel releases it when the process
dies, even by ``kill -9``).  A second bot running the same strategy, pair and timeframe on
the same ``user_data`` directory does not get it: it logs one error and runs that pair
without saved state (it neither resumes nor writes the first bot's file).  Different
strategies use different files and do not conflict.

**Use.**  A saved state is used only when the file is intact (checksums, schema, exact
set of arrays with the expected dtypes and shapes, book pointers within the book) and its
fingerprint matches the running bot (strategy, package version, pair, timeframe, every
:class:`~liq_signals.config.ModelConfig` field) and the last candles it processed are in the
new frame with identical date and OHLCV; otherwise the reason is logged and the book is
rebuilt.  Anything unreadable is a warning and a rebuild, never an exception: the bot must
keep running.  State files of older versions (``*.pkl`` pickles) are never opened: one
log line says they are ignored.

**Forgery.**  The checksums catch damage, not a file rewritten with fresh checksums, so
the values are checked too before the kernel runs on them: every number of the book
finite and non-negative, each side's running total equal to its bins, neither side above
the last known open interest (the kernel's cap), the per-candle arrays free of ±inf and
negative prices, volumes or open interest.

**Links and special files.**  Whoever can write to the state folder must not be able to
turn the bot against another file.  The folder is created ``0700`` and refused (the pair
then runs without saved state, one error line) when another user owns it or anyone may
write to it (world-writable).  State and lock files are opened with ``O_NOFOLLOW`` and
``O_NONBLOCK`` and used only when ``fstat`` says they are regular files (a lock file also:
ours, one link): a symlink (to ``/dev/zero`` or to any file the bot may write), a FIFO or
a device is refused before a byte is read or written; reads stop at the size a state can
have.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import errno
import fcntl
import hashlib
import io
import json
import logging
import os
import re
import stat
import threading
import weakref
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from liq_signals import __version__
from liq_signals.atomic import atomic_write_bytes, remove_stale_temps
from liq_signals.config import ModelConfig
from liq_signals.engine.kernel import NONE_HI, NONE_LO, FScal, IScal
from liq_signals.errors import InputError, LiqSignalsError
from liq_signals.features.incremental import (
    SAVED_SCALARS,
    IncrementalFeatures,
    saved_arrays,
)
from liq_signals.live.failures import FailureLog

logger = logging.getLogger(__name__)

#: Sub-directory of freqtrade's ``user_data_dir`` holding the state files.
STATE_DIRNAME = "liq_signals_state"
#: State file suffix (and ``<suffix>.lock`` for the lock files).
SUFFIX = ".liqstate"
#: Format version: a file of another schema is rebuilt, never interpreted.
SCHEMA = 1
#: Processed candles stored with the state and required, identical, in the resumed frame.
FINGERPRINT_CANDLES = 3
#: Candle columns of the fingerprint (besides the date), as ``raw_<column>`` arrays hold them.
_OHLCV = ("open", "high", "low", "close", "volume")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_MAGIC = b"LIQSTATE"
_FIRST_LINE = re.compile(rb"LIQSTATE (\d{1,3}) (\d{1,9}) ([0-9a-f]{64})\n")
#: Upper bounds that no genuine state reaches (a few MB): refuse before reading more.
_MAX_HEADER = 1 << 20
_MAX_PAYLOAD = 1 << 28
#: A side's running total vs the sum of its bins, and vs the open-interest cap: the kernel
#: keeps them equal to ~1e-15 relative (measured over thousands of candles, both modes);
#: the margin leaves room for rounding drift over months and a nearly empty book
#: (contracts, absolute), and a forgery this small changes nothing.
_TOTAL_RTOL = 1e-6
_TOTAL_ATOL = 1e-6


class StateCorrupt(InputError):
    """The file is not an intact state of this schema (logged, then rebuilt)."""


class StateLocked(LiqSignalsError):
    """Another process holds the lock of this strategy + pair + timeframe."""


class UnsafeStateFile(LiqSignalsError, OSError):
    """A state folder, state or lock file the bot must not use: a symbolic link, not a
    regular file, or a world-writable folder (also an ``OSError``: the provider then runs
    the pair without saved state)."""


#: ``open`` flags of every state and lock file: never follow a link, never block on a FIFO
_OPEN_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def _open_regular(path: Path, flags: int, *, lock: bool = False) -> tuple[int, os.stat_result]:
    """``os.open`` of a regular file, never through a symbolic link or into a FIFO/device.

    :param lock: also require the file to be ours with a single link (the lock file is
        truncated and written: a hard link to another file must not be).
    :return: the descriptor and its ``fstat``.
    :raise FileNotFoundError: no file there.
    :raise UnsafeStateFile: a link, a special file, or (``lock``) not ours / hard-linked.
    """
    try:
        fd = os.open(path, flags | _OPEN_FLAGS, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeStateFile(f"{path} is a symbolic link; not followed") from None
        raise
    st = os.fstat(fd)
    problem = None
    if not stat.S_ISREG(st.st_mode):
        problem = "not a regular file"
    elif lock and st.st_uid != os.geteuid():
        problem = f"owned by uid {st.st_uid}, not by this bot"
    elif lock and st.st_nlink != 1:
        problem = f"has {st.st_nlink} hard links"
    if problem is not None:
        os.close(fd)
        raise UnsafeStateFile(f"{path} is {problem}; refusing to use it")
    return fd, st


def _read_bounded(path: Path, limit: int) -> bytes:
    """A regular file's bytes (see :func:`_open_regular`), at most ``limit``.

    :raise StateCorrupt: larger than ``limit``.
    """
    fd, st = _open_regular(path, os.O_RDONLY)
    try:
        if st.st_size > limit:
            raise StateCorrupt(f"{st.st_size} bytes, far more than a state holds")
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise StateCorrupt(f"more than {limit} bytes, far more than a state holds")
        return b"".join(chunks)
    finally:
        os.close(fd)


def ensure_state_dir(folder: Path) -> None:
    """Create the state folder ``0700`` if missing; refuse one another user owns or that
    anyone may write to (world-writable: they could plant links or forged states in it).

    :raise UnsafeStateFile: the folder is not safe to keep state in (the message says how
        to fix it).
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    st = os.stat(folder)
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeStateFile(f"{folder} is not a folder; remove it")
    if st.st_uid != os.geteuid():
        raise UnsafeStateFile(
            f"{folder} is owned by uid {st.st_uid}, not by this bot (uid {os.geteuid()}); "
            f"remove it or chown it to the bot's user"
        )
    # group-writable is left alone: with per-user groups (umask 002) that group is the user
    if st.st_mode & stat.S_IWOTH:
        raise UnsafeStateFile(
            f"{folder} is writable by others (mode {stat.S_IMODE(st.st_mode):o}); chmod 700 it"
        )


@dataclass(frozen=True)
class Fingerprint:
    """What a saved state was computed from.

    :param strategy: freqtrade strategy class name (two strategies never share a file).
    :param version: liq_signals version (a new engine may not read an old book the same).
    :param pair: freqtrade pair name.
    :param timeframe: candle timeframe.
    :param config: ``dataclasses.asdict`` of the model configuration, as JSON gives it back.
    :param last_time_s: open times (epoch s) of the last processed candles.
    :param last_ohlcv: their OHLCV, shape ``(len(last_time_s), 5)``.
    """

    strategy: str
    version: str
    pair: str
    timeframe: str
    config: dict[str, Any]
    last_time_s: tuple[int, ...]
    last_ohlcv: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class StateRecord:
    """One state file's content: the fingerprint, the book's scalars and its arrays
    (copies, safe to encode on another thread while the book advances)."""

    fingerprint: Fingerprint
    scalars: dict[str, float | int]
    arrays: dict[str, np.ndarray]


def _config_json(config: ModelConfig) -> dict[str, Any]:
    """The config as a JSON round trip gives it back (tuples become lists)."""
    return dict(json.loads(json.dumps(asdict(config))))


def _times_s(candles: pd.DataFrame) -> np.ndarray:
    """Candle open times in epoch seconds (no copy of the frame)."""
    return candles["date"].array.as_unit("ns").asi8 // 1_000_000_000


def state_path(state_dir: Path, strategy: str, pair: str, timeframe: str) -> Path:
    """``<state_dir>/<Strategy>-<PAIR>-<tf>.liqstate``, e.g.
    ``LiquidationMagnetStrategy-BTC_USDT_USDT-5m.liqstate``."""
    name = "-".join(_UNSAFE.sub("_", part) for part in (strategy, pair, timeframe))
    return state_dir / f"{name}{SUFFIX}"


def fingerprint(inc: IncrementalFeatures, strategy: str) -> Fingerprint:
    """Fingerprint of ``inc``'s current state: strategy, pair, timeframe, configuration
    and the date + raw OHLCV of the last candles it processed (as the frame gave them)."""
    times, ohlcv = inc.last_candles(FINGERPRINT_CANDLES)
    return Fingerprint(
        strategy=strategy,
        version=__version__,
        pair=inc.pair,
        timeframe=inc.timeframe,
        config=_config_json(inc.config),
        last_time_s=tuple(int(t) for t in times),
        last_ohlcv=tuple(tuple(float(v) for v in row) for row in ohlcv),
    )


# ---------------------------------------------------------------------------- to arrays
def snapshot(inc: IncrementalFeatures, strategy: str) -> StateRecord:
    """``inc``'s state as :meth:`IncrementalFeatures.save` gives it (copies: the book
    advances in place).  Runs on the thread that updates ``inc``."""
    arrays, scalars = inc.save()
    return StateRecord(fingerprint(inc, strategy), scalars, arrays)


# ---------------------------------------------------------------------------- encoding
def encode(record: StateRecord) -> bytes:
    """The file's bytes for ``record`` (first line, JSON header, ``.npz`` payload)."""
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=False, **record.arrays)
    payload = buf.getvalue()
    header = json.dumps(
        {
            "schema": SCHEMA,
            "fingerprint": asdict(record.fingerprint),
            "scalars": record.scalars,
            "payload_bytes": len(payload),
            "payload_sha256": hashlib.sha256(payload).hexdigest(),
        },
        sort_keys=True,
    ).encode()
    first = b"%s %d %d %s\n" % (
        _MAGIC,
        SCHEMA,
        len(header),
        hashlib.sha256(header).hexdigest().encode(),
    )
    return first + header + payload


def _read_npz(payload: bytes, want: dict[str, tuple[str, int]]) -> dict[str, np.ndarray]:
    """The payload's arrays, each checked (name, dtype, dimensions, size matching its
    bytes) before it is read; ``allow_pickle=False`` throughout.

    :raise StateCorrupt: anything unexpected.
    """
    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(io.BytesIO(payload)) as zf:
        infos = zf.infolist()
        names = sorted(i.filename for i in infos)
        if names != sorted(f"{k}.npy" for k in want):
            raise StateCorrupt(f"unexpected arrays {names}")
        for info in infos:
            key = info.filename[: -len(".npy")]
            if info.compress_type != zipfile.ZIP_STORED or info.file_size > len(payload):
                raise StateCorrupt(f"array {key}: not a stored member")
            with zf.open(info) as fh:
                version = np.lib.format.read_magic(fh)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
                else:
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
                kind, ndim = want[key]
                if dtype.hasobject or dtype != np.dtype(kind) or len(shape) != ndim:
                    raise StateCorrupt(f"array {key}: {dtype} {shape}, expected {kind} {ndim}-d")
                size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
                if fh.tell() + size != info.file_size:
                    raise StateCorrupt(f"array {key}: shape {shape} does not match its bytes")
                del fortran
            with zf.open(info) as fh:
                arrays[key] = np.lib.format.read_array(fh, allow_pickle=False)
    return arrays


def decode(data: bytes) -> StateRecord:
    """Parse and verify a state file's bytes (see the module docstring).

    :raise StateCorrupt: not an intact state of this schema.
    """
    m = _FIRST_LINE.match(data[:100])
    if m is None:
        raise StateCorrupt("not a liq_signals state file (first line)")
    schema, n_header, header_sha = int(m.group(1)), int(m.group(2)), m.group(3).decode()
    if schema != SCHEMA:
        raise StateCorrupt(f"state schema {schema}, this version reads {SCHEMA}")
    if n_header > _MAX_HEADER:
        raise StateCorrupt("header too large")
    start = m.end()
    header_bytes = data[start : start + n_header]
    if len(header_bytes) != n_header or hashlib.sha256(header_bytes).hexdigest() != header_sha:
        raise StateCorrupt("header checksum mismatch (truncated or altered)")
    header = json.loads(header_bytes)
    payload = data[start + n_header :]
    n_payload = header["payload_bytes"]
    if not isinstance(n_payload, int) or not 0 < n_payload <= _MAX_PAYLOAD:
        raise StateCorrupt("bad payload size")
    if len(payload) != n_payload:
        raise StateCorrupt(f"payload is {len(payload)} bytes, header says {n_payload}")
    if hashlib.sha256(payload).hexdigest() != header["payload_sha256"]:
        raise StateCorrupt("payload checksum mismatch (altered)")
    fp_raw = header["fingerprint"]
    names = {f.name for f in dataclasses.fields(Fingerprint)}
    if set(fp_raw) != names:
        raise StateCorrupt("fingerprint fields differ")
    fp = Fingerprint(
        strategy=str(fp_raw["strategy"]),
        version=str(fp_raw["version"]),
        pair=str(fp_raw["pair"]),
        timeframe=str(fp_raw["timeframe"]),
        config=dict(fp_raw["config"]),
        last_time_s=tuple(int(t) for t in fp_raw["last_time_s"]),
        last_ohlcv=tuple(tuple(float(v) for v in row) for row in fp_raw["last_ohlcv"]),
    )
    scalars = header["scalars"]
    if not isinstance(scalars, dict) or set(scalars) != set(SAVED_SCALARS):
        raise StateCorrupt("book scalars differ")
    if not all(
        isinstance(scalars[k], int) and scalars[k] >= 0 for k in ("recomputes", "full_updates")
    ):
        raise StateCorrupt("update counters are not non-negative integers")
    arrays = _read_npz(payload, saved_arrays())
    return StateRecord(fp, scalars, arrays)


def _check_last_candles(a: dict[str, np.ndarray], fp: Fingerprint) -> None:
    """The header's last candles equal to the arrays' (lengths were checked by
    :meth:`IncrementalFeatures.restore`).

    :raise StateCorrupt: they differ.
    """
    k = len(fp.last_time_s)
    ohlcv = np.column_stack([a[f"raw_{f}"][-k:] for f in _OHLCV])
    if tuple(int(t) for t in a["time"][-k:]) != fp.last_time_s or not np.array_equal(
        ohlcv, np.asarray(fp.last_ohlcv, dtype=np.float64)
    ):
        raise StateCorrupt("header and arrays disagree on the last candles")


def _check_values(a: dict[str, np.ndarray]) -> None:
    """Values a forger could set behind fresh checksums: ±inf anywhere, NaN or negative
    numbers in the book, negative prices, volumes or open interest, a side's running
    total that is not its bins, a book above the last open interest (the kernel caps
    both sides at it; an unknown open interest, NaN, caps nothing).

    :raise StateCorrupt: a value no run of the kernel produces.
    """
    for key in ("book_long_q", "book_short_q", "book_ring"):
        v = a[key]
        if not (np.isfinite(v).all() and (v >= 0).all()):
            raise StateCorrupt(f"{key}: non-finite or negative values")
    for key, v in a.items():
        if v.dtype.kind == "f" and np.isinf(v).any():
            raise StateCorrupt(f"{key}: infinite values")
    non_negative = [k for k in a if k in ("atr", "cov") or k.startswith(("input_", "raw_"))]
    for key in non_negative:
        v = a[key]
        if (v[~np.isnan(v)] < 0).any():
            raise StateCorrupt(f"{key}: negative values")
    if np.isnan(np.column_stack([a[f"raw_{f}"] for f in _OHLCV])).any():
        raise StateCorrupt("candle prices or volumes are NaN")
    _check_totals(a["book_long_q"], a["book_short_q"], a["book_fscal"])


def _check_totals(long_q: np.ndarray, short_q: np.ndarray, fscal: np.ndarray) -> None:
    """Each side's scale and running total, the total against its bins and the cap.

    :raise StateCorrupt: they do not fit.
    """
    sides = (
        ("long", long_q, fscal[FScal.LONG_SCALE], fscal[FScal.LONG_TOTAL]),
        ("short", short_q, fscal[FScal.SHORT_SCALE], fscal[FScal.SHORT_TOTAL]),
    )
    prev_oi = fscal[FScal.PREV_OI]
    if prev_oi < 0:  # NaN compares False: an unknown open interest is allowed
        raise StateCorrupt("negative open interest in the book scalars")
    for side, q, scale, total in sides:
        if not (np.isfinite(scale) and scale > 0 and np.isfinite(total) and total >= 0):
            raise StateCorrupt(f"{side} book scale {scale} or total {total}")
        held = float(q.sum()) * scale
        if not np.isclose(held, total, rtol=_TOTAL_RTOL, atol=_TOTAL_ATOL):
            raise StateCorrupt(
                f"{side} book holds {held:.6g} contracts, its total says {total:.6g}"
            )
        if np.isfinite(prev_oi) and total > prev_oi * (1.0 + _TOTAL_RTOL) + _TOTAL_ATOL:
            raise StateCorrupt(f"{side} book {total:.6g} above the open interest {prev_oi:.6g}")


def _check_book(a: dict[str, np.ndarray], grid_step: float, n: int, config: ModelConfig) -> None:
    """Check what the numba kernel trusts in a book without bounds checks: sides
    and scalars of the right sizes, both edges inside the book (or empty), the ring
    position inside the ring, prices on the model's grid.

    :raise StateCorrupt: it is not a book the kernel may run on.
    """
    size = len(a["book_price"])
    iscal, fscal, ring = a["book_iscal"], a["book_fscal"], a["book_ring"]
    if len(a["book_long_q"]) != size or len(a["book_short_q"]) != size:
        raise StateCorrupt("book sides of different lengths")
    if fscal.shape != (len(FScal),) or iscal.shape != (len(IScal),):
        raise StateCorrupt("book scalars")
    _check_values(a)
    if ring.shape != (2, config.recent_sweep_candles):
        raise StateCorrupt(f"sweep ring {ring.shape}")
    k0 = int(iscal[IScal.K0])
    hi, lo = int(iscal[IScal.LONG_HI]), int(iscal[IScal.SHORT_LO])
    if hi != NONE_HI and not (size and k0 <= hi < k0 + size):
        raise StateCorrupt("long book edge outside the book")
    if lo != NONE_LO and not (size and k0 <= lo < k0 + size):
        raise StateCorrupt("short book edge outside the book")
    if not 0 <= int(iscal[IScal.RING_POS]) < max(config.recent_sweep_candles, 1):
        raise StateCorrupt("sweep ring position outside the ring")
    if int(iscal[IScal.SEEN]) < n:
        raise StateCorrupt("book has seen fewer candles than it holds")
    if grid_step != config.grid_step:
        raise StateCorrupt("grid step differs from the model's")
    grid = np.exp(np.arange(k0, k0 + size, dtype=np.float64) * grid_step)
    if size and not np.allclose(a["book_price"], grid, rtol=1e-12):
        raise StateCorrupt("book prices are not the grid's")


def restore(record: StateRecord, config: ModelConfig) -> IncrementalFeatures:
    """A new :class:`IncrementalFeatures` holding the record's book
    (:meth:`IncrementalFeatures.restore`), once the arrays were checked to fit together,
    with the header and with the model (:func:`_check_last_candles`, :func:`_check_book`).

    :raise StateCorrupt: they do not.
    """
    fp, a, s = record.fingerprint, record.arrays, record.scalars
    try:
        inc = IncrementalFeatures.restore(fp.pair, fp.timeframe, config, a, s)
    except InputError as exc:
        raise StateCorrupt(str(exc)) from exc
    _check_last_candles(a, fp)
    _check_book(a, float(s["grid_step"]), len(a["time"]), config)
    return inc


def write_atomic(path: Path, payload: bytes) -> None:
    """Write ``payload`` so a reader sees the old file or the new one, whole.

    :raise OSError: the directory cannot be written.
    """
    atomic_write_bytes(path, payload)


# ---------------------------------------------------------------------------- the lock
class StateLock:
    """The exclusive lock of one state file (held until :meth:`release` or process exit).

    The folder is checked (:func:`ensure_state_dir`) and the lock file opened without
    following links (:func:`_open_regular`) before it is truncated and given our PID.

    :raise StateLocked: another process holds it.
    :raise UnsafeStateFile: the folder or the lock file is not safe to use.
    """

    def __init__(self, path: Path) -> None:
        self._fd: int | None = None
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        ensure_state_dir(path.parent)
        fd, _ = _open_regular(self.lock_path, os.O_RDWR | os.O_CREAT, lock=True)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise StateLocked(
                f"{path.name} is locked by another bot (pid {holder}) running the same "
                f"strategy, pair and timeframe on this user_data directory"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        # ours now: temp files of this state left by a killed writer can go
        removed = remove_stale_temps(path)
        if removed:
            logger.info("removed %d stale temp file(s) of %s", removed, path.name)

    def release(self) -> None:
        """Give the lock up (idempotent)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def __del__(self) -> None:
        self.release()


_legacy_reported: set[Path] = set()


def report_legacy(state_dir: Path) -> None:
    """One log line (per folder and process) if old pickle state files are there: they
    are never opened (a pickle can run code when loaded)."""
    if state_dir in _legacy_reported:
        return
    _legacy_reported.add(state_dir)
    old = sorted(p.name for p in state_dir.glob("*.pkl")) if state_dir.is_dir() else []
    if old:
        logger.warning(
            "%s: ignoring %d old pickle state file(s) (%s); never loaded, safe to delete.",
            state_dir,
            len(old),
            ", ".join(old[:3]) + (", …" if len(old) > 3 else ""),
        )


# ---------------------------------------------------------------------------- writing
#: every writer not yet garbage-collected, flushed at interpreter exit (a weak set: exit
#: handlers holding the writers themselves would keep every provider alive for good)
_writers: weakref.WeakSet[BackgroundWriter] = weakref.WeakSet()


@atexit.register
def _flush_writers() -> None:
    for writer in list(_writers):
        writer.flush()


class BackgroundWriter:
    """Encodes and writes state files on a background thread, so the candle loop pays
    only the array copies (:func:`snapshot`) and not the checksums and the file write.

    Only the newest record per path is kept: if a write is still pending when the next
    state arrives, the older one is skipped (a resume from any saved point is exact).  A
    state not yet written when the process dies is simply not there: the restart resumes
    from the previous file and re-processes one more candle.  Pending writes are flushed
    at interpreter exit (freqtrade's Ctrl-C / SIGTERM end normally).

    The thread runs only while there is something to write: :meth:`submit` starts it, it
    ends once the queue is empty, so a provider that is dropped (a strategy reloaded, a
    test) leaves no thread behind and the writer can be garbage-collected.
    """

    def __init__(self) -> None:
        self._pending: dict[Path, StateRecord] = {}
        self._failures = FailureLog(logger)
        self._cond = threading.Condition()
        self._busy = False
        self._thread: threading.Thread | None = None
        _writers.add(self)

    def submit(self, path: Path, record: StateRecord) -> None:
        """Queue ``record`` for ``path`` (replacing a pending one); start the thread if
        none is running."""
        with self._cond:
            self._pending[path] = record
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="liq-state-writer", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until every queued state is written.

        :return: False if ``timeout_s`` passed first.
        """
        with self._cond:
            return self._cond.wait_for(
                lambda: not self._pending and not self._busy, timeout=timeout_s
            )

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._pending:
                    self._thread = None  # the next submit starts a new one
                    return
                path, record = self._pending.popitem()
                self._busy = True
            try:
                write_atomic(path, encode(record))
                self._failures.succeeded(str(path), "writing the feature state")
            except Exception as exc:  # noqa: BLE001 - a full disk must not stop the bot
                self._failures.failed(str(path), "could not write the feature state", exc)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


# ---------------------------------------------------------------------------- reading
def _rejected(pair: str, path: Path, exc: Exception) -> str:
    """Log why a state file is not used (it is rebuilt); the reason :func:`load` returns."""
    logger.warning(
        "%s: saved feature state %s rejected (%s: %s); not loaded, rebuilding the book.",
        pair,
        path,
        type(exc).__name__,
        exc,
    )
    return f"unusable state file {path}"


def load(
    path: Path,
    strategy: str,
    pair: str,
    timeframe: str,
    config: ModelConfig,
    candles: pd.DataFrame,
) -> tuple[IncrementalFeatures | None, str]:
    """The saved state for ``pair`` if it is intact and can continue on ``candles``.

    :param candles: the first frame the restarted bot got.
    :return: ``(state, "resumed …")`` or ``(None, why not)``; ``why`` is one log line.
    """
    try:
        record = decode(_read_bounded(path, _MAX_PAYLOAD + _MAX_HEADER + 200))
    except FileNotFoundError:
        return None, f"no saved state at {path}"
    except Exception as exc:  # noqa: BLE001 - corrupt / foreign / truncated: rebuild
        return None, _rejected(pair, path, exc)
    fp = record.fingerprint
    if fp.version != __version__:
        return None, f"saved by liq_signals {fp.version}, running {__version__}"
    if (fp.strategy, fp.pair, fp.timeframe) != (strategy, pair, timeframe):
        return None, f"saved for {fp.strategy} {fp.pair} {fp.timeframe}"
    cfg = _config_json(config)
    if fp.config != cfg:
        changed = sorted(k for k in cfg.keys() | fp.config.keys() if fp.config.get(k) != cfg.get(k))
        return None, f"model config changed ({', '.join(changed) or 'fields'})"
    if not fp.last_time_s:
        return None, "no processed candle in the saved state"
    try:
        inc = restore(record, config)
    except Exception as exc:  # noqa: BLE001 - inconsistent arrays: rebuild
        return None, _rejected(pair, path, exc)
    times = _times_s(candles)
    want = np.asarray(fp.last_time_s, dtype=np.int64)
    pos = np.searchsorted(times, want)
    if (pos >= len(times)).any() or not np.array_equal(
        times[np.minimum(pos, len(times) - 1)], want
    ):
        return None, (
            f"the last saved candle {pd.Timestamp(want[-1], unit='s', tz='UTC')} "
            f"is not in the new frame"
        )
    ohlcv = np.column_stack([candles[c].to_numpy(dtype=np.float64)[pos] for c in _OHLCV])
    if not np.array_equal(ohlcv, np.asarray(fp.last_ohlcv, dtype=np.float64)):
        return None, "a saved candle differs in the new frame (history rewritten)"
    last = pd.Timestamp(int(fp.last_time_s[-1]), unit="s", tz="UTC")
    return inc, f"resumed the saved book at {last} ({int((times > want[-1]).sum())} new candles)"
